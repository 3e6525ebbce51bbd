import type { z } from 'zod';
import { ApiError, apiErrors, type TelnyxErrorObject, telnyxError } from '../errors/api-error.ts';
import { ERRORS, type ErrorCode } from '../errors/catalogue.ts';

/**
 * Schemas name the Telnyx code of a failed check in the issue message, as `CODE` or
 * `CODE: detail`. Type errors become 10026 (10004 when the value is missing).
 */
export function codedMessage(code: ErrorCode, detail?: string): string {
  return detail ? `${code}: ${detail}` : code;
}

export function jsonPointer(path: ReadonlyArray<PropertyKey>): string {
  return `/${path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function toTelnyxError(issue: z.core.$ZodIssue, input: unknown): TelnyxErrorObject {
  const pointer = jsonPointer(issue.path);
  const coded = /^(\d{5})(?::\s*(.*))?$/.exec(issue.message);
  if (coded && coded[1]! in ERRORS) {
    return telnyxError(coded[1] as ErrorCode, { pointer, detail: coded[2] || undefined });
  }
  if (issue.code === 'invalid_type') {
    const value = valueAt(input, issue.path);
    if (value === undefined) {
      return telnyxError('10004', {
        pointer,
        detail: `The '${String(issue.path.at(-1))}' parameter is required.`,
      });
    }
    return telnyxError('10026', {
      pointer,
      detail: `The parameter must be of type ${issue.expected}, but received type ${typeName(value)}.`,
    });
  }
  if (issue.code === 'invalid_value') return telnyxError('10032', { pointer, detail: issue.message });
  return telnyxError('10015', { pointer, detail: issue.message });
}

/** Parses `input` with `schema`, or throws an ApiError listing every problem with its pointer. */
export function parseWithTelnyxErrors<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw apiErrors([
      telnyxError('10015', { pointer: '/', detail: 'The request body must be a JSON object.' }),
    ]);
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw apiErrors(result.error.issues.map((issue) => toTelnyxError(issue, input)));
}

export { ApiError };
