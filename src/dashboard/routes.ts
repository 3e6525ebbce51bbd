import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../api/context.ts';
import { decodeCursor, encodeCursor } from '../api/routes/message-list.ts';
import { UUID } from '../api/uuid.ts';
import { ApiError } from '../errors/api-error.ts';
import { sniffContentType } from '../media/sniff.ts';
import { createGroupMms, SEND_QUEUE } from '../messages/create-group-mms.ts';
import { groupMmsRequestSchema } from '../messages/group-mms-schema.ts';
import { RECIPIENT_STATUSES } from '../messages/status.ts';
import { WEBHOOK_QUEUE } from '../pipeline/emit-event.ts';
import { normaliseProfileData } from '../profiles/defaults.ts';
import { updateProfileSchema } from '../profiles/profile-schema.ts';
import type { MessageListFilter, ProfileData } from '../store/records.ts';
import { parseWithTelnyxErrors } from '../validation/telnyx-issues.ts';
import { html } from './html.ts';
import {
  createSession,
  csrfMatches,
  endSession,
  parseCookies,
  readSession,
  SESSION_COOKIE,
  type Session,
  sessionCookie,
} from './session.ts';
import { composeBody, loginBody, numbersBody, profilesBody } from './views/forms.ts';
import { page } from './views/layout.ts';
import { messagePageBody } from './views/message-page.ts';
import { type ListQuery, messageRows, messagesBody } from './views/messages.ts';

declare module 'fastify' {
  interface FastifyRequest {
    dashboardSession: Session | null;
  }
}

const ASSETS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');
const ASSETS: Record<string, { type: string; body: Buffer }> = {
  'dashboard.js': {
    type: 'text/javascript; charset=utf-8',
    body: fs.readFileSync(path.join(ASSETS_DIR, 'dashboard.js')),
  },
  'dashboard.css': {
    type: 'text/css; charset=utf-8',
    body: fs.readFileSync(path.join(ASSETS_DIR, 'dashboard.css')),
  },
};
const PAGE_SIZE = 50;
const LIVE_POLL_MS = 1_000;
const UPLOAD_LIMIT = 1024 * 1024;
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

type Form = Record<string, string | undefined>;

const isHtml = (reply: FastifyReply) => reply.type('text/html; charset=utf-8');

