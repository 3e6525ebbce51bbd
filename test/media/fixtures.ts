import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import type { FetchMediaOptions } from '../../src/media/fetch-media.ts';
import { createOutboundDispatcher } from '../../src/net/outbound-guard.ts';
import { type LocalServer, startLocalServer } from '../net/local-server.ts';

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/**
 * A valid 1x1 RGBA PNG. With `size`, a private ancillary chunk (which decoders skip) pads the file
 * to exactly that many bytes; `seed` varies the padding so two files hash differently.
 */
export function makePng(size?: number, seed = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const head = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.from([0, 0xff, 0x00, 0x00, 0xff]))),
  ]);
  const tail = pngChunk('IEND', Buffer.alloc(0));
  if (size === undefined) return Buffer.concat([head, tail]);
  const padding = size - head.length - tail.length - 12;
  if (padding < 0) throw new Error(`PNG cannot be smaller than ${head.length + tail.length + 12} bytes`);
  return Buffer.concat([head, pngChunk('prVt', Buffer.alloc(padding, seed)), tail]);
}

export const TINY_PNG = makePng();

export interface WriteProbe {
  /** Bytes handed to the socket before it closed, and whether the writer got to the end. */
  closed: Promise<{ written: number; finished: boolean }>;
}

/** Writes `total` bytes in 64 KiB chunks, honouring backpressure, until done or the peer goes away. */
export function writeUntilClosed(
  out: Writable,
  total: number,
  chunk = Buffer.alloc(64 * 1024, 0x41),
): WriteProbe {
  let written = 0;
  let finished = false;
  const closed = new Promise<{ written: number; finished: boolean }>((resolve) => {
    out.once('close', () => resolve({ written, finished }));
  });
  const pump = (): void => {
    while (written < total && !out.destroyed) {
      const piece = chunk.subarray(0, Math.min(chunk.length, total - written));
      written += piece.length;
      if (!out.write(piece)) {
        out.once('drain', pump);
        return;
      }
    }
    if (written >= total) finished = true;
  };
  out.on('error', () => {});
  pump();
  return { closed };
}

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** One 127.0.0.1 server per test file; tests register their own paths. */
export async function startMediaServer(): Promise<
  LocalServer & { routes: Map<string, Route>; url: (path: string) => string }
> {
  const routes = new Map<string, Route>();
  const server = await startLocalServer((req, res) => {
    const route = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (route) route(req, res);
    else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  return { ...server, routes, url: (path) => `${server.origin}${path}` };
}

export function serve(contentType: string | null, body: Buffer): Route {
  return (_req, res) => {
    if (contentType !== null) res.setHeader('content-type', contentType);
    res.setHeader('content-length', body.length);
    res.end(body);
  };
}

export function redirect(location: string, status = 302): Route {
  return (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };
}

export const loopbackDispatcher = () =>
  createOutboundDispatcher({ allowCidrs: ['127.0.0.0/8'], connectTimeoutMs: 2_000 });

export const FAST: Omit<FetchMediaOptions, 'dispatcher' | 'maxBytes'> = {
  headersTimeoutMs: 2_000,
  bodyTimeoutMs: 2_000,
  totalTimeoutMs: 5_000,
  maxRedirects: 3,
};
