import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isAllowedMmsContentType,
  MMS_ALLOWED_CONTENT_TYPES,
  normalizeContentType,
} from '../../src/media/allowed-types.ts';
import { sniffContentType } from '../../src/media/sniff.ts';
import { TINY_PNG } from './fixtures.ts';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

const bmpHeader = (dibSize: number) => {
  const b = Buffer.alloc(54);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(54, 2);
  b.writeUInt32LE(dibSize, 14);
  return b;
};

const ftyp = (brand: string) => bytes([0, 0, 0, 0x18], 'ftyp', brand, [0, 0, 0, 0], 'isom');

const cases: Array<[string, Buffer, string | null]> = [
  ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF'), 'image/jpeg'],
  ['png', TINY_PNG, 'image/png'],
  ['gif87a', bytes('GIF87a', [1, 0, 1, 0]), 'image/gif'],
  ['gif89a', bytes('GIF89a', [1, 0, 1, 0]), 'image/gif'],
  ['webp', bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 '), 'image/webp'],
  ['wav', bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt '), 'audio/wav'],
  ['avi', bytes('RIFF', [0x24, 0, 0, 0], 'AVI LIST'), 'video/x-msvideo'],
  ['bmp', bmpHeader(40), 'image/bmp'],
  ['bmp v5', bmpHeader(124), 'image/bmp'],
  ['"BM" text is not a bmp', bytes('BMW is a car brand, not a bitmap'), null],
  ['tiff le', bytes([0x49, 0x49, 0x2a, 0], [8, 0, 0, 0]), 'image/tiff'],
  ['tiff be', bytes([0x4d, 0x4d, 0, 0x2a], [0, 0, 0, 8]), 'image/tiff'],
  ['mp4 isom', ftyp('isom'), 'video/mp4'],
  ['mp4 mp42', ftyp('mp42'), 'video/mp4'],
  ['3gp', ftyp('3gp5'), 'video/3gpp'],
  ['3g2', ftyp('3g2a'), 'video/3gpp2'],
  ['quicktime', ftyp('qt  '), 'video/quicktime'],
  ['m4a', ftyp('M4A '), 'audio/mp4'],
  ['heic', ftyp('heic'), 'image/heic'],
  ['mp3 with id3', bytes('ID3', [4, 0, 0, 0, 0, 0, 0]), 'audio/mpeg'],
  ['mp3 frame', bytes([0xff, 0xfb, 0x90, 0x64]), 'audio/mpeg'],
  ['aac adts', bytes([0xff, 0xf1, 0x50, 0x80]), 'audio/aac'],
  ['bad mpeg frame (reserved bitrate)', bytes([0xff, 0xfb, 0xf0, 0x64]), null],
  ['ogg', bytes('OggS', [0, 2]), 'audio/ogg'],
  ['amr', bytes('#!AMR\n', [0x3c]), 'audio/amr'],
  ['amr-wb', bytes('#!AMR-WB\n', [0x04]), 'audio/amr-wb'],
  ['pdf', bytes('%PDF-1.7\n'), 'application/pdf'],
  ['vcard', bytes('\r\nbegin:vcard\r\nVERSION:3.0\r\n'), 'text/vcard'],
  ['vcard with BOM', bytes([0xef, 0xbb, 0xbf], 'BEGIN:VCARD\r\n'), 'text/vcard'],
  ['icalendar', bytes('BEGIN:VCALENDAR\r\n'), 'text/calendar'],
  ['windows executable', bytes('MZ', [0x90, 0, 3, 0]), null],
  ['zip', bytes('PK', [3, 4]), null],
  ['empty', Buffer.alloc(0), null],
  ['one byte', bytes([0xff]), null],
];

for (const [name, input, expected] of cases) {
  test(`sniffs ${name} → ${expected}`, () => {
    assert.equal(sniffContentType(input), expected);
  });
}

test('normalizeContentType strips parameters, lowercases and canonicalises aliases', () => {
  assert.equal(normalizeContentType('Image/PNG; charset=binary'), 'image/png');
  assert.equal(normalizeContentType('  text/plain ;charset=utf-8'), 'text/plain');
  assert.equal(normalizeContentType('image/jpg'), 'image/jpeg');
  assert.equal(normalizeContentType('audio/mp3'), 'audio/mpeg');
  assert.equal(normalizeContentType('audio/x-wav'), 'audio/wav');
  assert.equal(normalizeContentType('constructor'), 'constructor');
  assert.equal(normalizeContentType(''), null);
  assert.equal(normalizeContentType(' ; x=y'), null);
  assert.equal(normalizeContentType(undefined), null);
  assert.equal(normalizeContentType(null), null);
});

test('the MMS allow-list has the documented types and not others', () => {
  for (const type of [
    'image/jpeg',
    'image/png',
    'image/gif',
    'image/bmp',
    'image/webp',
    'video/3gpp',
    'video/mp4',
    'video/mpeg',
    'video/quicktime',
    'video/h264',
    'audio/mpeg',
    'audio/mp4',
    'audio/amr',
    'audio/3gpp',
    'audio/ogg',
    'audio/wav',
    'audio/aac',
    'text/plain',
    'text/vcard',
    'text/x-vcard',
    'text/calendar',
    'application/pdf',
    'application/smil',
  ]) {
    assert.ok(isAllowedMmsContentType(type), type);
  }
  for (const type of [
    'application/x-msdownload',
    'application/octet-stream',
    'text/html',
    'image/svg+xml',
    'application/javascript',
    'application/zip',
    'image/heic',
    'video/x-msvideo',
  ]) {
    assert.ok(!isAllowedMmsContentType(type), type);
  }
  for (const type of MMS_ALLOWED_CONTENT_TYPES) assert.equal(type, normalizeContentType(type));
});
