/**
 * An MM7 request we refuse. `statusCode` is an MM7 status code (TS 23.140 §8.7.4 table: 2xxx client
 * errors, 3xxx server errors, 4xxx service errors such as 4004 Validation error).
 *
 * HTTP status: SOAP 1.1 §6.2 says a SOAP fault is answered with HTTP 500, and MM7 (TS 23.140 §8.6)
 * uses the SOAP 1.1 HTTP binding, so every fault defaults to 500; the MMSC reads the MM7 status
 * code in `RSErrorRsp` to tell a client error from a server one. Only failures outside SOAP use
 * other statuses: 401 for missing credentials, 413 for a body over the limit.
 */
export class Mm7Fault extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly httpStatus = 500,
  ) {
    super(message);
    this.name = 'Mm7Fault';
  }

  /** SOAP faultcode: Client for 2xxx and 4xxx (the request is at fault), Server for 3xxx. */
  get faultCode(): 'Client' | 'Server' {
    return this.statusCode >= 3000 && this.statusCode < 4000 ? 'Server' : 'Client';
  }
}

export const MM7_VALIDATION_ERROR = 4004;
export const MM7_UNSUPPORTED_OPERATION = 4003;

export function validationError(message: string): Mm7Fault {
  return new Mm7Fault(MM7_VALIDATION_ERROR, message);
}
