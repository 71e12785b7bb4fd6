import Database from 'better-sqlite3';
import type { MachineKeyRecord, MachineRecord, ScopeRecord, SigningKeyRecord, TokenRecord } from '../../domain/records.js';
import type { AddScopeResult, MachineListQuery, Page, Store, TokenListQuery } from '../store.js';
import { likePattern, toKey, toMachine, toSigningKey, toToken, type KeyRow, type MachineRow, type SigningKeyRow, type TokenRow } from '../rows.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteReadCache } from './read-cache.js';

export interface SqliteStoreOptions {
  /** `NORMAL` survives a killed process (WAL); `FULL` also survives power loss. */
  synchronous?: 'NORMAL' | 'FULL';
}



const isForeignKeyViolation = (error: unknown) =>
  error instanceof Error && (error as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY';


/** Another process holds the SQLite file (the store takes an exclusive lock). */
export class DatabaseInUseError extends Error {
  override name = 'DatabaseInUseError';
  constructor(readonly file: string) {
    super(`The database ${file} is in use by another process (a running tessera server?).`);
  }
}

/** The embedded store: one SQLite file in WAL mode, every statement prepared once. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #stmt: ReturnType<typeof prepareStatements>;
  readonly #cache = new SqliteReadCache();
  readonly #insertTokenTx: (t: TokenRecord) => void;
  readonly #insertTokensTx: (tokens: readonly TokenRecord[]) => void;
  readonly #scopedStatements = new Map<number, Database.Statement>();
  #pendingInserts: Array<{ token: TokenRecord; resolve: () => void; reject: (error: unknown) => void }> = [];
  readonly #listMachineStatements = new Map<string, { rows: Database.Statement; count: Database.Statement }>();

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.#db = new Database(file);
    try {
      this.#lock(options);
    } catch (error) {
      this.#db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new DatabaseInUseError(file);
      throw error;
    }
    migrate(this.#db);
    this.#stmt = prepareStatements(this.#db);
    this.#insertTokenTx = this.#db.transaction((t: TokenRecord) => {
      this.#insertTokenRow(t);
      if (t.signingKid !== null) this.#stmt.raiseKeyExpiration.run(t.expiration, t.signingKid);
    });
    // Nested better-sqlite3 transactions become savepoints: one commit for the whole batch.
    this.#insertTokensTx = this.#db.transaction((tokens: readonly TokenRecord[]) => {
      for (const t of tokens) this.#insertTokenTx(t);
    });
  }

  #lock(options: SqliteStoreOptions): void {
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    this.#db.pragma('foreign_keys = ON');
    // 32 MiB of page cache (default 2 MiB) keeps the upper index levels of a large store hot.
    this.#db.pragma('cache_size = -32768');
    this.#db.pragma('busy_timeout = 1000');
    // One process owns the file: no per-read file locks (three syscalls a query), and the
    // read cache below can never miss another process's write. A second server on the same
    // data dir is refused at start instead of silently sharing it.
    this.#db.pragma('locking_mode = EXCLUSIVE');
    this.#db.exec('BEGIN EXCLUSIVE; COMMIT'); // take the lock now; it is held until close
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async getOrInitMeta(key: string, init: () => string): Promise<string> {
    const existing = this.#stmt.getMeta.get(key);
    if (existing) return existing.value;
    this.#stmt.insertMeta.run(key, init());
    return this.#stmt.getMeta.get(key)!.value;
  }

  async createMachine(
    machine: MachineRecord,
    key: MachineKeyRecord,
    scopes: readonly ScopeRecord[],
  ): Promise<'created' | 'scope_target_missing'> {
    const insertAll = this.#db.transaction(() => {
      this.#stmt.insertMachine.run(machine.id, machine.name, machine.defaultTokenTtl, machine.createdAt, machine.updatedAt);
      this.#insertKey(key);
      for (const s of scopes) this.#stmt.insertScope.run(s.fromMachineId, s.toMachineId, s.createdAt);
    });
    try {
      insertAll();
      this.#cache.forgetMachines();
      return 'created';
    } catch (error) {
      if (isForeignKeyViolation(error)) return 'scope_target_missing';
      throw error;
    }
  }

  async getMachine(id: string): Promise<MachineRecord | null> {
    return this.#cache.machine(id, () => {
      const row = this.#stmt.getMachine.get(id);
      return row ? toMachine(row) : null;
    });
  }

  async listMachines(q: MachineListQuery): Promise<Page<MachineRecord>> {
    const { rows, count } = this.#listMachineStatementsFor(q);
    const filter = q.query === undefined ? [] : [q.query, likePattern(q.query)];
    const total = (count.get(...filter) as { n: number }).n;
    const page = rows.all(...filter, q.limit, q.offset) as MachineRow[];
    return { rows: page.map(toMachine), total };
  }

  #listMachineStatementsFor(q: MachineListQuery) {
    const key = `${q.orderBy}:${q.descending}:${q.query !== undefined}`;
    let statements = this.#listMachineStatements.get(key);
    if (!statements) {
      const where = q.query === undefined ? '' : `WHERE id = ? OR name LIKE ? ESCAPE '\\'`;
      const direction = q.descending ? 'DESC' : 'ASC';
      const column = q.orderBy === 'name' ? 'name' : 'created_at'; // whitelisted, never user text
      statements = {
        rows: this.#db.prepare(
          `SELECT * FROM machines ${where} ORDER BY ${column} ${direction}, id ${direction} LIMIT ? OFFSET ?`,
        ),
        count: this.#db.prepare(`SELECT count(*) AS n FROM machines ${where}`),
      };
      this.#listMachineStatements.set(key, statements);
    }
    return statements;
  }

  async updateMachine(
    id: string,
    patch: { name?: string | undefined; defaultTokenTtl?: number | undefined },
    updatedAt: number,
  ): Promise<MachineRecord | null> {
    this.#stmt.updateMachine.run(patch.name ?? null, patch.defaultTokenTtl ?? null, updatedAt, id);
    this.#cache.forgetMachines();
    return this.getMachine(id);
  }

  async deleteMachine(id: string): Promise<boolean> {
    const deleted = this.#stmt.deleteMachine.run(id).changes > 0;
    if (deleted) this.#cache.forgetAll();
    return deleted;
  }

  async scopedMachinesOf(ids: readonly string[]): Promise<Map<string, MachineRecord[]>> {
    if (ids.length === 1) {
      // Token creation asks for one machine every time: served from the cache (copied).
      const id = ids[0]!;
      return new Map([[id, [...this.#cache.scopedMachines(id, () => this.#loadScopedMachines(ids).get(id) ?? [])]]]);
    }
    return this.#loadScopedMachines(ids);
  }

  #loadScopedMachines(ids: readonly string[]): Map<string, MachineRecord[]> {
    const result = new Map<string, MachineRecord[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return result;
    const rows = this.#scopedMachinesStatement(ids.length).all(...ids) as Array<MachineRow & { from_id: string }>;
    for (const row of rows) result.get(row.from_id)!.push(toMachine(row));
    return result;
  }

  /** One prepared statement per list length (token creation asks for one machine every time). */
  #scopedMachinesStatement(count: number): Database.Statement {
    let statement = this.#scopedStatements.get(count);
    if (!statement) {
      statement = this.#db.prepare(
        `SELECT s.from_machine_id AS from_id, m.* FROM machine_scopes s
         JOIN machines m ON m.id = s.to_machine_id
         WHERE s.from_machine_id IN (${Array.from({ length: count }, () => '?').join(', ')})
         ORDER BY m.id`,
      );
      if (this.#scopedStatements.size < 64) this.#scopedStatements.set(count, statement);
    }
    return statement;
  }

  async addScope(scope: ScopeRecord, maxPerMachine: number): Promise<AddScopeResult> {
    const add = this.#db.transaction((): AddScopeResult => {
      if (!this.#stmt.getMachine.get(scope.fromMachineId)) return 'missing_from';
      if (!this.#stmt.getMachine.get(scope.toMachineId)) return 'missing_to';
      if (this.#stmt.countScopes.get(scope.fromMachineId)!.n >= maxPerMachine) {
        return this.#scopeExists(scope) ? 'duplicate' : 'limit';
      }
      const inserted = this.#stmt.insertScope.run(scope.fromMachineId, scope.toMachineId, scope.createdAt);
      this.#cache.forgetMachines();
      return inserted.changes > 0 ? 'created' : 'duplicate';
    });
    return add.immediate();
  }

  #scopeExists(scope: ScopeRecord): boolean {
    return this.#db
      .prepare('SELECT 1 FROM machine_scopes WHERE from_machine_id = ? AND to_machine_id = ?')
      .get(scope.fromMachineId, scope.toMachineId) !== undefined;
  }

  async removeScope(fromMachineId: string, toMachineId: string): Promise<boolean> {
    const removed = this.#stmt.deleteScope.run(fromMachineId, toMachineId).changes > 0;
    this.#cache.forgetMachines();
    return removed;
  }

  async findMachineKeyByHash(secretHash: string): Promise<MachineKeyRecord | null> {
    return this.#cache.key(secretHash, () => {
      const row = this.#stmt.keyByHash.get(secretHash);
      return row ? toKey(row) : null;
    });
  }

  async currentMachineKey(machineId: string): Promise<MachineKeyRecord | null> {
    const row = this.#stmt.currentKey.get(machineId);
    return row ? toKey(row) : null;
  }

  async rotateMachineKey(machineId: string, next: MachineKeyRecord, previousExpiresAt: number): Promise<boolean> {
    const rotate = this.#db.transaction(() => {
      if (!this.#stmt.getMachine.get(machineId)) return false;
      this.#stmt.expireKeys.run(previousExpiresAt, machineId, previousExpiresAt);
      this.#insertKey(next);
      this.#cache.forgetKeys();
      return true;
    });
    return rotate.immediate();
  }

  #insertKey(key: MachineKeyRecord) {
    this.#stmt.insertKey.run(key.id, key.machineId, key.secretHash, key.secretSealed, key.createdAt, key.expiresAt);
  }

  /**
   * Group commit: inserts that arrive in the same turn of the event loop share one
   * transaction (the commit, not the row, is what costs). Each caller is answered only
   * after the commit that holds its row; if the shared commit fails, rows are retried one
   * by one so that every caller gets its own outcome.
   */
  insertToken(t: TokenRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pendingInserts.push({ token: t, resolve, reject });
      if (this.#pendingInserts.length === 1) setImmediate(() => this.#flushInserts());
    });
  }

  #flushInserts(): void {
    const batch = this.#pendingInserts;
    this.#pendingInserts = [];
    try {
      this.#insertTokensTx(batch.map((p) => p.token));
      for (const p of batch) p.resolve();
    } catch {
      for (const p of batch) {
        try {
          this.#insertTokenTx(p.token);
          p.resolve();
        } catch (error) {
          p.reject(error);
        }
      }
    }
  }

  async insertTokens(tokens: readonly TokenRecord[]): Promise<void> {
    this.#insertTokensTx(tokens);
  }


  #insertTokenRow(t: TokenRecord): void {
    this.#stmt.insertToken.run(
      t.id,
      t.machineId,
      t.format,
      t.secretHash,
      t.secretSealed,
      JSON.stringify(t.scopes),
      t.claimsJson,
      t.revoked ? 1 : 0,
      t.revocationReason,
      t.expiration,
      t.lastUsedAt,
      t.createdAt,
      t.updatedAt,
      t.signingKid,
    );
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    return this.#cache.token(id, () => {
      const row = this.#stmt.tokenById.get(id);
      return row ? toToken(row) : null;
    });
  }

  async findReusableToken(q: {
    machineId: string;
    scopes: readonly string[];
    claimsJson: string | null;
    minExpiration: number;
  }): Promise<TokenRecord | null> {
    const row = this.#stmt.reusableToken.get(q.machineId, JSON.stringify(q.scopes), q.claimsJson, q.minExpiration);
    return row ? toToken(row) : null;
  }

  async revokeToken(id: string, reason: string | null, at: number): Promise<TokenRecord | null> {
    this.#stmt.revokeToken.run(reason, at, id);
    this.#cache.forgetToken(id);
    return this.getToken(id);
  }

  async listTokens(q: TokenListQuery): Promise<Page<TokenRecord>> {
    const filter = [q.machineId, q.includeRevoked ? 1 : 0, q.includeExpired ? 1 : 0, q.now] as const;
    const total = this.#stmt.countTokens.get(...filter)!.n;
    const rows = this.#stmt.listTokens.all(...filter, q.limit, q.offset);
    return { rows: rows.map(toToken), total };
  }

  async recordTokenUse(uses: ReadonlyArray<{ id: string; at: number }>): Promise<void> {
    const touchAll = this.#db.transaction(() => {
      for (const use of uses) this.#stmt.touchToken.run(use.at, use.at, use.id);
    });
    touchAll();
    for (const use of uses) this.#cache.touchToken(use.id, use.at);
  }

  async revokedJwts(now: number): Promise<Array<{ id: string; scopes: string[] }>> {
    return this.#stmt.revokedJwts.all(now).map((r) => ({ id: r.id, scopes: JSON.parse(r.scopes) as string[] }));
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#stmt.listSigningKeys.all().map(toSigningKey);
  }

  async ensureSigningKey(candidate: SigningKeyRecord): Promise<SigningKeyRecord> {
    const ensure = this.#db.transaction(() => {
      const current = this.#stmt.currentSigningKey.get();
      if (current) return toSigningKey(current);
      this.#insertSigningKey(candidate);
      return candidate;
    });
    return ensure.immediate();
  }

  async rotateSigningKey(next: SigningKeyRecord): Promise<void> {
    this.#db
      .transaction(() => {
        this.#stmt.retireSigningKeys.run(next.createdAt);
        this.#insertSigningKey(next);
      })
      .immediate();
  }

  #insertSigningKey(k: SigningKeyRecord): void {
    this.#stmt.insertSigningKey.run(k.kid, k.publicJwk, k.privateSealed, k.createdAt, k.retiredAt, k.maxTokenExpiration);
  }

  async pruneSigningKeys(before: number): Promise<number> {
    return this.#stmt.pruneSigningKeys.run(before).changes;
  }

  async close(): Promise<void> {
    if (this.#pendingInserts.length > 0) this.#flushInserts();
    if (this.#db.open) this.#db.close();
  }
}

/** Every statement the store runs, prepared once. */
function prepareStatements(db: Database.Database) {
  return {
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    insertMeta: db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)'),
    insertMachine: db.prepare(
      'INSERT INTO machines (id, name, default_token_ttl, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ),
    getMachine: db.prepare<[string], MachineRow>('SELECT * FROM machines WHERE id = ?'),
    updateMachine: db.prepare(
      `UPDATE machines SET name = coalesce(?, name), default_token_ttl = coalesce(?, default_token_ttl),
       updated_at = ? WHERE id = ?`,
    ),
    deleteMachine: db.prepare('DELETE FROM machines WHERE id = ?'),
    insertKey: db.prepare(
      `INSERT INTO machine_keys (id, machine_id, secret_hash, secret_sealed, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    keyByHash: db.prepare<[string], KeyRow>('SELECT * FROM machine_keys WHERE secret_hash = ?'),
    currentKey: db.prepare<[string], KeyRow>(
      'SELECT * FROM machine_keys WHERE machine_id = ? AND expires_at IS NULL ORDER BY created_at DESC LIMIT 1',
    ),
    expireKeys: db.prepare(
      `UPDATE machine_keys SET expires_at = ?
       WHERE machine_id = ? AND (expires_at IS NULL OR expires_at > ?)`,
    ),
    insertScope: db.prepare(
      'INSERT OR IGNORE INTO machine_scopes (from_machine_id, to_machine_id, created_at) VALUES (?, ?, ?)',
    ),
    countScopes: db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM machine_scopes WHERE from_machine_id = ?',
    ),
    deleteScope: db.prepare('DELETE FROM machine_scopes WHERE from_machine_id = ? AND to_machine_id = ?'),
    insertToken: db.prepare(
      `INSERT INTO m2m_tokens (id, machine_id, format, secret_hash, secret_sealed, scopes, claims, revoked,
         revocation_reason, expiration, last_used_at, created_at, updated_at, signing_kid)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    raiseKeyExpiration: db.prepare(
      `UPDATE signing_keys SET max_token_expiration = max(coalesce(max_token_expiration, 0), ?) WHERE kid = ?`,
    ),
    revokedJwts: db.prepare<[number], { id: string; scopes: string }>(
      `SELECT id, scopes FROM m2m_tokens WHERE format = 'jwt' AND revoked = 1 AND expiration > ? ORDER BY id`,
    ),
    listSigningKeys: db.prepare<[], SigningKeyRow>('SELECT * FROM signing_keys ORDER BY created_at DESC, kid DESC'),
    currentSigningKey: db.prepare<[], SigningKeyRow>(
      'SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1',
    ),
    insertSigningKey: db.prepare(
      `INSERT INTO signing_keys (kid, public_jwk, private_sealed, created_at, retired_at, max_token_expiration)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    retireSigningKeys: db.prepare('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL'),
    pruneSigningKeys: db.prepare(
      `DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND coalesce(max_token_expiration, retired_at) < ?`,
    ),
    tokenById: db.prepare<[string], TokenRow>('SELECT * FROM m2m_tokens WHERE id = ?'),
    reusableToken: db.prepare<[string, string, string | null, number], TokenRow>(
      `SELECT * FROM m2m_tokens
       WHERE machine_id = ? AND format = 'opaque' AND revoked = 0 AND secret_sealed IS NOT NULL
         AND scopes = ? AND claims IS ? AND expiration >= ?
       ORDER BY expiration DESC LIMIT 1`,
    ),
    revokeToken: db.prepare(
      'UPDATE m2m_tokens SET revoked = 1, revocation_reason = ?, updated_at = ? WHERE id = ? AND revoked = 0',
    ),
    listTokens: db.prepare<[string, number, number, number, number, number], TokenRow>(
      `SELECT * FROM m2m_tokens
       WHERE machine_id = ? AND format = 'opaque' AND (? OR revoked = 0)
         AND (? OR expiration IS NULL OR expiration > ?)
       ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`,
    ),
    countTokens: db.prepare<[string, number, number, number], { n: number }>(
      `SELECT count(*) AS n FROM m2m_tokens
       WHERE machine_id = ? AND format = 'opaque' AND (? OR revoked = 0)
         AND (? OR expiration IS NULL OR expiration > ?)`,
    ),
    touchToken: db.prepare(
      `UPDATE m2m_tokens SET last_used_at = max(coalesce(last_used_at, 0), ?), updated_at = max(updated_at, ?)
       WHERE id = ?`,
    ),
  };
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version),
  );
  for (const migration of SQLITE_MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    }).immediate();
  }
}
