import { isIPv4, isIPv6 } from 'node:net';

/** Drops `[...]` brackets and an IPv6 zone id (`fe80::1%eth0`). */
export function bareAddress(address: string): string {
  let bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zone = bare.indexOf('%');
  if (zone !== -1) bare = bare.slice(0, zone);
  return bare;
}

/** The 16 bytes of an IPv6 address (any textual form, including a dotted IPv4 tail), or null. */
export function ipv6ToBytes(address: string): Uint8Array | null {
  const bare = bareAddress(address);
  if (!isIPv6(bare)) return null;
  let text = bare;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headGroups.length - restGroups.length;
  const groups =
    rest === undefined ? headGroups : [...headGroups, ...Array(missing).fill('0'), ...restGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}

const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
const NAT64_WELL_KNOWN_PREFIX = [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

/** `::ffff:a.b.c.d` → `a.b.c.d`; null for any other address. */
export function ipv4FromMapped(address: string): string | null {
  const bytes = ipv6ToBytes(address);
  return bytes && startsWith(bytes, IPV4_MAPPED_PREFIX) ? bytes.slice(12).join('.') : null;
}

/** `64:ff9b::a.b.c.d` (RFC 6052 well-known NAT64 prefix) → `a.b.c.d`; null otherwise. */
export function ipv4FromNat64(address: string): string | null {
  const bytes = ipv6ToBytes(address);
  return bytes && startsWith(bytes, NAT64_WELL_KNOWN_PREFIX) ? bytes.slice(12).join('.') : null;
}
