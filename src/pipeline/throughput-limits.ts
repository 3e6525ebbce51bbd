import type { ConnectorDirectory } from '../carriers/connector-directory.ts';
import type { MessageRecord } from '../store/records.ts';
import type { Admission, ThroughputKey } from '../store/sql/throughput.ts';
import type { Store } from '../store/store.ts';

/** Wake a waiting message this long before its slot, and sleep the rest in the job. */
export const THROUGHPUT_LEAD_MS = 250;
/** A submit at most this far away waits in the job; further away, it waits in the queue. */
export const THROUGHPUT_MAX_INLINE_MS = 1000;
/** A submit later than its slot by more than this moves the key's last submit to when it went. */
export const THROUGHPUT_LATE_MS = 2;

export const intervalFor = (perSecond: number) => Math.max(1, Math.ceil(1000 / perSecond));

/**
 * The throughput limits a submit must respect: the sender number's messages per second (set for the
 * number, else for its messaging profile) and the connector's submits per second (its
 * `maxPerSecond` setting). Limits are read through a cache of `cacheMs`; slots are the database's.
 */
export interface ThroughputLimits {
  senderKey(message: MessageRecord): Promise<ThroughputKey | null>;
  connectorKey(name: string): Promise<ThroughputKey | null>;
  admit(messageId: string, keys: ThroughputKey[], opts: { mayWait: boolean }): Promise<Admission>;
  /** A submit went out later than its slot, at `at` (database clock): later ones are spaced from then. */
  wentLate(keys: ThroughputKey[], at: number): Promise<void>;
  /**
   * The moment this submit really goes, spaced from the last one that went: `at` on the database's
   * clock, `localAt` on this process's (never earlier), and `latest`, the database's moment the
   * next one is spaced from (a submit that waits until `localAt` goes by then).
   */
  claimSend(keys: ThroughputKey[]): Promise<{ at: number; localAt: number; latest: number }>;
}

export function createThroughputLimits(
  store: Store,
  directory: ConnectorDirectory,
  opts: { cacheMs: number; now?: () => number },
): ThroughputLimits {
  const now = opts.now ?? Date.now;
  const senders = new Map<string, { perSecond: number | undefined; at: number }>();
  /** The last admission asked for on this node, per key. */
  const admitting = new Map<string, Promise<void>>();

  return {
    async senderKey(message) {
      const cacheKey = `${message.messaging_profile_id}|${message.from_number}`;
      let known = senders.get(cacheKey);
      if (!known || now() - known.at >= opts.cacheMs) {
        const set = await store.throughput.senderLimits(message.from_number, message.messaging_profile_id);
        known = { perSecond: set.number ?? set.profile, at: now() };
        if (senders.size > 10_000) senders.clear();
        senders.set(cacheKey, known);
      }
      return known.perSecond
        ? { key: `sender:${message.from_number}`, intervalMs: intervalFor(known.perSecond) }
        : null;
    },
    async connectorKey(name) {
      const perSecond = (await directory.get(name))?.settings.maxPerSecond;
      return typeof perSecond === 'number' && perSecond > 0
        ? { key: `connector:${name}`, intervalMs: intervalFor(perSecond) }
        : null;
    },
    wentLate(keys, at) {
      return store.transaction((tx) => tx.throughput.wentLate(keys, at));
    },
    async claimSend(keys) {
      const send = await store.transaction((tx) => tx.throughput.claimSend(keys));
      return { at: send.at, localAt: send.at - send.offsetMs, latest: send.latest };
    },
    admit(messageId, keys, { mayWait }) {
      // One at a time per key on this node, in the order asked: the sends of a claim start in message
      // order, and two admissions racing to the database could otherwise give the later message the
      // earlier place (a message let through at once holds no place for an earlier one to take back).
      // Messages that share no key (other senders, other connectors) do not wait for each other.
      const before = Promise.all(keys.map((k) => admitting.get(k.key)));
      const admission = before.then(() =>
        store.transaction((tx) =>
          tx.throughput.admit(messageId, keys, {
            leadMs: THROUGHPUT_LEAD_MS,
            maxInlineMs: THROUGHPUT_MAX_INLINE_MS,
            mayWait,
          }),
        ),
      );
      const settled = admission.then(
        () => {},
        () => {},
      );
      for (const k of keys) admitting.set(k.key, settled);
      void settled.then(() => {
        for (const k of keys) if (admitting.get(k.key) === settled) admitting.delete(k.key);
      });
      return admission;
    },
  };
}
