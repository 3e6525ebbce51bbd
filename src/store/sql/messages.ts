import { statusTransitions } from '../../metrics/metrics.ts';
import type {
  ListCursor,
  MediaItem,
  MessageListFilter,
  MessageRecord,
  Money,
  RecipientRecord,
  TelnyxErrorRecord,
} from '../records.ts';
import type { SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';
import { containsPattern } from './like.ts';

type MessageRow = Omit<MessageRecord, 'media' | 'tags' | 'use_profile_webhooks' | 'cc'> & {
  media: string;
  tags: string;
  cc: string;
  use_profile_webhooks: number | boolean;
};
type RecipientRow = Omit<RecipientRecord, 'cost' | 'errors'> & { cost: string | null; errors: string };

const messageFromRow = (r: MessageRow): MessageRecord => ({
  ...r,
  media: parseJson<MediaItem[]>(r.media, []),
  tags: parseJson<string[]>(r.tags, []),
  cc: parseJson<string[]>(r.cc, []),
  use_profile_webhooks: Boolean(r.use_profile_webhooks),
  parts: Number(r.parts),
  num_chars: Number(r.num_chars),
});

const recipientFromRow = (r: RecipientRow): RecipientRecord => ({
  ...r,
  position: Number(r.position),
  cost: parseJson<Money | null>(r.cost, null),
  errors: parseJson<TelnyxErrorRecord[]>(r.errors, []),
});

export interface MessageWithRecipients {
  message: MessageRecord;
  recipients: RecipientRecord[];
}

export interface RecipientChange {
  status: RecipientRecord['status'];
  carrier_message_id?: string | null;
  errors?: TelnyxErrorRecord[];
  sent_at?: string | null;
  completed_at?: string | null;
}

/** A recipient's status as of its last change, for following activity (`mms-gateway tail`). */
export interface RecipientActivity {
  recipient_id: string;
  message_id: string;
  organization_id: string;
  from_number: string;
  phone_number: string;
  status: RecipientRecord['status'];
  errors: TelnyxErrorRecord[];
  updated_at: string;
}

export function messagesRepo(db: SqlExecutor) {
  // Inbound messages come with a `direction` column on another branch; until it exists every message
  // here is outbound. Probed once per repo, so a migration adding it is picked up by new connections.
  let directionColumn: Promise<boolean> | undefined;
  const hasDirection = () => {
    directionColumn ??= (async () => {
      try {
        await db.all('SELECT direction FROM messages WHERE 1 = 0');
        return true;
      } catch {
        return false;
      }
    })();
    return directionColumn;
  };

  const loadRecipientsOf = async (messageIds: string[]) => {
    if (messageIds.length === 0) return new Map<string, RecipientRecord[]>();
    const rows = await db.all<RecipientRow>(
      `SELECT * FROM message_recipients WHERE message_id IN (${messageIds.map(() => '?').join(', ')})
       ORDER BY message_id, position`,
      messageIds,
    );
    const byMessage = new Map<string, RecipientRecord[]>(messageIds.map((id) => [id, []]));
    for (const r of rows) byMessage.get(r.message_id)?.push(recipientFromRow(r));
    return byMessage;
  };

  const loadRecipients = async (messageId: string) =>
    (
      await db.all<RecipientRow>('SELECT * FROM message_recipients WHERE message_id = ? ORDER BY position', [
        messageId,
      ])
    ).map(recipientFromRow);

  const recipientsWithCarrierIds = async (carrierIds: readonly string[]): Promise<RecipientRecord[]> => {
    const ids = [...new Set(carrierIds)];
    if (ids.length === 0) return [];
    const rows = await db.all<RecipientRow>(
      `SELECT * FROM message_recipients WHERE carrier_message_id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    return rows.map(recipientFromRow);
  };

  return {
    async insert(m: MessageRecord, recipients: RecipientRecord[]): Promise<void> {
      await db.run(
        `INSERT INTO messages (id, organization_id, messaging_profile_id, from_number, from_carrier, from_line_type,
           text, subject, media, webhook_url, webhook_failover_url, use_profile_webhooks, encoding, parts, num_chars,
           tags, received_at, valid_until, direction, cc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          m.id,
          m.organization_id,
          m.messaging_profile_id,
          m.from_number,
          m.from_carrier,
          m.from_line_type,
          m.text,
          m.subject,
          JSON.stringify(m.media),
          m.webhook_url,
          m.webhook_failover_url,
          m.use_profile_webhooks ? 1 : 0,
          m.encoding,
          m.parts,
          m.num_chars,
          JSON.stringify(m.tags),
          m.received_at,
          m.valid_until,
          m.direction ?? 'outbound',
          JSON.stringify(m.cc ?? []),
        ],
      );
      if (recipients.length === 0) return;
      // One statement for all recipients: one round trip on PostgreSQL.
      await db.run(
        `INSERT INTO message_recipients (id, message_id, position, phone_number, carrier, line_type, status,
           carrier_message_id, cost, errors, sent_at, completed_at, updated_at)
         VALUES ${recipients.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        recipients.flatMap((r) => [
          r.id,
          r.message_id,
          r.position,
          r.phone_number,
          r.carrier,
          r.line_type,
          r.status,
          r.carrier_message_id,
          r.cost ? JSON.stringify(r.cost) : null,
          JSON.stringify(r.errors),
          r.sent_at,
          r.completed_at,
          r.updated_at,
        ]),
      );
    },

    /** The group message, when it belongs to the organization (undefined otherwise). */
    async getForOrganization(organizationId: string, id: string): Promise<MessageWithRecipients | undefined> {
      const row = await db.get<MessageRow>('SELECT * FROM messages WHERE id = ? AND organization_id = ?', [
        id,
        organizationId,
      ]);
      if (!row) return undefined;
      return { message: messageFromRow(row), recipients: await loadRecipients(row.id) };
    },

    /**
     * An organization's messages newest first, `limit` at a time after `cursor`, through the
     * messages_org_received (or messages_org_from) index: the cost of a page does not grow with the table.
     */
    async listForOrganization(
      organizationId: string,
      filter: MessageListFilter,
      limit: number,
      cursor?: ListCursor,
    ): Promise<MessageWithRecipients[]> {
      const where = ['m.organization_id = ?'];
      const params: unknown[] = [organizationId];
      if (filter.direction) {
        if (await hasDirection()) {
          where.push("COALESCE(m.direction, 'outbound') = ?");
          params.push(filter.direction);
        } else if (filter.direction !== 'outbound') {
          return [];
        }
      }
      if (filter.from) {
        where.push('m.from_number = ?');
        params.push(filter.from);
      }
      if (filter.to) {
        where.push(
          'EXISTS (SELECT 1 FROM message_recipients r WHERE r.message_id = m.id AND r.phone_number = ?)',
        );
        params.push(filter.to);
      }
      if (filter.status) {
        where.push('EXISTS (SELECT 1 FROM message_recipients r WHERE r.message_id = m.id AND r.status = ?)');
        params.push(filter.status);
      }
      if (filter.receivedGte) {
        where.push('m.received_at >= ?');
        params.push(filter.receivedGte);
      }
      if (filter.receivedLte) {
        where.push('m.received_at <= ?');
        params.push(filter.receivedLte);
      }
      if (filter.search) {
        where.push("(m.text LIKE ? ESCAPE '\\' OR m.subject LIKE ? ESCAPE '\\')");
        const pattern = containsPattern(filter.search);
        params.push(pattern, pattern);
      }
      if (cursor) {
        where.push('(m.received_at < ? OR (m.received_at = ? AND m.id < ?))');
        params.push(cursor.received_at, cursor.received_at, cursor.id);
      }
      const rows = await db.all<MessageRow>(
        `SELECT m.* FROM messages m WHERE ${where.join(' AND ')}
         ORDER BY m.received_at DESC, m.id DESC LIMIT ?`,
        [...params, limit],
      );
      const recipients = await loadRecipientsOf(rows.map((r) => r.id));
      return rows.map((r) => ({ message: messageFromRow(r), recipients: recipients.get(r.id) ?? [] }));
    },

    /**
     * The conversation of a set of numbers: messages of the organization sent by one of them to
     * another of them, newest first.
     */
    async listConversation(
      organizationId: string,
      participants: string[],
      limit: number,
    ): Promise<MessageWithRecipients[]> {
      if (participants.length === 0) return [];
      const inList = participants.map(() => '?').join(', ');
      const rows = await db.all<MessageRow>(
        `SELECT m.* FROM messages m WHERE m.organization_id = ? AND m.from_number IN (${inList})
           AND EXISTS (SELECT 1 FROM message_recipients r WHERE r.message_id = m.id AND r.phone_number IN (${inList}))
         ORDER BY m.received_at DESC, m.id DESC LIMIT ?`,
        [organizationId, ...participants, ...participants, limit],
      );
      const recipients = await loadRecipientsOf(rows.map((r) => r.id));
      return rows.map((r) => ({ message: messageFromRow(r), recipients: recipients.get(r.id) ?? [] }));
    },

    /** Many messages with their recipients: two statements, however many. */
    async getMany(ids: readonly string[]): Promise<Map<string, MessageWithRecipients>> {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return new Map();
      const rows = await db.all<MessageRow>(
        `SELECT * FROM messages WHERE id IN (${unique.map(() => '?').join(', ')})`,
        unique,
      );
      const recipients = await loadRecipientsOf(rows.map((r) => r.id));
      return new Map(
        rows.map((r) => [r.id, { message: messageFromRow(r), recipients: recipients.get(r.id) ?? [] }]),
      );
    },

    async get(id: string): Promise<MessageWithRecipients | undefined> {
      const row = await db.get<MessageRow>('SELECT * FROM messages WHERE id = ?', [id]);
      if (!row) return undefined;
      return { message: messageFromRow(row), recipients: await loadRecipients(row.id) };
    },

    /** One recipient's record with its group message, scoped to the organization. */
    async getRecipientForOrganization(
      organizationId: string,
      recipientId: string,
    ): Promise<{ message: MessageRecord; recipient: RecipientRecord } | undefined> {
      const r = await db.get<RecipientRow>('SELECT * FROM message_recipients WHERE id = ?', [recipientId]);
      if (!r) return undefined;
      const m = await db.get<MessageRow>('SELECT * FROM messages WHERE id = ? AND organization_id = ?', [
        r.message_id,
        organizationId,
      ]);
      return m && { message: messageFromRow(m), recipient: recipientFromRow(r) };
    },

    /** With `phoneNumber`, for carriers that give one id to every recipient of a submission (MM7). */
    async findRecipientByCarrierId(
      carrierMessageId: string,
      phoneNumber?: string,
    ): Promise<RecipientRecord | undefined> {
      const r = phoneNumber
        ? await db.get<RecipientRow>(
            'SELECT * FROM message_recipients WHERE carrier_message_id = ? AND phone_number = ?',
            [carrierMessageId, phoneNumber],
          )
        : await db.get<RecipientRow>('SELECT * FROM message_recipients WHERE carrier_message_id = ?', [
            carrierMessageId,
          ]);
      return r && recipientFromRow(r);
    },

    /**
     * Many reports' recipients in one statement, in the order of `keys` (undefined where none
     * matches). With a phone number, for carriers that give one id to a whole submission (MM7).
     */
    async findRecipientsByCarrierIds(
      keys: ReadonlyArray<{ carrierMessageId: string; phoneNumber?: string }>,
    ): Promise<Array<RecipientRecord | undefined>> {
      const rows = await recipientsWithCarrierIds(keys.map((k) => k.carrierMessageId));
      return keys.map((k) =>
        rows.find(
          (row) =>
            row.carrier_message_id === k.carrierMessageId &&
            (k.phoneNumber === undefined || row.phone_number === k.phoneNumber),
        ),
      );
    },

    /** Every recipient with one of these carrier ids (MM7 gives one to a whole submission). */
    recipientsWithCarrierIds,

    /** Messages (without their recipients) by id, in one statement. */
    async getMessages(ids: readonly string[]): Promise<Map<string, MessageRecord>> {
      const unique = [...new Set(ids)];
      if (unique.length === 0) return new Map();
      const rows = await db.all<MessageRow>(
        `SELECT * FROM messages WHERE id IN (${unique.map(() => '?').join(', ')})`,
        unique,
      );
      return new Map(rows.map((r) => [r.id, messageFromRow(r)]));
    },

    async updateMedia(messageId: string, media: MediaItem[]): Promise<void> {
      await db.run('UPDATE messages SET media = ? WHERE id = ?', [JSON.stringify(media), messageId]);
    },

    /** Recipients changed after the cursor (updated_at, then id), oldest first. */
    async activityAfter(
      cursor: { updatedAt: string; id: string },
      limit: number,
    ): Promise<RecipientActivity[]> {
      const rows = await db.all<Omit<RecipientActivity, 'errors'> & { errors: string }>(
        `SELECT r.id AS recipient_id, r.message_id, m.organization_id, m.from_number, r.phone_number, r.status,
           r.errors, r.updated_at
         FROM message_recipients r JOIN messages m ON m.id = r.message_id
         WHERE r.updated_at > ? OR (r.updated_at = ? AND r.id > ?)
         ORDER BY r.updated_at, r.id LIMIT ?`,
        [cursor.updatedAt, cursor.updatedAt, cursor.id, limit],
      );
      return rows.map((r) => ({ ...r, errors: parseJson<TelnyxErrorRecord[]>(r.errors, []) }));
    },
    /**
     * Moves many recipients to a new status in one statement, each only from one of `fromStatuses`
     * (`carrierIds`: each recipient's own carrier id). Returns the ids that moved.
     */
    async transitionRecipients(
      targets: ReadonlyArray<{ id: string }>,
      fromStatuses: ReadonlyArray<RecipientRecord['status']>,
      change: RecipientChange & { carrierIds?: ReadonlyMap<string, string> },
      now: string,
    ): Promise<Set<string>> {
      if (fromStatuses.length === 0 || targets.length === 0) return new Set();
      const sets = ['status = ?', 'updated_at = ?'];
      const params: unknown[] = [change.status, now];
      if (change.carrierIds && change.carrierIds.size > 0) {
        const own = [...change.carrierIds];
        sets.push(
          `carrier_message_id = CASE id ${own.map(() => 'WHEN ? THEN ?').join(' ')} ELSE carrier_message_id END`,
        );
        for (const [id, carrierId] of own) params.push(id, carrierId);
      } else if (change.carrier_message_id !== undefined) {
        sets.push('carrier_message_id = ?');
        params.push(change.carrier_message_id);
      }
      if (change.errors !== undefined) {
        sets.push('errors = ?');
        params.push(JSON.stringify(change.errors));
      }
      if (change.sent_at !== undefined) {
        sets.push('sent_at = ?');
        params.push(change.sent_at);
      }
      if (change.completed_at !== undefined) {
        sets.push('completed_at = ?');
        params.push(change.completed_at);
      }
      const ids = targets.map((t) => t.id);
      const rows = await db.all<{ id: string }>(
        `UPDATE message_recipients SET ${sets.join(', ')}
         WHERE id IN (${ids.map(() => '?').join(', ')}) AND status IN (${fromStatuses.map(() => '?').join(', ')})
         RETURNING id`,
        [...params, ...ids, ...fromStatuses],
      );
      if (!fromStatuses.includes(change.status) && rows.length > 0)
        statusTransitions.inc({ status: change.status }, rows.length);
      return new Set(rows.map((r) => r.id));
    },
    /**
     * Moves a recipient to a new status, only from one of `fromStatuses` (so a late or repeated
     * event cannot move a final status back). Returns whether it changed.
     */
    async transitionRecipient(
      recipientId: string,
      fromStatuses: ReadonlyArray<RecipientRecord['status']>,
      change: RecipientChange,
      now: string,
    ): Promise<boolean> {
      if (fromStatuses.length === 0) return false;
      const sets = ['status = ?', 'updated_at = ?'];
      const params: unknown[] = [change.status, now];
      if (change.carrier_message_id !== undefined) {
        sets.push('carrier_message_id = ?');
        params.push(change.carrier_message_id);
      }
      if (change.errors !== undefined) {
        sets.push('errors = ?');
        params.push(JSON.stringify(change.errors));
      }
      if (change.sent_at !== undefined) {
        sets.push('sent_at = ?');
        params.push(change.sent_at);
      }
      if (change.completed_at !== undefined) {
        sets.push('completed_at = ?');
        params.push(change.completed_at);
      }
      const placeholders = fromStatuses.map(() => '?').join(', ');
      const changed = await db.run(
        `UPDATE message_recipients SET ${sets.join(', ')} WHERE id = ? AND status IN (${placeholders})`,
        [...params, recipientId, ...fromStatuses],
      );
      // Counted at the UPDATE: a transaction rolled back afterwards still counts (rare; a retry).
      if (changed > 0 && !fromStatuses.includes(change.status))
        statusTransitions.inc({ status: change.status });
      return changed > 0;
    },
  };
}
