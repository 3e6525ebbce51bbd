import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/** How far a webhook's timestamp may be from our clock, as Telnyx's SDKs allow. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

const keys = new Map<string, KeyObject>();

/** The Ed25519 key from the base64 of its raw 32 bytes (the form Telnyx publishes). */
function publicKeyOf(base64: string): KeyObject {
  let key = keys.get(base64);
  if (!key) {
    const x = Buffer.from(base64, 'base64').toString('base64url');
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keys.size > 1000) keys.clear();
    keys.set(base64, key);
  }
  return key;
}

/**
 * Checks a Telnyx webhook signature: `telnyx-signature-ed25519` (base64) over
 * `${telnyx-timestamp}|${rawBody}` with the upstream's public key, the timestamp (unix seconds)
 * within ±300 s of `nowMs`.
 */
export function verifyTelnyxSignature(input: {
  publicKey: string;
  signature: string | undefined;
  timestamp: string | undefined;
  rawBody: string;
  nowMs: number;
}): SignatureCheck {
  if (!input.signature || !input.timestamp) return { ok: false, reason: 'unsigned' };
  if (!/^\d{1,12}$/.test(input.timestamp)) return { ok: false, reason: 'unreadable timestamp' };
  const skew = Math.abs(input.nowMs / 1000 - Number(input.timestamp));
  if (skew > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: 'stale timestamp' };
  const signature = Buffer.from(input.signature, 'base64');
  if (signature.length !== 64) return { ok: false, reason: 'bad signature' };
  let valid = false;
  try {
    valid = verify(
      null,
      Buffer.from(`${input.timestamp}|${input.rawBody}`, 'utf8'),
      publicKeyOf(input.publicKey),
      signature,
    );
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : { ok: false, reason: 'bad signature' };
}
