import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Mm7Fault,
  type Mm7Inbound,
  mm7FaultResponse,
  mm7Response,
  parseMm7Request,
} from '../../../src/carriers/mm7/index.ts';

/** A stand-in for the gateway's MM7 receiver: parses with our parser, answers with our envelopes. */
export async function startMm7Receiver(opts: { username?: string; password?: string } = {}) {
  const received: Mm7Inbound[] = [];
  let down = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (down) {
        res.writeHead(503).end();
        return;
      }
      if (opts.username !== undefined) {
        const expected = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          res.writeHead(401, { 'www-authenticate': 'Basic' }).end();
          return;
        }
      }
      try {
        const parsed = parseMm7Request(Buffer.concat(chunks), req.headers['content-type']);
        if (parsed.kind === 'unsupported')
          throw new Mm7Fault(4003, `Unsupported operation ${parsed.element}`);
        received.push(parsed);
        const kind = parsed.kind.replace(/Req$/, 'Rsp') as
          | 'DeliverRsp'
          | 'DeliveryReportRsp'
          | 'ReadReplyRsp';
        const { contentType, body } = mm7Response(
          kind,
          parsed.transactionId,
          parsed.schema ?? parsed.mm7Version,
        );
        res.writeHead(200, { 'content-type': contentType }).end(body);
      } catch (err) {
        const fault = err instanceof Mm7Fault ? err : new Mm7Fault(3000, 'Server error');
        const { httpStatus, contentType, body } = mm7FaultResponse(fault);
        res.writeHead(httpStatus, { 'content-type': contentType }).end(body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mm7/test`,
    received,
    setDown(value: boolean) {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
