import { importJWK, type JWK } from 'jose';
import { verificationFailed } from '../errors/machine-token-verification-error.js';
import type { AllowedAlgorithm } from './algorithms.js';
import { RemoteValue, type Loaded, type RemoteValueOptions } from './remote-value.js';

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

/**
 * One key of the JWKS, with its CryptoKeys imported once per algorithm. The same object
 * stands for the key across refetches as long as the server serves it unchanged, so
 * verifications made with it stay valid; a key withdrawn or changed is a new object.
 */
export class JwksKey {
  readonly #imported = new Map<AllowedAlgorithm, CryptoKey | Promise<CryptoKey>>();

  constructor(
    readonly jwk: JWK,
    /** The JWK as served, to recognise it in the next fetch. */
    readonly fingerprint: string,
  ) {}

  /** The CryptoKey for `alg`: the key itself once imported, a promise the first time. */
  cryptoKey(alg: AllowedAlgorithm): CryptoKey | Promise<CryptoKey> {
    let key = this.#imported.get(alg);
    if (key === undefined) {
      const { jwk } = this;
      if (jwk.kty !== 'RSA' || (jwk.use !== undefined && jwk.use !== 'sig') || (jwk.alg !== undefined && jwk.alg !== alg)) {
        throw verificationFailed(`The JWKS key "${jwk.kid}" cannot verify ${alg} signatures.`);
      }
      key = (importJWK(jwk, alg) as Promise<CryptoKey>).then((imported) => {
        this.#imported.set(alg, imported);
        return imported;
      });
      this.#imported.set(alg, key);
    }
    return key;
  }
}

/** The server's public signing keys, fetched lazily and cached; CryptoKeys imported once. */
export class JwksCache {
  readonly #remote: RemoteValue<JWK[]>;
  /** The keys of `#indexed` by kid. */
  #byKid = new Map<unknown, JwksKey>();
  #indexed: Loaded<JWK[]> | undefined;

  constructor(
    load: () => Promise<JWK[]>,
    private readonly options: JwksCacheOptions,
  ) {
    this.#remote = new RemoteValue(load, options);
  }

  /** The key named `kid` if the cached set is younger than the TTL (at `now`) and has it; never waits or fetches. */
  peek(kid: unknown, now: number): JwksKey | undefined {
    const loaded = this.#remote.current;
    if (loaded === undefined || this.#remote.age(now) >= this.options.ttlInMs) return undefined;
    return this.#index(loaded).get(kid);
  }

  async getKey(kid: unknown): Promise<JwksKey> {
    let key = this.#index(await this.#remote.get(this.options.ttlInMs)).get(kid);
    if (!key && this.#remote.age() >= this.options.refetchCooldownInMs) {
      // Possibly a key rotated in since the last fetch.
      key = this.#index(await this.#remote.refresh()).get(kid);
    }
    if (!key) throw verificationFailed(`No signing key with kid "${String(kid)}" in the server's JWKS.`);
    return key;
  }

  /** Keys by kid for a fetched set (the first of a duplicated kid wins); unchanged keys keep their object. */
  #index(loaded: Loaded<JWK[]>): Map<unknown, JwksKey> {
    if (loaded !== this.#indexed) {
      const byKid = new Map<unknown, JwksKey>();
      for (const jwk of loaded.value) {
        if (byKid.has(jwk.kid)) continue;
        const fingerprint = JSON.stringify(jwk);
        const known = this.#byKid.get(jwk.kid);
        byKid.set(jwk.kid, known?.fingerprint === fingerprint ? known : new JwksKey(jwk, fingerprint));
      }
      this.#byKid = byKid;
      this.#indexed = loaded;
    }
    return this.#byKid;
  }
}