function listFilter(q: ListQuery): MessageListFilter {
  const date = (v: string | undefined, end: boolean) =>
    v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T${end ? '23:59:59.999' : '00:00:00.000'}Z` : undefined;
  return {
    direction: q.direction === 'outbound' || q.direction === 'inbound' ? q.direction : undefined,
    status: (RECIPIENT_STATUSES as readonly string[]).includes(q.status ?? '') ? q.status : undefined,
    from: q.from?.trim() || undefined,
    to: q.to?.trim() || undefined,
    receivedGte: date(q.date_from, false),
    receivedLte: date(q.date_to, true),
    search: q.q?.trim() || undefined,
  };
}

/**
 * The dashboard: server-rendered pages under /dashboard, signed in with an API key (a session cookie,
 * HttpOnly and SameSite=Strict, and a CSRF token on every form), scoped to that key's organization.
 */
export function dashboardRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;
  const streams = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const end of streams) end();
    done();
  });

  app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      },
    );
    scope.addContentTypeParser(
      ['image/png', 'image/jpeg', 'image/gif'],
      { parseAs: 'buffer', bodyLimit: UPLOAD_LIMIT },
      (_req, body, done) => done(null, body),
    );
    scope.decorateRequest('dashboardSession', null);
    scope.addHook('onRequest', async (request, reply) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      reply.header('cache-control', 'no-store');
      request.dashboardSession = await readSession(
        store,
        parseCookies(request.headers.cookie)[SESSION_COOKIE],
      );
    });

    const requireSession = async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.dashboardSession) return;
      if (request.method === 'GET') return reply.redirect('/dashboard/login', 303);
      return reply.code(401).type('text/plain').send('Sign in first.');
    };
    /** Forms carry the session's token in `_csrf`, scripts in `x-csrf-token`; a cross-site Origin is refused. */
    const requireCsrf = async (request: FastifyRequest, reply: FastifyReply) => {
      const session = request.dashboardSession!;
      const origin = request.headers.origin;
      const sameOrigin = !origin || origin === `${request.protocol}://${request.host}`;
      const token = (request.body as Form | undefined)?._csrf ?? request.headers['x-csrf-token'];
      if (!sameOrigin || !csrfMatches(session, token)) {
        return reply.code(403).type('text/plain').send('Invalid or missing CSRF token.');
      }
    };
    const authed = { preHandler: requireSession };
    const action = { preHandler: [requireSession, requireCsrf] };
    const org = (request: FastifyRequest) => request.dashboardSession!.organizationId;
    const csrf = (request: FastifyRequest) => request.dashboardSession!.csrfToken;

    scope.get<{ Params: { name: string } }>('/dashboard/assets/:name', async (request, reply) => {
      const asset = ASSETS[request.params.name];
      if (!asset) return reply.code(404).send('Not found');
      return reply.header('cache-control', 'no-cache').type(asset.type).send(asset.body);
    });

    scope.get('/dashboard/login', async (request, reply) => {
      if (request.dashboardSession) return reply.redirect('/dashboard', 303);
      return isHtml(reply).send(page({ title: 'Sign in', body: loginBody() }));
    });

    scope.post<{ Body: Form }>('/dashboard/login', async (request, reply) => {
      // No session yet, so no token: a sign-in posted from another site (login CSRF) is refused by its Origin.
      const origin = request.headers.origin;
      if (origin && origin !== `${request.protocol}://${request.host}`) {
        return reply.code(403).type('text/plain').send('Cross-site sign-in refused.');
      }
      const key = (request.body?.api_key ?? '').trim();
      const organizationId = key ? ((await ctx.auth.authenticate(key))?.organizationId ?? null) : null;
      if (!organizationId) {
        return isHtml(reply.code(401)).send(
          page({ title: 'Sign in', body: loginBody('That API key is not valid.') }),
        );
      }
      const s = await createSession(store, organizationId);
      reply.header('set-cookie', sessionCookie(s.cookieValue, s.maxAgeSeconds, request.protocol === 'https'));
      return reply.redirect('/dashboard', 303);
    });

    scope.post('/dashboard/logout', action, async (request, reply) => {
      await endSession(store, parseCookies(request.headers.cookie)[SESSION_COOKIE]);
      reply.header('set-cookie', sessionCookie('', 0, request.protocol === 'https'));
      return reply.redirect('/dashboard/login', 303);
    });

    const firstPage = async (organizationId: string, q: ListQuery) => {
      const rows = await store.messages.listForOrganization(
        organizationId,
        listFilter(q),
        PAGE_SIZE + 1,
        q.after ? decodeCursor(q.after) : undefined,
      );
      const items = rows.slice(0, PAGE_SIZE);
      const next = rows.length > PAGE_SIZE ? encodeCursor(items.at(-1)!.message) : null;
      return { items, next };
    };

    scope.get<{ Querystring: ListQuery }>('/dashboard', authed, async (request, reply) => {
      let result: Awaited<ReturnType<typeof firstPage>>;
      try {
        result = await firstPage(org(request), request.query);
      } catch (err) {
        if (err instanceof ApiError) return reply.redirect('/dashboard', 303);
        throw err;
      }
      return isHtml(reply).send(
        page({
          title: 'Messages',
          section: 'messages',
          csrfToken: csrf(request),
          body: messagesBody(request.query, result.items, result.next),
        }),
      );
    });

    /** Server-sent events: the first page's rows again whenever they change (new message, new status). */
    scope.get<{ Querystring: ListQuery }>('/dashboard/stream', authed, async (request, reply) => {
      const organizationId = org(request);
      const q = { ...request.query, after: undefined };
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write('retry: 2000\n\n');
      let last = '';
      let stopped = false;
      const tick = async () => {
        if (stopped) return;
        try {
          const rows = messageRows((await firstPage(organizationId, q)).items).toString();
          const digest = createHash('sha1').update(rows).digest('hex');
          if (digest !== last) {
            last = digest;
            res.write(`event: rows\ndata: ${JSON.stringify({ html: rows })}\n\n`);
          } else {
            res.write(': keep-alive\n\n');
          }
        } catch (err) {
          request.log.error({ err }, 'dashboard stream query failed');
        }
        if (!stopped) timer = setTimeout(tick, LIVE_POLL_MS);
      };
      let timer = setTimeout(tick, 0);
      const stop = () => {
        stopped = true;
        clearTimeout(timer);
        streams.delete(stop);
        res.end();
      };
      streams.add(stop);
      request.raw.on('close', stop);
    });

    const loadMessage = async (organizationId: string, id: string) => {
      if (!UUID.test(id)) return undefined;
      const group = await store.messages.getForOrganization(organizationId, id);
      if (group) return group;
      const one = await store.messages.getRecipientForOrganization(organizationId, id);
      return one ? store.messages.getForOrganization(organizationId, one.message.id) : undefined;
    };

    const notFound = (request: FastifyRequest, reply: FastifyReply) =>
      isHtml(reply.code(404)).send(
        page({
          title: 'Not found',
          section: 'messages',
          csrfToken: csrf(request),
          body: html`<h1>Not found</h1><p>No such message in this organization. <a href="/dashboard">Back to messages</a></p>`,
        }),
      );

    scope.get<{ Params: { id: string }; Querystring: { notice?: string } }>(
      '/dashboard/messages/:id',
      authed,
      async (request, reply) => {
        const group = await loadMessage(org(request), request.params.id);
        if (!group) return notFound(request, reply);
        const messageId = group.message.id;
        const events = await store.webhooks.listEventsForMessage(messageId);
        const attempts = await store.webhooks.listAttemptsForMessage(messageId);
        const sendJobs = await store.jobs.findByPayload(SEND_QUEUE, 'messageId', messageId);
        const participants = [group.message.from_number, ...group.recipients.map((r) => r.phone_number)];
        const thread = await store.messages.listConversation(org(request), participants, 30);
        return isHtml(reply).send(
          page({
            title: 'Message',
            section: 'messages',
            csrfToken: csrf(request),
            body: messagePageBody({
              group,
              events,
              attempts,
              sendJobs: sendJobs.filter((j) => j.attempts > 0),
              thread,
              csrfToken: csrf(request),
              notice:
                request.query.notice === 'resent' ? 'Event queued for a new delivery attempt.' : undefined,
            }),
          }),
        );
      },
    );

    /** A new delivery round of the same event (same id), through the webhook queue. */
    scope.post<{ Params: { id: string } }>(
      '/dashboard/webhook-events/:id/resend',
      action,
      async (request, reply) => {
        const { id } = request.params;
        const event = UUID.test(id)
          ? await store.webhooks.getEventForOrganization(org(request), id)
          : undefined;
        if (!event) return notFound(request, reply);
        await store.transaction(async (tx) => {
          if (await tx.webhooks.reopenEvent(event.id)) {
            await tx.jobs.enqueue({ queue: WEBHOOK_QUEUE, payload: { eventId: event.id } }, Date.now());
          }
        });
        ctx.send.onQueued?.();
        return reply.redirect(`/dashboard/messages/${event.message_id}?notice=resent`, 303);
      },
    );

    const senderNumbers = async (organizationId: string) =>
      (await store.numbers.listForOrganization(organizationId, { number: 1, size: 250 })).items;

    scope.get('/dashboard/compose', authed, async (request, reply) =>
      isHtml(reply).send(
        page({
          title: 'Compose',
          section: 'compose',
          csrfToken: csrf(request),
          body: composeBody(await senderNumbers(org(request)), csrf(request), {}),
        }),
      ),
    );

    scope.post<{ Body: Form }>('/dashboard/compose', action, async (request, reply) => {
      const f = request.body ?? {};
      const body = {
        from: f.from ?? '',
        to: (f.to ?? '')
          .split(/[\s,;]+/)
          .map((s) => s.trim())
          .filter(Boolean),
        text: f.text?.trim() || undefined,
        subject: f.subject?.trim() || undefined,
        media_urls: f.media_url?.trim() ? [f.media_url.trim()] : undefined,
        webhook_url: f.webhook_url?.trim() || undefined,
      };
      try {
        const parsed = parseWithTelnyxErrors(groupMmsRequestSchema, body);
        const sent = await createGroupMms(ctx.send, org(request), parsed);
        return reply.redirect(`/dashboard/messages/${sent.id}`, 303);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        const problem = err.errors
          .map((e) => `${e.source?.pointer ?? ''} ${e.detail ?? e.title}`.trim())
          .join('; ');
        return isHtml(reply.code(err.status)).send(
          page({
            title: 'Compose',
            section: 'compose',
            csrfToken: csrf(request),
            body: composeBody(await senderNumbers(org(request)), csrf(request), f, problem),
          }),
        );
      }
    });

    /** An uploaded image, stored content-addressed and served at /media/<sha256>. */
    scope.post('/dashboard/media', action, async (request, reply) => {
      const bytes = request.body;
      const type = Buffer.isBuffer(bytes) ? sniffContentType(bytes) : null;
      if (!Buffer.isBuffer(bytes) || !type?.startsWith('image/')) {
        return reply.code(415).send({ error: 'Upload a JPEG, PNG or GIF image.' });
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await ctx.media.put(bytes, sha256);
      const base = ctx.publicUrl ?? `${request.protocol}://${request.host}`;
      return { url: `${base}/media/${sha256}`, sha256, size: bytes.length, content_type: type };
    });

    const profilesPage = async (
      request: FastifyRequest,
      reply: FastifyReply,
      message?: { kind: 'ok' | 'error'; text: string },
    ) => {
      const { items } = await store.profiles.list(org(request), { number: 1, size: 250 });
      return isHtml(reply).send(
        page({
          title: 'Profiles',
          section: 'profiles',
          csrfToken: csrf(request),
          body: profilesBody(items, csrf(request), message),
        }),
      );
    };
    scope.get('/dashboard/profiles', authed, (request, reply) => profilesPage(request, reply));

    scope.post<{ Params: { id: string }; Body: Form }>(
      '/dashboard/profiles/:id',
      action,
      async (request, reply) => {
        const profile = UUID.test(request.params.id)
          ? await store.profiles.get(org(request), request.params.id)
          : undefined;
        if (!profile) return notFound(request, reply);
        const f = request.body ?? {};
        try {
          const changes = parseWithTelnyxErrors(updateProfileSchema, {
            name: f.name,
            enabled: f.enabled === 'true',
            webhook_url: f.webhook_url ?? '',
            webhook_failover_url: f.webhook_failover_url ?? '',
            whitelisted_destinations: (f.whitelisted_destinations ?? '')
              .split(/[\s,]+/)
              .map((s) => s.trim().toUpperCase())
              .filter(Boolean),
          });
          const data = normaliseProfileData({ ...profile.data, ...changes } as ProfileData);
          await store.profiles.update(org(request), profile.id, data, new Date().toISOString());
          return profilesPage(request, reply, { kind: 'ok', text: `Saved ${data.name}.` });
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          reply.code(err.status);
          return profilesPage(request, reply, {
            kind: 'error',
            text: err.errors.map((e) => `${e.source?.pointer ?? ''} ${e.detail ?? e.title}`).join('; '),
          });
        }
      },
    );

    const numbersPage = async (
      request: FastifyRequest,
      reply: FastifyReply,
      message?: { kind: 'ok' | 'error'; text: string },
    ) => {
      const numbers = await senderNumbers(org(request));
      const { items: profiles } = await store.profiles.list(org(request), { number: 1, size: 250 });
      return isHtml(reply).send(
        page({
          title: 'Numbers',
          section: 'numbers',
          csrfToken: csrf(request),
          body: numbersBody(numbers, profiles, csrf(request), message),
        }),
      );
    };
    scope.get('/dashboard/numbers', authed, (request, reply) => numbersPage(request, reply));

    scope.post<{ Params: { id: string }; Body: Form }>(
      '/dashboard/numbers/:id',
      action,
      async (request, reply) => {
        const number = await store.numbers.findByIdOrNumber(org(request), request.params.id);
        if (!number) return notFound(request, reply);
        const wanted = request.body?.messaging_profile_id ?? '';
        const profile = wanted ? await store.profiles.get(org(request), wanted) : undefined;
        if (wanted && !profile)
          return numbersPage(request, reply.code(404), { kind: 'error', text: 'No such profile.' });
        await store.numbers.update(
          org(request),
          number.id,
          { messaging_profile_id: profile?.id ?? null, tags: number.tags },
          new Date().toISOString(),
        );
        return numbersPage(request, reply, { kind: 'ok', text: `Saved ${number.phone_number}.` });
      },
    );
  });
}
