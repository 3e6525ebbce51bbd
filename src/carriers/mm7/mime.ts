/**
 * A minimal MIME reader for MM7 bodies (RFC 2045/2046/2387). postal-mime was measured first: it
 * folds every text/plain part into one `text` string and drops its Content-ID and position, and it
 * ignores `start`, so an MM7 message could not be read back part by part. This reader keeps every
 * part with its headers and never decodes more than the bytes it was given.
 */
import { validationError } from './fault.ts';

export interface ContentType {
  /** Lower-cased `type/subtype`. */
  type: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

export interface MimeEntity {
  /** Header names lower-cased; a repeated header keeps its first value. */
  headers: Record<string, string>;
  contentType: ContentType;
  /** The body after Content-Transfer-Encoding decoding. */
  body: Buffer;
}

export const MIME_LIMITS = { maxParts: 200, maxDepth: 8 } as const;

export function parseContentType(value: string | undefined): ContentType {
  if (!value) return { type: 'text/plain', params: {} };
  const [head = '', ...rest] = splitParams(value);
  const params: Record<string, string> = {};
  for (const item of rest) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const name = item.slice(0, eq).trim().toLowerCase();
    let v = item.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    if (!(name in params)) params[name] = v;
  }
  return { type: head.trim().toLowerCase(), params };
}

/** Splits on ';' outside double quotes. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && quoted && i + 1 < value.length) {
      current += c + value[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

/** `<abc>`, ` abc `, `cid:abc`, `cid: <abc>` → `abc`. */
export function normalizeContentId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let v = value.trim();
  if (/^cid:/i.test(v)) v = v.slice(4).trim();
  if (v.startsWith('<') && v.endsWith('>')) v = v.slice(1, -1).trim();
  try {
    // RFC 2392: a cid URL is %-encoded; a Content-ID is not.
    if (v.includes('%')) v = decodeURIComponent(v);
  } catch {
    // Not valid %-encoding: keep it as sent.
  }
  return v || undefined;
}

/** Reads an entity: header block, blank line, body. LF or CRLF line ends. */
export function parseEntity(raw: Buffer): MimeEntity {
  const { headerText, bodyStart } = splitHeaderBlock(raw);
  const headers = parseHeaderLines(headerText);
  const contentType = parseContentType(headers['content-type']);
  const body = decodeTransferEncoding(raw.subarray(bodyStart), headers['content-transfer-encoding']);
  return { headers, contentType, body };
}

function splitHeaderBlock(raw: Buffer): { headerText: string; bodyStart: number } {
  // An entity that starts with a blank line has no headers.
  if (raw[0] === 0x0a) return { headerText: '', bodyStart: 1 };
  if (raw[0] === 0x0d && raw[1] === 0x0a) return { headerText: '', bodyStart: 2 };
  let i = 0;
  for (;;) {
    const nl = raw.indexOf(0x0a, i);
    if (nl < 0) return { headerText: raw.toString('latin1'), bodyStart: raw.length };
    const next = raw[nl + 1];
    if (next === 0x0a) return { headerText: raw.subarray(0, nl).toString('latin1'), bodyStart: nl + 2 };
    if (next === 0x0d && raw[nl + 2] === 0x0a) {
      return { headerText: raw.subarray(0, nl).toString('latin1'), bodyStart: nl + 3 };
    }
    i = nl + 1;
  }
}

export function parseHeaderLines(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const unfolded = text.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in headers)) headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

export function decodeTransferEncoding(body: Buffer, encoding: string | undefined): Buffer {
  const cte = (encoding ?? '').trim().toLowerCase();
  if (cte === 'base64') return decodeBase64(body);
  if (cte === 'quoted-printable') return decodeQuotedPrintable(body);
  // 7bit, 8bit, binary, none: the bytes as they are.
  return body;
}

function decodeBase64(body: Buffer): Buffer {
  const text = body.toString('latin1').replace(/[\s]+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text))
    throw validationError('A base64 part holds characters outside base64');
  return Buffer.from(text, 'base64');
}

function decodeQuotedPrintable(body: Buffer): Buffer {
  const out = Buffer.alloc(body.length);
  let o = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== 0x3d) {
      out[o++] = c;
      continue;
    }
    // Soft line break: '=' then optional whitespace then CRLF or LF.
    let j = i + 1;
    while (body[j] === 0x20 || body[j] === 0x09) j++;
    if (body[j] === 0x0a || (body[j] === 0x0d && body[j + 1] === 0x0a)) {
      i = body[j] === 0x0d ? j + 1 : j;
      continue;
    }
    const hex = body.subarray(i + 1, i + 3).toString('latin1');
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[o++] = Number.parseInt(hex, 16);
      i += 2;
    } else out[o++] = c; // A lone '=': kept, as RFC 2045 §6.7 suggests for robustness.
  }
  return out.subarray(0, o);
}

/**
 * The body parts of a multipart body, in order. Delimiters are `--boundary` at the start of a line,
 * optionally followed by spaces/tabs (transport padding, which real MMSCs send). A body without the
 * boundary, or without the closing delimiter, is refused (4004).
 */
export function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  if (!boundary || boundary.length > 200) throw validationError('Multipart without a usable boundary');
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let contentStart = -1;
  let from = 0;
  for (;;) {
    const at = body.indexOf(delimiter, from);
    if (at < 0) break;
    from = at + delimiter.length;
    const atLineStart = at === 0 || body[at - 1] === 0x0a;
    if (!atLineStart) continue;
    let after = at + delimiter.length;
    const closing = body[after] === 0x2d && body[after + 1] === 0x2d;
    if (closing) after += 2;
    while (body[after] === 0x20 || body[after] === 0x09) after++;
    const lineEnd =
      body[after] === 0x0a ? after + 1 : body[after] === 0x0d && body[after + 1] === 0x0a ? after + 2 : -1;
    if (!closing && lineEnd < 0) continue; // '--boundaryX…' is content that only starts like a delimiter.
    if (contentStart >= 0) {
      // The line end before the delimiter belongs to the delimiter.
      let end = at;
      if (end > contentStart && body[end - 1] === 0x0a) end--;
      if (end > contentStart && body[end - 1] === 0x0d) end--;
      parts.push(body.subarray(contentStart, end));
      if (parts.length > MIME_LIMITS.maxParts) throw validationError('Too many MIME parts');
    }
    if (closing) {
      if (contentStart < 0) throw validationError('Multipart closes before its first part');
      return parts;
    }
    contentStart = lineEnd;
    from = lineEnd;
  }
  if (contentStart < 0) throw validationError('Multipart boundary not found in the body');
  throw validationError('Multipart body is truncated: no closing boundary');
}

/** Every leaf entity under `entity`, nested multiparts flattened in document order. */
export function leafEntities(entity: MimeEntity, depth = 0): MimeEntity[] {
  if (!entity.contentType.type.startsWith('multipart/')) return [entity];
  if (depth >= MIME_LIMITS.maxDepth) throw validationError('Multipart nested too deeply');
  const boundary = entity.contentType.params.boundary ?? '';
  return splitMultipart(entity.body, boundary).flatMap((raw) => leafEntities(parseEntity(raw), depth + 1));
}

/** The text of a body in its declared charset (utf-8 when absent or unknown). */
export function decodeText(body: Buffer, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').trim().toLowerCase();
  try {
    return new TextDecoder(label === 'us-ascii' || label === 'ascii' ? 'utf-8' : label).decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}
