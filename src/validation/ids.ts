const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids of our records are UUIDs. Anything else cannot name one, so routes answer 404 without asking
 * the database (PostgreSQL refuses some strings outright, a NUL byte for one, which would be a 500).
 */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A phone number route's `{id}`: the number's id, or the +E.164 number itself. */
export function isNumberIdOrE164(value: string): boolean {
  return UUID.test(value) || /^\+[1-9]\d{1,14}$/.test(value);
}
