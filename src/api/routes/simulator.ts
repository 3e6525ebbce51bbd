import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { ApiError, apiError, telnyxError } from '../../errors/api-error.ts';
import { type HandsetDeps, parseHandsetMessage, sendFromHandset } from '../../inbound/simulated-handset.ts';
import { renderGroupMessage, renderRecipientMessage } from '../../messages/render.ts';
import { renderInboundMessage } from '../../messages/render-inbound.ts';
import { isFinalStatus } from '../../messages/status.ts';
import type { StatusWaiter } from '../../messages/status-waiter.ts';
import { parseE164 } from '../../numbers/e164.ts';
import type { MessageRecord, RecipientRecord } from '../../store/records.ts';
import { isUuid } from '../../validation/ids.ts';
import { parseWithTelnyxErrors } from '../../validation/telnyx-issues.ts';
import type { ApiContext } from '../context.ts';

export interface SimulatorRouteDeps extends HandsetDeps {
  waiter: StatusWaiter;
  /** Longest wait a request may ask for: kept below the connection's idle timeout. */
  maxWaitMs: number;
}

/** The simulator's input errors are 422 (Telnyx's codes and pointers, the extension's status). */
function parse422<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  try {
    return parseWithTelnyxErrors(schema, input ?? {});
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) throw new ApiError(422, err.errors);
    throw err;
  }
}

const e164 = z.string().refine((v) => parseE164(v) !== null, { error: 'must be a +E.164 phone number' });

function timeoutSchema(maxWaitMs: number) {
  return z.coerce
    .number({ error: 'timeout_ms must be a number of milliseconds' })
    .int()
    .min(0)
    .max(maxWaitMs, { error: `timeout_ms is at most ${maxWaitMs}` })
    .default(Math.min(10_000, maxWaitMs));
}

/** Ends when the client goes away, so a waiter is not kept for nobody. */
function closedSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  // The response closes when it is sent, or earlier when the connection is gone.
  reply.raw.once('close', () => controller.abort());
  return controller.signal;
}

type Found =
  | { kind: 'group'; message: MessageRecord; recipients: RecipientRecord[] }
  | { kind: 'one'; message: MessageRecord; recipients: RecipientRecord[] };

/**
 * Sandbox extensions under `/v2/simulator/` (registered only in a sandbox, where the carrier
 * simulator is the developer's): simulated handsets that send to the gateway, and waiting helpers.
 */
export function simulatorRoutes(app: FastifyInstance, ctx: ApiContext, deps: SimulatorRouteDeps): void {
  app.post('/v2/simulator/messages', async (request) => {
    const message = parseHandsetMessage(request.body);
    const stored = await sendFromHandset(deps, request.organizationId, message);
    return { data: renderInboundMessage(stored.message, stored.recipients) };
  });

  const render = (f: Found) => {
    if (f.message.direction === 'inbound') return renderInboundMessage(f.message, f.recipients);
    if (f.kind === 'one') return renderRecipientMessage(f.message, f.recipients[0]!);
    return renderGroupMessage(f.message, f.recipients, ctx.rates);
  };

  const waitQuery = z.object({ timeout_ms: timeoutSchema(deps.maxWaitMs), recipient: e164.optional() });

  /**
   * Blocks until the message (a group id, or a recipient's own id) has every recipient final, or
   * only the recipient `recipient` (a number) when given, or until `timeout_ms`. Answers the message
   * as GET /v2/messages/{id} would, and `meta.timed_out`.
   */
  app.get<{ Params: { id: string } }>('/v2/simulator/messages/:id/wait', async (request, reply) => {
    const query = parse422(waitQuery, request.query);
    const { id } = request.params;
    const org = request.organizationId;
    if (!isUuid(id)) throw apiError('10005');
    const load = async (): Promise<Found | undefined> => {
      const group = await ctx.store.messages.getForOrganization(org, id);
      if (group) return { kind: 'group', ...group };
      const one = await ctx.store.messages.getRecipientForOrganization(org, id);
      return one && { kind: 'one', message: one.message, recipients: [one.recipient] };
    };
    const first = await load();
    if (!first) throw apiError('10005');
    if (query.recipient && !first.recipients.some((r) => r.phone_number === query.recipient)) {
      throw new ApiError(422, [
        telnyxError('10015', {
          parameter: 'recipient',
          detail: `${query.recipient} is not a recipient of this message.`,
        }),
      ]);
    }
    const watched = (f: Found | undefined) =>
      (f?.recipients ?? []).filter((r) => !query.recipient || r.phone_number === query.recipient);
    const started = Date.now();
    const { value, timedOut } = await deps.waiter.wait({
      key: `message:${id}`,
      load,
      done: (f) => f !== undefined && watched(f).every((r) => isFinalStatus(r.status)),
      timeoutMs: query.timeout_ms,
      signal: closedSignal(reply),
    });
    const found = value ?? first;
    return {
      data: render(found),
      meta: { timed_out: timedOut, waited_ms: Date.now() - started },
    };
  });

  const latestQuery = z.object({
    to: e164,
    from: e164.optional(),
    since: z
      .string()
      .refine((v) => !Number.isNaN(Date.parse(v)), { error: 'since must be an ISO 8601 time' })
      .optional(),
    timeout_ms: timeoutSchema(deps.maxWaitMs),
  });

  /**
   * The newest inbound message to `to` (from `from`, received at or after `since`, when given), as
   * Mailpit's `latest`: answered at once when there is one, else it waits up to `timeout_ms` for one
   * to arrive. `data` is null when none came.
   */
  app.get('/v2/simulator/messages/latest', async (request, reply) => {
    const query = parse422(latestQuery, request.query);
    const org = request.organizationId;
    const filter = {
      direction: 'inbound' as const,
      to: query.to,
      ...(query.from ? { from: query.from } : {}),
      ...(query.since ? { receivedGte: new Date(query.since).toISOString() } : {}),
    };
    const started = Date.now();
    const { value, timedOut } = await deps.waiter.wait({
      key: `latest:${org}:${JSON.stringify(filter)}`,
      load: async () => (await ctx.store.messages.listForOrganization(org, filter, 1))[0],
      done: (m) => m !== undefined,
      timeoutMs: query.timeout_ms,
      signal: closedSignal(reply),
    });
    return {
      data: value ? renderInboundMessage(value.message, value.recipients) : null,
      meta: { timed_out: timedOut, waited_ms: Date.now() - started },
    };
  });
}
