import type { FastifyError, FastifyInstance } from 'fastify';
import type { ConnectorDirectory } from '../../carriers/connector-directory.ts';
import { handleUpstreamWebhook, type UpstreamWebhookDeps } from '../../carriers/telnyx/index.ts';

export interface UpstreamWebhookRouteDeps extends Omit<UpstreamWebhookDeps, 'log'> {
  connectors: ConnectorDirectory;
}

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * `POST /connectors/<name>/webhooks`: where a Telnyx-compatible upstream posts its signed webhooks.
 * Outside the API key group (the Ed25519 signature authenticates it). The body is kept as the exact
 * string received, since the signature covers those bytes; every answer is JSON.
 */
export function upstreamWebhookRoutes(app: FastifyInstance, deps: UpstreamWebhookRouteDeps): void {
  app.register(async (hooks) => {
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

    hooks.setErrorHandler((err: FastifyError, request, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        return reply
          .code(status)
          .send({ errors: [{ code: '10015', title: 'Bad Request', detail: err.message }] });
      }
      request.log.error({ err, url: request.url }, 'upstream webhook failed');
      return reply.code(500).send({
        errors: [{ code: '10007', title: 'Unexpected error', detail: 'An unexpected error occured.' }],
      });
    });

    hooks.post<{ Params: { name: string } }>('/connectors/:name/webhooks', async (request, reply) => {
      const connector = await deps.connectors.get(request.params.name);
      const answer = await handleUpstreamWebhook({ ...deps, log: request.log }, connector, {
        rawBody: typeof request.body === 'string' ? request.body : '',
        signature: header(request.headers['telnyx-signature-ed25519']),
        timestamp: header(request.headers['telnyx-timestamp']),
      });
      return reply.code(answer.status).send(answer.body);
    });
  });
}
