import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemorySimulatorLedger, createSimulator } from '../../src/carriers/simulator.ts';
import { SIMULATOR_SCRIPTS, scriptFor } from '../../src/carriers/simulator-scripts.ts';
import type { CarrierSubmission, RecipientSubmitOutcome, SubmitResult } from '../../src/carriers/types.ts';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function setup(options: { carrierDownAttempts?: number; replyDelayMs?: number } = {}) {
  const ledger = createMemorySimulatorLedger();
  const simulator = createSimulator({
    ledger,
    reportDelayMs: 100,
    slowReportDelayMs: 5000,
    now: () => NOW,
    ...options,
  });
  return { ledger, simulator };
}

function submission(phoneNumbers: string[], overrides: Partial<CarrierSubmission> = {}): CarrierSubmission {
  return {
    idempotencyKey: 'key-1',
    messageId: 'msg-1',
    from: '+13125559999',
    recipients: phoneNumbers.map((phoneNumber, i) => ({ recipientId: `r${i}`, phoneNumber })),
    text: 'hello',
    subject: null,
    media: [],
    attempt: 1,
    ...overrides,
  };
}

/** The reports the simulator gave with its answer (recorded by the gateway with the answer). */
const reportsOf = (result: SubmitResult) => (result.ok ? (result.reports ?? []) : []);

function accepted(result: SubmitResult): RecipientSubmitOutcome[] {
  assert.equal(result.ok, true, JSON.stringify(result));
  return result.ok ? result.recipients : [];
}

/** Expected report per number: status, error code, delay after NOW. */
const REPORTED: Array<[string, string, string | undefined, number]> = [
  ['+13125550100', 'delivered', undefined, 100],
  ['+12125550101', 'delivery_failed', '40008', 100],
  ['+14155550103', 'delivery_failed', '40002', 100],
  ['+12025550104', 'delivery_unconfirmed', undefined, 100],
  ['+16175550105', 'delivered', undefined, 5000],
  ['+13125550107', 'delivered', undefined, 100],
  ['+13125550199', 'delivered', undefined, 100],
  ['+13125550200', 'delivered', undefined, 100],
  ['+13125550099', 'delivered', undefined, 100],
  ['+447400123456', 'delivered', undefined, 100],
];

