/**
 * Content type from magic bytes, for media served without a useful Content-Type. Returns the real type
 * even when MMS does not allow it (so the error can name it), or null when unrecognised.
 */
export function sniffContentType(bytes: Uint8Array): string | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'image/gif';
  if (ascii(bytes, 0, 4) === 'RIFF') return sniffRiff(ascii(bytes, 8, 12));
  if (isBmp(bytes)) return 'image/bmp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return 'image/tiff';
  if (ascii(bytes, 4, 8) === 'ftyp') return sniffFtyp(ascii(bytes, 8, 12));
  if (ascii(bytes, 0, 5) === '%PDF-') return 'application/pdf';
  if (ascii(bytes, 0, 4) === 'OggS') return 'audio/ogg';
  if (ascii(bytes, 0, 9) === '#!AMR-WB\n') return 'audio/amr-wb';
  if (ascii(bytes, 0, 6) === '#!AMR\n') return 'audio/amr';
  if (ascii(bytes, 0, 3) === 'ID3') return 'audio/mpeg';
  const mpegAudio = sniffMpegAudioFrame(bytes);
  if (mpegAudio) return mpegAudio;
  const textStart = startsWith(bytes, [0xef, 0xbb, 0xbf]) ? 3 : 0; // UTF-8 BOM
  const text = ascii(bytes, textStart, textStart + 64)
    .trimStart()
    .toUpperCase();
  if (text.startsWith('BEGIN:VCARD')) return 'text/vcard';
  if (text.startsWith('BEGIN:VCALENDAR')) return 'text/calendar';
  return null;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

function sniffRiff(form: string): string | null {
  if (form === 'WEBP') return 'image/webp';
  if (form === 'WAVE') return 'audio/wav';
  if (form === 'AVI ') return 'video/x-msvideo';
  return null;
}

// "BM" alone is too weak a signature, so also require a known DIB header size at offset 14.
function isBmp(bytes: Uint8Array): boolean {
  if (bytes.length < 18 || ascii(bytes, 0, 2) !== 'BM') return false;
  const dibHeaderSize =
    (bytes[14] ?? 0) | ((bytes[15] ?? 0) << 8) | ((bytes[16] ?? 0) << 16) | ((bytes[17] ?? 0) << 24);
  return [12, 40, 52, 56, 64, 108, 124].includes(dibHeaderSize);
}

/** ISO base media file: the major brand says which flavour. */
function sniffFtyp(brand: string): string {
  if (brand.startsWith('3gp') || brand.startsWith('3gr') || brand.startsWith('3gs')) return 'video/3gpp';
  if (brand.startsWith('3g2')) return 'video/3gpp2';
  if (brand === 'qt  ') return 'video/quicktime';
  if (brand === 'M4A ' || brand === 'M4B ') return 'audio/mp4';
  if (['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'].includes(brand)) return 'image/heic';
  if (brand === 'avif' || brand === 'avis') return 'image/avif';
  return 'video/mp4';
}

/** A bare MPEG audio frame header (MP3 without ID3 tag, or AAC in ADTS). */
function sniffMpegAudioFrame(bytes: Uint8Array): string | null {
  const [b0, b1, b2] = bytes;
  if (b0 !== 0xff || b1 === undefined || b2 === undefined || (b1 & 0xe0) !== 0xe0) return null;
  const layer = (b1 >> 1) & 0x03;
  if (layer === 0) return (b1 & 0xf6) === 0xf0 ? 'audio/aac' : null;
  const bitrateIndex = b2 >> 4;
  const sampleRateIndex = (b2 >> 2) & 0x03;
  const version = (b1 >> 3) & 0x03;
  if (version === 1 || bitrateIndex === 0x0f || sampleRateIndex === 0x03) return null;
  return 'audio/mpeg';
}
