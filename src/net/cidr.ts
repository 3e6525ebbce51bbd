import { BlockList, isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses `a.b.c.d/n` or `x::y/n`; a bare address means a single host (/32 or /128). */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const version = isIP(address);
  if (version === 0) {
    throw new Error(`Invalid CIDR "${text}": "${address}" is not an IPv4 or IPv6 address`);
  }
  const maxPrefix = version === 4 ? 32 : 128;
  let prefix = maxPrefix;
  if (slash !== -1) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
      throw new Error(`Invalid CIDR "${text}": prefix length must be an integer from 0 to ${maxPrefix}`);
    }
    prefix = Number(prefixText);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Validates a comma- or whitespace-separated CIDR list (as found in config) and returns it normalised
 * to `address/prefix` strings. Throws on the first bad entry.
 */
export function parseCidrList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .filter((item) => item !== '')
    .map((item) => {
      const cidr = parseCidr(item);
      return `${cidr.address}/${cidr.prefix}`;
    });
}

export interface CidrSet {
  has(address: string, family: 'ipv4' | 'ipv6'): boolean;
}

/**
 * One `BlockList` per family: a single `BlockList` matches an IPv4 address against IPv6 rules through
 * its IPv4-mapped form, so `::/8` would swallow every IPv4 address.
 */
export function createCidrSet(cidrs: readonly string[]): CidrSet {
  const lists = { ipv4: new BlockList(), ipv6: new BlockList() };
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    lists[cidr.family].addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return { has: (address, family) => lists[family].check(address, family) };
}
