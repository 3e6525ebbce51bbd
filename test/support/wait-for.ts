export interface WaitForOptions {
  /** Give up after this long; generous by default, since two cores run many test files at once. */
  timeoutMs?: number;
  intervalMs?: number;
  /** Names the condition in the timeout error. */
  description?: string;
}

/**
 * Calls `fn` until it returns something other than `undefined`, `null` or `false`, and returns that.
 * A throw from `fn` counts as "not yet" (the last one is reported on timeout), so assertions can be
 * used as the condition. Rejects once `timeoutMs` has passed.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const { timeoutMs = 20_000, intervalMs = 25, description = 'condition' } = opts;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) {
        return value as Exclude<T, undefined | null | false>;
      }
      lastError = null;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waitFor: ${description} not met within ${timeoutMs} ms${reason}`, {
        cause: lastError ?? undefined,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
