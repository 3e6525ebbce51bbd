import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readCallbackEvents } from '../../../src/carriers/bandwidth/callback-events.ts';
import { BANDWIDTH_ERROR_CODES, mapFailedCallback } from '../../../src/carriers/bandwidth/error-codes.ts';
import { reportOf } from '../../../src/carriers/bandwidth/receive-callbacks.ts';
import { ERRORS } from '../../../src/errors/catalogue.ts';
import { BANDWIDTH_SPEC_FILE } from '../../support/bandwidth-spec.ts';
import { loadSpec } from '../../support/telnyx-spec.ts';

const NOW = new Date('2026-01-01T00:00:00Z');
const examples = (
  loadSpec(BANDWIDTH_SPEC_FILE).components as unknown as { examples: Record<string, { value: unknown }> }
).examples;

test("every callback example of Bandwidth's spec is read, as a single object (the spec) and as an array (the docs)", () => {
  const names = Object.keys(examples);
  assert.equal(names.length, 8);
  for (const name of names) {
    const value = examples[name]!.value as { type: string };
    for (const body of [value, [value]]) {
      const read = readCallbackEvents(body, NOW);
      assert.ok(read.ok, `${name}: ${JSON.stringify(read)}`);
      assert.equal(read.events.length, 1);
      assert.equal(read.events[0]!.kind, value.type === 'message-received' ? 'inbound' : 'status', name);
    }
  }
});

test('status examples become the reports the docs describe', () => {
  const report = (name: string) => {
    const read = readCallbackEvents([examples[name]!.value], NOW);
    const event = read.ok ? read.events[0] : undefined;
    assert.ok(event?.kind === 'status');
    return reportOf(event);
  };
  assert.equal(report('messageSendingCallbackExample').status, 'sent');
  assert.equal(report('messageSentCallbackExample').status, 'sent');
  const delivered = report('groupMmsMessageDeliveredCallbackExample');
  assert.deepEqual(
    [delivered.status, delivered.carrierMessageId, delivered.phoneNumber, delivered.occurredAt.toISOString()],
    ['delivered', '14762070468292kw2fuqty55yp2b2', '+12345678902', '2024-09-14T18:20:17.160Z'],
  );
  const failed = report('messageFailedCallbackExample');
  assert.deepEqual(
    [failed.status, failed.phoneNumber, failed.error],
    [
      'sending_failed',
      '+52345678903',
      { code: '40309', title: ERRORS['40309'].title, detail: 'Bandwidth 4432 forbidden to country' },
    ],
  );
});

test('the inbound group example keeps its owner as the receiving number and every recipient', () => {
  const read = readCallbackEvents([examples.mmsMessageReceivedCallbackExample!.value], NOW);
  assert.ok(read.ok);
  const event = read.events[0]!;
  assert.ok(event.kind === 'inbound');
  assert.equal(event.owner, '+12345678902');
  assert.deepEqual(event.to, ['+12345678902', '+12345678903']);
  assert.equal(event.media.length, 1);
});

test('bad batches are refused whole; RBM-only and unknown event types are taken and ignored', () => {
  const good = examples.messageSentCallbackExample!.value as Record<string, unknown>;
  for (const body of [
    null,
    'x',
    3,
    [good, { ...good, message: 'nope' }],
    [{ ...good, to: 5 }],
    [{ ...good, errorCode: 'abc' }],
  ]) {
    assert.equal(readCallbackEvents(body, NOW).ok, false, JSON.stringify(body));
  }
  const read = readCallbackEvents([{ ...good, type: 'message-read' }, { type: 'something-new' }], NOW);
  assert.ok(read.ok);
  assert.deepEqual(
    read.events.map((e) => e.kind),
    ['ignored', 'ignored'],
  );
});

test("the code table has every row of Bandwidth's error table, each mapped to a Telnyx code of our catalogue", () => {
  const readme = fs.readFileSync(path.join(path.dirname(BANDWIDTH_SPEC_FILE), 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| (\d{4}) \| ([^|]+) \|/gm)].map((m) => Number(m[1]));
  assert.equal(rows.length, 76);
  assert.deepEqual(Object.keys(BANDWIDTH_ERROR_CODES).map(Number).sort(), [...rows].sort());
  for (const [code, entry] of Object.entries(BANDWIDTH_ERROR_CODES)) {
    assert.ok(entry.code in ERRORS, `${code} → ${entry.code}`);
    const head = Math.floor(Number(code) / 100);
    const carrier = head === 47 || head === 56 || head >= 90;
    assert.equal(
      entry.status === 'sending_failed',
      !carrier,
      `${code}: carrier failures are delivery failures`,
    );
  }
  // Codes added later fall back to their class.
  assert.equal(mapFailedCallback(4799, undefined).status, 'delivery_failed');
  assert.equal(mapFailedCallback(4499, 'new').status, 'sending_failed');
  assert.equal(mapFailedCallback(4499, 'new').error.detail, 'Bandwidth 4499 new');
  assert.equal(mapFailedCallback(9902, undefined).status, 'delivery_unconfirmed');
  assert.equal(mapFailedCallback(undefined, 'odd').error.code, '40008');
});
