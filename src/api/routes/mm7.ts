import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { ConnectorDirectory } from '../../carriers/connector-directory.ts';
import type { Mm7ConnectorSettings } from '../../carriers/connector-settings.ts';
import { Mm7Fault, mm7FaultResponse } from '../../carriers/mm7/index.ts';
import { handleMm7Request, type Mm7Answer, type Mm7ReceiverDeps } from '../../carriers/mm7-receiver.ts';
import type { ConnectorRecord } from '../../store/records.ts';

export interface Mm7RouteDeps extends Omit<Mm7ReceiverDeps, 'log'> {
  connectors: ConnectorDirectory;
}

declare module 'fastify' {
  interface FastifyRequest {
    mm7Connector?: ConnectorRecord;
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time check of an HTTP Basic header against the connector's inbound credentials. */
function basicAuthMatches(header: string | undefined, user: string, password: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  const given = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  return timingSafeEqual(digest(given), digest(`${user}:${password}`));
}

const send = (reply: FastifyReply, a: Mm7Answer) =>
  reply.code(a.httpStatus).header('content-type', a.contentType).send(a.body);

/**
 * `POST /mm7/<connector name>`: where an MMSC posts delivery reports, inbound messages and read
 * replies. Outside the API key group: the MMSC authenticates with HTTP Basic when the connector has
 * inbound credentials (checked before the body is read). The body is taken as raw bytes within the
 * body limit; every refusal is a SOAP Fault, never the API's JSON errors.
 */
export function mm7Routes(app: FastifyInstance, deps: Mm7RouteDeps): void {
  app.register(async (mm7) => {
    mm7.removeAllContentTypeParsers();
    mm7.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    mm7.setErrorHandler((err: FastifyError, request, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
        return send(
          reply,
          mm7FaultResponse(new Mm7Fault(4004, 'Validation error: request over the size limit', 413)),
        );
      }
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        return send(reply, mm7FaultResponse(new Mm7Fault(4004, 'Validation error: unreadable request', 400)));
      }
      request.log.error({ err, url: request.url }, 'MM7 request failed');
      return send(reply, mm7FaultResponse(new Mm7Fault(3000, 'Server Error')));
    });

    mm7.addHook<{ Params: { name: string } }>('onRequest', async (request, reply) => {
      const connector = await deps.connectors.get(request.params.name);
      if (connector?.type !== 'mm7') {
        return send(reply, mm7FaultResponse(new Mm7Fault(4004, 'No MM7 connector at this address', 404)));
      }
      const s = connector.settings as Mm7ConnectorSettings;
      if (s.inboundUsername !== undefined && s.inboundPassword !== undefined) {
        if (!basicAuthMatches(request.headers.authorization, s.inboundUsername, s.inboundPassword)) {
          request.log.warn({ connector: connector.name }, 'MM7 request with wrong or missing credentials');
          return reply
            .code(401)
            .header('www-authenticate', `Basic realm="mm7/${connector.name}"`)
            .header('content-type', 'text/plain; charset=utf-8')
            .send('Unauthorized');
        }
      }
      request.mm7Connector = connector;
    });

    mm7.post<{ Params: { name: string } }>('/mm7/:name', async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const answer = await handleMm7Request(
        { ...deps, log: request.log },
        request.mm7Connector!,
        body,
        request.headers['content-type'],
      );
      return send(reply, answer);
    });
  });
}