describe('carrier simulator', () => {
  for (const [number, status, code, delay] of REPORTED) {
    it(`${number}: accepted, then ${status}${code ? ` ${code}` : ''} after ${delay} ms`, async () => {
      const { ledger, simulator } = setup();
      const result = await simulator.submit(submission([number]));
      const [outcome] = accepted(result);
      assert.ok(outcome?.accepted);
      assert.match(outcome.carrierMessageId, UUID);
      const reports = reportsOf(result);
      assert.equal(reports.length, 1);
      const [{ report, at }] = reports as [(typeof reports)[number]];
      assert.equal(report.carrierMessageId, outcome.carrierMessageId);
      assert.equal(report.status, status);
      assert.equal(report.error?.code, code);
      assert.equal(at.getTime() - NOW.getTime(), delay);
      assert.deepEqual(report.occurredAt, at);
      assert.deepEqual(ledger.submissions[0], {
        idempotencyKey: 'key-1',
        recipientId: 'r0',
        phoneNumber: number,
        carrierMessageId: outcome.carrierMessageId,
        timesSeen: 1,
      });
    });
  }

  it('carries the Telnyx title and detail on errors', async () => {
    const { simulator } = setup();
    const result = await simulator.submit(submission(['+13125550101']));
    assert.deepEqual(reportsOf(result)[0]?.report.error, {
      code: '40008',
      title: 'Undeliverable',
      detail: 'The recipient carrier did not accept the message.',
    });
  });

  it('+1NPA5550102: refuses that recipient at submit with 40001 and schedules nothing', async () => {
    const { ledger, simulator } = setup();
    const result = await simulator.submit(submission(['+13125550102']));
    const [outcome] = accepted(result);
    assert.deepEqual(outcome, {
      recipientId: 'r0',
      accepted: false,
      error: {
        code: '40001',
        title: 'Not routable',
        detail: 'The destination number is either a landline or a non-routable wireless number.',
      },
    });
    assert.equal(ledger.submissions.length, 0);
    assert.equal(reportsOf(result).length, 0);
  });

  it('handles a mixed group of 8 recipients, one outcome each, in order', async () => {
    const { simulator } = setup();
    const numbers = [
      '+13125550100',
      '+13125550101',
      '+13125550102',
      '+13125550103',
      '+13125550104',
      '+13125550105',
      '+13125550150',
      '+447400123456',
    ];
    const result = await simulator.submit(submission(numbers));
    const outcomes = accepted(result);
    assert.deepEqual(
      outcomes.map((o) => [o.recipientId, o.accepted]),
      numbers.map((_, i) => [`r${i}`, i !== 2]),
    );
    const ids = outcomes.flatMap((o) => (o.accepted ? [o.carrierMessageId] : []));
    assert.equal(new Set(ids).size, 7);
    assert.deepEqual(
      reportsOf(result).map(({ report }) => [report.status, report.error?.code ?? null]),
      [
        ['delivered', null],
        ['delivery_failed', '40008'],
        ['delivery_failed', '40002'],
        ['delivery_unconfirmed', null],
        ['delivered', null],
        ['delivered', null],
        ['delivered', null],
      ],
    );
    assert.deepEqual(
      reportsOf(result).map(({ report }) => report.carrierMessageId),
      ids,
    );
  });

  it('+1NPA5550106: the whole submit fails retryable until attempt 3, then is delivered', async () => {
    const { ledger, simulator } = setup();
    const numbers = ['+13125550100', '+13125550106'];
    for (const attempt of [1, 2]) {
      const result = await simulator.submit(submission(numbers, { attempt }));
      assert.deepEqual(result, {
        ok: false,
        retryable: true,
        error: {
          code: '40006',
          title: 'Recipient server unavailable',
          detail: 'The recipient server is unavailable or not responding.',
        },
      });
      assert.equal(ledger.submissions.length, 0);
    }
    const result = await simulator.submit(submission(numbers, { attempt: 3 }));
    assert.ok(accepted(result).every((o) => o.accepted));
    assert.deepEqual(
      reportsOf(result).map(({ report }) => report.status),
      ['delivered', 'delivered'],
    );
  });

  it('honours carrierDownAttempts', async () => {
    const { simulator } = setup({ carrierDownAttempts: 0 });
    accepted(await simulator.submit(submission(['+13125550106'], { attempt: 1 })));
    const { simulator: stubborn } = setup({ carrierDownAttempts: 4 });
    assert.equal((await stubborn.submit(submission(['+13125550106'], { attempt: 4 }))).ok, false);
    assert.equal((await stubborn.submit(submission(['+13125550106'], { attempt: 5 }))).ok, true);
  });

  it('deduplicates a repeated submit: same carrier ids, the same reports again', async () => {
    const { ledger, simulator } = setup();
    const numbers = ['+13125550100', '+13125550101', '+13125550102'];
    const firstResult = await simulator.submit(submission(numbers));
    const againResult = await simulator.submit(submission(numbers, { attempt: 2 }));
    assert.deepEqual(accepted(againResult), accepted(firstResult));
    // An answer the gateway never recorded (it died first) is retried: the repeat gives its reports
    // again, and the gateway keeps one job per set of reports.
    assert.deepEqual(reportsOf(againResult), reportsOf(firstResult));
    assert.equal(reportsOf(againResult).length, 2);
    assert.deepEqual(
      ledger.submissions.map((s) => s.timesSeen),
      [1, 1, 2, 2],
    );
  });

  it('treats another idempotency key as a new submission', async () => {
    const { ledger, simulator } = setup();
    const first = await simulator.submit(submission(['+13125550100']));
    const second = await simulator.submit(submission(['+13125550100'], { idempotencyKey: 'key-2' }));
    const [a] = accepted(first);
    const [b] = accepted(second);
    assert.ok(a?.accepted && b?.accepted);
    assert.notEqual(a.carrierMessageId, b.carrierMessageId);
    assert.equal(reportsOf(first).length + reportsOf(second).length, 2);
    assert.deepEqual(
      ledger.submissions.map((s) => s.timesSeen),
      [1, 1],
    );
  });

  it('uses the wall clock by default, with reports due immediately', async () => {
    const ledger = createMemorySimulatorLedger();
    const before = Date.now();
    const result = await createSimulator({ ledger }).submit(submission(['+13125550100', '+13125550105']));
    const [normal, slow] = reportsOf(result).map(({ at }) => at.getTime() - before);
    assert.ok(normal !== undefined && normal >= 0 && normal < 1000);
    assert.ok(slow !== undefined && slow >= 5000 && slow < 6000);
  });
});

