import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance } from 'fastify';
import { type BandwidthCallbackDeps, handleBandwidthCallbacks } from '../../carriers/bandwidth/index.ts';
import type { ConnectorDirectory } from '../../carriers/connector-directory.ts';
import type { BandwidthConnectorSettings } from '../../carriers/connector-settings.ts';
import type { ConnectorRecord } from '../../store/records.ts';

export interface BandwidthCallbackRouteDeps extends Omit<BandwidthCallbackDeps, 'log'> {
  connectors: ConnectorDirectory;
}

declare module 'fastify' {
  interface FastifyRequest {
    bandwidthConnector?: ConnectorRecord;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function basicAuthMatches(header: string | undefined, user: string, password: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  const given = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  return timingSafeEqual(digest(given), digest(`${user}:${password}`));
}

/**
 * `POST /connectors/<name>/callbacks`: the Callback URL of the Bandwidth application. Outside the API
 * key group. With callback credentials set, it answers as Bandwidth expects of a challenge: a request
 * without `Authorization` gets 401 with `WWW-Authenticate: Basic realm=""` (Bandwidth then sends it
 * again with the credentials); wrong credentials get 401 too, and nothing is read or recorded.
 */
export function bandwidthCallbackRoutes(app: FastifyInstance, deps: BandwidthCallbackRouteDeps): void {
  app.register(async (bw) => {
    bw.removeAllContentTypeParsers();
    bw.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

    bw.setErrorHandler((err: FastifyError, request, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
        return reply.code(413).send({ errors: ['callback over the size limit'] });
      }
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        return reply.code(400).send({ errors: ['unreadable request'] });
      }
      request.log.error({ err, url: request.url }, 'Bandwidth callback failed');
      return reply.code(503).send({ errors: ['not recorded; send it again'] });
    });

    bw.addHook<{ Params: { name: string } }>('onRequest', async (request, reply) => {
      const connector = await deps.connectors.get(request.params.name);
      if (connector?.type !== 'bandwidth') {
        return reply.code(404).send({ errors: ['no Bandwidth connector at this address'] });
      }
      const s = connector.settings as BandwidthConnectorSettings;
      if (s.callbackUsername !== undefined && s.callbackPassword !== undefined) {
        const given = request.headers.authorization;
        if (given === undefined || !basicAuthMatches(given, s.callbackUsername, s.callbackPassword)) {
          if (given !== undefined) {
            request.log.warn({ connector: connector.name }, 'Bandwidth callback with wrong credentials');
          }
          return reply
            .code(401)
            .header('www-authenticate', 'Basic realm=""')
            .send({ errors: ['authentication required'] });
        }
      }
      request.bandwidthConnector = connector;
    });

    bw.post<{ Params: { name: string } }>('/connectors/:name/callbacks', async (request, reply) => {
      let body: unknown;
      try {
        body = JSON.parse(typeof request.body === 'string' ? request.body : '');
      } catch {
        return reply.code(400).send({ errors: ['the body must be JSON'] });
      }
      const connector = request.bandwidthConnector!;
      const answer = await handleBandwidthCallbacks(
        { ...deps, log: request.log },
        { name: connector.name, settings: connector.settings as BandwidthConnectorSettings },
        body,
      );
      return reply.code(answer.httpStatus).send(answer.body);
    });
  });
}
