import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createRequire } from 'node:module';

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

/** The part of sodium-native (libsodium) used here. */
interface Sodium {
  crypto_sign_seed_keypair(publicKey: Buffer, secretKey: Buffer, seed: Buffer): void;
  crypto_sign_detached(signature: Buffer, message: Buffer, secretKey: Buffer): void;
}

/**
 * libsodium signs in about 18 µs where Node's one-shot `crypto.sign` (OpenSSL 3) takes about 32
 * (1.4 KB bodies), and every webhook attempt is signed. It is an optional dependency: where its
 * prebuilt binary cannot be installed, Node's crypto signs, with the same signatures (Ed25519 is
 * deterministic).
 */
const sodium: Sodium | null = (() => {
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium;
  } catch {
    return null;
  }
})();

export type SigningEngine = 'sodium' | 'node';

/** Which implementation `createSigner` uses by default. */
export const defaultSigningEngine: SigningEngine = sodium ? 'sodium' : 'node';

/** Signs `${timestamp}|${rawBody}` with Ed25519, exactly as Telnyx does. `timestamp` is unix seconds. */
export function createSigner(privateKeyPem: string, engine: SigningEngine = defaultSigningEngine): Signer {
  const key = loadEd25519PrivateKey(privateKeyPem);
  const signBytes =
    engine === 'sodium' && sodium ? sodiumSigner(sodium, key) : (m: Buffer) => sign(null, m, key);
  return (rawBody, timestamp) => {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new RangeError(`timestamp must be a non-negative integer of unix seconds, got ${timestamp}`);
    }
    const signature = signBytes(Buffer.from(`${timestamp}|${rawBody}`, 'utf8'));
    return {
      'telnyx-signature-ed25519': signature.toString('base64'),
      'telnyx-timestamp': String(timestamp),
    };
  };
}

function sodiumSigner(lib: Sodium, key: KeyObject): (message: Buffer) => Buffer {
  const { d } = key.export({ format: 'jwk' });
  if (typeof d !== 'string') throw new TypeError('private key has no raw component');
  const secretKey = Buffer.alloc(64);
  lib.crypto_sign_seed_keypair(Buffer.alloc(32), secretKey, Buffer.from(d, 'base64url'));
  return (message) => {
    const signature = Buffer.allocUnsafe(64);
    lib.crypto_sign_detached(signature, message, secretKey);
    return signature;
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
