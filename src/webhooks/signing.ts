import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** Headers Telnyx puts on every webhook; receivers verify them with the account's public key. */
export interface SignatureHeaders {
  'telnyx-signature-ed25519': string;
  'telnyx-timestamp': string;
}

export type Signer = (rawBody: string, timestamp: number) => SignatureHeaders;

export interface SigningKeyPair {
  /** Base64 of the raw 32-byte Ed25519 public key: the format Telnyx Mission Control shows. */
  publicKey: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: rawPublicKeyBase64(publicKey),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export function publicKeyFromPrivate(privateKeyPem: string): string {
  return rawPublicKeyBase64(createPublicKey(loadEd25519PrivateKey(privateKeyPem)));
}

/** Signs `${timestamp}|${rawBody}` with Ed25519, exactly as Telnyx does. `timestamp` is unix seconds. */
export function createSigner(privateKeyPem: string): Signer {
  const key = loadEd25519PrivateKey(privateKeyPem);
  return (rawBody, timestamp) => {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new RangeError(`timestamp must be a non-negative integer of unix seconds, got ${timestamp}`);
    }
    const signature = sign(null, Buffer.from(`${timestamp}|${rawBody}`, 'utf8'), key);
    return {
      'telnyx-signature-ed25519': signature.toString('base64'),
      'telnyx-timestamp': String(timestamp),
    };
  };
}

function loadEd25519PrivateKey(privateKeyPem: string): KeyObject {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`expected an ed25519 private key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key;
}

function rawPublicKeyBase64(publicKey: KeyObject): string {
  const { x } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new TypeError('public key has no raw component');
  return Buffer.from(x, 'base64url').toString('base64');
}
