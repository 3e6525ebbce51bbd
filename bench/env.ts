/** A numeric benchmark setting from the environment, or the default when unset or empty. */
export function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
}
