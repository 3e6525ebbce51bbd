/**
 * Builds the HTTP body of one MM7 SubmitReq (TS 23.140 §8.1.1 and Annex L): multipart/related with
 * the SOAP envelope first (`start`), then the content as a multipart/related of its own whose root
 * is a SMIL presentation of the text and the media.
 */
import { randomUUID } from 'node:crypto';
import { element, escapeXml, resolveMm7Version, soapEnvelope } from './soap.ts';

export interface SubmitContentItem {
  contentType: string;
  bytes: Buffer;
  /** A file name for Content-Location, e.g. the last segment of the media URL. */
  filename?: string;
}

export interface SubmitReqInput {
  transactionId: string;
  mm7Version: string;
  vaspId?: string;
  vasId?: string;
  serviceCode?: string;
  from: string;
  to: string[];
  subject?: string;
  text?: string;
  media: SubmitContentItem[];
}

const CRLF = '\r\n';

export function buildSubmitReq(input: SubmitReqInput): { contentType: string; body: Buffer } {
  const { schema, version } = resolveMm7Version(input.mm7Version);
  const outerBoundary = `mm7-soap-${randomUUID()}`;
  const contentBoundary = `mm7-content-${randomUUID()}`;
  const soapId = 'mm7-soap';
  const contentId = 'mm7-content';

  const items = contentItems(input);
  const smil = buildSmil(items);
  const contentBody = multipartBody(contentBoundary, [
    {
      headers: {
        'Content-Type': 'application/smil; charset=utf-8',
        'Content-ID': '<smil>',
        'Content-Location': 'smil.smil',
      },
      body: Buffer.from(smil, 'utf8'),
    },
    ...items.map((item) => ({
      headers: {
        'Content-Type': item.contentType,
        'Content-ID': `<${item.id}>`,
        'Content-Location': item.location,
        ...(item.base64 ? { 'Content-Transfer-Encoding': 'base64' } : {}),
      },
      body: item.base64 ? Buffer.from(wrap76(item.bytes.toString('base64')), 'latin1') : item.bytes,
    })),
  ]);

  const recipients = input.to.map((n) => element('Number', n)).join('');
  const senderIdentification =
    element('VASPID', input.vaspId) +
    element('VASID', input.vasId) +
    `<SenderAddress>${element('Number', input.from)}</SenderAddress>`;
  const submitReq =
    `<SubmitReq xmlns="http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/${schema}">` +
    element('MM7Version', version) +
    `<SenderIdentification>${senderIdentification}</SenderIdentification>` +
    `<Recipients><To>${recipients}</To></Recipients>` +
    element('ServiceCode', input.serviceCode) +
    element('MessageClass', 'Personal') +
    element('TimeStamp', new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')) +
    element('DeliveryReport', 'true') +
    element('Subject', input.subject) +
    `<Content href="cid:${escapeXml(contentId)}" allowAdaptations="true"/>` +
    '</SubmitReq>';
  const envelope = soapEnvelope(input.transactionId, schema, submitReq);

  const body = multipartBody(outerBoundary, [
    {
      headers: { 'Content-Type': 'text/xml; charset="utf-8"', 'Content-ID': `<${soapId}>` },
      body: Buffer.from(envelope, 'utf8'),
    },
    {
      headers: {
        'Content-Type': `multipart/related; boundary="${contentBoundary}"; type="application/smil"; start="<smil>"`,
        'Content-ID': `<${contentId}>`,
      },
      body: contentBody,
    },
  ]);
  return {
    contentType: `multipart/related; boundary="${outerBoundary}"; type="text/xml"; start="<${soapId}>"`,
    body,
  };
}

interface Item {
  id: string;
  location: string;
  contentType: string;
  bytes: Buffer;
  base64: boolean;
  smilTag: 'text' | 'img' | 'video' | 'audio' | 'ref';
}

function contentItems(input: SubmitReqInput): Item[] {
  const items: Item[] = [];
  if (input.text) {
    items.push({
      id: 'text',
      location: 'text.txt',
      contentType: 'text/plain; charset=utf-8',
      bytes: Buffer.from(input.text, 'utf8'),
      base64: false,
      smilTag: 'text',
    });
  }
  const locations = new Set(['smil.smil', 'text.txt']);
  input.media.forEach((media, i) => {
    const type = media.contentType.split(';')[0]!.trim().toLowerCase();
    let location = safeFilename(media.filename) ?? `media${i + 1}${extension(type)}`;
    // Handsets resolve parts by Content-Location too, so two images both named photo.jpg must differ.
    if (locations.has(location)) location = `${i + 1}-${location}`;
    locations.add(location);
    items.push({
      id: `media${i + 1}`,
      location,
      contentType: media.contentType,
      bytes: media.bytes,
      base64: !type.startsWith('text/'),
      smilTag: type.startsWith('image/')
        ? 'img'
        : type.startsWith('video/')
          ? 'video'
          : type.startsWith('audio/')
            ? 'audio'
            : type.startsWith('text/')
              ? 'text'
              : 'ref',
    });
  });
  return items;
}

/** One slide per media item; the text on the first slide (its own slide when there is no media). */
export function buildSmil(items: Array<Pick<Item, 'id' | 'smilTag'>>): string {
  const text = items.find((i) => i.id === 'text');
  const media = items.filter((i) => i.id !== 'text');
  const slides: string[] = [];
  const textRef = text ? `<text src="cid:${text.id}" region="Text"/>` : '';
  if (media.length === 0) slides.push(`<par dur="5000ms">${textRef}</par>`);
  media.forEach((m, i) => {
    const region =
      m.smilTag === 'img' || m.smilTag === 'video'
        ? ' region="Image"'
        : m.smilTag === 'text'
          ? ' region="Text"'
          : '';
    slides.push(
      `<par dur="5000ms"><${m.smilTag} src="cid:${m.id}"${region}/>${i === 0 ? textRef : ''}</par>`,
    );
  });
  return (
    '<smil><head><layout><root-layout width="100%" height="100%"/>' +
    '<region id="Image" top="0%" left="0%" width="100%" height="70%" fit="meet"/>' +
    '<region id="Text" top="70%" left="0%" width="100%" height="30%" fit="scroll"/>' +
    `</layout></head><body>${slides.join('')}</body></smil>`
  );
}

function multipartBody(
  boundary: string,
  parts: Array<{ headers: Record<string, string>; body: Buffer }>,
): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const head = Object.entries(part.headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join(CRLF);
    chunks.push(
      Buffer.from(`--${boundary}${CRLF}${head}${CRLF}${CRLF}`, 'latin1'),
      part.body,
      Buffer.from(CRLF),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`, 'latin1'));
  return Buffer.concat(chunks);
}

function wrap76(base64: string): string {
  return base64.replace(/.{1,76}/g, (line) => `${line}${CRLF}`).replace(/\r\n$/, '');
}

function safeFilename(name: string | undefined): string | undefined {
  const cleaned = name?.replace(/[^A-Za-z0-9._-]/g, '_').slice(-64);
  return cleaned && /[A-Za-z0-9]/.test(cleaned) ? cleaned : undefined;
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/gif': '.gif',
  'video/mp4': '.mp4',
  'video/3gpp': '.3gp',
  'audio/mpeg': '.mp3',
  'audio/amr': '.amr',
  'text/vcard': '.vcf',
};

function extension(type: string): string {
  return EXTENSIONS[type] ?? '';
}
