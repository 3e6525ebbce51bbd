import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.ts';

export const SESSION_COOKIE = 'mmsgw_session';
const SESSION_MS = 12 * 3600 * 1000;

const hash = (id: string) => createHash('sha256').update(id).digest('hex');

export interface Session {
  organizationId: string;
  csrfToken: string;
}

/** A new session for the organization: the cookie value (shown once) and its CSRF token. */
export async function createSession(store: Store, organizationId: string, now = new Date()) {
  const id = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  await store.dashboardSessions.create({
    id_hash: hash(id),
    organization_id: organizationId,
    csrf_token: csrfToken,
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + SESSION_MS).toISOString(),
  });
  return { cookieValue: id, csrfToken, maxAgeSeconds: SESSION_MS / 1000 };
}

export async function readSession(store: Store, cookieValue: string | undefined): Promise<Session | null> {
  if (!cookieValue) return null;
  const row = await store.dashboardSessions.get(hash(cookieValue), new Date().toISOString());
  return row ? { organizationId: row.organization_id, csrfToken: row.csrf_token } : null;
}

export async function endSession(store: Store, cookieValue: string | undefined): Promise<void> {
  if (cookieValue) await store.dashboardSessions.delete(hash(cookieValue));
}

export function csrfMatches(session: Session, sent: unknown): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(session.csrfToken);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}

/** `HttpOnly; SameSite=Strict`, scoped to the dashboard; `Secure` when served over https. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${encodeURIComponent(value)}`,
    'Path=/dashboard',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
