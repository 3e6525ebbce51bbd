import type { Dialect, SqlExecutor } from './driver.ts';

/** The circuit breaker state of one connector, with the database's clock when it was read. */
export interface BreakerState {
  connector: string;
  consecutive_failures: number;
  /** Skipped until then (ms on the database's clock); null: closed. */
  open_until: number | null;
}

const PG_CLOCK = '(floor(extract(epoch from clock_timestamp()) * 1000))::bigint';

/**
 * Connector circuit breakers shared by every node. Times are on the database's clock on PostgreSQL
 * (nodes whose clocks disagree still agree), on this process's clock on SQLite (one node).
 */
export function connectorBreakersRepo(db: SqlExecutor, dialect: Dialect) {
  const pg = dialect === 'postgres';
  const NOW = pg ? PG_CLOCK : 'CAST(? AS INTEGER)';
  const clock = (): unknown[] => (pg ? [] : [Date.now()]);
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

  return {
    /** The states of these connectors (absent: closed, never failed) and the clock that read them. */
    async states(names: readonly string[]): Promise<{ now: number; states: Map<string, BreakerState> }> {
      const rows = await db.all<{
        connector: string | null;
        consecutive_failures: number | string | null;
        open_until: number | string | null;
        now: number | string;
      }>(
        `SELECT connector, consecutive_failures, open_until, ${NOW} AS now FROM connector_breakers
         WHERE connector IN (${names.map(() => '?').join(', ') || 'NULL'})
         UNION ALL SELECT NULL, NULL, NULL, ${NOW}`,
        [...clock(), ...names, ...clock()],
      );
      const states = new Map<string, BreakerState>();
      for (const r of rows) {
        if (r.connector === null) continue;
        states.set(r.connector, {
          connector: r.connector,
          consecutive_failures: Number(r.consecutive_failures),
          open_until: n(r.open_until),
        });
      }
      return { now: Number(rows.at(-1)?.now ?? Date.now()), states };
    },

    /**
     * Counts one more retryable failure; the `threshold`-th in a row (or a failed half-open trial)
     * opens the breaker for `cooldownMs`. Returns the state after.
     */
    async recordFailure(name: string, threshold: number, cooldownMs: number): Promise<BreakerState> {
      const row = await db.get<{ consecutive_failures: number | string; open_until: number | string | null }>(
        `INSERT INTO connector_breakers (connector, consecutive_failures, open_until)
         VALUES (?, 1, CASE WHEN 1 >= ? THEN ${NOW} + ? ELSE NULL END)
         ON CONFLICT (connector) DO UPDATE SET
           consecutive_failures = connector_breakers.consecutive_failures + 1,
           open_until = CASE WHEN connector_breakers.consecutive_failures + 1 >= ?
                             THEN ${NOW} + ? ELSE connector_breakers.open_until END
         RETURNING consecutive_failures, open_until`,
        [name, threshold, ...clock(), cooldownMs, threshold, ...clock(), cooldownMs],
      );
      return {
        connector: name,
        consecutive_failures: Number(row!.consecutive_failures),
        open_until: n(row!.open_until),
      };
    },

    /** A submit went through: the breaker closes and its count starts over. */
    async recordSuccess(name: string): Promise<void> {
      await db.run(
        `UPDATE connector_breakers SET consecutive_failures = 0, open_until = NULL
         WHERE connector = ? AND (consecutive_failures > 0 OR open_until IS NOT NULL)`,
        [name],
      );
    },

    /**
     * Half-open: the cool-down is over. One caller on any node wins the single trial (the breaker is
     * pushed out by another cool-down meanwhile, so the others keep skipping it); true for the winner.
     */
    async claimTrial(name: string, cooldownMs: number): Promise<boolean> {
      const changed = await db.run(
        `UPDATE connector_breakers SET open_until = ${NOW} + ?
         WHERE connector = ? AND open_until IS NOT NULL AND open_until <= ${NOW}`,
        [...clock(), cooldownMs, name, ...clock()],
      );
      return changed > 0;
    },

    /** Records which connector took (or refused) a message. */
    async recordMessageConnector(messageId: string, connector: string): Promise<void> {
      await db.run('UPDATE messages SET connector = ? WHERE id = ?', [connector, messageId]);
    },
    /** Many messages' connectors in one statement (the sends a completion batch records). */
    async recordMessageConnectors(
      taken: ReadonlyArray<{ messageId: string; connector: string }>,
    ): Promise<void> {
      if (taken.length === 0) return;
      if (taken.length === 1) {
        await db.run('UPDATE messages SET connector = ? WHERE id = ?', [
          taken[0]!.connector,
          taken[0]!.messageId,
        ]);
        return;
      }
      await db.run(
        `WITH v (id, connector) AS (VALUES ${taken.map(() => '(?, ?)').join(', ')})
         UPDATE messages SET connector = v.connector FROM v WHERE messages.id = v.id`,
        taken.flatMap((t) => [t.messageId, t.connector]),
      );
    },
  };
}
