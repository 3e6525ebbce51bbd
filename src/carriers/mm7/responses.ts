/** Envelopes we answer an MMSC with, and reading the MMSC's answers to our SubmitReq. */
import type { Mm7Fault } from './fault.ts';
import {
  child,
  childText,
  element,
  readSoapEnvelope,
  resolveMm7Version,
  soapEnvelope,
  type XmlNode,
} from './soap.ts';

const XML_CONTENT_TYPE = 'text/xml; charset="utf-8"';

/** Default StatusText per StatusCode when the caller gives none. */
const STATUS_TEXT: Record<number, string> = { 1000: 'Success', 1100: 'Partial success' };

/**
 * The response envelope for a request kind. `mm7Version` is the request's MM7Version ('6.8.0') or
 * its schema ('REL-6-MM7-1-4', from Mm7Inbound.schema), which is better: the answer then uses the
 * request's namespace.
 */
export function mm7Response(
  kind: 'DeliveryReportRsp' | 'DeliverRsp' | 'ReadReplyRsp',
  transactionId: string,
  mm7Version: string,
  statusCode = 1000,
  statusText?: string,
): { contentType: string; body: string } {
  const { schema, version } = resolveVersionForAnswer(mm7Version);
  const ns = `http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/${schema}`;
  const body =
    `<${kind} xmlns="${ns}">` +
    element('MM7Version', version) +
    `<Status>${element('StatusCode', String(statusCode))}${element('StatusText', statusText ?? STATUS_TEXT[statusCode] ?? 'Error')}</Status>` +
    `</${kind}>`;
  return { contentType: XML_CONTENT_TYPE, body: soapEnvelope(transactionId, schema, body) };
}

/** A SOAP Fault carrying RSErrorRsp (TS 23.140 §8.7.2), as the fault samples show it. */
export function mm7FaultResponse(
  fault: Mm7Fault,
  transactionId?: string,
  mm7Version?: string,
): { httpStatus: number; contentType: string; body: string } {
  const { schema, version } = resolveVersionForAnswer(mm7Version);
  const ns = `http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/${schema}`;
  const body =
    '<env:Fault>' +
    element('faultcode', `env:${fault.faultCode}`) +
    element('faultstring', fault.faultCode === 'Client' ? 'Client error' : 'Server error') +
    `<detail><RSErrorRsp xmlns="${ns}">` +
    element('MM7Version', version) +
    `<Status>${element('StatusCode', String(fault.statusCode))}${element('StatusText', fault.message)}</Status>` +
    '</RSErrorRsp></detail></env:Fault>';
  // TransactionID is mandatory in the header; a request we could not read has none, so echo nothing
  // meaningful rather than invent one.
  return {
    httpStatus: fault.httpStatus,
    contentType: XML_CONTENT_TYPE,
    body: soapEnvelope(transactionId ?? '', schema, body),
  };
}

function resolveVersionForAnswer(mm7Version: string | undefined): { schema: string; version: string } {
  const resolved = resolveMm7Version(mm7Version);
  // An MM7Version we were sent is echoed as sent.
  if (mm7Version && /^\d+\.\d+\.\d+$/.test(mm7Version.trim()))
    return { ...resolved, version: mm7Version.trim() };
  return resolved;
}

export type Mm7Answer =
  | {
      kind: 'response';
      element: string;
      transactionId?: string;
      statusCode: number;
      statusText?: string;
      body: XmlNode;
    }
  | {
      kind: 'fault';
      transactionId?: string;
      statusCode?: number;
      statusText?: string;
      faultCode?: string;
      faultString?: string;
    };

/** Reads an MMSC's answer: a `*Rsp` element with its Status, or a SOAP Fault (RSErrorRsp inside). */
export function readMm7Answer(xml: string): Mm7Answer {
  const envelope = readSoapEnvelope(xml);
  const body = envelope.body;
  if (envelope.bodyElement === 'Fault') {
    const detail = child(body, 'detail');
    const error = child(detail, 'RSErrorRsp') ?? child(detail, 'VASPErrorRsp') ?? detail;
    const status = child(error, 'Status');
    const code = Number.parseInt(childText(status, 'StatusCode') ?? '', 10);
    return {
      kind: 'fault',
      transactionId: envelope.transactionId,
      statusCode: Number.isFinite(code) ? code : undefined,
      statusText: childText(status, 'StatusText') ?? childText(status, 'Details'),
      faultCode: childText(body, 'faultcode'),
      faultString: childText(body, 'faultstring'),
    };
  }
  const status = child(body, 'Status');
  const code = Number.parseInt(childText(status, 'StatusCode') ?? '', 10);
  if (!Number.isFinite(code)) throw new Error(`${envelope.bodyElement} without a StatusCode`);
  return {
    kind: 'response',
    element: envelope.bodyElement,
    transactionId: envelope.transactionId,
    statusCode: code,
    statusText: childText(status, 'StatusText'),
    body,
  };
}
