import { ERRORS, type ErrorCode } from './catalogue.ts';

export interface TelnyxErrorObject {
  code: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
  meta?: Record<string, unknown>;
}

/** A failure the caller caused, answered with one or more Telnyx error objects. */
export class ApiError extends Error {
  readonly status: number;
  readonly errors: TelnyxErrorObject[];

  constructor(status: number, errors: TelnyxErrorObject[]) {
    super(errors.map((e) => `${e.code} ${e.title}`).join('; '));
    this.status = status;
    this.errors = errors;
  }
}

export function telnyxError(
  code: ErrorCode,
  opts: { detail?: string; pointer?: string; parameter?: string } = {},
): TelnyxErrorObject {
  const entry = ERRORS[code];
  const err: TelnyxErrorObject = { code, title: entry.title, detail: opts.detail ?? entry.detail };
  if (opts.pointer !== undefined) err.source = { pointer: opts.pointer };
  else if (opts.parameter !== undefined) err.source = { parameter: opts.parameter };
  return err;
}

export function apiError(
  code: ErrorCode,
  opts: { detail?: string; pointer?: string; parameter?: string } = {},
) {
  return new ApiError(ERRORS[code].status, [telnyxError(code, opts)]);
}

/** The HTTP status for several errors at once: the first one's. */
export function apiErrors(errors: TelnyxErrorObject[]): ApiError {
  const first = errors[0]?.code as ErrorCode | undefined;
  return new ApiError(first ? ERRORS[first].status : 400, errors);
}
