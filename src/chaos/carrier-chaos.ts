/**
 * Chaos at the carrier (sandbox only): the simulator, and only the simulator, can be made to fail a
 * submit (retryable or permanent, with a chosen Telnyx code) or to delay, duplicate, drop or reorder
 * its delivery reports. It wraps the simulator from outside: the submit, and the ledger through which
 * the simulator schedules its reports.
 *
 * A dropped report never comes. The gateway has no receipt deadline of its own (a recipient whose
 * report never comes stays `sent`), so a drop schedules what the deadline will say instead:
 * `delivery_unconfirmed`, `receiptDeadlineMs` after the submit (CHAOS_RECEIPT_DEADLINE_MS).
 */
import type { ConnectorBuilder } from '../carriers/connector-registry.ts';
import { createSimulator, type SimulatorLedger, type SimulatorOptions } from '../carriers/simulator.ts';
import type {
  CarrierConnector,
  CarrierSubmission,
  DeliveryReport,
  ScheduledReport,
  SubmitResult,
} from '../carriers/types.ts';
import { ERRORS, type ErrorCode } from '../errors/catalogue.ts';
import type { MessageRecord } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import type { ChaosEngine } from './chaos-engine.ts';
import type { ChaosRuleRecord } from './rules.ts';

/** A duplicated report comes this long after the first. */
const DUPLICATE_GAP_MS = 10;

export interface CarrierChaosOptions {
  store: Store;
  chaos: ChaosEngine;
  receiptDeadlineMs: number;
}

/** Builds simulator connectors with chaos around them; every other type as `build` does. */
export function withCarrierChaos(
  build: ConnectorBuilder,
  simulator: SimulatorOptions,
  options: CarrierChaosOptions,
): ConnectorBuilder {
  return (record) =>
    record.type === 'simulator'
      ? { ...chaoticSimulator(simulator, options), name: record.name }
      : build(record);
}

function chaoticSimulator(simulator: SimulatorOptions, options: CarrierChaosOptions): CarrierConnector {
  const { store, chaos } = options;
  const clock = simulator.now ?? (() => new Date());
  return {
    name: createSimulator(simulator).name,
    async submit(submission: CarrierSubmission): Promise<SubmitResult> {
      // The carrier receives the submit now, before the rules are read (a read of the database):
      // what it records, and its reports, count from this moment, as a sender's limit spaced it.
      const receivedAt = clock();
      const carrier = (ledger = simulator.ledger) =>
        createSimulator({ ...simulator, ledger, now: () => receivedAt });
      if (!(await chaos.anyRules('carrier.'))) return carrier().submit(submission);
      const found = await store.messages.get(submission.messageId);
      if (!found || !(await chaos.anyRules('carrier.', found.message.organization_id))) {
        return carrier().submit(submission);
      }
      const { message } = found;
      const rules = await chaos.rulesFor('carrier.', {
        organizationId: message.organization_id,
        from: message.from_number,
        to: submission.recipients.map((r) => r.phoneNumber),
        profileId: message.messaging_profile_id,
      });
      if (rules.length === 0) return carrier().submit(submission);
      const ordinal = await chaos.ordinal(message.organization_id, message.id);

      for (const rule of rules) {
        if (rule.kind !== 'carrier.submit_fail') continue;
        if (!(await chaos.fires(rule, `${message.from_number}|submit|${ordinal}|${submission.attempt}`)))
          continue;
        const code = (rule.params.code ?? '40006') as ErrorCode;
        const retryable = rule.params.retryable ?? true;
        await chaos.record({
          rule,
          organizationId: message.organization_id,
          kind: rule.kind,
          messageId: message.id,
          detail: { attempt: submission.attempt, code, retryable },
        });
        return {
          ok: false,
          retryable,
          error: { code, title: ERRORS[code].title, detail: `Injected by chaos rule ${rule.id}.` },
        };
      }

      // The simulator's book as it records it, to know each carrier id's recipient.
      const byCarrierId = new Map<string, { recipientId: string; phoneNumber: string }>();
      const ledger: SimulatorLedger = {
        async recordSubmits(entries, at) {
          const answers = await simulator.ledger.recordSubmits(entries, at);
          entries.forEach((e, i) => {
            byCarrierId.set(answers[i]!.carrierMessageId, {
              recipientId: e.recipientId,
              phoneNumber: e.phoneNumber,
            });
          });
          return answers;
        },
        scheduleReplies: (replies) => simulator.ledger.scheduleReplies(replies),
      };
      const result = await carrier(ledger).submit(submission);
      if (!result.ok || !result.reports) return result;
      const bend = reportBender(byCarrierId, { ...options, message, ordinal, rules, submission });
      const reports: ScheduledReport[] = [];
      for (const { report, at } of result.reports) reports.push(...(await bend(report, at)));
      return { ...result, reports };
    },
  };
}

