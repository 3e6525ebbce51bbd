export const MAX_URL_LENGTH = 2000;

/** An absolute http(s) URL of at most 2000 characters, as Telnyx accepts for webhooks and media. */
export function isHttpUrl(value: string): boolean {
  // Raw control characters (NUL included) are no part of a URL; WHATWG parsing would quietly drop
  // or encode them, so the string stored would not be the URL used.
  if (value.length > MAX_URL_LENGTH || hasControlCharacter(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
