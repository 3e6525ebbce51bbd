import { isIP } from 'node:net';
import { type CidrSet, createCidrSet } from './cidr.ts';
import { bareAddress, ipv4FromMapped, ipv4FromNat64 } from './ip-address.ts';

/**
 * Addresses an outbound request must never reach unless explicitly allowed: everything in the IANA
 * special-purpose registries that is not globally routable (RFC 6890 and successors).
 */
export const DENIED_CIDRS: readonly string[] = [
  '0.0.0.0/8', // "this network"; 0.0.0.0 reaches localhost on Linux
  '10.0.0.0/8',
  '100.64.0.0/10', // CGNAT
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, includes the 169.254.169.254 cloud metadata service
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, includes broadcast
  '::/8', // unspecified, loopback, IPv4-compatible (IPv4-mapped and NAT64 are unwrapped before this check)
  '64:ff9b:1::/48', // local-use NAT64
  '100::/64', // discard-only
  '2001::/23', // IETF protocol assignments (Teredo, ORCHID, ...)
  '2001:db8::/32',
  '2002::/16', // 6to4 embeds an arbitrary IPv4 address
  '3fff::/20',
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  'fec0::/10', // deprecated site-local
  'ff00::/8', // multicast
];

const DENIED = createCidrSet(DENIED_CIDRS);

function ipv4Allowed(address: string, allowList: CidrSet): boolean {
  return allowList.has(address, 'ipv4') || !DENIED.has(address, 'ipv4');
}

/**
 * Whether an outbound connection to this resolved IP address is permitted. Anything that is not an
 * IP literal is refused. `allowList` wins over the built-in deny list (e.g. 127.0.0.0/8 in tests).
 */
export function isAddressAllowed(address: string, allowList: CidrSet): boolean {
  const bare = bareAddress(address);
  const version = isIP(bare);
  if (version === 0) return false;
  if (version === 4) return ipv4Allowed(bare, allowList);

  const mapped = ipv4FromMapped(bare);
  if (mapped !== null) return allowList.has(bare, 'ipv6') || ipv4Allowed(mapped, allowList);
  if (allowList.has(bare, 'ipv6')) return true;
  // Checked before the deny list: 64:ff9b::/96 lies inside ::/8.
  const translated = ipv4FromNat64(bare);
  if (translated !== null) return ipv4Allowed(translated, allowList);
  return !DENIED.has(bare, 'ipv6');
}
