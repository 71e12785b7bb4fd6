import { importSPKI } from 'jose';
import type { AllowedAlgorithm } from './algorithms.js';

/**
 * Puts a `jwtKey` / CLERK_JWT_KEY value into PEM form: environment files often carry it on
 * one line with literal `\n`, or as the bare base64 body without armour.
 */
export function normalizePem(jwtKey: string): string {
  const text = jwtKey.replace(/\\n/g, '\n').trim();
  if (text.includes('-----BEGIN')) return text;
  const body = text.replace(/\s+/g, '');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----`;
}

/** Imports a PEM public key once per algorithm (WebCrypto binds a key to one). */
export class PemKey {
  readonly #pem: string;
  readonly #imported = new Map<AllowedAlgorithm, CryptoKey | Promise<CryptoKey>>();

  constructor(jwtKey: string) {
    this.#pem = normalizePem(jwtKey);
  }

  /** The CryptoKey for `alg`: the key itself once imported, a promise the first time. */
  cryptoKey(alg: AllowedAlgorithm): CryptoKey | Promise<CryptoKey> {
    let key = this.#imported.get(alg);
    if (key === undefined) {
      // A malformed PEM fails the same way every time, so a cached rejection is as good as a new parse.
      key = importSPKI(this.#pem, alg).then((imported) => {
        this.#imported.set(alg, imported);
        return imported;
      });
      this.#imported.set(alg, key);
    }
    return key;
  }
}
