import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { after, before, test } from 'node:test';
import { Agent, buildConnector, fetch, request } from 'undici';
import {
  createCidrSet,
  createOutboundDispatcher,
  guardConnector,
  guardLookup,
  isOutboundBlocked,
  OutboundBlockedError,
} from '../../src/net/outbound-guard.ts';
import { type LocalServer, startLocalServer } from '../net/local-server.ts';

let server: LocalServer;
const open = createOutboundDispatcher({ allowCidrs: ['127.0.0.0/8'], connectTimeoutMs: 2_000 });
const strict = createOutboundDispatcher({ allowCidrs: [], connectTimeoutMs: 2_000 });

before(async () => {
  server = await startLocalServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.headers.host}`);
  });
});

after(async () => {
  await Promise.all([open.close(), strict.close()]);
  await server.close();
});

/** A resolver that answers every name with fixed addresses, so no real DNS is involved. */
function fixedLookup(addresses: string[]): LookupFunction {
  const entries: LookupAddress[] = addresses.map((address) => ({
    address,
    family: address.includes(':') ? 6 : 4,
  }));
  return (_hostname, options, callback) => {
    if (options.all) callback(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  };
}

async function expectBlocked(promise: Promise<unknown>): Promise<OutboundBlockedError> {
  const err = await promise.then(
    () => assert.fail('request unexpectedly succeeded'),
    (e: unknown) => e,
  );
  assert.ok(isOutboundBlocked(err), `expected OutboundBlockedError, got ${String(err)}`);
  return err as OutboundBlockedError;
}

test('literal 127.0.0.1 is refused without an allow-list, before any connection', async () => {
  const before = server.connections();
  const err = await expectBlocked(request(`${server.origin}/`, { dispatcher: strict }));
  assert.ok(err instanceof OutboundBlockedError);
  assert.equal(err.address, '127.0.0.1');
  assert.equal(server.connections(), before);
});

test('literal 127.0.0.1 is allowed with 127.0.0.0/8 in the allow-list', async () => {
  const res = await request(`${server.origin}/`, { dispatcher: open });
  assert.equal(res.statusCode, 200);
  assert.equal(await res.body.text(), `hello 127.0.0.1:${server.port}`);
});

test('localhost is refused on its resolved address, before any connection', async () => {
  const before = server.connections();
  const err = await expectBlocked(request(`http://localhost:${server.port}/`, { dispatcher: strict }));
  assert.match(err.address, /^(127\.|::1$|::ffff:127\.)/);
  assert.equal(server.connections(), before);
});

test('IPv4-mapped [::ffff:127.0.0.1] is refused', async () => {
  const before = server.connections();
  await expectBlocked(request(`http://[::ffff:127.0.0.1]:${server.port}/`, { dispatcher: strict }));
  assert.equal(server.connections(), before);
});

test('a hostname is judged by what it resolves to (DNS rebinding)', async () => {
  const lookup = fixedLookup(['127.0.0.1']);
  const guarded = createOutboundDispatcher({ allowCidrs: [], connectTimeoutMs: 2_000, lookup });
  const allowed = createOutboundDispatcher({ allowCidrs: ['127.0.0.0/8'], connectTimeoutMs: 2_000, lookup });
  try {
    const url = `http://media.example.test:${server.port}/`;
    await expectBlocked(request(url, { dispatcher: guarded }));
    const res = await request(url, { dispatcher: allowed });
    assert.equal(await res.body.text(), `hello media.example.test:${server.port}`);
  } finally {
    await Promise.all([guarded.close(), allowed.close()]);
  }
});

test('fetch() wraps the refusal in TypeError.cause; isOutboundBlocked still finds it', async () => {
  const err = await fetch(`${server.origin}/`, { dispatcher: strict }).then(
    () => assert.fail('fetch unexpectedly succeeded'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof TypeError);
  assert.ok(!(err instanceof OutboundBlockedError));
  assert.ok(isOutboundBlocked(err));
});

test('guardLookup drops refused addresses and fails when none remain', async () => {
  const lookupAll = (fn: LookupFunction, all: boolean) =>
    new Promise<{ err: Error | null; result: unknown }>((resolve) =>
      fn('mixed.example.test', { all }, (err, result) => resolve({ err, result })),
    );
  const allow = createCidrSet(['127.0.0.1/32']);

  const mixed = guardLookup(allow, fixedLookup(['10.0.0.1', '169.254.169.254', '127.0.0.1', '::1']));
  assert.deepEqual(await lookupAll(mixed, true), {
    err: null,
    result: [{ address: '127.0.0.1', family: 4 }],
  });
  assert.deepEqual((await lookupAll(mixed, false)).result, '127.0.0.1');

  const onlyPrivate = guardLookup(allow, fixedLookup(['10.0.0.1', 'fe80::1']));
  const { err } = await lookupAll(onlyPrivate, true);
  assert.ok(err instanceof OutboundBlockedError);
  assert.equal(err.address, '10.0.0.1');
  assert.equal(err.hostname, 'mixed.example.test');
});

test('guardConnector re-checks the connected peer when the lookup was not guarded', async () => {
  const agent = new Agent({ connect: guardConnector(buildConnector({}), createCidrSet([])) });
  try {
    const requestsBefore = server.requests();
    await expectBlocked(request(`http://localhost:${server.port}/`, { dispatcher: agent }));
    assert.equal(server.requests(), requestsBefore, 'no request may be written on a refused socket');
  } finally {
    await agent.close();
  }
});

test('isOutboundBlocked walks cause chains and AggregateErrors, and survives cycles', () => {
  const blocked = new OutboundBlockedError('10.0.0.1');
  assert.equal(isOutboundBlocked(blocked), true);
  assert.equal(isOutboundBlocked(new Error('a', { cause: new Error('b', { cause: blocked }) })), true);
  assert.equal(isOutboundBlocked(new AggregateError([new Error('x'), blocked])), true);
  assert.equal(isOutboundBlocked(new Error('plain')), false);
  assert.equal(isOutboundBlocked('string'), false);
  assert.equal(isOutboundBlocked(null), false);
  const cyclic = new Error('loop') as Error & { cause?: unknown };
  cyclic.cause = cyclic;
  assert.equal(isOutboundBlocked(cyclic), false);
});
