/**
 * Media types accepted in an outbound MMS. Telnyx documents its list by format name rather than as
 * MIME types: images JPEG, PNG, GIF, BMP, TIFF, WebP; video MP4, 3GP, MOV; audio MP3, WAV, AMR, OGG;
 * documents PDF, vCard, iCal; plus text/plain (developers.telnyx.com "MMS Media & Transcoding" and the
 * support "FAQs about MMS" page). This list maps those to MIME types and adds the remaining types of the
 * 3GPP/OMA MMS content classes that carriers pass through (video/mpeg, video/h264, audio/mp4, audio/aac,
 * audio/3gpp, application/smil). It is our reasoned reading, not a list Telnyx publishes verbatim.
 */
export const MMS_ALLOWED_CONTENT_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/bmp',
  'image/webp',
  'image/tiff',
  'video/3gpp',
  'video/3gpp2',
  'video/mp4',
  'video/mpeg',
  'video/quicktime',
  'video/h264',
  'audio/mpeg',
  'audio/mp4',
  'audio/aac',
  'audio/amr',
  'audio/amr-wb',
  'audio/3gpp',
  'audio/ogg',
  'audio/wav',
  'text/plain',
  'text/vcard',
  'text/x-vcard',
  'text/calendar',
  'application/pdf',
  'application/smil',
]);

/** Common non-standard spellings servers send, mapped to the canonical type above. */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['image/jpg', 'image/jpeg'],
  ['image/pjpeg', 'image/jpeg'],
  ['image/x-ms-bmp', 'image/bmp'],
  ['image/x-bmp', 'image/bmp'],
  ['video/3gp', 'video/3gpp'],
  ['audio/mp3', 'audio/mpeg'],
  ['audio/mpeg3', 'audio/mpeg'],
  ['audio/x-mpeg-3', 'audio/mpeg'],
  ['audio/x-m4a', 'audio/mp4'],
  ['audio/x-aac', 'audio/aac'],
  ['audio/wave', 'audio/wav'],
  ['audio/x-wav', 'audio/wav'],
  ['audio/vnd.wave', 'audio/wav'],
]);

/** `Image/PNG; charset=x` → `image/png`; aliases canonicalised; empty or missing → null. */
export function normalizeContentType(header: string | null | undefined): string | null {
  const mediaType = header?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === '') return null;
  return ALIASES.get(mediaType) ?? mediaType;
}

export function isAllowedMmsContentType(contentType: string): boolean {
  return MMS_ALLOWED_CONTENT_TYPES.has(contentType);
}
