/**
 * Reads a SubmitReq the way an MMSC must and lists every way it breaks what TS 23.140 §8.1.1 and the
 * samples require: SOAP 1.1 envelope with a TransactionID header, MM7Version, SenderIdentification,
 * at least one recipient, `Content href="cid:…"` naming a part, a SMIL presentation that references
 * every other part and only existing ones, and parts that decode. Only the generic MIME and XML
 * readers are shared with the gateway; none of the gateway's SubmitReq code is used here.
 */
import { createHash } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Mm7Fault } from '../carriers/mm7/fault.ts';
import {
  type MimeEntity,
  normalizeContentId,
  parseContentType,
  parseEntity,
  splitMultipart,
} from '../carriers/mm7/mime.ts';
import {
  attribute,
  child,
  children,
  childText,
  readSoapEnvelope,
  text,
  type XmlNode,
} from '../carriers/mm7/soap.ts';

export interface ReceivedPart {
  contentType: string;
  contentId?: string;
  contentLocation?: string;
  size: number;
  sha256: string;
  bytes: Buffer;
}

export interface ReceivedSubmission {
  transactionId?: string;
  mm7Version?: string;
  schema?: string;
  vaspId?: string;
  vasId?: string;
  serviceCode?: string;
  senderAddress?: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject?: string;
  deliveryReport: boolean;
  /** The SMIL document, when the content has one. */
  smil?: string;
  /** Every leaf content part except the SMIL. */
  parts: ReceivedPart[];
  /** What violates the spec; empty for a good SubmitReq. */
  problems: string[];
}

export function checkSubmitReq(
  body: Buffer,
  contentTypeHeader: string | undefined,
  soapAction: string | undefined,
): ReceivedSubmission {
  const problems: string[] = [];
  const submission: ReceivedSubmission = {
    to: [],
    cc: [],
    bcc: [],
    deliveryReport: false,
    parts: [],
    problems,
  };
  if (soapAction === undefined) problems.push('SOAPAction header missing (SOAP 1.1 §6.1.1)');

  const type = parseContentType(contentTypeHeader);
  let soapEntity: MimeEntity | undefined;
  let others: MimeEntity[] = [];
  try {
    if (type.type === 'multipart/related') {
      const entities = splitMultipart(body, type.params.boundary ?? '').map(parseEntity);
      const start = normalizeContentId(type.params.start);
      if (!start) problems.push('multipart/related without a start parameter');
      if (type.params.type !== 'text/xml')
        problems.push(`multipart/related type="${type.params.type ?? ''}", expected "text/xml"`);
      const index = start
        ? entities.findIndex((e) => normalizeContentId(e.headers['content-id']) === start)
        : 0;
      if (index < 0) problems.push(`start="${type.params.start}" names no part`);
      soapEntity = entities[Math.max(index, 0)];
      others = entities.filter((e) => e !== soapEntity);
    } else if (type.type === 'text/xml') {
      soapEntity = { headers: {}, contentType: type, body };
    } else {
      problems.push(`HTTP Content-Type ${type.type || '(none)'}: expected multipart/related or text/xml`);
      return submission;
    }
  } catch (err) {
    problems.push(`MIME: ${(err as Error).message}`);
    return submission;
  }
  if (!soapEntity) {
    problems.push('no SOAP part');
    return submission;
  }
  if (soapEntity.contentType.type !== 'text/xml')
    problems.push(`SOAP part is ${soapEntity.contentType.type}, expected text/xml`);

  const xml = soapEntity.body.toString('utf8');
  let envelope: ReturnType<typeof readSoapEnvelope>;
  try {
    envelope = readSoapEnvelope(xml);
  } catch (err) {
    problems.push(`SOAP: ${(err as Error).message}`);
    return submission;
  }
  if (!xml.includes('http://schemas.xmlsoap.org/soap/envelope/'))
    problems.push('Envelope is not in the SOAP 1.1 namespace');
  if (!envelope.transactionId) problems.push('TransactionID header missing');
  if (envelope.bodyElement !== 'SubmitReq')
    problems.push(`Body holds ${envelope.bodyElement}, expected SubmitReq`);
  if (!envelope.schema) problems.push('SubmitReq is not in a 3GPP MM7 namespace');
  const req = envelope.body;
  submission.transactionId = envelope.transactionId;
  submission.schema = envelope.schema;
  submission.mm7Version = childText(req, 'MM7Version');
  if (!submission.mm7Version) problems.push('MM7Version missing');

  const ident = child(req, 'SenderIdentification');
  if (!ident) problems.push('SenderIdentification missing');
  submission.vaspId = childText(ident, 'VASPID');
  submission.vasId = childText(ident, 'VASID');
  submission.senderAddress = firstAddress(child(ident, 'SenderAddress'));
  submission.serviceCode = childText(req, 'ServiceCode');
  submission.subject = childText(req, 'Subject');
  submission.deliveryReport = childText(req, 'DeliveryReport')?.toLowerCase() === 'true';

  const recipients = child(req, 'Recipients');
  submission.to = addresses(child(recipients, 'To'));
  submission.cc = addresses(child(recipients, 'Cc'));
  submission.bcc = addresses(child(recipients, 'Bcc'));
  const all = [...submission.to, ...submission.cc, ...submission.bcc];
  if (all.length === 0) problems.push('Recipients holds no address');
  for (const a of all) {
    if (!/^\+?\d{3,15}(\/TYPE=PLMN)?$/i.test(a) && !a.includes('@'))
      problems.push(`recipient "${a}" is not a number, short code or RFC 2822 address`);
  }

  const content = child(req, 'Content');
  const href = attribute(content, 'href');
  if (!content) {
    problems.push('Content missing');
    return submission;
  }
  if (!href || !/^cid:/i.test(href.trim())) {
    problems.push(`Content href "${href ?? ''}" is not a cid: reference`);
    return submission;
  }
  const root = others.find((e) => normalizeContentId(e.headers['content-id']) === normalizeContentId(href));
  if (!root) {
    problems.push(`Content href "${href}" names no MIME part`);
    return submission;
  }
  checkContent(root, submission);
  return submission;
}

