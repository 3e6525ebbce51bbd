/**
 * Reads and writes MM7 SOAP envelopes. Element names are matched without their namespace prefix
 * (any prefix, or a default namespace, is accepted), and the MM7 schema namespace is read from the
 * document only to answer in kind. No DTD is accepted (SOAP 1.1 §3 forbids one in a SOAP message)
 * and no entity is expanded beyond the five XML predefined ones and character references.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { validationError } from './fault.ts';

export type XmlNode = { [name: string]: XmlValue };
export type XmlValue = string | XmlNode | XmlValue[];

export const MM7_NAMESPACE_BASE = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/';
export const SOAP_ENV_NAMESPACE = 'http://schemas.xmlsoap.org/soap/envelope/';
export const DEFAULT_MM7_SCHEMA = 'REL-6-MM7-1-4';

/** Schema name → the MM7Version value that goes with it (TS 23.140 Annex L; as MMSCs send them). */
const VERSION_OF_SCHEMA: Record<string, string> = {
  'REL-5-MM7-1-0': '5.3.0',
  'REL-5-MM7-1-1': '5.3.0',
  'REL-5-MM7-1-2': '5.5.0',
  'REL-5-MM7-1-3': '5.6.0',
  'REL-6-MM7-1-0': '6.3.0',
  'REL-6-MM7-1-1': '6.4.0',
  'REL-6-MM7-1-2': '6.5.0',
  'REL-6-MM7-1-3': '6.6.0',
  'REL-6-MM7-1-4': '6.8.0',
};

/** Accepts a schema name ('REL-6-MM7-1-4'), a namespace URI, or an MM7Version ('6.8.0'). */
export function resolveMm7Version(value: string | undefined): { schema: string; version: string } {
  const v = (value ?? '').trim();
  const schemaMatch = /REL-\d+-MM7-[\w-]+/i.exec(v);
  if (schemaMatch) {
    const schema = schemaMatch[0].toUpperCase();
    return { schema, version: VERSION_OF_SCHEMA[schema] ?? `${schema.split('-')[1]}.0.0` };
  }
  if (/^\d+\.\d+\.\d+$/.test(v)) {
    const known = Object.entries(VERSION_OF_SCHEMA).find(([, version]) => version === v);
    if (known) return { schema: known[0], version: v };
    return { schema: v.startsWith('5.') ? 'REL-5-MM7-1-2' : DEFAULT_MM7_SCHEMA, version: v };
  }
  return { schema: DEFAULT_MM7_SCHEMA, version: VERSION_OF_SCHEMA[DEFAULT_MM7_SCHEMA]! };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  commentPropName: false,
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
});

export interface SoapEnvelope {
  transactionId?: string;
  /** The MM7 schema name found in the document ('REL-6-MM7-1-4'), if any. */
  schema?: string;
  /** Local name of the first element in Body ('SubmitReq', 'Fault', …). */
  bodyElement: string;
  body: XmlNode;
}

export function readSoapEnvelope(xmlText: string): SoapEnvelope {
  if (/<!DOCTYPE/i.test(xmlText) || /<!ENTITY/i.test(xmlText)) {
    throw validationError('A document type declaration is not allowed in a SOAP message');
  }
  const valid = XMLValidator.validate(xmlText);
  if (valid !== true) throw validationError(`Malformed XML: ${valid.err.msg}`);
  let doc: XmlNode;
  try {
    doc = parser.parse(xmlText) as XmlNode;
  } catch (err) {
    throw validationError(`Malformed XML: ${(err as Error).message}`);
  }
  const envelope = child(doc, 'Envelope');
  if (!envelope) throw validationError('No SOAP Envelope');
  const body = child(envelope, 'Body');
  if (!body) throw validationError('No SOAP Body');
  const first = Object.keys(body).find((k) => !k.startsWith('@') && k !== '#text');
  if (!first) throw validationError('Empty SOAP Body');
  const header = child(envelope, 'Header');
  const transactionId = header ? text(child(header, 'TransactionID')) : undefined;
  const schema = /23\.140\/schema\/(REL-[\w.-]+)/i.exec(xmlText)?.[1];
  return { transactionId: transactionId || undefined, schema, bodyElement: first, body: child(body, first)! };
}

/** The first child element named `name` (case-insensitive local name). */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  if (!node || typeof node !== 'object') return [];
  const lower = name.toLowerCase();
  const out: XmlNode[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key.toLowerCase() !== lower) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      out.push(typeof item === 'string' ? { '#text': item } : (item as XmlNode));
    }
  }
  return out;
}

/** The text content of an element (entities decoded), or undefined when absent or empty. */
export function text(node: XmlNode | undefined): string | undefined {
  if (!node) return undefined;
  const raw = node['#text'];
  const value = Array.isArray(raw) ? raw.join('') : typeof raw === 'string' ? raw : '';
  const decoded = decodeXmlText(value).trim();
  return decoded || undefined;
}

export function childText(node: XmlNode | undefined, name: string): string | undefined {
  return text(child(node, name));
}

export function attribute(node: XmlNode | undefined, name: string): string | undefined {
  if (!node) return undefined;
  const lower = `@${name.toLowerCase()}`;
  for (const [key, value] of Object.entries(node)) {
    if (key.toLowerCase() === lower && typeof value === 'string') return decodeXmlText(value);
  }
  return undefined;
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** One pass over the predefined entities and character references; anything else is left as text. */
export function decodeXmlText(value: string): string {
  return value.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return PREDEFINED[ref] ?? whole;
  });
}

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A SOAP 1.1 envelope with the MM7 TransactionID header and `bodyXml` as the Body's content. */
export function soapEnvelope(transactionId: string, schema: string, bodyXml: string): string {
  const ns = `${MM7_NAMESPACE_BASE}${schema}`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<env:Envelope xmlns:env="${SOAP_ENV_NAMESPACE}">\n` +
    '<env:Header>\n' +
    `<mm7:TransactionID xmlns:mm7="${ns}" env:mustUnderstand="1">${escapeXml(transactionId)}</mm7:TransactionID>\n` +
    '</env:Header>\n' +
    `<env:Body>\n${bodyXml}\n</env:Body>\n` +
    '</env:Envelope>\n'
  );
}

/** `<Name>value</Name>` with the value escaped, or '' when value is undefined. */
export function element(name: string, value: string | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeXml(value)}</${name}>`;
}
