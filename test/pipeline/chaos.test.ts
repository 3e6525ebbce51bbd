import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import pino from 'pino';
import Telnyx from 'telnyx';
import { type MmscEmulator, startMmscEmulator } from '../../src/mmsc/emulator.ts';
import type { TestGateway } from '../support/gateway.ts';
import {
  type ApiDelivery,
  type ApiMessage,
  api,
  envelopeOf,
  envelopesFor,
  getMessage,
  sendGroupMms,
  startPipelineGateway,
  startWorkerGateway,
  type WebhookEnvelope,
  waitForDeliveriesSettled,
  waitForFinal,
} from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * Chaos mode: faults injected on purpose into messages the simulator carries, reproducible with
 * CHAOS_SEED, counted exactly, visible on the message, and never applied to a real carrier's.
 */

interface ChaosFault {
  rule: string;
  kind: string;
  at: string;
  message_id: string | null;
  group_message_id: string | null;
  [key: string]: unknown;
}
type ChaosMessage = ApiMessage & { chaos?: ChaosFault[] };

const SEED = 'replay-me-42';

async function addRule(gw: TestGateway, rule: Record<string, unknown>): Promise<{ id: string }> {
  const res = await api<{ data: { id: string } }>(gw, 'POST', '/v2/simulator/chaos/rules', rule);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data;
}

async function faultsOf(gw: TestGateway, messageId?: string): Promise<ChaosFault[]> {
  const query = messageId ? `?message_id=${messageId}` : '';
  const res = await api<{ data: ChaosFault[] }>(gw, 'GET', `/v2/simulator/chaos/faults${query}`);
  assert.equal(res.status, 200);
  return res.body.data;
}

/** What a replay must reproduce: per message and recipient, every delivery in arrival order. */
function deliverySequence(envelopes: WebhookEnvelope[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of envelopes) {
    const p = e.data.payload;
    const key = `${String(p.text)} ${p.to[0]!.phone_number}`;
    out[key] = out[key] ?? [];
    out[key].push(`${e.data.event_type}/${p.to[0]!.status}/attempt ${e.meta.attempt}`);
  }
  return out;
}

describe('replay: CHAOS_SEED fixed, duplicate + reorder + delay rules', () => {
  const RECIPIENTS = ['+13125551201', '+13125551202', '+13125551203', '+13125551204', '+13125551205'];
  const RULES = [
    'webhook.duplicate:p=0.4',
    'webhook.reorder:p=0.5',
    'webhook.delay:p=0.5,min_ms=5,max_ms=40',
    'webhook.fail:p=0.3,status=500',
  ].join(';');

  async function oneRun(): Promise<{ sequence: Record<string, string[]>; faults: ChaosFault[] }> {
    const receiver = await startWebhookReceiver({ keepRequests: true });
    const gw = await startPipelineGateway({ env: { CHAOS_SEED: SEED, CHAOS_RULES: RULES } });
    try {
      const ids: string[] = [];
      for (const text of ['first', 'second']) {
        const sent = await sendGroupMms(gw, { to: RECIPIENTS, text, webhook_url: receiver.url });
        ids.push(sent.id);
      }
      const faults: ChaosFault[] = [];
      for (const id of ids) {
        await waitForFinal(gw, id);
        await waitForDeliveriesSettled(gw, id, RECIPIENTS.length * 2);
        faults.push(...(await faultsOf(gw, id)));
      }
      // Duplicates are posted right after their original; wait until every one of them arrived.
      const duplicates = faults.filter((f) => f.kind === 'webhook.duplicate').length;
      await waitFor(() => receiver.received.length >= ids.length * RECIPIENTS.length * 2 + duplicates, {
        description: 'every delivery, duplicates included',
      });
      const envelopes = ids.flatMap((id) => envelopesFor(receiver.received, id));
      return { sequence: deliverySequence(envelopes), faults };
    } finally {
      await gw.close();
      await receiver.close();
    }
  }

  test('two gateway runs deliver the same webhooks in the same order per recipient', async () => {
    const first = await oneRun();
    const second = await oneRun();
    assert.deepEqual(second.sequence, first.sequence);

    const kinds = (faults: ChaosFault[]) => faults.map((f) => `${f.kind} ${f.event_type}`).sort();
    assert.deepEqual(kinds(second.faults), kinds(first.faults), 'the same faults were drawn');
    // The seed made each kind happen, but not everywhere (the draws are not all-or-nothing).
    for (const kind of ['webhook.duplicate', 'webhook.reorder', 'webhook.delay', 'webhook.fail']) {
      const n = first.faults.filter((f) => f.kind === kind).length;
      assert.ok(n > 0 && n < 20, `${kind}: ${n} of 20 events`);
    }
    const sequences = Object.values(first.sequence);
    assert.ok(
      sequences.some((s) => s[0]!.startsWith('message.finalized')),
      'some recipient got message.finalized before message.sent',
    );
    assert.ok(
      sequences.some((s) => s.length === 3 && new Set(s).size === 2),
      'some event was delivered twice',
    );
    assert.ok(
      sequences.some((s) => s.some((d) => d.endsWith('attempt 2'))),
      'some event came on its second attempt',
    );
  });
});

