import type http from 'node:http';
import { json, readBody } from './http-helpers.ts';
import type { BandwidthEmulator, InboundInjection, Outcome, SubmitAnswer } from './types.ts';

/** The emulator's control API under `/control`: script what it answers and read what it saw (README). */
export async function handleControl(
  api: BandwidthEmulator,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
): Promise<void> {
  const body =
    req.method === 'POST' ? (JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>) : {};
  switch (`${req.method} ${path}`) {
    case 'GET /control/submits':
      return json(res, 200, { submits: api.submits });
    case 'GET /control/callbacks':
      return json(res, 200, { callbacks: api.callbacks });
    case 'GET /control/tokens':
      return json(res, 200, { requests: api.tokenRequests(), issued: api.tokensIssued() });
    case 'POST /control/tokens/revoke':
      api.revokeTokens();
      return json(res, 200, { revoked: true });
    case 'POST /control/outcomes':
      api.setOutcome(String(body.phoneNumber), body as unknown as Outcome);
      return json(res, 200, { ok: true });
    case 'POST /control/answers':
      api.answerNext(body as unknown as SubmitAnswer);
      return json(res, 200, { ok: true });
    case 'POST /control/callbacks':
      api.controlCallbacks(body as { duplicate?: boolean; hold?: boolean });
      return json(res, 200, { ok: true });
    case 'POST /control/application':
      api.setApplication(body as { callbackUrl?: string; username?: string; password?: string });
      return json(res, 200, { ok: true });
    case 'POST /control/inbound':
      return json(res, 200, { ids: api.injectInbound(body as unknown as InboundInjection) });
    default:
      return json(res, 404, { error: `no control ${req.method} ${path}` });
  }
}