describe('scripted replies', () => {
  it('0107 replies to the group after replyDelayMs, 0108 STOP and 0109 media when the report is due; others do not', async () => {
    const { ledger, simulator } = setup({ replyDelayMs: 2500 });
    const numbers = ['+13125550107', '+12125550108', '+14155550109', '+13125550100', '+13125550101'];
    const result = await simulator.submit(submission(numbers));
    const outcomes = accepted(result);
    const carrierIdOf = (n: string) =>
      outcomes.find((o) => o.recipientId === `r${numbers.indexOf(n)}` && o.accepted);
    assert.deepEqual(
      ledger.replies.map((r) => ({ ...r, at: r.at.getTime() - NOW.getTime() })),
      [
        { kind: 'group', from: '+13125550107', messageId: 'msg-1', at: 100 + 2500 },
        { kind: 'stop', from: '+12125550108', messageId: 'msg-1', at: 100 },
        { kind: 'media', from: '+14155550109', messageId: 'msg-1', at: 100 },
      ].map((r) => {
        const o = carrierIdOf(r.from);
        return { ...r, carrierMessageId: o?.accepted ? o.carrierMessageId : '' };
      }),
    );
    // Each is delivered first.
    for (const n of numbers.slice(0, 3)) {
      const o = carrierIdOf(n);
      const report = reportsOf(result).find(
        (r) => o?.accepted && r.report.carrierMessageId === o.carrierMessageId,
      );
      assert.equal(report?.report.status, 'delivered', n);
    }
  });

  it('a repeated submit schedules no second reply in the ledger (one per carrier id)', async () => {
    const { ledger, simulator } = setup();
    await simulator.submit(submission(['+13125550108']));
    await simulator.submit(submission(['+13125550108']));
    assert.equal(ledger.replies.length, 1);
  });
});

describe('simulator scripts', () => {
  it('match any area code, only in the 5550100–5550199 range', () => {
    assert.equal(scriptFor('+19995550101').subscriber, '5550101');
    assert.equal(scriptFor('+12065550103').subscriber, '5550103');
    for (const number of [
      '+13125550200',
      '+13125550099',
      '+11125550101',
      '+133125550101',
      '+3125550101',
      '+443125550101',
    ]) {
      assert.equal(scriptFor(number).subscriber, null, number);
    }
  });

  it('exports one documented script per magic number plus the default', () => {
    assert.deepEqual(
      SIMULATOR_SCRIPTS.map((s) => s.number),
      [
        '+1NPA5550100',
        '+1NPA5550101',
        '+1NPA5550102',
        '+1NPA5550103',
        '+1NPA5550104',
        '+1NPA5550105',
        '+1NPA5550106',
        '+1NPA5550107',
        '+1NPA5550108',
        '+1NPA5550109',
        '*',
      ],
    );
    for (const script of SIMULATOR_SCRIPTS) assert.ok(script.description.length > 0);
  });
});
