import type { M2MToken } from '../api/resources/m2m-token.js';

/**
 * One JWT whose header, signature and claims were verified: what every later use of the
 * same token still has to check (time, audience, revocation, key) without decoding it.
 */
export class VerifiedJwt {
  /** Set when the entry is used; cleared when eviction passes over it (second chance). */
  used = false;
  /** Its place in the cache's clock. */
  slot = -1;

  constructor(
    /** The exact token string. */
    readonly token: string,
    /** The verified result (frozen: it is shared by every use of the token). */
    readonly result: M2MToken,
    readonly jti: string,
    /** Time claims in seconds, as in the payload. */
    readonly exp: number,
    readonly nbf: number | undefined,
    readonly iat: number | undefined,
    /** `aud` as in the payload: a string, an array, or absent. */
    readonly aud: unknown,
    /** The key object (a JWKS key or a PEM key) the signature was checked with. */
    readonly key: object,
    /** The header's `kid`, to find that key again in the JWKS. */
    readonly kid: unknown,
  ) {}
}

/** Characters of the token the map is keyed by: the end of the signature, random for a real JWT. */
const KEY_LENGTH = 32;
const keyOf = (token: string) => (token.length > KEY_LENGTH ? token.slice(-KEY_LENGTH) : token);

/**
 * Successful JWT verifications by token, at most `maxEntries` of them. Only successes go
 * in, so a stream of bad tokens evicts nothing. Lookups hash the last 32 characters of the
 * token (a signature tail) rather than the whole string, then compare the whole string:
 * an entry is only ever returned for exactly its token. Eviction is second-chance (CLOCK)
 * over a fixed ring: the hand skips, and clears, entries used since it last passed.
 */
export class VerifiedJwtCache {
  readonly #byKey = new Map<string, VerifiedJwt>();
  readonly #ring: Array<VerifiedJwt | undefined> = [];
  #hand = 0;

  constructor(readonly maxEntries: number) {}

  get size(): number {
    return this.#byKey.size;
  }

  get(token: string): VerifiedJwt | undefined {
    const entry = this.#byKey.get(keyOf(token));
    if (entry === undefined || entry.token !== token) return undefined;
    entry.used = true;
    return entry;
  }

  set(entry: VerifiedJwt): void {
    if (this.maxEntries <= 0) return;
    const key = keyOf(entry.token);
    const held = this.#byKey.get(key);
    if (held !== undefined) {
      // The same token verified again (or another with the same tail): take its place.
      entry.slot = held.slot;
    } else if (this.#ring.length < this.maxEntries) {
      entry.slot = this.#ring.length;
      this.#ring.push(undefined);
    } else {
      entry.slot = this.#evict();
    }
    this.#ring[entry.slot] = entry;
    this.#byKey.set(key, entry);
  }

  /** Drops `entry` if it is still the one held for its token. */
  delete(entry: VerifiedJwt): void {
    const key = keyOf(entry.token);
    if (this.#byKey.get(key) !== entry) return;
    this.#byKey.delete(key);
    this.#ring[entry.slot] = undefined;
  }

  /** Frees the first slot from the hand whose entry is unused (clearing `used` on the way); returns it. */
  #evict(): number {
    for (;;) {
      const slot = this.#hand;
      this.#hand = (slot + 1) % this.#ring.length;
      const entry = this.#ring[slot];
      if (entry === undefined) return slot;
      if (entry.used) {
        entry.used = false;
        continue;
      }
      const key = keyOf(entry.token);
      if (this.#byKey.get(key) === entry) this.#byKey.delete(key);
      return slot;
    }
  }
}
