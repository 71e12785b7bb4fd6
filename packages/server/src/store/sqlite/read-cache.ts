import { LRUCache } from 'lru-cache';
import type { MachineKeyRecord, TokenRecord } from '../../domain/records.js';

const MAX_KEYS = 10_000;
const MAX_TOKENS = 50_000;

/**
 * What the verify hot path reads, kept in memory: machine keys and tokens by their lookup
 * hash. Safe only because the SQLite store holds its file with an exclusive lock, so every
 * write passes through the store that owns this cache and invalidates it in the same call.
 * Only found rows are cached (a stream of made-up values cannot fill it), entries are
 * frozen (callers get copies when they change something), and both maps are bounded.
 */
export class SqliteReadCache {
  readonly #keys = new LRUCache<string, Readonly<MachineKeyRecord>>({ max: MAX_KEYS });
  readonly #tokenHashById = new Map<string, string>();
  readonly #tokens = new LRUCache<string, Readonly<TokenRecord>>({
    max: MAX_TOKENS,
    dispose: (token) => this.#tokenHashById.delete(token.id),
  });

  key(hash: string, load: () => MachineKeyRecord | null): MachineKeyRecord | null {
    const cached = this.#keys.get(hash);
    if (cached) return cached;
    const loaded = load();
    if (loaded) this.#keys.set(hash, Object.freeze(loaded));
    return loaded;
  }

  token(hash: string, load: () => TokenRecord | null): TokenRecord | null {
    const cached = this.#tokens.get(hash);
    if (cached) return cached;
    const loaded = load();
    if (loaded) {
      Object.freeze(loaded.scopes);
      this.#tokens.set(hash, Object.freeze(loaded));
      this.#tokenHashById.set(loaded.id, hash);
    }
    return loaded;
  }

  /** A token changed (revoked): the next read goes to the database. */
  forgetToken(id: string): void {
    const hash = this.#tokenHashById.get(id);
    if (hash !== undefined) this.#tokens.delete(hash);
  }

  /** Usage times written: keep cached copies in step rather than dropping hot entries. */
  touchToken(id: string, at: number): void {
    const hash = this.#tokenHashById.get(id);
    const cached = hash === undefined ? undefined : this.#tokens.peek(hash);
    if (!hash || !cached) return;
    const lastUsedAt = Math.max(cached.lastUsedAt ?? 0, at);
    this.#tokens.set(hash, Object.freeze({ ...cached, lastUsedAt, updatedAt: Math.max(cached.updatedAt, at) }));
  }

  /** Key rotation changes expiries; machine deletion removes keys and tokens. Both are rare. */
  forgetKeys(): void {
    this.#keys.clear();
  }

  forgetAll(): void {
    this.#keys.clear();
    this.#tokens.clear();
    this.#tokenHashById.clear();
  }
}
