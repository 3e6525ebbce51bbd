/**
 * MM7 requests as an MMSC posts them to a VASP, written after the real messages in
 * ../shared/reference/mm7/samples (multipart/related, SOAP part named by `start`, `mm7:` prefixed
 * TransactionID header, REL-6-MM7-1-4 default namespace in the body, content as a nested multipart).
 */
import { randomUUID } from 'node:crypto';

const NS = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4';

export interface Mm7Body {
  contentType: string;
  body: Buffer;
}

const envelope = (transactionId: string, inner: string) =>
  `<?xml version="1.0"?>\r\n<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">\r\n` +
  `<env:Header><mm7:TransactionID xmlns:mm7="${NS}" env:mustUnderstand="1">${transactionId}</mm7:TransactionID></env:Header>\r\n` +
  `<env:Body>${inner}</env:Body></env:Envelope>\r\n`;

const numbers = (list: string[]) => list.map((n) => `<Number>${n}</Number>`).join('');

/** SOAP alone, as reports and read replies are sent. */
export function soapRequest(transactionId: string, inner: string): Mm7Body {
  return { contentType: 'text/xml; charset="utf-8"', body: Buffer.from(envelope(transactionId, inner)) };
}

export function deliveryReportReq(r: {
  transactionId?: string;
  messageId: string;
  recipient: string;
  mmStatus: string;
  sender?: string;
  date?: string;
}): Mm7Body {
  return soapRequest(
    r.transactionId ?? randomUUID(),
    `<DeliveryReportReq xmlns="${NS}"><MM7Version>6.8.0</MM7Version>` +
      `<MMSRelayServerID>mmsc.test</MMSRelayServerID><MessageID>${r.messageId}</MessageID>` +
      `<Recipient><Number>${r.recipient}</Number></Recipient>` +
      `<Sender><Number>${r.sender ?? '+13125550001'}</Number></Sender>` +
      `<Date>${r.date ?? new Date().toISOString()}</Date><MMStatus>${r.mmStatus}</MMStatus>` +
      '<StatusText>report</StatusText></DeliveryReportReq>',
  );
}

export function readReplyReq(r: { messageId: string; sender: string; recipient: string }): Mm7Body {
  return soapRequest(
    randomUUID(),
    `<ReadReplyReq xmlns="${NS}"><MM7Version>6.8.0</MM7Version><MessageID>${r.messageId}</MessageID>` +
      `<Recipient><Number>${r.recipient}</Number></Recipient><Sender><Number>${r.sender}</Number></Sender>` +
      `<TimeStamp>${new Date().toISOString()}</TimeStamp><MMStatus>Read</MMStatus></ReadReplyReq>`,
  );
}

/** A DeliverReq with a text part and an image, in a nested multipart/related with SMIL. */
export function deliverReq(r: {
  transactionId?: string;
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject?: string;
  text: string;
  image: { contentType: string; bytes: Buffer };
}): Mm7Body {
  const outer = `NextPart_${randomUUID()}`;
  const inner = `Inner_${randomUUID()}`;
  const smil =
    '<smil><head><layout><root-layout/></layout></head><body><par>' +
    '<img src="cid:image1"/><text src="cid:text1"/></par></body></smil>';
  const recipients =
    `<To>${numbers(r.to)}</To>` +
    (r.cc?.length ? `<Cc>${numbers(r.cc)}</Cc>` : '') +
    (r.bcc?.length ? `<Bcc>${numbers(r.bcc)}</Bcc>` : '');
  const soap = envelope(
    r.transactionId ?? randomUUID(),
    `<DeliverReq xmlns="${NS}"><MM7Version>6.8.0</MM7Version><MMSRelayServerID>mmsc.test</MMSRelayServerID>` +
      `<Sender><Number>${r.from}/TYPE=PLMN</Number></Sender><Recipients>${recipients}</Recipients>` +
      `<TimeStamp>${new Date().toISOString()}</TimeStamp>` +
      (r.subject ? `<Subject>${r.subject}</Subject>` : '') +
      '<Content href="cid:content1"/></DeliverReq>',
  );
  const content = Buffer.concat([
    Buffer.from(
      `--${inner}\r\nContent-Type: application/smil\r\nContent-ID: <smil1>\r\n\r\n${smil}\r\n` +
        `--${inner}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-ID: <text1>\r\n\r\n${r.text}\r\n` +
        `--${inner}\r\nContent-Type: ${r.image.contentType}\r\nContent-ID: <image1>\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
    ),
    Buffer.from(r.image.bytes.toString('base64').replace(/.{76}/g, '$&\r\n')),
    Buffer.from(`\r\n--${inner}--\r\n`),
  ]);
  const body = Buffer.concat([
    Buffer.from(
      `--${outer}\r\nContent-Type: text/xml; charset="utf-8"\r\nContent-ID: <soap-start>\r\n\r\n${soap}\r\n` +
        `--${outer}\r\nContent-Type: multipart/related; boundary="${inner}"; type="application/smil"; start="<smil1>"\r\n` +
        'Content-ID: <content1>\r\n\r\n',
    ),
    content,
    Buffer.from(`\r\n--${outer}--\r\n`),
  ]);
  return {
    contentType: `multipart/related; boundary="${outer}"; type="text/xml"; start="<soap-start>"`,
    body,
  };
}

/** Posts an MM7 request; `auth` as [user, password] for HTTP Basic. */
export async function postMm7(
  url: string,
  request: Mm7Body,
  auth?: [string, string],
): Promise<{ status: number; contentType: string; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': request.contentType,
      soapaction: '""',
      ...(auth ? { authorization: `Basic ${Buffer.from(auth.join(':')).toString('base64')}` } : {}),
    },
    body: new Uint8Array(request.body),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The StatusCode of an MM7 answer (response or RSErrorRsp inside a fault). */
export function statusCodeOf(xml: string): number | null {
  const m = /<(?:\w+:)?StatusCode>\s*(\d+)\s*<\//.exec(xml);
  return m ? Number(m[1]) : null;
}
