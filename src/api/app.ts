import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { dashboardRoutes } from '../dashboard/routes.ts';
import { trackAllowedMethods } from './allowed-methods.ts';
import { bearerAuth } from './auth.ts';
import type { ApiContext } from './context.ts';
import { answerFrameworkError, installErrorHandler } from './error-handler.ts';
import { answerClientError } from './http-errors.ts';
import { autorespConfigRoutes } from './routes/autoresp-configs.ts';
import { bandwidthCallbackRoutes } from './routes/bandwidth-callbacks.ts';
import { chaosRoutes } from './routes/chaos.ts';
import { docsRoutes } from './routes/docs.ts';
import { mediaRoutes } from './routes/media.ts';
import { messageListRoutes } from './routes/message-list.ts';
import { messageRoutes } from './routes/messages.ts';
import { mm7Routes } from './routes/mm7.ts';
import { operationsRoutes } from './routes/operations.ts';
import { optOutRoutes } from './routes/optouts.ts';
import { phoneNumberRoutes } from './routes/phone-numbers.ts';
import { profileRoutes } from './routes/profiles.ts';
import { publicKeyRoutes } from './routes/public-key.ts';
import { simulatorRoutes } from './routes/simulator.ts';
import { upstreamWebhookRoutes } from './routes/telnyx-upstream-webhooks.ts';
import { webhookDeliveryRoutes } from './routes/webhook-deliveries.ts';

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
    frameworkErrors: answerFrameworkError,
    clientErrorHandler(err, socket) {
      answerClientError(err, socket, opts.logger);
    },
  });

  // Fastify parses text/plain by default; the API only takes JSON (anything else is 415 10029).
  app.removeContentTypeParser('text/plain');
  installErrorHandler(app, trackAllowedMethods(app));

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

  mediaRoutes(app, ctx.media);
  docsRoutes(app);
  dashboardRoutes(app, ctx);
  if (ctx.mm7) mm7Routes(app, ctx.mm7);
  if (ctx.upstreamWebhooks) upstreamWebhookRoutes(app, ctx.upstreamWebhooks);
  if (ctx.bandwidth) bandwidthCallbackRoutes(app, ctx.bandwidth);

  app.register(async (authed) => {
    authed.addHook('onRequest', bearerAuth(ctx));
    // First: its api.reject gate runs before POST /v2/messages/group_mms does anything.
    if (ctx.chaos) chaosRoutes(authed, { store: ctx.store, chaos: ctx.chaos });
    messageListRoutes(authed, ctx);
    messageRoutes(authed, ctx);
    profileRoutes(authed, ctx);
    phoneNumberRoutes(authed, ctx);
    publicKeyRoutes(authed, ctx);
    webhookDeliveryRoutes(authed, ctx);
    optOutRoutes(authed, ctx);
    autorespConfigRoutes(authed, ctx);
    if (ctx.simulator) simulatorRoutes(authed, ctx, ctx.simulator);
  });

  return app;
}
