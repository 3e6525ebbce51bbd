import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAddressAllowed } from '../../src/net/address-policy.ts';
import { createCidrSet } from '../../src/net/cidr.ts';

const none = createCidrSet([]);

describe('isAddressAllowed without an allow-list', () => {
  const denied = [
    '127.0.0.1',
    '127.255.255.254',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '169.254.0.1',
    '100.64.0.1',
    '100.127.255.255',
    '0.0.0.0',
    '0.1.2.3',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '192.0.2.1',
    '::',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:7f00:0001',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:0.0.0.0',
    '::127.0.0.1',
    'fe80::1',
    'fe80::1%eth0',
    'febf:ffff::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::127.0.0.1',
    '64:ff9b:1::1',
    '2002:7f00:1::1',
    '2001:db8::1',
    '2001::1',
    '100::1',
    'localhost',
    'example.com',
    '',
    '999.1.1.1',
  ];
  for (const address of denied) {
    test(`refuses ${JSON.stringify(address)}`, () => {
      assert.equal(isAddressAllowed(address, none), false);
    });
  }

  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '100.63.255.255',
    '192.169.0.1',
    '169.255.0.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ];
  for (const address of allowed) {
    test(`permits public ${address}`, () => {
      assert.equal(isAddressAllowed(address, none), true);
    });
  }
});

describe('isAddressAllowed with an allow-list', () => {
  test('127.0.0.0/8 permits IPv4 loopback, also IPv4-mapped, but not ::1 or other private ranges', () => {
    const loopback = createCidrSet(['127.0.0.0/8']);
    assert.equal(isAddressAllowed('127.0.0.1', loopback), true);
    assert.equal(isAddressAllowed('127.8.9.10', loopback), true);
    assert.equal(isAddressAllowed('::ffff:127.0.0.1', loopback), true);
    assert.equal(isAddressAllowed('::1', loopback), false);
    assert.equal(isAddressAllowed('10.0.0.1', loopback), false);
    assert.equal(isAddressAllowed('169.254.169.254', loopback), false);
  });

  test('a narrow subnet only opens that subnet', () => {
    const internal = createCidrSet(['10.0.0.0/24']);
    assert.equal(isAddressAllowed('10.0.0.5', internal), true);
    assert.equal(isAddressAllowed('10.0.1.5', internal), false);
  });

  test('IPv6 entries open IPv6 ranges', () => {
    const v6 = createCidrSet(['::1/128', 'fd00::/8']);
    assert.equal(isAddressAllowed('::1', v6), true);
    assert.equal(isAddressAllowed('fd00::1234', v6), true);
    assert.equal(isAddressAllowed('fc00::1', v6), false);
    assert.equal(isAddressAllowed('127.0.0.1', v6), false);
  });
});
