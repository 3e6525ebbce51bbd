import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ConnectorDirectory } from '../carriers/connector-directory.ts';
import type { CarrierConnector, CarrierSubmission, SubmitResult } from '../carriers/types.ts';
import { ERRORS } from '../errors/catalogue.ts';
import { carrierSubmitLatency } from '../metrics/metrics.ts';
import { batchedRead } from '../queue/batched-read.ts';
import type { MessageRecord } from '../store/records.ts';
import type { BreakerState } from '../store/sql/connector-breakers.ts';
import type { Admission, ThroughputKey } from '../store/sql/throughput.ts';
import type { Store } from '../store/store.ts';
import { THROUGHPUT_LATE_MS, type ThroughputLimits } from './throughput-limits.ts';

/** A submit's slot: its keys, its moment on the database's clock and on this process's. */
interface Slot {
  keys: ThroughputKey[];
  at: number;
  goAt: number;
  offsetMs: number;
  uncertaintyMs: number;
}

const slotOf = (keys: ThroughputKey[], a: Admission & { go: true }): Slot => ({
  keys,
  at: a.at,
  goAt: a.at - a.offsetMs,
  offsetMs: a.offsetMs,
  uncertaintyMs: a.uncertaintyMs,
});

/** What a submit along the route came to, and which connector answered (null: none was tried). */
export interface RouteOutcome {
  connector: string | null;
  result: SubmitResult;
}

/**
 * A message's way out, decided before its recipients are marked `sending`: either it waits in the
 * queue until `waitUntil` (a throughput limit; no retry counted, no error), or it is submitted.
 */
export type RoutePlan =
  | { waitUntil: number }
  | { waitUntil?: undefined; submit(submission: CarrierSubmission): Promise<RouteOutcome> };

export interface RouteSubmitter {
  prepare(message: MessageRecord): Promise<RoutePlan>;
}

export interface BreakerSettings {
  /** This many retryable submit failures in a row open a connector's breaker. */
  failures: number;
  /** An open breaker skips its connector this long, then lets one trial submit through. */
  cooldownMs: number;
}

export interface RouteSubmitDeps {
  store: Store;
  directory: ConnectorDirectory;
  connectorNamed(name: string): Promise<CarrierConnector>;
  breaker: BreakerSettings;
  limits: ThroughputLimits;
  logger: Logger;
}

function allOpen(retryAfterMs: number, names: readonly string[]): SubmitResult {
  return {
    ok: false,
    retryable: true,
    error: {
      code: '40006',
      title: ERRORS['40006'].title,
      detail: `Every connector of the route (${names.join(', ')}) is paused after repeated failures.`,
    },
    retryAfterMs: Math.max(1, retryAfterMs),
  };
}

const OVER_LIMIT = (name: string): SubmitResult => ({
  ok: false,
  retryable: true,
  error: {
    code: '40006',
    title: ERRORS['40006'].title,
    detail: `Connector ${name} is at its submit limit.`,
  },
});

/** Waits until `at` (this process's clock): the submit goes out at its slot, not before. */
async function until(at: number, signal?: AbortSignal): Promise<void> {
  const ms = at - Date.now();
  if (ms > 0) await sleep(ms, undefined, { signal });
}

/**
 * Failover along a profile's route. Connectors whose breaker is open are skipped; a retryable
 * failure counts against the connector's breaker and sends the message to the next connector at
 * once; a permanent failure ends there (no failover); when every connector failed retryably (or is
 * paused), the caller retries the job later. A connector whose cool-down is over gets one trial
 * submit (any node, once): success closes its breaker, failure opens it again.
 *
 * Throughput: before its recipients are marked `sending`, a message takes its place in line for the
 * sender number's and the first connector's limits; one whose slot is later waits in the queue.
 */
