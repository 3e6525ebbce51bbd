import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type ReceivedMessage, receiveMessage } from '../../src/inbound/receive-message.ts';
import { createFileMediaStore } from '../../src/media/media-store.ts';
import type { Store } from '../../src/store/store.ts';
import { bootstrapSandbox, type SandboxInfo } from '../../src/tenants/bootstrap.ts';
import { testAutoReplyDeps } from '../support/auto-reply-deps.ts';
import { makeTempDir, openTestStore } from '../support/gateway.ts';

/**
 * The inbound intake with a dedup key (Bandwidth's at-least-once callbacks): copies of one carrier
 * message taken at the same moment, as two nodes would, store it once; the others fail and store
 * nothing.
 */

let dir: string;
let store: Store;
let sandbox: SandboxInfo;

before(async () => {
  dir = makeTempDir();
  store = await openTestStore(dir);
  sandbox = (await bootstrapSandbox(store))!;
});

after(async () => {
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('concurrent copies with one dedup key store one receipt and one message; without a key each copy is stored', async () => {
  const deps = {
    store,
    media: createFileMediaStore(path.join(dir, 'media')),
    mediaUrl: (sha256: string) => `http://127.0.0.1/media/${sha256}`,
    replies: testAutoReplyDeps,
  };
  const copy = (dedupKey?: string): ReceivedMessage => ({
    connector: 'bw',
    carrierMessageId: 'bw-1',
    from: '+13125556001',
    to: [sandbox.numbers[0]!],
    cc: [sandbox.numbers[1]!, '+13125556002'],
    bcc: [],
    receivers: [sandbox.numbers[0]!],
    subject: null,
    text: 'once',
    media: [],
    ...(dedupKey ? { dedupKey } : {}),
  });

  const results = await Promise.allSettled(
    [1, 2, 3].map(() => receiveMessage(deps, copy('bandwidth:bw:bw-1'))),
  );
  const stored = results.filter((r) => r.status === 'fulfilled');
  assert.equal(stored.length, 1, 'one copy stored');
  const kept = await store.inboundReceipts.findByDedupKey('bandwidth:bw:bw-1');
  assert.deepEqual(kept?.message_ids, stored[0]!.value.messageIds);
  assert.equal((await store.inboundReceipts.list(100)).length, 1, 'no receipt of the refused copies');
  const message = await store.messages.get(stored[0]!.value.messageIds[0]!);
  assert.deepEqual(
    message!.recipients.map((r) => r.phone_number),
    [sandbox.numbers[0]],
    'only the receiving number, although another of ours is in cc',
  );
  assert.deepEqual(message!.message.cc, [sandbox.numbers[1], '+13125556002']);

  await receiveMessage(deps, copy());
  await receiveMessage(deps, copy());
  assert.equal((await store.inboundReceipts.list(100)).length, 3, 'MM7 and others: no key, no dedup');
});