function checkContent(root: MimeEntity, submission: ReceivedSubmission): void {
  const { problems } = submission;
  let leaves: MimeEntity[];
  let smilEntity: MimeEntity | undefined;
  try {
    if (root.contentType.type === 'multipart/related') {
      leaves = splitMultipart(root.body, root.contentType.params.boundary ?? '').map(parseEntity);
      const start = normalizeContentId(root.contentType.params.start);
      smilEntity = start
        ? leaves.find((l) => normalizeContentId(l.headers['content-id']) === start)
        : leaves.find((l) => l.contentType.type === 'application/smil');
      if (start && !smilEntity) problems.push(`content start="${start}" names no part`);
    } else if (root.contentType.type.startsWith('multipart/')) {
      leaves = splitMultipart(root.body, root.contentType.params.boundary ?? '').map(parseEntity);
      smilEntity = leaves.find((l) => l.contentType.type === 'application/smil');
    } else {
      leaves = [root];
    }
  } catch (err) {
    problems.push(`content: ${err instanceof Mm7Fault ? err.message : String(err)}`);
    return;
  }
  const media = leaves.filter((l) => l !== smilEntity);
  for (const leaf of media) {
    submission.parts.push({
      contentType: leaf.contentType.type,
      contentId: normalizeContentId(leaf.headers['content-id']),
      contentLocation: leaf.headers['content-location'],
      size: leaf.body.length,
      sha256: createHash('sha256').update(leaf.body).digest('hex'),
      bytes: leaf.body,
    });
    if (leaf.contentType.type.startsWith('multipart/'))
      problems.push('nested multipart inside the presentation');
    if (leaf.contentType.type === 'text/plain' && !leaf.contentType.params.charset)
      problems.push('text/plain part without charset');
  }
  if (media.length > 1 || (media.length === 1 && media[0]!.contentType.type !== 'text/plain')) {
    if (!smilEntity) {
      problems.push('content with several or non-text parts has no SMIL presentation');
      return;
    }
  }
  if (!smilEntity) return;
  submission.smil = smilEntity.body.toString('utf8');
  const sources = smilSources(submission.smil, problems);
  const resolves = (src: string, part: MimeEntity) => {
    if (/^cid:/i.test(src)) return normalizeContentId(src) === normalizeContentId(part.headers['content-id']);
    return src === part.headers['content-location'];
  };
  for (const src of sources) {
    if (!media.some((p) => resolves(src, p))) problems.push(`SMIL src "${src}" names no part`);
  }
  for (const part of media) {
    if (!sources.some((src) => resolves(src, part))) {
      problems.push(
        `part ${part.headers['content-id'] ?? part.headers['content-location'] ?? part.contentType.type} is not referenced by the SMIL`,
      );
    }
  }
}

const smilParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  processEntities: false,
});

function smilSources(smil: string, problems: string[]): string[] {
  if (/<!DOCTYPE|<!ENTITY/i.test(smil)) {
    problems.push('SMIL has a DTD');
    return [];
  }
  const valid = XMLValidator.validate(smil);
  if (valid !== true) {
    problems.push(`SMIL is not well-formed XML: ${valid.err.msg}`);
    return [];
  }
  let doc: unknown;
  try {
    doc = smilParser.parse(smil);
  } catch (err) {
    problems.push(`SMIL is not well-formed XML: ${(err as Error).message}`);
    return [];
  }
  if (!doc || typeof doc !== 'object' || !('smil' in doc)) problems.push('SMIL root element is not <smil>');
  const sources: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '@src' && typeof value === 'string') sources.push(value.trim());
        else walk(value);
      }
    }
  };
  walk(doc);
  return sources;
}

function addresses(node: XmlNode | undefined): string[] {
  if (!node) return [];
  return ['Number', 'ShortCode', 'RFC2822Address'].flatMap((name) =>
    children(node, name).map((el) => text(el) ?? ''),
  );
}

function firstAddress(node: XmlNode | undefined): string | undefined {
  return addresses(node)[0];
}
