import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { isAddressAllowed } from './address-policy.ts';
import { type CidrSet, createCidrSet } from './cidr.ts';
import { bareAddress } from './ip-address.ts';

export { isAddressAllowed } from './address-policy.ts';
export { type CidrSet, createCidrSet, parseCidrList } from './cidr.ts';

export class OutboundBlockedError extends Error {
  override readonly name = 'OutboundBlockedError';
  readonly code = 'ERR_OUTBOUND_BLOCKED';
  /** The refused IP address. */
  readonly address: string;
  readonly hostname: string;

  constructor(address: string, hostname: string = address) {
    super(
      hostname === address
        ? `Outbound connection to ${address} refused: address is not publicly routable`
        : `Outbound connection to ${hostname} (${address}) refused: address is not publicly routable`,
    );
    this.address = address;
    this.hostname = hostname;
  }
}

/** True when `err`, or anything in its `cause` / `AggregateError.errors` chain, is an OutboundBlockedError. */
export function isOutboundBlocked(err: unknown): boolean {
  return findOutboundBlocked(err) !== null;
}

export function findOutboundBlocked(err: unknown): OutboundBlockedError | null {
  return walkCauses(err, new Set());
}

function walkCauses(err: unknown, seen: Set<unknown>): OutboundBlockedError | null {
  if (err instanceof OutboundBlockedError) return err;
  if (typeof err !== 'object' || err === null || seen.has(err)) return null;
  seen.add(err);
  const nested = [(err as { cause?: unknown }).cause];
  if (err instanceof AggregateError) nested.push(...err.errors);
  for (const inner of nested) {
    const found = walkCauses(inner, seen);
    if (found) return found;
  }
  return null;
}

/** Wraps a DNS lookup so that only permitted addresses come back; none permitted is an error. */
export function guardLookup(allowList: CidrSet, base: LookupFunction = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, { ...options, all: true }, (err, result) => {
      if (err) {
        callback(err, '');
        return;
      }
      const addresses: LookupAddress[] =
        typeof result === 'string' ? [{ address: result, family: isIP(result) }] : result;
      const allowed = addresses.filter((entry) => isAddressAllowed(entry.address, allowList));
      const first = allowed[0];
      if (first === undefined) {
        callback(new OutboundBlockedError(addresses[0]?.address ?? hostname, hostname), '');
        return;
      }
      if (options.all) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * Refuses IP-literal hosts up front (net.connect skips the lookup for those), and re-checks the
 * connected socket's peer address as a backstop for any path that bypassed the guarded lookup.
 */
export function guardConnector(
  base: buildConnector.connector,
  allowList: CidrSet,
  onConnected?: (origin: string, allowListedOnly: boolean) => void,
): buildConnector.connector {
  return (options, callback) => {
    const host = bareAddress(options.hostname);
    if (isIP(host) !== 0 && !isAddressAllowed(host, allowList)) {
      callback(new OutboundBlockedError(host), null);
      return;
    }
    base(options, (err, socket) => {
      if (err !== null) {
        callback(err, null);
        return;
      }
      const peer = socket.remoteAddress;
      if (peer === undefined || !isAddressAllowed(peer, allowList)) {
        socket.destroy();
        callback(new OutboundBlockedError(peer ?? 'unknown', options.hostname), null);
        return;
      }
      onConnected?.(originOf(options), !isAddressAllowed(peer, NO_EXCEPTIONS));
      callback(null, socket);
    });
  };
}

const NO_EXCEPTIONS = createCidrSet([]);

function originOf(options: buildConnector.Options): string {
  const port = options.port ? `:${options.port}` : '';
  try {
    return new URL(`${options.protocol}//${options.hostname}${port}`).origin;
  } catch {
    return `${options.protocol}//${options.hostname}${port}`;
  }
}

/**
 * Remembers which origins the dispatcher has reached at an address that only OUTBOUND_ALLOW_CIDRS
 * permits (an internal service). Sticky: once internal, always treated as internal, so a name that
 * alternates between a public and an internal address (DNS rebinding) errs on the side of hiding.
 */
export interface InternalOrigins {
  has(url: string): boolean;
  record(origin: string, allowListedOnly: boolean): void;
}

export function createInternalOrigins(): InternalOrigins {
  const internal = new Set<string>();
  return {
    has(url) {
      try {
        return internal.has(new URL(url).origin);
      } catch {
        return false;
      }
    },
    record(origin, allowListedOnly) {
      if (allowListedOnly) internal.add(origin);
    },
  };
}

export interface OutboundDispatcherOptions {
  /** CIDRs exempt from the deny list, e.g. `['127.0.0.0/8']` for tests or an internal media host. */
  allowCidrs: readonly string[];
  connectTimeoutMs: number;
  /** Resolver to guard instead of `dns.lookup` (custom DNS, tests). */
  lookup?: LookupFunction;
  keepAliveTimeoutMs?: number;
  connections?: number;
  /** Told about each connection made: its origin, and whether only the allow-list let it through. */
  internalOrigins?: InternalOrigins;
}

/**
 * An undici Agent that only connects to publicly routable addresses (plus `allowCidrs`). The check runs
 * on the resolved address at connect time, so literal IPs, hostnames and DNS rebinding are all covered.
 */
export function createOutboundDispatcher(opts: OutboundDispatcherOptions): Dispatcher {
  const allowList = createCidrSet(opts.allowCidrs);
  const base = buildConnector({
    timeout: opts.connectTimeoutMs,
    lookup: guardLookup(allowList, opts.lookup),
  });
  return new Agent({
    connect: guardConnector(base, allowList, opts.internalOrigins?.record),
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 4_000,
    connections: opts.connections ?? null,
  });
}