describe('chaos rules on one gateway', () => {
  let gw: TestGateway;
  let receiver: WebhookReceiver;
  const logs: Array<Record<string, unknown>> = [];

  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    gw = await startPipelineGateway({
      env: {
        CHAOS_SEED: SEED,
        CHAOS_RECEIPT_DEADLINE_MS: '300',
        SIMULATOR_REPORT_DELAY_MS: '20',
        LOG_LEVEL: 'info',
      },
      logger: pino({ level: 'info' }, sink),
    });
    receiver = await startWebhookReceiver({ keepRequests: true });
  });
  after(async () => {
    await gw?.close();
    await receiver?.close();
  });
  beforeEach(async () => {
    const res = await api(gw, 'DELETE', '/v2/simulator/chaos/rules');
    assert.equal(res.status, 200);
  });

  const send = (to: string[], text = 'chaos') => sendGroupMms(gw, { to, text, webhook_url: receiver.url });

  test('rules are listed and cleared through the API; a bad rule is a 400 saying why', async () => {
    const added = await addRule(gw, { kind: 'webhook.fail', count: 2, status: 503, to: '+13125551299' });
    const listed = await api<{ data: Array<Record<string, unknown>> }>(
      gw,
      'GET',
      '/v2/simulator/chaos/rules',
    );
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.data.map((r) => [r.id, r.kind, r.remaining, r.status, r.match]),
      [[added.id, 'webhook.fail', 2, 503, { to: '+13125551299' }]],
    );
    const bad = await api<{ errors: Array<{ code: string; detail: string }> }>(
      gw,
      'POST',
      '/v2/simulator/chaos/rules',
      { kind: 'webhook.delay', min_ms: 50 },
    );
    assert.equal(bad.status, 400);
    assert.match(bad.body.errors[0]!.detail, /max_ms/);
    const removed = await api(gw, 'DELETE', `/v2/simulator/chaos/rules/${added.id}`);
    assert.equal(removed.status, 200);
    const empty = await api<{ data: unknown[] }>(gw, 'GET', '/v2/simulator/chaos/rules');
    assert.deepEqual(empty.body.data, []);
  });

  test('"the next 2 attempts fail with 503" fails exactly two attempts, shown as injected', async () => {
    const rule = await addRule(gw, { kind: 'webhook.fail', count: 2, status: 503 });
    const to = '+13125551301';
    const sent = await send([to]);
    await waitForFinal(gw, sent.id);
    const deliveries = await waitForDeliveriesSettled(gw, sent.id, 2);
    const attempts = deliveries.flatMap((d: ApiDelivery) => d.attempts);
    const failed = attempts.filter((a) => a.status_code === 503);
    assert.equal(failed.length, 2, JSON.stringify(attempts));
    for (const a of failed) assert.match(a.error ?? '', new RegExp(`chaos rule ${rule.id}`));
    assert.ok(deliveries.every((d) => d.status === 'delivered'));
    // The recipient's events are sequenced: message.sent takes both failures, then goes on attempt 3.
    const got = envelopesFor(receiver.received, sent.id).map((e) => [e.data.event_type, e.meta.attempt]);
    assert.deepEqual(got, [
      ['message.sent', 3],
      ['message.finalized', 1],
    ]);
    const rules = await api<{ data: Array<{ remaining: number }> }>(gw, 'GET', '/v2/simulator/chaos/rules');
    assert.equal(rules.body.data[0]!.remaining, 0);
    const logged = logs.filter((l) => l.msg === 'chaos: injected fault' && l.chaos_rule === rule.id);
    assert.deepEqual(
      logged.map((l) => [l.kind, l.attempt, l.status, l.event_type]),
      [
        ['webhook.fail', 1, 503, 'message.sent'],
        ['webhook.fail', 2, 503, 'message.sent'],
      ],
      'every injected fault is logged with its rule',
    );
    const message = (await getMessage(gw, sent.id)) as ChaosMessage;
    assert.deepEqual(
      message.chaos?.map((f) => [f.rule, f.kind, f.attempt, f.status]),
      [
        [rule.id, 'webhook.fail', 1, 503],
        [rule.id, 'webhook.fail', 2, 503],
      ],
    );
  });

  test('a counted rule is exact across two worker nodes sharing the database', async () => {
    await addRule(gw, { kind: 'webhook.fail', count: 3, status: 503 });
    const second = await startWorkerGateway(gw.dataDir, { CHAOS_SEED: SEED });
    try {
      const sent = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => send([`+1312555140${i}`, `+1312555141${i}`], `two nodes ${i}`)),
      );
      let failed = 0;
      for (const m of sent) {
        await waitForFinal(gw, m.id);
        const deliveries = await waitForDeliveriesSettled(gw, m.id, 4);
        failed += deliveries.flatMap((d) => d.attempts).filter((a) => a.status_code === 503).length;
      }
      assert.equal(failed, 3, 'exactly the next 3 attempts failed, whichever node made them');
    } finally {
      await second.close();
    }
  });

  test('webhook.timeout: the receiver gets the request, the gateway counts it timed out and tries again', async () => {
    const rule = await addRule(gw, { kind: 'webhook.timeout', count: 1 });
    const sent = await send(['+13125551302']);
    await waitForFinal(gw, sent.id);
    const deliveries = await waitForDeliveriesSettled(gw, sent.id, 2);
    const timedOut = deliveries.flatMap((d) => d.attempts).filter((a) => a.outcome === 'retry');
    assert.equal(timedOut.length, 1);
    assert.match(timedOut[0]!.error ?? '', new RegExp(`timed out \\(injected by chaos rule ${rule.id}\\)`));
    const got = envelopesFor(receiver.received, sent.id).map((e) => [e.data.event_type, e.meta.attempt]);
    assert.deepEqual(got, [
      ['message.sent', 1],
      ['message.sent', 2],
      ['message.finalized', 1],
    ]);
  });

  test('carrier.submit_fail retryable: the submit is retried and delivered; permanent: sending_failed with the code', async () => {
    const retryable = await addRule(gw, { kind: 'carrier.submit_fail', count: 1, code: '40006' });
    const first = await send(['+13125551401']);
    const done = (await waitForFinal(gw, first.id)) as ChaosMessage;
    assert.equal(done.to[0]!.status, 'delivered');
    assert.deepEqual(
      done.chaos?.map((f) => [f.rule, f.kind, f.code, f.retryable, f.attempt]),
      [[retryable.id, 'carrier.submit_fail', '40006', true, 1]],
    );

    const permanent = await addRule(gw, {
      kind: 'carrier.submit_fail',
      count: 1,
      retryable: false,
      code: '40008',
    });
    const second = await send(['+13125551402', '+13125551403']);
    const failed = await waitForFinal(gw, second.id);
    assert.deepEqual(
      failed.to.map((r) => r.status),
      ['sending_failed', 'sending_failed'],
    );
    assert.equal(failed.errors[0]?.code, '40008');
    assert.match(failed.errors[0]?.detail ?? '', new RegExp(`chaos rule ${permanent.id}`));
  });

  test('carrier.report_delay delays the delivery report by the drawn time', async () => {
    await addRule(gw, { kind: 'carrier.report_delay', min_ms: 300, max_ms: 300, to: '+13125551501' });
    const sent = await send(['+13125551501', '+13125551502']);
    const final = (await waitForFinal(gw, sent.id)) as ChaosMessage;
    assert.deepEqual(
      final.chaos?.map((f) => [f.kind, f.delay_ms]),
      [['carrier.report_delay', 300]],
    );
    const [fault] = final.chaos!;
    assert.equal(Date.parse(String(fault!.due_at)) - Date.parse(String(fault!.report_at)), 300);
    const group = await api<{ data: ApiMessage[] }>(gw, 'GET', `/v2/messages/group/${sent.id}`);
    const [slow, quick] = group.body.data;
    assert.equal(slow!.completed_at, fault!.due_at, 'the report came when it was delayed to');
    assert.equal(fault!.message_id, slow!.id, 'only the matched recipient was delayed');
    assert.equal(quick!.to[0]!.status, 'delivered');
  });

  test('carrier.report_duplicate: the second report changes nothing (one message.finalized)', async () => {
    await addRule(gw, { kind: 'carrier.report_duplicate', count: 1 });
    const sent = await send(['+13125551601']);
    const final = (await waitForFinal(gw, sent.id)) as ChaosMessage;
    assert.equal(final.to[0]!.status, 'delivered');
    assert.deepEqual(
      final.chaos?.map((f) => f.kind),
      ['carrier.report_duplicate'],
    );
    // Both reports were applied (none left waiting, none given up as unmatched).
    const carrierId = (await gw.store.messages.get(sent.id))!.recipients[0]!.carrier_message_id!;
    await waitFor(
      async () =>
        (await gw.store.jobs.findByPayload('carrier.report', 'carrierMessageId', carrierId)).length === 0,
      { description: 'both carrier reports applied' },
    );
    await waitForDeliveriesSettled(gw, sent.id, 2);
    // Without webhook rules the two may arrive in either order (as Telnyx warns); each comes once.
    const types = envelopesFor(receiver.received, sent.id).map((e) => e.data.event_type);
    assert.deepEqual(types.sort(), ['message.finalized', 'message.sent']);
  });

  test('carrier.report_drop: the recipient is delivery_unconfirmed at the receipt deadline', async () => {
    const rule = await addRule(gw, { kind: 'carrier.report_drop', to: '+13125551701' });
    const sent = await send(['+13125551701', '+13125551702']);
    const final = (await waitForFinal(gw, sent.id)) as ChaosMessage;
    assert.deepEqual(
      final.to.map((r) => r.status),
      ['delivery_unconfirmed', 'delivered'],
    );
    assert.deepEqual(
      final.chaos?.map((f) => [f.rule, f.kind, f.deadline_ms]),
      [[rule.id, 'carrier.report_drop', 300]],
    );
  });

  test('carrier.report_reorder: the group is reported last recipient first', async () => {
    await addRule(gw, { kind: 'carrier.report_reorder', gap_ms: 150 });
    const to = ['+13125551801', '+13125551802', '+13125551803'];
    const sent = await send(to);
    await waitForFinal(gw, sent.id);
    const group = await api<{ data: ApiMessage[] }>(gw, 'GET', `/v2/messages/group/${sent.id}`);
    const completed = group.body.data.map(
      (m) => [m.to[0]!.phone_number, Date.parse(m.completed_at!)] as const,
    );
    const order = [...completed].sort((a, b) => a[1] - b[1]).map(([phone]) => phone);
    assert.deepEqual(order, [...to].reverse());
    assert.equal((await faultsOf(gw, sent.id)).filter((f) => f.kind === 'carrier.report_reorder').length, 3);
  });

  test('api.reject answers POST group_mms with 429 or 503 before doing anything', async () => {
    const stored = await gw.store.chaos.countOutboundMessages(gw.organizationId);
    const rule429 = await addRule(gw, { kind: 'api.reject', status: 429, count: 1 });
    const body = { from: gw.numbers[0], to: ['+13125551901'], text: 'hello' };
    const first = await api<{ errors: Array<{ code: string; detail: string }> }>(
      gw,
      'POST',
      '/v2/messages/group_mms',
      body,
    );
    assert.equal(first.status, 429);
    assert.equal(first.body.errors[0]!.code, '10011');
    assert.match(first.body.errors[0]!.detail, new RegExp(`chaos rule ${rule429.id}`));

    const rule503 = await addRule(gw, { kind: 'api.reject', status: 503, count: 1 });
    const raw = await fetch(`${gw.url}/v2/messages/group_mms`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(raw.status, 503);
    assert.equal(raw.headers.get('x-chaos-rule'), rule503.id);
    assert.equal(((await raw.json()) as { errors: Array<{ code: string }> }).errors[0]!.code, '10037');
    assert.equal(await gw.store.chaos.countOutboundMessages(gw.organizationId), stored, 'nothing stored');

    const rejected = (await faultsOf(gw)).filter((f) => f.kind === 'api.reject');
    assert.deepEqual(
      rejected.map((f) => [f.rule, f.status, f.group_message_id]),
      [
        [rule429.id, 429, null],
        [rule503.id, 503, null],
      ],
    );

    // The official SDK retries a 429/503 itself: one injected 503, and its send still goes through.
    await addRule(gw, { kind: 'api.reject', status: 503, count: 1 });
    const client = new Telnyx({ apiKey: gw.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 2, timeout: 10_000 });
    const sent = await client.messages.sendGroupMms({
      from: gw.numbers[0]!,
      to: ['+13125551902'],
      text: 'hi',
    });
    assert.equal(sent.data?.to?.[0]?.phone_number, '+13125551902');
    assert.equal((await faultsOf(gw)).filter((f) => f.kind === 'api.reject').length, 3);
  });
});

