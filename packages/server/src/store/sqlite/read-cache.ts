import { LRUCache } from 'lru-cache';
import type { MachineKeyRecord, MachineRecord, TokenRecord } from '../../domain/records.js';

const MAX_KEYS = 10_000;
const MAX_TOKENS = 50_000;
const MAX_MACHINES = 10_000;

/**
 * What the hot paths read, kept in memory: machine keys by their lookup hash, tokens by
 * ID, machines and the machines each may call. Safe only because the SQLite store holds its file with an exclusive lock,
 * so every write passes through the store that owns this cache and updates it in the same
 * call. Only found rows are cached (made-up values cannot fill it), entries are frozen
 * (callers copy what they change), and both maps are bounded.
 */
export class SqliteReadCache {
  readonly #keys = new LRUCache<string, Readonly<MachineKeyRecord>>({ max: MAX_KEYS });
  readonly #tokens = new LRUCache<string, Readonly<TokenRecord>>({ max: MAX_TOKENS });
  readonly #machines = new LRUCache<string, Readonly<MachineRecord>>({ max: MAX_MACHINES });
  readonly #scoped = new LRUCache<string, readonly MachineRecord[]>({ max: MAX_MACHINES });

  machine(id: string, load: () => MachineRecord | null): MachineRecord | null {
    const cached = this.#machines.get(id);
    if (cached) return cached;
    const loaded = load();
    if (loaded) this.#machines.set(id, Object.freeze(loaded));
    return loaded;
  }

  /** The machines `id` may call; the array is shared, so callers must copy before changing it. */
  scopedMachines(id: string, load: () => MachineRecord[]): readonly MachineRecord[] {
    const cached = this.#scoped.get(id);
    if (cached) return cached;
    const loaded = Object.freeze(load().map((m) => Object.freeze(m)));
    this.#scoped.set(id, loaded);
    return loaded;
  }

  /** Any change to a machine or a scope (all rare): machines and scopes are read afresh. */
  forgetMachines(): void {
    this.#machines.clear();
    this.#scoped.clear();
  }

  key(hash: string, load: () => MachineKeyRecord | null): MachineKeyRecord | null {
    const cached = this.#keys.get(hash);
    if (cached) return cached;
    const loaded = load();
    if (loaded) this.#keys.set(hash, Object.freeze(loaded));
    return loaded;
  }

  token(id: string, load: () => TokenRecord | null): TokenRecord | null {
    const cached = this.#tokens.get(id);
    if (cached) return cached;
    const loaded = load();
    if (loaded) {
      Object.freeze(loaded.scopes);
      this.#tokens.set(id, Object.freeze(loaded));
    }
    return loaded;
  }

  /** A token changed (revoked): the next read goes to the database. */
  forgetToken(id: string): void {
    this.#tokens.delete(id);
  }

  /** Usage times written: keep cached copies in step rather than dropping hot entries. */
  touchToken(id: string, at: number): void {
    const cached = this.#tokens.peek(id);
    if (!cached) return;
    const lastUsedAt = Math.max(cached.lastUsedAt ?? 0, at);
    this.#tokens.set(id, Object.freeze({ ...cached, lastUsedAt, updatedAt: Math.max(cached.updatedAt, at) }));
  }

  /** Key rotation changes expiries: the next read of any key goes to the database. */
  forgetKeys(): void {
    this.#keys.clear();
  }

  /** Machine deletion removes keys and tokens (rare): start over. */
  forgetAll(): void {
    this.forgetMachines();
    this.#keys.clear();
    this.#tokens.clear();
  }
}
