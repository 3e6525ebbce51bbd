import { createHash } from 'node:crypto';
import { type Dispatcher, request } from 'undici';
import type { UpstreamInbound } from './webhook-event.ts';

const TIMEOUT_MS = 10_000;
/** All of one inbound message's media together. */
const MAX_TOTAL_BYTES = 5 * 1024 * 1024;

export class InboundMediaError extends Error {}

/**
 * Fetches the media of an inbound message the upstream announced (the intake stores bytes, not
 * links), checking each against the hash the upstream gave. The webhook was signed by the upstream,
 * so its links are as trusted as the upstream itself.
 */
export async function fetchInboundMedia(
  media: UpstreamInbound['media'],
  deps: { dispatcher?: Dispatcher } = {},
): Promise<Array<{ contentType: string; bytes: Buffer }>> {
  const out: Array<{ contentType: string; bytes: Buffer }> = [];
  let total = 0;
  for (const m of media) {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(m.url, {
        dispatcher: deps.dispatcher,
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
      });
    } catch (err) {
      throw new InboundMediaError(`media ${m.url}: ${(err as Error).message}`);
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new InboundMediaError(`media ${m.url}: HTTP ${res.statusCode}`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) {
      total += chunk.length;
      if (total > MAX_TOTAL_BYTES) {
        res.body.destroy();
        throw new InboundMediaError(`media over ${MAX_TOTAL_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    if (m.sha256 && createHash('sha256').update(bytes).digest('hex') !== m.sha256) {
      throw new InboundMediaError(`media ${m.url}: bytes do not match hash_sha256`);
    }
    const header = res.headers['content-type'];
    const contentType =
      m.contentType ??
      (Array.isArray(header) ? header[0] : header)?.split(';')[0]?.trim() ??
      'application/octet-stream';
    out.push({ contentType, bytes });
  }
  return out;
}
