import type { Dialect, SqlExecutor } from './driver.ts';

/** One limit a submit must respect: at most one submit per `intervalMs` for `key`. */
export interface ThroughputKey {
  key: string;
  intervalMs: number;
}

/**
 * What a message may do: go `at` (its slot is taken), or wait in the queue `until` (its place is
 * kept when `held`; when asked not to wait, nothing was taken). Times are on the database's clock;
 * minus `offsetMs` they are on this process's.
 */
export type Admission = ({ go: true; at: number } | { go: false; until: number; held: boolean }) & {
  offsetMs: number;
  /** How far the database's clock may be ahead of `at - offsetMs` (a read takes time). */
  uncertaintyMs: number;
};

export interface SenderLimitRecord {
  subject: string;
  max_per_second: number;
  updated_at: string;
}

/** A reservation this far in the past is abandoned. */
const ABANDONED_AFTER_MS = 60_000;

const PG_CLOCK = '(floor(extract(epoch from clock_timestamp()) * 1000))::bigint';

/**
 * Throughput limits shared by every node: one "next free slot" row per key, read and moved under a
 * row lock in one transaction on the database's clock (PostgreSQL; this process's on SQLite).
 */
export function throughputRepo(db: SqlExecutor, dialect: Dialect) {
  const pg = dialect === 'postgres';
  const lock = pg ? 'FOR UPDATE' : '';

  /**
   * Keeps the line in the order the messages were accepted: a message that comes for its place
   * after later messages (their jobs ran first) took theirs takes the earliest of those, and each
   * of them moves one place back (the last to the slot `lineEnd` this one was given). Message ids
   * are UUIDv7, ordered by time.
   */
  async function takePlaceInLine(
    messageId: string,
    signature: string,
    lineEnd: number,
    now: number,
  ): Promise<number> {
    // A place whose time passed long ago belongs to a message that is not coming for it (it
    // expired, or its limit was removed): it is cleared, not taken.
    await db.run('DELETE FROM throughput_reservations WHERE keys = ? AND slot_at < ?', [
      signature,
      now - ABANDONED_AFTER_MS,
    ]);
    const later = await db.all<{ message_id: string; slot_at: number | string }>(
      `SELECT message_id, slot_at FROM throughput_reservations
       WHERE keys = ? AND slot_at >= ? AND slot_at < ? AND message_id > ? ORDER BY slot_at ${lock}`,
      [signature, now - ABANDONED_AFTER_MS, lineEnd, messageId],
    );
    if (later.length === 0) return lineEnd;
    const times = [...later.map((r) => Number(r.slot_at)), lineEnd];
    for (const [i, r] of later.entries()) {
      await db.run('UPDATE throughput_reservations SET slot_at = ? WHERE message_id = ?', [
        times[i + 1],
        r.message_id,
      ]);
    }
    return times[0]!;
  }

  return {
    /**
     * Must run inside a transaction. A message with a reservation for the same keys keeps its slot;
     * otherwise it takes the next free one of every key (its place in line). A slot more than
     * `leadMs` away: wait in the queue until `leadMs` before it. Then the guard: no submit of a key
     * goes out sooner than `intervalMs` after the previous one actually did (a late one pushes the
     * rest back); a go more than `maxInlineMs` away waits in the queue too.
     */
    async admit(
      messageId: string,
      keys: readonly ThroughputKey[],
      opts: { leadMs: number; maxInlineMs: number; mayWait: boolean },
    ): Promise<Admission> {
      const sorted = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const signature = JSON.stringify(sorted.map((k) => [k.key, k.intervalMs]));
      for (const k of sorted) {
        await db.run(
          'INSERT INTO throughput_slots (key, next_at, last_go) VALUES (?, 0, 0) ON CONFLICT (key) DO NOTHING',
          [k.key],
        );
      }
      const rows = await db.all<{ key: string; next_at: number | string; last_go: number | string }>(
        `SELECT key, next_at, last_go FROM throughput_slots WHERE key IN (${sorted.map(() => '?').join(', ')})
         ORDER BY key ${lock}`,
        sorted.map((k) => k.key),
      );
      const slots = new Map(rows.map((r) => [r.key, { next: Number(r.next_at), last: Number(r.last_go) }]));
      const held = await db.get<{ keys: string; slot_at: number | string }>(
        'SELECT keys, slot_at FROM throughput_reservations WHERE message_id = ?',
        [messageId],
      );
      // The clock is read once the rows are ours. It was read between `asked` and `answered` (this
      // process's clock): `offsetMs` turns its times into ours without ever making them earlier.
      const asked = Date.now();
      const now = pg
        ? Number((await db.get<{ now: number | string }>(`SELECT ${PG_CLOCK} AS now`))!.now)
        : asked;
      const answered = pg ? Date.now() : asked;
      const clock = { offsetMs: now - answered, uncertaintyMs: answered - asked };

      let slot: number;
      /** A fresh place at the end of the line: the keys' next free slot. */
      let lineEnd: number | null = null;
      if (held && held.keys === signature) {
        slot = Number(held.slot_at);
      } else {
        slot = Math.max(now, ...sorted.map((k) => slots.get(k.key)!.next));
        lineEnd = slot;
        if (opts.mayWait) slot = await takePlaceInLine(messageId, signature, slot, now);
      }
      const go = Math.max(slot, ...sorted.map((k) => slots.get(k.key)!.last + k.intervalMs));
      const admitted = slot - now <= opts.leadMs && go - now <= opts.maxInlineMs;
      if (!admitted && !opts.mayWait) return { go: false, until: go, ...clock, held: false };

      if (lineEnd !== null) {
        for (const k of sorted) {
          await db.run('UPDATE throughput_slots SET next_at = ? WHERE key = ?', [
            lineEnd + k.intervalMs,
            k.key,
          ]);
        }
      }
      if (!admitted) {
        await db.run(
          `INSERT INTO throughput_reservations (message_id, keys, slot_at) VALUES (?, ?, ?)
           ON CONFLICT (message_id) DO UPDATE SET keys = excluded.keys, slot_at = excluded.slot_at`,
          [messageId, signature, go],
        );
        return { go: false, until: go - opts.leadMs, ...clock, held: true };
      }
      for (const k of sorted) {
        await db.run(
          `UPDATE throughput_slots SET last_go = ?, next_at = CASE WHEN next_at > ? THEN next_at ELSE ? END
           WHERE key = ?`,
          [go, go + k.intervalMs, go + k.intervalMs, k.key],
        );
      }
      if (held) await db.run('DELETE FROM throughput_reservations WHERE message_id = ?', [messageId]);
      return { go: true, at: go, ...clock };
    },

    /**
     * A submit that went out `at` (database clock), later than the moment it was given: the next one
     * of each key is spaced from when it really went.
     */
    async wentLate(keys: readonly ThroughputKey[], at: number): Promise<void> {
      for (const k of keys) {
        await db.run(
          `UPDATE throughput_slots SET last_sent = CASE WHEN last_sent < ? THEN ? ELSE last_sent END,
             last_go = CASE WHEN last_go < ? THEN ? ELSE last_go END,
             next_at = CASE WHEN next_at < ? THEN ? ELSE next_at END
           WHERE key = ?`,
          [at, at, at, at, at + k.intervalMs, at + k.intervalMs, k.key],
        );
      }
    },

    /**
     * Must run inside a transaction. The moment a submit really goes, on the database's clock: no
     * sooner than `intervalMs` after the last one of each key that really went, whatever happened
     * between its admission and now (a slow node, a late slot). Every submit of a key passes here
     * one at a time, so the moments it hands out are spaced on every node.
     */
    async claimSend(
      keys: readonly ThroughputKey[],
    ): Promise<{ at: number; offsetMs: number; latest: number }> {
      const sorted = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const rows = await db.all<{ key: string; last_sent: number | string }>(
        `SELECT key, last_sent FROM throughput_slots WHERE key IN (${sorted.map(() => '?').join(', ')})
         ORDER BY key ${lock}`,
        sorted.map((k) => k.key),
      );
      const lastSent = new Map(rows.map((r) => [r.key, Number(r.last_sent)]));
      const asked = Date.now();
      const now = pg
        ? Number((await db.get<{ now: number | string }>(`SELECT ${PG_CLOCK} AS now`))!.now)
        : asked;
      const answered = pg ? Date.now() : asked;
      const at = Math.max(now, ...sorted.map((k) => (lastSent.get(k.key) ?? 0) + k.intervalMs));
      // The database's clock was read between `asked` and `answered` on ours: waiting on our clock
      // until `at - now + answered`, the submit goes at `at` at the earliest and `at + (answered -
      // asked)` at the latest on the database's clock. The next one is spaced from the latest.
      const latest = at + (answered - asked);
      for (const k of sorted) {
        await db.run(
          `UPDATE throughput_slots SET last_sent = ?,
             last_go = CASE WHEN last_go < ? THEN ? ELSE last_go END,
             next_at = CASE WHEN next_at < ? THEN ? ELSE next_at END
           WHERE key = ?`,
          [latest, latest, latest, latest + k.intervalMs, latest + k.intervalMs, k.key],
        );
      }
      return { at, offsetMs: now - answered, latest };
    },

    /** The limits set for a sender number and for its messaging profile. */
    async senderLimits(
      phoneNumber: string,
      profileId: string,
    ): Promise<{ number?: number; profile?: number }> {
      const rows = await db.all<{ subject: string; max_per_second: number | string }>(
        'SELECT subject, max_per_second FROM sender_limits WHERE subject IN (?, ?)',
        [`number:${phoneNumber}`, `profile:${profileId}`],
      );
      const found: { number?: number; profile?: number } = {};
      for (const r of rows) {
        if (r.subject.startsWith('number:')) found.number = Number(r.max_per_second);
        else found.profile = Number(r.max_per_second);
      }
      return found;
    },

    async setSenderLimit(subject: string, maxPerSecond: number | null, at: string): Promise<void> {
      if (maxPerSecond === null) {
        await db.run('DELETE FROM sender_limits WHERE subject = ?', [subject]);
        return;
      }
      await db.run(
        `INSERT INTO sender_limits (subject, max_per_second, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (subject) DO UPDATE SET max_per_second = excluded.max_per_second, updated_at = excluded.updated_at`,
        [subject, maxPerSecond, at],
      );
    },

    async listSenderLimits(): Promise<SenderLimitRecord[]> {
      const rows = await db.all<SenderLimitRecord>('SELECT * FROM sender_limits ORDER BY subject');
      return rows.map((r) => ({ ...r, max_per_second: Number(r.max_per_second) }));
    },

    /**
     * An organization's messages waiting to be sent (its jobs of the `message.send` queue), counted up
     * to `atMost` (an index range, no more). The queue is named in the SQL, not bound: the partial
     * index of the send queue serves only a statement that names it.
     */
    async queuedSends(organizationId: string, atMost: number): Promise<number> {
      const row = await db.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM (
           SELECT 1 AS one FROM jobs WHERE queue = 'message.send' AND fair_key = ? AND failed_at IS NULL LIMIT ?
         ) q`,
        [organizationId, atMost],
      );
      return Number(row?.n ?? 0);
    },
  };
}