describe('chaos never touches a message routed to a real carrier (MM7)', () => {
  let gw: TestGateway;
  let mmsc: MmscEmulator;
  let receiver: WebhookReceiver;
  const EVERYTHING = [
    'api.reject:status=503',
    'carrier.submit_fail',
    'carrier.report_drop',
    'carrier.report_delay:min_ms=500,max_ms=500',
    'webhook.fail:status=503',
    'webhook.duplicate',
    'webhook.reorder',
    'webhook.delay:min_ms=500,max_ms=500',
    'webhook.timeout',
  ].join(';');

  before(async () => {
    gw = await startPipelineGateway({
      env: { CONNECTOR_CACHE_MS: '0', CHAOS_SEED: SEED, CHAOS_RULES: EVERYTHING },
    });
    receiver = await startWebhookReceiver({ keepRequests: true });
    mmsc = await startMmscEmulator({
      gatewayUrl: `${gw.url}/mm7/mmsc`,
      gatewayUsername: 'mmsc',
      gatewayPassword: 'mmsc-pw',
      reportDelayMs: 0,
      reportRetryMs: 50,
      reportRetryMaxMs: 500,
    });
    const now = new Date().toISOString();
    await gw.store.connectors.add({
      name: 'mmsc',
      type: 'mm7',
      settings: {
        url: `${mmsc.url}/mm7`,
        vaspId: 'VASP1',
        vasId: 'GATEWAY',
        inboundUsername: 'mmsc',
        inboundPassword: 'mmsc-pw',
        defaultCountry: 'US',
      },
      created_at: now,
      updated_at: now,
    });
    await gw.store.routes.set({ messaging_profile_id: gw.profileId, connectors: ['mmsc'], updated_at: now });
  });
  after(async () => {
    await gw?.close();
    await mmsc?.close();
    await receiver?.close();
  });

  test('every kind of rule matches, and nothing is injected', async () => {
    const listed = await api<{ data: Array<{ kind: string; scope: string }> }>(
      gw,
      'GET',
      '/v2/simulator/chaos/rules',
    );
    assert.equal(listed.body.data.length, 9, 'the rules are there, for every organization');
    assert.ok(listed.body.data.every((r) => r.scope === 'all_organizations'));

    const to = ['+13125552101', '+13125552102'];
    const sent = await sendGroupMms(gw, { to, text: 'real carrier', webhook_url: receiver.url });
    const final = (await waitForFinal(gw, sent.id)) as ChaosMessage;
    assert.deepEqual(
      final.to.map((r) => r.status),
      ['delivered', 'delivered'],
    );
    assert.equal(final.chaos, undefined);
    assert.equal(mmsc.submissions.filter((s) => s.to.join() === to.join()).length, 1);
    const deliveries = await waitForDeliveriesSettled(gw, sent.id, 4);
    assert.ok(deliveries.every((d) => d.attempts.length === 1 && d.attempts[0]!.outcome === 'delivered'));
    await waitFor(() => envelopesFor(receiver.received, sent.id).length >= 4, {
      description: 'four webhooks',
    });
    for (const phone of to) {
      const types = envelopesFor(receiver.received, sent.id)
        .filter((e) => e.data.payload.to[0]!.phone_number === phone)
        .map((e) => `${e.data.event_type}/${e.meta.attempt}`);
      // Each once, on its first attempt (not sequenced: in either order, as without chaos).
      assert.deepEqual(types.sort(), ['message.finalized/1', 'message.sent/1'], phone);
    }
    assert.deepEqual(await faultsOf(gw), []);
    assert.equal(receiver.received.map(envelopeOf).length, 4, 'no duplicate came later');
  });

  test('a rule naming a profile routed to MM7 is refused', async () => {
    const res = await api<{ errors: Array<{ code: string; detail: string }> }>(
      gw,
      'POST',
      '/v2/simulator/chaos/rules',
      { kind: 'webhook.fail', profile: gw.profileId },
    );
    assert.equal(res.status, 422);
    assert.match(res.body.errors[0]!.detail, /not the simulator/);
  });
});
