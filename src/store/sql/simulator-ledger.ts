import type { SqlExecutor } from './driver.ts';

export interface SimulatorSubmissionRow {
  idempotency_key: string;
  recipient_id: string;
  phone_number: string;
  carrier_message_id: string;
  times_seen: number;
  created_at: string;
}

/** The simulator's own book of what it was sent: it stands in for an external carrier's records. */
export function simulatorSubmissionsRepo(db: SqlExecutor) {
  return {
    async record(
      entry: Omit<SimulatorSubmissionRow, 'times_seen'>,
    ): Promise<{ carrierMessageId: string; timesSeen: number }> {
      await db.run(
        `INSERT INTO simulator_submissions (idempotency_key, recipient_id, phone_number, carrier_message_id, times_seen, created_at)
         VALUES (?, ?, ?, ?, 1, ?)
         ON CONFLICT (idempotency_key, recipient_id) DO UPDATE SET times_seen = simulator_submissions.times_seen + 1`,
        [
          entry.idempotency_key,
          entry.recipient_id,
          entry.phone_number,
          entry.carrier_message_id,
          entry.created_at,
        ],
      );
      const row = await db.get<SimulatorSubmissionRow>(
        'SELECT * FROM simulator_submissions WHERE idempotency_key = ? AND recipient_id = ?',
        [entry.idempotency_key, entry.recipient_id],
      );
      return { carrierMessageId: row!.carrier_message_id, timesSeen: Number(row!.times_seen) };
    },
    /**
     * Records a submission's recipients in one statement; answers, in the order given, each one's
     * carrier id (the first one recorded for it) and how many submits of it were seen.
     */
    async recordMany(
      entries: Array<Omit<SimulatorSubmissionRow, 'times_seen'>>,
    ): Promise<Array<{ carrierMessageId: string; timesSeen: number }>> {
      if (entries.length === 0) return [];
      const rows = await db.all<
        Pick<SimulatorSubmissionRow, 'recipient_id' | 'carrier_message_id' | 'times_seen'>
      >(
        `INSERT INTO simulator_submissions (idempotency_key, recipient_id, phone_number, carrier_message_id, times_seen, created_at)
         VALUES ${entries.map(() => '(?, ?, ?, ?, 1, ?)').join(', ')}
         ON CONFLICT (idempotency_key, recipient_id) DO UPDATE SET times_seen = simulator_submissions.times_seen + 1
         RETURNING recipient_id, carrier_message_id, times_seen`,
        entries.flatMap((e) => [
          e.idempotency_key,
          e.recipient_id,
          e.phone_number,
          e.carrier_message_id,
          e.created_at,
        ]),
      );
      const byRecipient = new Map(rows.map((r) => [r.recipient_id, r]));
      return entries.map((e) => {
        const row = byRecipient.get(e.recipient_id)!;
        return { carrierMessageId: row.carrier_message_id, timesSeen: Number(row.times_seen) };
      });
    },
    async list(): Promise<SimulatorSubmissionRow[]> {
      const rows = await db.all<SimulatorSubmissionRow>(
        'SELECT * FROM simulator_submissions ORDER BY created_at',
      );
      return rows.map((r) => ({ ...r, times_seen: Number(r.times_seen) }));
    },
  };
}
