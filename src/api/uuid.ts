/** Any RFC 4122 UUID, case-insensitive: ids the gateway issues (v4 and v7). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
