/**
 * Media of an inbound message stays on Bandwidth (`{base}/users/{accountId}/media/…`, kept 48 hours)
 * and is read with the same bearer token as submits. Only URLs under the connector's own media path
 * are fetched: the token never goes anywhere else.
 */
import { request } from 'undici';
import type { BandwidthConnectorSettings } from '../connector-settings.ts';
import { bandwidthToken, forgetBandwidthToken } from './token.ts';

/** Bandwidth takes at most 3.5 MB per attachment (3.75 MB in older docs). */
export const MAX_INBOUND_MEDIA_BYTES = 4 * 1024 * 1024;
const TIMEOUT_MS = 20_000;

export class InboundMediaError extends Error {}

export async function fetchInboundMedia(
  urls: string[],
  s: BandwidthConnectorSettings,
): Promise<Array<{ contentType: string; bytes: Buffer }>> {
  const credentials = { tokenUrl: s.tokenUrl, clientId: s.clientId, clientSecret: s.clientSecret };
  const prefix = new URL(`${s.baseUrl}/users/${encodeURIComponent(s.accountId)}/media/`).href;
  const out: Array<{ contentType: string; bytes: Buffer }> = [];
  for (const given of urls) {
    // Resolved first, so `..` cannot lead the token out of the account's media path.
    const url = new URL(given).href;
    if (!url.startsWith(prefix)) {
      throw new InboundMediaError(`media URL outside ${prefix}: not fetched with the account's token`);
    }
    let token = await bandwidthToken(credentials).catch((err: Error) => {
      throw new InboundMediaError(err.message);
    });
    let res = await get(url, token);
    if (res.status === 401) {
      forgetBandwidthToken(credentials, token);
      token = await bandwidthToken(credentials).catch((err: Error) => {
        throw new InboundMediaError(err.message);
      });
      res = await get(url, token);
    }
    if (res.status !== 200) throw new InboundMediaError(`media ${url} answered HTTP ${res.status}`);
    out.push({ contentType: res.contentType, bytes: res.bytes });
  }
  return out;
}

async function get(
  url: string,
  token: string,
): Promise<{ status: number; contentType: string; bytes: Buffer }> {
  try {
    const res = await request(url, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += chunk.length;
      if (size > MAX_INBOUND_MEDIA_BYTES) {
        res.body.destroy();
        throw new InboundMediaError(`media ${url} is larger than ${MAX_INBOUND_MEDIA_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const type = res.headers['content-type'];
    const contentType = (Array.isArray(type) ? type[0] : type)?.split(';')[0]?.trim().toLowerCase();
    return {
      status: res.statusCode,
      contentType: contentType || 'application/octet-stream',
      bytes: Buffer.concat(chunks),
    };
  } catch (err) {
    if (err instanceof InboundMediaError) throw err;
    const e = err as { code?: string; name?: string; message?: string };
    throw new InboundMediaError(`media ${url}: ${e.code ?? e.name ?? e.message ?? 'network error'}`);
  }
}
