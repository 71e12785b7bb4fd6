import type { MachineKeyRecord, MachineRecord, ScopeRecord, SigningKeyRecord, TokenRecord } from '../domain/records.js';

export type MachineOrderField = 'name' | 'created_at';

export interface MachineListQuery {
  limit: number;
  offset: number;
  /** Exact match on the machine ID, or a case-insensitive substring of the name. */
  query?: string | undefined;
  orderBy: MachineOrderField;
  descending: boolean;
}

export interface TokenListQuery {
  machineId: string;
  includeRevoked: boolean;
  includeExpired: boolean;
  now: number;
  limit: number;
  offset: number;
}

export interface Page<T> {
  rows: T[];
  total: number;
}

export type AddScopeResult = 'created' | 'duplicate' | 'limit' | 'missing_from' | 'missing_to';

/**
 * The store cannot reach its database (connection refused or lost, server restarting,
 * timeout). Transient: the HTTP layer answers 503 and the caller retries. The message is
 * generic and safe to show; `reason` is a short code (an errno or SQLSTATE), never a secret.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('The database is unavailable', options);
  }
}

/**
 * Persistence for Tessera. Implementations store and fetch; they never decide who may do
 * what (that is the domain's job). Every method that changes several rows does so in one
 * transaction; a method that reports failure has changed nothing.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** A cheap round trip to the database; throws StoreUnavailableError when it is unreachable. */
  ping(): Promise<void>;

  /** Returns the stored value for `key`, storing `init()` first if there is none. */
  getOrInitMeta(key: string, init: () => string): Promise<string>;

  /** Inserts a machine, its first secret key and its outgoing scopes. */
  createMachine(
    machine: MachineRecord,
    key: MachineKeyRecord,
    scopes: readonly ScopeRecord[],
  ): Promise<'created' | 'scope_target_missing'>;
  getMachine(id: string): Promise<MachineRecord | null>;
  listMachines(query: MachineListQuery): Promise<Page<MachineRecord>>;
  updateMachine(
    id: string,
    patch: { name?: string | undefined; defaultTokenTtl?: number | undefined },
    updatedAt: number,
  ): Promise<MachineRecord | null>;
  /** Deletes the machine with its keys, its tokens and its scopes in both directions. */
  deleteMachine(id: string): Promise<boolean>;

  /** For each ID, the machines it may call (ordered by ID). IDs with none map to []. */
  scopedMachinesOf(ids: readonly string[]): Promise<Map<string, MachineRecord[]>>;
  /** Adds a scope unless it exists or `from` already has `maxPerMachine` scopes. */
  addScope(scope: ScopeRecord, maxPerMachine: number): Promise<AddScopeResult>;
  removeScope(fromMachineId: string, toMachineId: string): Promise<boolean>;

  findMachineKeyByHash(secretHash: string): Promise<MachineKeyRecord | null>;
  currentMachineKey(machineId: string): Promise<MachineKeyRecord | null>;
  /**
   * Makes `next` the current key. The previous current key, and any older key still in
   * its grace period, expire at `previousExpiresAt` at the latest.
   */
  rotateMachineKey(machineId: string, next: MachineKeyRecord, previousExpiresAt: number): Promise<boolean>;

  /**
   * Inserts a token. For a JWT (`signingKid` set) it also raises that signing key's
   * `maxTokenExpiration`, in the same transaction.
   */
  insertToken(token: TokenRecord): Promise<void>;
  /** Inserts many tokens as `insertToken` does, all in one transaction: all or none. */
  insertTokens(tokens: readonly TokenRecord[]): Promise<void>;
  getToken(id: string): Promise<TokenRecord | null>;
  /**
   * The live opaque token of `machineId` with exactly these scopes and claims that expires
   * at or after `minExpiration`, latest expiry first; null if none.
   */
  findReusableToken(query: {
    machineId: string;
    scopes: readonly string[];
    claimsJson: string | null;
    minExpiration: number;
  }): Promise<TokenRecord | null>;
  /** Marks the token revoked (a no-op if it already is) and returns it; null if unknown. */
  revokeToken(id: string, reason: string | null, at: number): Promise<TokenRecord | null>;
  /** Opaque tokens of one machine, newest first (JWT-format records are never listed). */
  listTokens(query: TokenListQuery): Promise<Page<TokenRecord>>;
  /** Records `last_used_at` for a batch of tokens in one write. */
  recordTokenUse(uses: ReadonlyArray<{ id: string; at: number }>): Promise<void>;

  /** Revoked JWT-format tokens that expire after `now`, ordered by ID. */
  revokedJwts(now: number): Promise<Array<{ id: string; scopes: string[] }>>;

  /** All signing keys, newest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Inserts `candidate` as the current key unless a current key exists; returns the current key. */
  ensureSigningKey(candidate: SigningKeyRecord): Promise<SigningKeyRecord>;
  /** Retires the current key at `next.createdAt` and makes `next` current. */
  rotateSigningKey(next: SigningKeyRecord): Promise<void>;
  /** Deletes retired keys whose last token expired before `before`. */
  pruneSigningKeys(before: number): Promise<number>;

  close(): Promise<void>;
}
