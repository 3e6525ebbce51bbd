import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildEnvelope, type EnvelopeInput } from '../../src/webhooks/envelope.ts';

const input: EnvelopeInput = {
  id: '86f58db9-0fe3-4adc-9d1f-46e66e6e9323',
  eventType: 'message.finalized',
  occurredAt: new Date('2019-01-23T18:10:02.574Z'),
  payload: { id: '40385f64-5717-4562-b3fc-2c963f66afa6', record_type: 'message', type: 'MMS' },
  attempt: 1,
  deliveredTo: 'https://www.example.com/hooks',
};

test('builds the OutboundMessageEvent envelope from the spec', () => {
  const raw = buildEnvelope(input);
  assert.deepEqual(JSON.parse(raw), {
    data: {
      event_type: 'message.finalized',
      id: '86f58db9-0fe3-4adc-9d1f-46e66e6e9323',
      occurred_at: '2019-01-23T18:10:02.574Z',
      payload: { id: '40385f64-5717-4562-b3fc-2c963f66afa6', record_type: 'message', type: 'MMS' },
      record_type: 'event',
    },
    meta: { attempt: 1, delivered_to: 'https://www.example.com/hooks' },
  });
});

test('keys come out in the order Telnyx sends them', () => {
  const parsed = JSON.parse(buildEnvelope({ ...input, eventType: 'message.sent' }));
  assert.deepEqual(Object.keys(parsed), ['data', 'meta']);
  assert.deepEqual(Object.keys(parsed.data), ['event_type', 'id', 'occurred_at', 'payload', 'record_type']);
  assert.deepEqual(Object.keys(parsed.meta), ['attempt', 'delivered_to']);
  assert.equal(parsed.data.event_type, 'message.sent');
});

test('a retry to the failover URL keeps the event id and changes only meta', () => {
  const first = JSON.parse(buildEnvelope(input));
  const retry = JSON.parse(
    buildEnvelope({ ...input, attempt: 2, deliveredTo: 'https://backup.example.com/hooks' }),
  );
  assert.deepEqual(retry.data, first.data);
  assert.deepEqual(retry.meta, { attempt: 2, delivered_to: 'https://backup.example.com/hooks' });
});

test('refuses attempt numbers below 1 and invalid dates', () => {
  assert.throws(() => buildEnvelope({ ...input, attempt: 0 }), RangeError);
  assert.throws(() => buildEnvelope({ ...input, attempt: 1.5 }), RangeError);
  assert.throws(() => buildEnvelope({ ...input, occurredAt: new Date(Number.NaN) }), RangeError);
});
