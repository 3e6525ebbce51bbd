import { createHash } from 'node:crypto';

/**
 * A number in [0, 1) drawn from a hash of (seed, rule, key) instead of a shared random stream:
 * concurrent workers and several nodes would consume a stream in a different order every run,
 * while a hash gives the same thing the same draw whatever ran before it.
 */
export function chaosDraw(seed: string, ruleSignature: string, key: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${ruleSignature}\u0000${key}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** A whole number in [min, max], drawn like chaosDraw. */
export function chaosDrawRange(
  seed: string,
  ruleSignature: string,
  key: string,
  min: number,
  max: number,
): number {
  return min + Math.floor(chaosDraw(seed, ruleSignature, `${key}|range`) * (max - min + 1));
}
