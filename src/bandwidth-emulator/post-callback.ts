/**
 * One callback POST as Bandwidth makes it: a JSON array, `Content-Type: application/json;
 * charset=utf-8`, `User-Agent: BandwidthAPI/v2`. With credentials on the application it is a
 * challenge-response (RFC 7235): first without `Authorization`; only a 401 carrying
 * `WWW-Authenticate` gets the second request with `Authorization: Basic …`.
 */
import { request } from 'undici';

export interface CallbackTarget {
  url: string;
  username?: string;
  password?: string;
}

export interface PostOutcome {
  /** The final answer's status, or undefined when no answer came (connection error, timeout). */
  status?: number;
  /** Whether a challenge (401 + WWW-Authenticate) was answered with credentials. */
  challenged: boolean;
  error?: string;
}

export async function postCallback(
  target: CallbackTarget,
  events: unknown[],
  opts: { timeoutMs: number; signal: AbortSignal },
): Promise<PostOutcome> {
  const body = JSON.stringify(events);
  const send = async (authorization?: string) => {
    const res = await request(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'BandwidthAPI/v2',
        ...(authorization ? { authorization } : {}),
      },
      body,
      signal: AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]),
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    await res.body.dump();
    return res;
  };
  try {
    const first = await send();
    const challenge = first.headers['www-authenticate'];
    if (first.statusCode === 401 && challenge !== undefined && target.username !== undefined) {
      const basic = Buffer.from(`${target.username}:${target.password ?? ''}`).toString('base64');
      const second = await send(`Basic ${basic}`);
      return { status: second.statusCode, challenged: true };
    }
    return { status: first.statusCode, challenged: false };
  } catch (err) {
    const e = err as { code?: string; name?: string; message?: string };
    return { challenged: false, error: e.code ?? e.name ?? e.message ?? 'network error' };
  }
}
