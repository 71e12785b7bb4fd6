import type { KeyObject } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.js';
import { generateSigningKey, privateKeyFromPem, publicKeyFromJwk, type PublicJwk } from '../crypto/signing.js';
import type { Store } from '../store/store.js';
import type { SigningKeyRecord } from './records.js';

/** How long a retired key stays published after the last token it signed expired (clock skew). */
const PUBLISH_MARGIN_MS = 5 * 60 * 1000;
/** Retired keys are deleted a day after their last token expired. */
const PRUNE_AFTER_MS = 24 * 60 * 60 * 1000;
/** Another process may rotate; re-read the key list at most this often. */
const REFRESH_EVERY_MS = 1000;

const sealContext = (kid: string) => `signing_key:${kid}`;
const KID_SHAPE = /^key_[0-9A-Za-z]{24}$/;

interface KnownKey {
  record: SigningKeyRecord;
  jwk: PublicJwk;
  publicKey: KeyObject;
}

/**
 * The instance's JWT signing keys: one current key signs, retired keys stay published in
 * the JWKS until every token they signed has expired, so rotation never breaks a token.
 */
export class SigningKeys {
  #known = new Map<string, KnownKey>();
  #current: { kid: string; privateKey: KeyObject } | null = null;
  #loadedAt = 0;
  #loading: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly keyring: Keyring,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates the first key if the instance has none (safe when several processes start at once). */
  async init(): Promise<void> {
    const existing = await this.store.listSigningKeys();
    if (!existing.some((k) => k.retiredAt === null)) await this.store.ensureSigningKey(await this.#newRecord());
    await this.#reload();
  }

  async #newRecord(): Promise<SigningKeyRecord> {
    const generated = await generateSigningKey();
    return {
      kid: generated.kid,
      publicJwk: JSON.stringify(generated.publicJwk),
      privateSealed: this.keyring.seal(generated.privatePkcs8, sealContext(generated.kid)),
      createdAt: this.now(),
      retiredAt: null,
      maxTokenExpiration: null,
    };
  }

  /** Makes a new current key; the previous one stays published until its tokens expire. */
  async rotate(): Promise<SigningKeyRecord> {
    const next = await this.#newRecord();
    await this.store.rotateSigningKey(next);
    await this.store.pruneSigningKeys(this.now() - PRUNE_AFTER_MS);
    await this.#reload();
    return next;
  }

  async current(): Promise<{ kid: string; privateKey: KeyObject }> {
    await this.#refreshIfStale();
    if (!this.#current) throw new Error('No current signing key');
    return this.#current;
  }

  /**
   * The public key for `kid`. An unknown but well-formed kid re-reads the store at once
   * (another process may have just rotated): one indexed read, like an opaque verify.
   */
  async publicKey(kid: string): Promise<KeyObject | null> {
    const known = this.#known.get(kid);
    if (known) return known.publicKey;
    if (!KID_SHAPE.test(kid)) return null;
    await this.#reload(true);
    return this.#known.get(kid)?.publicKey ?? null;
  }

  /** Keys to publish: the current one and retired ones whose tokens may still be live. */
  async jwks(): Promise<{ keys: PublicJwk[] }> {
    await this.#refreshIfStale();
    const now = this.now();
    const keys = [...this.#known.values()]
      .filter(({ record }) => {
        if (record.retiredAt === null) return true;
        return (record.maxTokenExpiration ?? record.retiredAt) + PUBLISH_MARGIN_MS > now;
      })
      .map((k) => k.jwk);
    return { keys };
  }

  async #refreshIfStale(): Promise<void> {
    if (this.now() - this.#loadedAt >= REFRESH_EVERY_MS) await this.#reload();
  }

  /** Re-reads the key list; `fresh` waits out a read already running and starts a new one. */
  async #reload(fresh = false): Promise<void> {
    if (fresh && this.#loading) await this.#loading.catch(() => {});
    this.#loading ??= (async () => {
      try {
        const records = await this.store.listSigningKeys();
        const known = new Map<string, KnownKey>();
        for (const record of records) {
          // A key seen before keeps its imported public key; only its record (retirement,
          // last token expiry) is refreshed.
          const seen = this.#known.get(record.kid);
          if (seen) {
            known.set(record.kid, { ...seen, record });
          } else {
            const jwk = JSON.parse(record.publicJwk) as PublicJwk;
            known.set(record.kid, { record, jwk, publicKey: publicKeyFromJwk(jwk) });
          }
        }
        const currentRecord = records.find((r) => r.retiredAt === null) ?? null;
        if (currentRecord && currentRecord.kid !== this.#current?.kid) {
          const pem = this.keyring.open(currentRecord.privateSealed, sealContext(currentRecord.kid));
          this.#current = { kid: currentRecord.kid, privateKey: privateKeyFromPem(pem) };
        }
        this.#known = known;
        this.#loadedAt = this.now();
      } finally {
        this.#loading = null;
      }
    })();
    return this.#loading;
  }
}
