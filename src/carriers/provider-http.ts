/**
 * What every connector that talks HTTP to a carrier or provider (MM7, Bandwidth, a Telnyx-compatible
 * upstream) does the same way: read an answer without letting a hostile peer fill our memory, and
 * say in one phrase why a request got no answer.
 */

/** The answer's body, at most `maxBytes` of it: the rest is dropped and the connection closed. */
export async function readCapped(
  body: AsyncIterable<Buffer> & { destroy?: () => void },
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy?.();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Why a request got no answer: our own timeout, our own abort (timeout, shutdown), or the network's error. */
export function networkReason(err: unknown, timeoutMs: number, signal?: AbortSignal): string {
  if (signal?.aborted) return 'the gateway stopped waiting';
  const e = err as { name?: string; code?: string; message?: string };
  if (
    e?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return `no answer within ${timeoutMs} ms`;
  }
  if (e?.name === 'AbortError') return 'the gateway stopped waiting';
  return e?.code ?? e?.message ?? 'network error';
}
