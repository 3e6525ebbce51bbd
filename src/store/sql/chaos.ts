import type { ChaosRuleRecord } from '../../chaos/rules.ts';
import type { SqlExecutor } from './driver.ts';
import { parseJson } from './json.ts';

type RuleRow = Omit<ChaosRuleRecord, 'match' | 'params'> & { match: string; params: string };

const ruleFromRow = (r: RuleRow): ChaosRuleRecord => ({
  ...r,
  match: parseJson(r.match, {}),
  params: parseJson(r.params, {}),
  probability: r.probability === null ? null : Number(r.probability),
  remaining: r.remaining === null ? null : Number(r.remaining),
});

export interface ChaosFaultRecord {
  id: string;
  rule_id: string;
  organization_id: string;
  message_id: string | null;
  recipient_id: string | null;
  webhook_event_id: string | null;
  kind: string;
  detail: string;
  created_at: string;
}

/** Chaos rules shared by every node, and the faults they injected (sandbox only). */
export function chaosRepo(db: SqlExecutor) {
  return {
    async insertRule(rule: ChaosRuleRecord): Promise<boolean> {
      const changed = await db.run(
        `INSERT INTO chaos_rules (id, organization_id, source, kind, match, params, probability, remaining, seed, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        [
          rule.id,
          rule.organization_id,
          rule.source,
          rule.kind,
          JSON.stringify(rule.match),
          JSON.stringify(rule.params),
          rule.probability,
          rule.remaining,
          rule.seed,
          rule.created_at,
        ],
      );
      return changed > 0;
    },
    /** Every rule, or those an organization sees (its own and the operator's). */
    async listRules(organizationId?: string): Promise<ChaosRuleRecord[]> {
      const rows =
        organizationId === undefined
          ? await db.all<RuleRow>('SELECT * FROM chaos_rules ORDER BY created_at, id')
          : await db.all<RuleRow>(
              'SELECT * FROM chaos_rules WHERE organization_id = ? OR organization_id IS NULL ORDER BY created_at, id',
              [organizationId],
            );
      return rows.map(ruleFromRow);
    },
    /** Deletes one rule (of this organization, when given); false if there was none. */
    async deleteRule(id: string, organizationId?: string): Promise<boolean> {
      return organizationId === undefined
        ? (await db.run('DELETE FROM chaos_rules WHERE id = ?', [id])) > 0
        : (await db.run('DELETE FROM chaos_rules WHERE id = ? AND organization_id = ?', [
            id,
            organizationId,
          ])) > 0;
    },
    /** Deletes an organization's rules, or (no organization) every rule; returns how many. */
    async clearRules(organizationId?: string): Promise<number> {
      return organizationId === undefined
        ? db.run('DELETE FROM chaos_rules')
        : db.run('DELETE FROM chaos_rules WHERE organization_id = ?', [organizationId]);
    },
    /** Env rules no longer in CHAOS_RULES. */
    async deleteEnvRulesExcept(ids: string[]): Promise<number> {
      const rules = await db.all<{ id: string }>("SELECT id FROM chaos_rules WHERE source = 'env'");
      let deleted = 0;
      for (const { id } of rules) {
        if (!ids.includes(id)) deleted += await db.run('DELETE FROM chaos_rules WHERE id = ?', [id]);
      }
      return deleted;
    },
    /** Takes one of a counted rule's injections; false when none is left (exact across nodes). */
    async takeOne(ruleId: string): Promise<boolean> {
      return (
        (await db.run('UPDATE chaos_rules SET remaining = remaining - 1 WHERE id = ? AND remaining > 0', [
          ruleId,
        ])) > 0
      );
    },
    async insertFault(fault: ChaosFaultRecord): Promise<void> {
      await db.run(
        `INSERT INTO chaos_faults (id, rule_id, organization_id, message_id, recipient_id, webhook_event_id, kind, detail, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          fault.id,
          fault.rule_id,
          fault.organization_id,
          fault.message_id,
          fault.recipient_id,
          fault.webhook_event_id,
          fault.kind,
          fault.detail,
          fault.created_at,
        ],
      );
    },
    async faultsForMessage(messageId: string): Promise<ChaosFaultRecord[]> {
      return db.all<ChaosFaultRecord>('SELECT * FROM chaos_faults WHERE message_id = ? ORDER BY id', [
        messageId,
      ]);
    },
    async faultsForEvent(eventId: string): Promise<ChaosFaultRecord[]> {
      return db.all<ChaosFaultRecord>('SELECT * FROM chaos_faults WHERE webhook_event_id = ? ORDER BY id', [
        eventId,
      ]);
    },
    /** An organization's faults, newest last; of one message when given. */
    async listFaults(organizationId: string, messageId?: string, limit = 1000): Promise<ChaosFaultRecord[]> {
      return messageId === undefined
        ? db.all<ChaosFaultRecord>(
            'SELECT * FROM chaos_faults WHERE organization_id = ? ORDER BY id LIMIT ?',
            [organizationId, limit],
          )
        : db.all<ChaosFaultRecord>(
            'SELECT * FROM chaos_faults WHERE organization_id = ? AND message_id = ? ORDER BY id LIMIT ?',
            [organizationId, messageId, limit],
          );
    },
    async countOutboundMessages(organizationId: string): Promise<number> {
      const row = await db.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM messages WHERE organization_id = ? AND direction = 'outbound'`,
        [organizationId],
      );
      return Number(row?.n ?? 0);
    },
    async countFaults(organizationId: string, kind: string): Promise<number> {
      const row = await db.get<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM chaos_faults WHERE organization_id = ? AND kind = ?',
        [organizationId, kind],
      );
      return Number(row?.n ?? 0);
    },
    /** A message's position among its organization's outbound messages: a key stable across runs. */
    async messageOrdinal(organizationId: string, messageId: string): Promise<number> {
      const row = await db.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM messages WHERE organization_id = ? AND direction = 'outbound' AND id < ?`,
        [organizationId, messageId],
      );
      return Number(row?.n ?? 0);
    },
  };
}
