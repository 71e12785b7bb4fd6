import { randomBytesPooled } from './random.js';
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_VERSION = 'v1';

/**
 * Keys derived from the master key. The master key itself never reaches the database:
 * a lookup key (HMAC-SHA-256, to find a secret by a keyed hash) and an encryption key
 * (AES-256-GCM, for secrets the API must return again) are derived from it with HKDF.
 */
export class Keyring {
  readonly #lookupKey: KeyObject;
  readonly #sealKey: KeyObject;

  constructor(masterKey: Uint8Array) {
    if (masterKey.length !== 32) throw new Error('The master key must be 32 bytes');
    // A KeyObject, imported once: createHmac with raw bytes re-imports the key on every call.
    this.#lookupKey = createSecretKey(Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'tessera/lookup/v1', 32)));
    this.#sealKey = createSecretKey(Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'tessera/seal/v1', 32)));
  }

  /** Keyed hash under which a secret is stored and found; base64url, 43 chars. */
  lookupHash(secret: string): string {
    return createHmac('sha256', this.#lookupKey).update(secret).digest('base64url');
  }

  /**
   * AES-256-GCM with a random nonce. `context` is bound as associated data, so a sealed
   * value copied to another row or purpose fails to open.
   */
  seal(plaintext: string, context: string): string {
    const nonce = randomBytesPooled(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#sealKey, nonce);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([nonce, body, cipher.getAuthTag()]);
    return `${SEALED_VERSION}.${sealed.toString('base64url')}`;
  }

  open(sealed: string, context: string): string {
    const [version, encoded] = sealed.split('.');
    if (version !== SEALED_VERSION || encoded === undefined) throw new Error('Unknown sealed value format');
    const raw = Buffer.from(encoded, 'base64url');
    const nonce = raw.subarray(0, NONCE_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.#sealKey, nonce);
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }
}

/** Constant-time equality of two strings (lengths may differ without leaking contents). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    timingSafeEqual(left, left); // same work either way
    return false;
  }
  return timingSafeEqual(left, right);
}

/** Parses a master key given as 64 hex characters or 32 bytes of base64/base64url. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/=$/, ''), 'base64url');
    if (bytes.length === 32) return bytes;
  }
  throw new Error('The master key must be 32 bytes, written as 64 hex characters or base64');
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64url');
}
