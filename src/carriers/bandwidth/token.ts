/**
 * Bandwidth's OAuth 2.0 client-credentials tokens: `POST <tokenUrl>` with the form
 * `grant_type=client_credentials` and HTTP Basic `clientId:clientSecret`, answering `access_token`
 * and `expires_in`. One cache per process, shared by the connector (submits) and the callback
 * receiver (inbound media), so a process asks for a token once per lifetime of that token.
 */
import { createHash } from 'node:crypto';
import { request } from 'undici';

export interface BandwidthCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

/** A token is renewed this long before Bandwidth says it expires (a tenth of a short lifetime). */
export const TOKEN_EARLY_RENEWAL_MS = 60_000;
const TOKEN_TIMEOUT_MS = 15_000;

export class TokenError extends Error {
  constructor(
    message: string,
    /** The token endpoint refused the credentials (a retry will not help). */
    readonly refused: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

interface Cached {
  token: string;
  renewAt: number;
}

const cache = new Map<string, Cached>();
const inFlight = new Map<string, Promise<Cached>>();

const keyOf = (c: BandwidthCredentials) =>
  createHash('sha256').update(`${c.tokenUrl}\n${c.clientId}\n${c.clientSecret}`).digest('hex');

/** A valid bearer token: the cached one, or a new one when there is none or it is about to expire. */
export async function bandwidthToken(
  credentials: BandwidthCredentials,
  opts: { now?: () => number; signal?: AbortSignal } = {},
): Promise<string> {
  const now = opts.now ?? Date.now;
  const key = keyOf(credentials);
  const known = cache.get(key);
  if (known && known.renewAt > now()) return known.token;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = fetchToken(credentials, now, opts.signal).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  const fresh = await pending;
  cache.set(key, fresh);
  return fresh.token;
}

/** Forgets `token` (Bandwidth answered 401 with it), unless a newer one replaced it already. */
export function forgetBandwidthToken(credentials: BandwidthCredentials, token: string): void {
  const key = keyOf(credentials);
  if (cache.get(key)?.token === token) cache.delete(key);
}

async function fetchToken(
  c: BandwidthCredentials,
  now: () => number,
  signal: AbortSignal | undefined,
): Promise<Cached> {
  const basic = Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64');
  const timeout = AbortSignal.timeout(TOKEN_TIMEOUT_MS);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(c.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: 'grant_type=client_credentials',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headersTimeout: TOKEN_TIMEOUT_MS,
      bodyTimeout: TOKEN_TIMEOUT_MS,
    });
  } catch (err) {
    const e = err as { code?: string; name?: string; message?: string };
    throw new TokenError(`token request failed: ${e.code ?? e.name ?? e.message ?? 'network error'}`, false);
  }
  const text = await res.body.text().catch(() => '');
  if (res.statusCode === 400 || res.statusCode === 401 || res.statusCode === 403) {
    throw new TokenError(`token endpoint refused the client credentials (HTTP ${res.statusCode})`, true);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw new TokenError(`token endpoint answered HTTP ${res.statusCode}`, false);
  }
  let body: { access_token?: unknown; expires_in?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new TokenError('token endpoint answered something that is not JSON', false);
  }
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new TokenError('token endpoint answered without access_token', false);
  }
  const seconds = Number(body.expires_in);
  const lifetimeMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
  const early = Math.min(TOKEN_EARLY_RENEWAL_MS, lifetimeMs / 10);
  return { token: body.access_token, renewAt: now() + lifetimeMs - early };
}
