import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { bearerAuth } from './auth.ts';
import type { ApiContext } from './context.ts';
import { installErrorHandler } from './error-handler.ts';
import { mediaRoutes } from './routes/media.ts';
import { messageRoutes } from './routes/messages.ts';
import { phoneNumberRoutes } from './routes/phone-numbers.ts';
import { profileRoutes } from './routes/profiles.ts';

export interface AppOptions {
  bodyLimitBytes: number;
  logger: FastifyBaseLogger;
  /** Slow clients are cut off: headers, whole request, idle keep-alive (see Config.http). */
  timeouts: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
}

export function buildApp(ctx: ApiContext, opts: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: opts.bodyLimitBytes,
    // Node answers 408 and closes a connection whose headers, or whole request, take longer; it
    // checks open connections every connectionsCheckingInterval.
    http: {
      headersTimeout: opts.timeouts.headersTimeoutMs,
      requestTimeout: opts.timeouts.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(opts.timeouts.headersTimeoutMs / 4)),
    },
    requestTimeout: opts.timeouts.requestTimeoutMs,
    keepAliveTimeout: opts.timeouts.keepAliveTimeoutMs,
    // A connection silent for this long (between trickled bytes too) is closed.
    connectionTimeout: opts.timeouts.requestTimeoutMs,
    // Per-request logs go out at debug level from the onResponse hook below instead.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });

  // Fastify parses text/plain by default; the API only takes JSON (anything else is 415 10029).
  app.removeContentTypeParser('text/plain');
  installErrorHandler(app);

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  if (['debug', 'trace'].includes(opts.logger.level)) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.debug(
        { method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime },
        'request completed',
      );
      done();
    });
  }

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/v2/public_key', async () => ({ data: { public_key: await ctx.publicKey() } }));

  mediaRoutes(app, ctx.media);

  app.register(async (authed) => {
    authed.addHook('onRequest', bearerAuth(ctx.auth));
    messageRoutes(authed, ctx);
    profileRoutes(authed, ctx);
    phoneNumberRoutes(authed, ctx);
  });

  return app;
}