export function createRouteSubmitter(deps: RouteSubmitDeps): RouteSubmitter {
  const { store, breaker, limits, logger } = deps;
  // The sends of a claim read their connectors' breakers with one query (one commit on PostgreSQL),
  // all on the database clock of that read.
  const readBreaker = batchedRead(async (names) => {
    const { now, states } = await store.breakers.states(names);
    return new Map(names.map((name) => [name, { now, state: states.get(name) }]));
  });
  const breakerStates = async (route: readonly string[]) => {
    if (route.length === 0) return store.breakers.states(route);
    const read = await Promise.all(route.map((name) => readBreaker(name)));
    const states = new Map<string, BreakerState>();
    route.forEach((name, i) => {
      const state = read[i]?.state;
      if (state) states.set(name, state);
    });
    return { now: read[0]?.now ?? Date.now(), states };
  };

  async function submitAlong(
    message: MessageRecord,
    candidates: string[],
    states: Map<string, BreakerState>,
    now: number,
    firstSlot: Slot | null,
    submission: CarrierSubmission,
  ): Promise<RouteOutcome> {
    let last: RouteOutcome | null = null;
    const failed: string[] = [];
    for (const [i, name] of candidates.entries()) {
      const state = states.get(name);
      const trial = state?.open_until != null && state.open_until <= now;
      if (trial && !(await store.breakers.claimTrial(name, breaker.cooldownMs))) continue;
      let slot = i === 0 ? firstSlot : null;
      if (i > 0) {
        const key = await limits.connectorKey(name);
        if (key) {
          const admission = await limits.admit(message.id, [key], { mayWait: false });
          if (!admission.go) {
            last = { connector: null, result: OVER_LIMIT(name) };
            continue;
          }
          slot = slotOf([key], admission);
        }
      }
      const connector = await deps.connectorNamed(name);
      // The slot's wait is the last step before the submit, so nothing between varies its moment.
      let wentAt: number | null = null;
      if (slot) {
        await until(slot.goAt, submission.signal);
        // Its slot was given at admission; what happened since (a slow node, a late one of another
        // node) may have brought the last real submit of these keys closer: the moment it really
        // goes is taken now, spaced from that one, and waited for (at most one interval).
        const send = await limits.claimSend(slot.keys);
        wentAt = send.at;
        await until(send.localAt, submission.signal);
        // A wait that ended late (a busy event loop) sends later than claimed: the keys' last
        // submit moves to when this one really goes, before it goes, so the next is spaced from it.
        const late = Date.now() - send.localAt;
        if (late > THROUGHPUT_LATE_MS) await limits.wentLate(slot.keys, send.latest + late);
      }
      const timer = carrierSubmitLatency.startTimer({ connector: name });
      const result = await connector.submit(submission);
      timer({ ok: String(result.ok) });

      if (result.ok || !result.retryable) {
        if (result.ok && (trial || (state?.consecutive_failures ?? 0) > 0)) {
          await store.breakers.recordSuccess(name);
          if (trial) logger.info({ connector: name }, 'connector breaker closed after a trial submit');
        }
        if (failed.length > 0) {
          logger.info({ messageId: message.id, connector: name, failedOver: failed }, 'message failed over');
        } else {
          logger.debug(
            { messageId: message.id, connector: name, ok: result.ok, wentAt },
            'message submitted',
          );
        }
        return { connector: name, result };
      }
      failed.push(name);
      last = { connector: name, result };
      const after = await store.breakers.recordFailure(name, breaker.failures, breaker.cooldownMs);
      const opened = after.consecutive_failures === breaker.failures || trial;
      logger.warn(
        {
          messageId: message.id,
          connector: name,
          error: `${result.error.code} ${result.error.title}`,
          detail: result.error.detail,
          consecutiveFailures: after.consecutive_failures,
          next: candidates[i + 1] ?? null,
        },
        'connector submit failed; trying the next connector of the route',
      );
      if (opened)
        logger.warn({ connector: name, cooldownMs: breaker.cooldownMs }, 'connector breaker opened');
      if (submission.signal?.aborted) break;
    }
    return last ?? { connector: null, result: allOpen(breaker.cooldownMs, candidates) };
  }

  return {
    async prepare(message) {
      const route = await deps.directory.route(message.messaging_profile_id);
      const { now, states } = await breakerStates(route);
      const candidates = route.filter((name) => {
        const openUntil = states.get(name)?.open_until;
        return openUntil == null || openUntil <= now;
      });
      if (candidates.length === 0) {
        const reopens = Math.min(...route.map((n) => states.get(n)?.open_until ?? now));
        logger.info(
          { messageId: message.id, route },
          'every connector of the route is paused; retrying later',
        );
        return {
          submit: async () => ({ connector: null, result: allOpen(reopens - now, route) }),
        };
      }
      const keys = [await limits.senderKey(message), await limits.connectorKey(candidates[0]!)].filter(
        (k): k is ThroughputKey => k !== null,
      );
      let slot: Slot | null = null;
      if (keys.length > 0) {
        const admission = await limits.admit(message.id, keys, { mayWait: true });
        if (!admission.go) return { waitUntil: admission.until - admission.offsetMs };
        slot = slotOf(keys, admission);
      }
      return { submit: (submission) => submitAlong(message, candidates, states, now, slot, submission) };
    },
  };
}

/** A route of one connector, no breaker and no limits: for handlers built without a route. */
export function singleConnectorRoute(
  connectorFor: (m: MessageRecord) => Promise<CarrierConnector>,
): RouteSubmitter {
  return {
    async prepare(message) {
      return {
        async submit(submission) {
          const connector = await connectorFor(message);
          return { connector: connector.name, result: await connector.submit(submission) };
        },
      };
    },
  };
}
