/**
 * The Telnyx error codes this gateway answers with. Titles and details are Telnyx's own
 * (developers.telnyx.com API error table); HTTP statuses follow Telnyx where documented.
 */
export const ERRORS = {
  '10003': {
    status: 400,
    title: 'Invalid URL',
    detail: 'The URL provided was invalid, malformed, or too long.',
  },
  '10004': { status: 400, title: 'Missing required parameter', detail: 'A required parameter was missing.' },
  '10005': {
    status: 404,
    title: 'Resource not found',
    detail: 'The requested resource or URL could not be found.',
  },
  '10006': { status: 400, title: 'Invalid ID', detail: 'The resource ID provided was invalid.' },
  '10007': { status: 500, title: 'Unexpected error', detail: 'An unexpected error occured.' },
  '10008': { status: 408, title: 'Request timeout', detail: 'The request timed out.' },
  '10009': {
    status: 401,
    title: 'Authentication failed',
    detail: 'The required authentication headers were either invalid or not included in the request.',
  },
  '10011': {
    status: 429,
    title: 'Too many requests',
    detail: 'You have exceeded the maximum number of allowed requests.',
  },
  '10015': {
    status: 400,
    title: 'Bad Request',
    detail: 'The request failed because it was not well-formed.',
  },
  '10016': {
    status: 400,
    title: 'Phone number must be in +E.164 format',
    detail: 'The specified phone number parameter must be in +E.164 format.',
  },
  '10023': { status: 400, title: 'Invalid JSON', detail: 'The supplied JSON is invalid.' },
  '10025': {
    status: 400,
    title: 'String length out of range',
    detail: 'The string length provided for the indicated field was outside the allowed range.',
  },
  '10026': { status: 400, title: 'Invalid parameter type', detail: 'The parameter has the wrong type.' },
  '10027': {
    status: 422,
    title: 'Unprocessable Entity',
    detail: 'The server understood the syntax of the request but was unable to process the instructions.',
  },
  '10029': {
    status: 415,
    title: 'Expected JSON Content-Type',
    detail: "Must encode request as 'application/json'",
  },
  '10030': {
    status: 405,
    title: 'Method not allowed',
    detail: 'The URL is valid, but the method is not allowed.',
  },
  '10032': {
    status: 400,
    title: 'Invalid enumerated value',
    detail: 'The value is not one of the allowed values.',
  },
  '10033': { status: 413, title: 'Request too large', detail: 'The request body is larger than the limit.' },
  '10037': { status: 503, title: 'Service unavailable', detail: 'Service is unavailable.' },
  '40001': {
    status: 400,
    title: 'Not routable',
    detail: 'The destination number is either a landline or a non-routable wireless number.',
  },
  '40002': {
    status: 400,
    title: 'Blocked as spam - temporary',
    detail: 'The message was flagged by a SPAM filter and was not delivered. This is a temporary condition.',
  },
  '40004': {
    status: 400,
    title: 'Rejected by destination',
    detail: 'The recipient server is rejecting the message for an unknown reason.',
  },
  '40005': {
    status: 400,
    title: 'Message expired during transmission',
    detail: 'The message expired before it could be fully delivered to the recipient.',
  },
  '40006': {
    status: 400,
    title: 'Recipient server unavailable',
    detail: 'The recipient server is unavailable or not responding.',
  },
  '40008': {
    status: 400,
    title: 'Undeliverable',
    detail: 'The recipient carrier did not accept the message.',
  },
  '40009': { status: 400, title: 'Invalid message body', detail: 'The message body was invalid.' },
  '40012': {
    status: 400,
    title: 'Invalid messaging destination number',
    detail: 'The destination phone number was deemed invalid by the carrier.',
  },
  '40014': {
    status: 400,
    title: 'Message expired in queue',
    detail: 'The message was not sent by Telnyx because its validity period expired.',
  },
  '40300': {
    status: 409,
    title: 'Blocked due to STOP message',
    detail: 'Messages cannot be sent to this number due to an existing block rule.',
  },
  '40302': {
    status: 400,
    title: 'Message too large',
    detail: 'The message would be divided into more than 10 parts. The maximum is 10.',
  },
  '40305': {
    status: 400,
    title: "Invalid 'from' address",
    detail:
      "The 'from' address should be string containing a valid phone number or alphanumeric sender ID associated with the sending messaging profile.",
  },
  '40309': {
    status: 400,
    title: 'Invalid destination region',
    detail: "The destination region is not included in the messaging profile's whitelisted destinations.",
  },
  '40310': {
    status: 400,
    title: "Invalid 'to' address",
    detail: "The 'to' address should be a single valid number.",
  },
  '40312': {
    status: 400,
    title: 'Messaging profile is disabled',
    detail: 'The messaging profile is disabled.',
  },
  '40316': {
    status: 400,
    title: 'No content provided for message',
    detail: "The message has no content. Either 'text' and/or 'media_urls' must be provided in the request.",
  },
  '40317': {
    status: 400,
    title: 'Invalid MMS content',
    detail: 'MMS can only contain up to 10 items (URLs provided) and the total size must be less than 1 MB.',
  },
  '40318': {
    status: 429,
    title: 'Message queue full',
    detail: 'Message queue is full. Wait before resending.',
  },
  '40333': {
    status: 400,
    title: 'Messaging profile spend limit reached',
    detail:
      'Request refused because this would incur cost above the spend limit configured on the messaging profile.',
  },
} as const satisfies Record<string, { status: number; title: string; detail: string }>;

export type ErrorCode = keyof typeof ERRORS;
