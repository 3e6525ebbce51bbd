/**
 * Parses what an MMSC posts to us: DeliveryReportReq, DeliverReq, ReadReplyReq (TS 23.140 §8.2-8.4),
 * as SOAP alone or as multipart/related with the SOAP part first or named by `start`.
 */
import { addressFromElement, type Mm7Address } from './address.ts';
import { validationError } from './fault.ts';
import {
  decodeText,
  leafEntities,
  type MimeEntity,
  normalizeContentId,
  parseContentType,
  parseEntity,
  splitMultipart,
} from './mime.ts';
import { attribute, child, children, childText, readSoapEnvelope, text, type XmlNode } from './soap.ts';

export type Mm7Part = {
  contentType: string;
  contentId?: string;
  contentLocation?: string;
  filename?: string;
  bytes: Buffer;
};

interface Common {
  transactionId: string;
  mm7Version: string;
  /** The MM7 schema of the request ('REL-6-MM7-1-4'); pass it as mm7Version to answer in kind. */
  schema?: string;
}

export type Mm7Inbound =
  | (Common & {
      kind: 'DeliveryReportReq';
      messageId: string;
      recipient: Mm7Address;
      sender?: Mm7Address;
      mmStatus: string;
      statusText?: string;
      date?: Date;
    })
  | (Common & {
      kind: 'DeliverReq';
      linkedId?: string;
      sender?: Mm7Address;
      to: Mm7Address[];
      cc: Mm7Address[];
      bcc: Mm7Address[];
      subject?: string;
      date?: Date;
      /** Every leaf content part, SMIL included, nested multiparts flattened. */
      parts: Mm7Part[];
      /** The text/plain parts joined with a newline. */
      text?: string;
    })
  | (Common & {
      kind: 'ReadReplyReq';
      messageId: string;
      sender?: Mm7Address;
      recipient?: Mm7Address;
      mmStatus: string;
      date?: Date;
    })
  | { kind: 'unsupported'; transactionId?: string; mm7Version?: string; schema?: string; element: string };

interface SoapMessage {
  xml: string;
  /** The other top-level parts of a multipart/related body, in order. */
  attachments: MimeEntity[];
}

/** Splits an HTTP body into the SOAP XML and the other top-level MIME parts. */
export function splitSoapMessage(body: Buffer, contentType: string | undefined): SoapMessage {
  const type = parseContentType(contentType);
  const looksLikeXml = /^\s*</.test(body.subarray(0, 64).toString('latin1'));
  let boundary = type.type.startsWith('multipart/') ? type.params.boundary : undefined;
  // A MIME body sent with a wrong or boundary-less Content-Type: its first line names the boundary.
  if (!boundary && !looksLikeXml) boundary = sniffBoundary(body);
  if (!boundary) {
    if (!looksLikeXml) throw validationError(`Expected SOAP XML or multipart/related, got ${type.type}`);
    return { xml: decodeText(body, type.params.charset), attachments: [] };
  }
  const entities = splitMultipart(body, boundary).map(parseEntity);
  const start = normalizeContentId(type.params.start);
  let soapIndex = start
    ? entities.findIndex((e) => normalizeContentId(e.headers['content-id']) === start)
    : 0;
  // A `start` that names no part: the SOAP part is the first one (RFC 2387 default).
  if (soapIndex < 0) soapIndex = 0;
  const soap = entities[soapIndex];
  if (!soap) throw validationError('Multipart body without parts');
  return {
    xml: decodeText(soap.body, soap.contentType.params.charset),
    attachments: entities.filter((_, i) => i !== soapIndex),
  };
}

function sniffBoundary(body: Buffer): string | undefined {
  const firstLine = /^(?:\r?\n)*--([^\r\n]{1,200}?)[ \t]*\r?\n/.exec(
    body.subarray(0, 256).toString('latin1'),
  );
  return firstLine?.[1];
}

