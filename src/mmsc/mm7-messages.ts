/**
 * What the emulated MMSC sends, written from TS 23.140 and the shape of the instantcom-mm7 samples
 * (env: prefixed SOAP 1.1, mm7-prefixed TransactionID header, body elements in the MM7 default
 * namespace, multipart/related with `start` and a nested multipart/related content), not from the
 * gateway's SubmitReq builder.
 */
import { randomUUID } from 'node:crypto';

const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const MMSC_SCHEMA = 'REL-6-MM7-1-4';
export const MMSC_MM7_VERSION = '6.8.0';
const MM7_NS = `http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/${MMSC_SCHEMA}`;

function esc(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function envelope(transactionId: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="${SOAP_NS}">
  <env:Header>
    <mm7:TransactionID xmlns:mm7="${MM7_NS}" env:mustUnderstand="1">${esc(transactionId)}</mm7:TransactionID>
  </env:Header>
  <env:Body>
${body}
  </env:Body>
</env:Envelope>
`;
}

export function submitRsp(transactionId: string, messageId: string): string {
  return envelope(
    transactionId,
    `    <SubmitRsp xmlns="${MM7_NS}">
      <MM7Version>${MMSC_MM7_VERSION}</MM7Version>
      <Status><StatusCode>1000</StatusCode><StatusText>Success</StatusText></Status>
      <MessageID>${esc(messageId)}</MessageID>
    </SubmitRsp>`,
  );
}

export function rsErrorFault(transactionId: string, statusCode: number, statusText: string): string {
  const faultcode = statusCode >= 3000 && statusCode < 4000 ? 'env:Server' : 'env:Client';
  return envelope(
    transactionId,
    `    <env:Fault>
      <faultcode>${faultcode}</faultcode>
      <faultstring>${faultcode === 'env:Server' ? 'Server error' : 'Client error'}</faultstring>
      <detail>
        <RSErrorRsp xmlns="${MM7_NS}">
          <MM7Version>${MMSC_MM7_VERSION}</MM7Version>
          <Status><StatusCode>${statusCode}</StatusCode><StatusText>${esc(statusText)}</StatusText></Status>
        </RSErrorRsp>
      </detail>
    </env:Fault>`,
  );
}

export type AddressElement = 'Number' | 'ShortCode' | 'RFC2822Address';

function address(value: string): string {
  const kind: AddressElement = value.includes('@')
    ? 'RFC2822Address'
    : /^\+?\d{7,}/.test(value)
      ? 'Number'
      : 'ShortCode';
  return `<${kind}>${esc(value)}</${kind}>`;
}

export function deliveryReportReq(input: {
  transactionId: string;
  messageId: string;
  recipient: string;
  sender?: string;
  mmStatus: string;
  statusText?: string;
  date: Date;
}): string {
  return envelope(
    input.transactionId,
    `    <DeliveryReportReq xmlns="${MM7_NS}">
      <MM7Version>${MMSC_MM7_VERSION}</MM7Version>
      <MMSRelayServerID>mmsc-emulator</MMSRelayServerID>
      <MessageID>${esc(input.messageId)}</MessageID>
      <Recipient>${address(input.recipient)}</Recipient>
      ${input.sender ? `<Sender>${address(input.sender)}</Sender>` : ''}
      <Date>${input.date.toISOString()}</Date>
      <MMStatus>${esc(input.mmStatus)}</MMStatus>
      ${input.statusText ? `<StatusText>${esc(input.statusText)}</StatusText>` : ''}
    </DeliveryReportReq>`,
  );
}

/** ReadReplyReq (TS 23.140 §8.5): the recipient's handset read (or deleted) a message it got. */
export function readReplyReq(input: {
  transactionId: string;
  messageId: string;
  /** The handset that read the message. */
  from: string;
  /** The original sender (the VASP's number). */
  to: string;
  mmStatus: string;
}): string {
  return envelope(
    input.transactionId,
    `    <ReadReplyReq xmlns="${MM7_NS}">
      <MM7Version>${MMSC_MM7_VERSION}</MM7Version>
      <MMSRelayServerID>mmsc-emulator</MMSRelayServerID>
      <MessageID>${esc(input.messageId)}</MessageID>
      <Recipient>${address(input.to)}</Recipient>
      <Sender>${address(input.from)}</Sender>
      <TimeStamp>${new Date().toISOString()}</TimeStamp>
      <MMStatus>${esc(input.mmStatus)}</MMStatus>
    </ReadReplyReq>`,
  );
}

export interface HandsetMedia {
  contentType: string;
  bytes: Buffer;
  filename?: string;
}

export interface HandsetMessage {
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject?: string;
  text?: string;
  media?: HandsetMedia[];
}

/** A DeliverReq as a handset's MO message reaches the VASP: SOAP + multipart/related content with SMIL. */
export function deliverReq(
  transactionId: string,
  message: HandsetMessage,
): { contentType: string; body: Buffer } {
  const list = (values: string[] | undefined) => (values ?? []).map(address).join('');
  const recipients =
    `<To>${list(message.to)}</To>` +
    (message.cc?.length ? `<Cc>${list(message.cc)}</Cc>` : '') +
    (message.bcc?.length ? `<Bcc>${list(message.bcc)}</Bcc>` : '');
  const soap = envelope(
    transactionId,
    `    <DeliverReq xmlns="${MM7_NS}">
      <MM7Version>${MMSC_MM7_VERSION}</MM7Version>
      <MMSRelayServerID>mmsc-emulator</MMSRelayServerID>
      <Sender>${address(message.from)}</Sender>
      <Recipients>${recipients}</Recipients>
      <TimeStamp>${new Date().toISOString()}</TimeStamp>
      <Priority>Normal</Priority>
      ${message.subject ? `<Subject>${esc(message.subject)}</Subject>` : ''}
      <Content href="cid:mms-content@emulator"/>
    </DeliverReq>`,
  );

  const parts: Array<{ headers: string[]; body: Buffer }> = [];
  const refs: string[] = [];
  if (message.text !== undefined) {
    parts.push({
      headers: [
        'Content-Type: text/plain; charset="utf-8"',
        'Content-ID: <text0>',
        'Content-Location: text0.txt',
        'Content-Transfer-Encoding: 8bit',
      ],
      body: Buffer.from(message.text, 'utf8'),
    });
    refs.push('<text src="cid:text0" region="Text"/>');
  }
  (message.media ?? []).forEach((m, i) => {
    const id = `part${i + 1}`;
    parts.push({
      headers: [
        `Content-Type: ${m.contentType}${m.filename ? `; name="${m.filename}"` : ''}`,
        `Content-ID: <${id}>`,
        `Content-Location: ${m.filename ?? id}`,
        'Content-Transfer-Encoding: base64',
      ],
      body: Buffer.from(
        m.bytes
          .toString('base64')
          .replace(/.{1,76}/g, '$&\r\n')
          .trimEnd(),
        'latin1',
      ),
    });
    const tag = m.contentType.startsWith('image/')
      ? 'img'
      : m.contentType.startsWith('video/')
        ? 'video'
        : m.contentType.startsWith('audio/')
          ? 'audio'
          : 'ref';
    refs.push(`<${tag} src="cid:${id}" region="Image"/>`);
  });
  const smil = `<smil><head><layout><root-layout/><region id="Image" top="0" height="70%"/><region id="Text" top="70%" height="30%"/></layout></head><body><par dur="5000ms">${refs.join('')}</par></body></smil>`;
  // The SMIL last, as in deliver-req4.txt, with `start` naming it.
  parts.push({
    headers: ['Content-Type: application/smil; charset=utf-8', 'Content-ID: <pres.smil>'],
    body: Buffer.from(smil),
  });

  const inner = `==Multipart==${randomUUID()}`;
  const outer = `==MM7-SOAP==${randomUUID()}`;
  const content = join(inner, parts);
  const body = join(outer, [
    {
      headers: ['Content-Type: text/xml; charset="utf-8"', 'Content-ID: <mm7-soap>'],
      body: Buffer.from(soap),
    },
    {
      headers: [
        `Content-Type: multipart/related; Start="<pres.smil>"; Type="application/smil"; boundary="${inner}"`,
        'Content-ID: <mms-content@emulator>',
      ],
      body: content,
    },
  ]);
  return { contentType: `multipart/related; boundary="${outer}"; type="text/xml"; start="<mm7-soap>"`, body };
}

function join(boundary: string, parts: Array<{ headers: string[]; body: Buffer }>): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(
      Buffer.from(`--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n`),
      p.body,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
