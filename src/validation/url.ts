export const MAX_URL_LENGTH = 2000;

/** An absolute http(s) URL of at most 2000 characters, as Telnyx accepts for webhooks and media. */
export function isHttpUrl(value: string): boolean {
  if (value.length > MAX_URL_LENGTH) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}
