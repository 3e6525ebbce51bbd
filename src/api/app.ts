import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { bearerAuth } from './auth.ts';
import type { ApiContext } from './context.ts';
import { installErrorHandler } from './error-handler.ts';
import { mediaRoutes } from './routes/media.ts';
import { messageRoutes } from './routes/messages.ts';
import { operationsRoutes } from './routes/operations.ts';
import { phoneNumberRoutes } from './routes/phone-numbers.ts';
import { profileRoutes } from './routes/profiles.ts';

export interface AppOptions {
  bodyLimitBytes: number;
  logger: FastifyBaseLogger;
}

export function buildApp(ctx: ApiContext, opts: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: opts.bodyLimitBytes,
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
  operationsRoutes(app, ctx);
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
