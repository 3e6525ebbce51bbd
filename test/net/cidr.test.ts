import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCidrSet, parseCidrList } from '../../src/net/cidr.ts';
import { ipv4FromMapped, ipv4FromNat64, ipv6ToBytes } from '../../src/net/ip-address.ts';

test('parseCidrList normalises comma/whitespace separated entries; bare addresses are single hosts', () => {
  assert.deepEqual(parseCidrList(' 127.0.0.0/8, 10.0.0.0/8\n::1  fd00::/8,,192.168.1.7 '), [
    '127.0.0.0/8',
    '10.0.0.0/8',
    '::1/128',
    'fd00::/8',
    '192.168.1.7/32',
  ]);
  assert.deepEqual(parseCidrList(''), []);
  assert.deepEqual(parseCidrList(' , '), []);
});

test('parseCidrList throws a message naming the bad entry', () => {
  const bad = [
    '10.0.0.0/33',
    '::/129',
    'example.com/8',
    '1.2.3.4/',
    '1.2.3.4/-1',
    '1.2.3.4/8/9',
    '1.2.3/8',
    '/8',
  ];
  for (const entry of bad) {
    assert.throws(
      () => parseCidrList(`127.0.0.0/8, ${entry}`),
      (err: Error) => err.message.startsWith(`Invalid CIDR "${entry}"`),
      entry,
    );
  }
});

test('createCidrSet keeps families apart (an IPv6 rule never matches an IPv4 address)', () => {
  const set = createCidrSet(['::/8', '10.0.0.0/8']);
  assert.equal(set.has('8.8.8.8', 'ipv4'), false);
  assert.equal(set.has('10.2.3.4', 'ipv4'), true);
  assert.equal(set.has('::1', 'ipv6'), true);
});

test('ipv6ToBytes parses compressed, full, dotted-tail and zoned forms', () => {
  assert.deepEqual(ipv6ToBytes('::'), new Uint8Array(16));
  assert.deepEqual(ipv6ToBytes('::1'), Uint8Array.from([...Array(15).fill(0), 1]));
  assert.deepEqual(
    ipv6ToBytes('1:2:3:4:5:6:7:8'),
    Uint8Array.from([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]),
  );
  assert.deepEqual(ipv6ToBytes('fe80::1%eth0'), Uint8Array.from([0xfe, 0x80, ...Array(13).fill(0), 1]));
  assert.deepEqual(
    ipv6ToBytes('::ffff:1.2.3.4'),
    Uint8Array.from([...Array(10).fill(0), 0xff, 0xff, 1, 2, 3, 4]),
  );
  assert.equal(ipv6ToBytes('1.2.3.4'), null);
  assert.equal(ipv6ToBytes('not-an-ip'), null);
});

test('embedded IPv4 extraction', () => {
  assert.equal(ipv4FromMapped('::ffff:7f00:1'), '127.0.0.1');
  assert.equal(ipv4FromMapped('[::ffff:169.254.169.254]'), '169.254.169.254');
  assert.equal(ipv4FromMapped('::1'), null);
  assert.equal(ipv4FromMapped('64:ff9b::7f00:1'), null);
  assert.equal(ipv4FromNat64('64:ff9b::7f00:1'), '127.0.0.1');
  assert.equal(ipv4FromNat64('::ffff:7f00:1'), null);
});