export function parseMm7Request(body: Buffer, contentType: string | undefined): Mm7Inbound {
  const { xml, attachments } = splitSoapMessage(body, contentType);
  const envelope = readSoapEnvelope(xml);
  const req = envelope.body;
  const mm7Version = childText(req, 'MM7Version');
  const base = { transactionId: envelope.transactionId, mm7Version, schema: envelope.schema };
  const kind = envelope.bodyElement;
  if (kind !== 'DeliveryReportReq' && kind !== 'DeliverReq' && kind !== 'ReadReplyReq') {
    return { kind: 'unsupported', ...base, element: kind };
  }
  if (!base.transactionId) throw validationError('Missing TransactionID header');
  if (!mm7Version) throw validationError('Missing MM7Version');
  const common: Common = { transactionId: base.transactionId, mm7Version, schema: base.schema };

  if (kind === 'DeliveryReportReq') {
    const messageId = childText(req, 'MessageID');
    const recipient = readAddress(child(req, 'Recipient'));
    const mmStatus = childText(req, 'MMStatus');
    if (!messageId) throw validationError('DeliveryReportReq without MessageID');
    if (!recipient) throw validationError('DeliveryReportReq without Recipient');
    if (!mmStatus) throw validationError('DeliveryReportReq without MMStatus');
    return {
      kind,
      ...common,
      messageId,
      recipient,
      sender: readAddress(child(req, 'Sender')),
      mmStatus,
      statusText: childText(req, 'StatusText') ?? childText(req, 'MMStatusText'),
      date: readDate(childText(req, 'Date') ?? childText(req, 'TimeStamp')),
    };
  }

  if (kind === 'ReadReplyReq') {
    const messageId = childText(req, 'MessageID');
    const mmStatus = childText(req, 'MMStatus');
    if (!messageId) throw validationError('ReadReplyReq without MessageID');
    if (!mmStatus) throw validationError('ReadReplyReq without MMStatus');
    return {
      kind,
      ...common,
      messageId,
      sender: readAddress(child(req, 'Sender')),
      recipient: readAddress(child(req, 'Recipient')),
      mmStatus,
      date: readDate(childText(req, 'TimeStamp') ?? childText(req, 'Date')),
    };
  }

  const recipients = child(req, 'Recipients');
  const parts = contentParts(child(req, 'Content'), attachments);
  const texts = parts.filter((p) => p.contentType === 'text/plain').map((p) => p.text);
  return {
    kind,
    ...common,
    linkedId: childText(req, 'LinkedID'),
    sender: readAddress(child(req, 'Sender')),
    to: readAddressList(child(recipients, 'To')),
    cc: readAddressList(child(recipients, 'Cc')),
    bcc: readAddressList(child(recipients, 'Bcc')),
    subject: childText(req, 'Subject'),
    date: readDate(childText(req, 'TimeStamp')),
    parts: parts.map(({ text: _text, ...part }) => part),
    text: texts.length > 0 ? texts.join('\n') : undefined,
  };
}

/** The first address element inside `node` (Sender, Recipient, …). */
function readAddress(node: XmlNode | undefined): Mm7Address | undefined {
  return readAddressList(node)[0];
}

function readAddressList(node: XmlNode | undefined): Mm7Address[] {
  if (!node) return [];
  const out: Mm7Address[] = [];
  for (const name of ['Number', 'ShortCode', 'RFC2822Address']) {
    for (const el of children(node, name)) {
      const value = text(el);
      const address = value ? addressFromElement(name, value) : null;
      if (address) out.push(address);
    }
  }
  return out;
}

function readDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The leaf parts of the content that `<Content href="cid:…">` points at. When the href names no
 * part (the spec's own DeliverReq example misspells it), every non-SOAP part is the content.
 */
function contentParts(
  content: XmlNode | undefined,
  attachments: MimeEntity[],
): Array<Mm7Part & { text: string }> {
  const href = attribute(content, 'href');
  let roots = attachments;
  if (href) {
    const id = normalizeContentId(href);
    const byId = attachments.filter((a) => normalizeContentId(a.headers['content-id']) === id);
    const byLocation = attachments.filter((a) => a.headers['content-location']?.trim() === href.trim());
    if (byId.length > 0) roots = byId;
    else if (byLocation.length > 0) roots = byLocation;
  }
  return roots.flatMap((root) => leafEntities(root)).map(toPart);
}

function toPart(entity: MimeEntity): Mm7Part & { text: string } {
  const { headers, contentType, body } = entity;
  const part: Mm7Part & { text: string } = { contentType: contentType.type, bytes: body, text: '' };
  const contentId = normalizeContentId(headers['content-id']);
  if (contentId) part.contentId = contentId;
  if (headers['content-location']) part.contentLocation = headers['content-location'].trim();
  const filename = parseContentType(`x/x; ${headers['content-disposition']?.replace(/^[^;]*;?/, '') ?? ''}`)
    .params.filename;
  const name = filename ?? contentType.params.name;
  if (name) part.filename = name;
  if (contentType.type === 'text/plain') part.text = decodeText(body, contentType.params.charset);
  return part;
}