/** For one submission: what becomes of each report the simulator gives with its answer. */
function reportBender(
  byCarrierId: Map<string, { recipientId: string; phoneNumber: string }>,
  context: CarrierChaosOptions & {
    message: MessageRecord;
    ordinal: number;
    rules: ChaosRuleRecord[];
    submission: CarrierSubmission;
  },
): (report: DeliveryReport, at: Date) => Promise<ScheduledReport[]> {
  const { chaos, message, ordinal, rules, submission } = context;
  // Reordered reports count from the first one's time, so the reversal holds however long the
  // simulator took between recipients.
  let reorderBase: number | null = null;
  return async (report, at) => {
    const recipient = byCarrierId.get(report.carrierMessageId);
    const mine = recipient
      ? rules.filter((r) => r.match.to === undefined || r.match.to === recipient.phoneNumber)
      : [];
    if (!recipient || mine.length === 0) return [{ report, at }];
    const key = `${recipient.phoneNumber}|report|${ordinal}`;
    const fired: Array<{ rule: ChaosRuleRecord; detail: Record<string, unknown> }> = [];
    let due = at.getTime();
    let dropped = false;
    let duplicated = false;
    for (const rule of mine) {
      if (!rule.kind.startsWith('carrier.report_') || !(await chaos.fires(rule, key))) continue;
      if (rule.kind === 'carrier.report_drop') {
        dropped = true;
        fired.push({ rule, detail: { deadline_ms: context.receiptDeadlineMs } });
      } else if (rule.kind === 'carrier.report_delay') {
        const delayMs = chaos.pick(rule, key, rule.params.min_ms ?? 0, rule.params.max_ms ?? 0);
        due += delayMs;
        fired.push({ rule, detail: { delay_ms: delayMs } });
      } else if (rule.kind === 'carrier.report_reorder') {
        // Reversed: the group's last recipient is reported first.
        const position = submission.recipients.findIndex((r) => r.recipientId === recipient.recipientId);
        const delayMs = (submission.recipients.length - 1 - position) * (rule.params.gap_ms ?? 50);
        reorderBase ??= at.getTime();
        due += reorderBase - at.getTime() + delayMs;
        fired.push({ rule, detail: { position, delay_ms: delayMs } });
      } else if (rule.kind === 'carrier.report_duplicate') {
        duplicated = true;
        fired.push({ rule, detail: {} });
      }
    }
    for (const { rule, detail } of fired) {
      await chaos.record({
        rule,
        organizationId: message.organization_id,
        kind: rule.kind,
        messageId: message.id,
        recipientId: recipient.recipientId,
        // When the carrier would have reported, and when it will (the report's occurred_at).
        detail: {
          report_status: report.status,
          report_at: at.toISOString(),
          due_at: new Date(dropped ? Date.now() + context.receiptDeadlineMs : due).toISOString(),
          ...detail,
        },
      });
    }
    if (dropped) {
      const deadline = new Date(Date.now() + context.receiptDeadlineMs);
      return [
        {
          report: {
            carrierMessageId: report.carrierMessageId,
            status: 'delivery_unconfirmed',
            occurredAt: deadline,
          },
          at: deadline,
        },
      ];
    }
    const when = new Date(due);
    const bent: ScheduledReport[] = [{ report: { ...report, occurredAt: when }, at: when }];
    if (duplicated) {
      // Naming the number makes it a second report, not the same one stored twice.
      const again = new Date(due + DUPLICATE_GAP_MS);
      bent.push({ report: { ...report, phoneNumber: recipient.phoneNumber, occurredAt: again }, at: again });
    }
    return bent;
  };
}
