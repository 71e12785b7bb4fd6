import { importJWK, type JWK } from 'jose';
import { verificationFailed } from '../errors/machine-token-verification-error.js';
import type { AllowedAlgorithm } from './algorithms.js';
import { RemoteValue, type RemoteValueOptions } from './remote-value.js';

export interface JwksCacheOptions extends RemoteValueOptions {
  /** How long a fetched key set is used before it is fetched again. */
  ttlInMs: number;
  /** An unknown `kid` triggers a refetch only if the set is at least this old: a stream of forged kids cannot become a stream of fetches. */
  refetchCooldownInMs: number;
}

/** Checks the body of `GET /v1/jwks` and returns its keys. */
export function parseJwks(body: unknown): JWK[] {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw verificationFailed('The JWKS answer from the server has no `keys` array.');
  if (keys.length === 0) throw verificationFailed('The JWKS from the server contains no keys.');
  return keys.filter((k): k is JWK => typeof k === 'object' && k !== null);
}

/** The server's public signing keys, fetched lazily and cached; CryptoKeys imported once. */
export class JwksCache {
  readonly #remote: RemoteValue<JWK[]>;
  readonly #imported = new WeakMap<JWK, Map<AllowedAlgorithm, Promise<CryptoKey>>>();

  constructor(
    load: () => Promise<JWK[]>,
    private readonly options: JwksCacheOptions,
  ) {
    this.#remote = new RemoteValue(load, options);
  }

  async getKey(kid: string, alg: AllowedAlgorithm): Promise<CryptoKey> {
    let keys = (await this.#remote.get(this.options.ttlInMs)).value;
    let jwk = keys.find((k) => k.kid === kid);
    if (!jwk && this.#remote.age() >= this.options.refetchCooldownInMs) {
      // Possibly a key rotated in since the last fetch.
      keys = (await this.#remote.refresh()).value;
      jwk = keys.find((k) => k.kid === kid);
    }
    if (!jwk) throw verificationFailed(`No signing key with kid "${kid}" in the server's JWKS.`);
    if (jwk.kty !== 'RSA' || (jwk.use !== undefined && jwk.use !== 'sig') || (jwk.alg !== undefined && jwk.alg !== alg)) {
      throw verificationFailed(`The JWKS key "${kid}" cannot verify ${alg} signatures.`);
    }
    return this.#import(jwk, alg);
  }

  #import(jwk: JWK, alg: AllowedAlgorithm): Promise<CryptoKey> {
    let byAlg = this.#imported.get(jwk);
    if (!byAlg) this.#imported.set(jwk, (byAlg = new Map()));
    let key = byAlg.get(alg);
    if (!key) {
      key = importJWK(jwk, alg) as Promise<CryptoKey>;
      byAlg.set(alg, key);
    }
    return key;
  }
}
