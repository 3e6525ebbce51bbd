import fs from 'node:fs';
import path from 'node:path';

export const SAMPLES_DIR = path.resolve(
  import.meta.dirname,
  '../../../../shared/reference/mm7/samples/instantcom-mm7',
);

export function sample(name: string): Buffer {
  return fs.readFileSync(path.join(SAMPLES_DIR, name));
}

/** The HTTP request in deliver-req-post.txt: its Content-Type header and its body. */
export function samplePost(): { contentType: string; body: Buffer; headers: Record<string, string> } {
  const raw = sample('deliver-req-post.txt');
  const end = raw.indexOf('\n\n');
  const headers: Record<string, string> = {};
  for (const line of raw.subarray(0, end).toString('latin1').split('\n').slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { contentType: headers['content-type']!, body: raw.subarray(end + 2), headers };
}

/** The samples without HTTP headers use the boundary of the spec's example request. */
export const SPEC_EXAMPLE_CONTENT_TYPE =
  'multipart/related; boundary="NextPart_000_0125_01C19839.7237929064"; type="text/xml"; start="</cmvt256/mm7-deliver>"';
