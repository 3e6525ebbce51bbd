/**
 * Counts failed authentications per client address in one-minute windows, in memory. Past the
 * allowance an address is refused before its key is even hashed, so a flood of bad keys costs
 * neither a database read nor a write.
 */
export interface FailedAuthLimiter {
  /** Milliseconds until the address may try again, or 0. */
  retryAfterMs(address: string, now: number): number;
  /** Counts a failure; returns the address's failures in this window. */
  recordFailure(address: string, now: number): number;
  /** Failed authentications since start, all addresses. */
  total(): number;
}

const WINDOW_MS = 60_000;

export function createFailedAuthLimiter(perMinute: number, maxAddresses = 100_000): FailedAuthLimiter {
  const windows = new Map<string, { start: number; failures: number }>();
  let total = 0;
  const current = (address: string, now: number) => {
    const w = windows.get(address);
    return w && now - w.start < WINDOW_MS ? w : undefined;
  };
  return {
    retryAfterMs(address, now) {
      if (perMinute <= 0) return 0;
      const w = current(address, now);
      return w && w.failures >= perMinute ? w.start + WINDOW_MS - now : 0;
    },
    recordFailure(address, now) {
      total += 1;
      let w = current(address, now);
      if (!w) {
        if (windows.size >= maxAddresses) windows.clear();
        w = { start: now, failures: 0 };
        windows.set(address, w);
      }
      w.failures += 1;
      return w.failures;
    },
    total: () => total,
  };
}
