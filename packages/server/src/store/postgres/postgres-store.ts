import pg from 'pg';
import type { MachineKeyRecord, MachineRecord, ScopeRecord, SigningKeyRecord, TokenRecord } from '../../domain/records.js';
import { StoreUnavailableError, type AddScopeResult, type MachineListQuery, type Page, type Store, type TokenListQuery } from '../store.js';
import { likePattern, toKey, toMachine, toSigningKey, toToken, type KeyRow, type MachineRow, type SigningKeyRow, type TokenRow } from '../rows.js';
import { migrate } from './migrations.js';

export interface PostgresStoreOptions {
  /** Most connections this process opens (default 10). */
  poolSize?: number | undefined;
  /** How long to wait for a connection, new or from a busy pool, before failing (default 2000 ms). */
  connectTimeoutMs?: number | undefined;
  /** Server-side `statement_timeout` of every query, lock waits included (default 5000 ms). */
  statementTimeoutMs?: number | undefined;
  /**
   * Told when a pooled connection fails outside a request (the server restarted, the network
   * dropped): `reason` is an errno or SQLSTATE code. The pool replaces the connection.
   */
  onConnectionError?: ((reason: string) => void) | undefined;
}

const DEFAULTS = { poolSize: 10, connectTimeoutMs: 2000, statementTimeoutMs: 5000 };



// Explicit column lists (never `*`): a prepared statement keeps its result shape even if a
// newer process adds a column while this one runs.
const MACHINE_COLUMNS = 'id, name, default_token_ttl, created_at, updated_at';
const KEY_COLUMNS = 'id, machine_id, secret_hash, secret_sealed, created_at, expires_at';
const TOKEN_COLUMNS = `id, machine_id, format, secret_hash, secret_sealed, scopes, claims, revoked, revocation_reason,
  expiration, last_used_at, created_at, updated_at, signing_kid`;
const SIGNING_KEY_COLUMNS = 'kid, public_jwk, private_sealed, created_at, retired_at, max_token_expiration';

/** Serialises signing-key rotation across processes (a transaction-level advisory lock). */
const SIGNING_KEY_LOCK = 0x7e55e7a2;

interface Statement {
  name: string;
  text: string;
}
const statement = (name: string, text: string): Statement => ({ name: `tessera_${name}`, text });

/** Every fixed query, prepared once per connection under its name. */
const SQL = {
  ping: statement('ping', 'SELECT 1'),
  getMeta: statement('get_meta', 'SELECT value FROM meta WHERE key = $1'),
  insertMeta: statement('insert_meta', 'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING'),
  insertMachine: statement(
    'insert_machine',
    'INSERT INTO machines (id, name, default_token_ttl, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)',
  ),
  getMachine: statement('get_machine', `SELECT ${MACHINE_COLUMNS} FROM machines WHERE id = $1`),
  lockMachine: statement('lock_machine', 'SELECT 1 FROM machines WHERE id = $1 FOR NO KEY UPDATE'),
  machineExists: statement('machine_exists', 'SELECT 1 FROM machines WHERE id = $1'),
  updateMachine: statement(
    'update_machine',
    `UPDATE machines SET name = coalesce($1, name), default_token_ttl = coalesce($2, default_token_ttl), updated_at = $3
     WHERE id = $4 RETURNING ${MACHINE_COLUMNS}`,
  ),
  deleteMachine: statement('delete_machine', 'DELETE FROM machines WHERE id = $1'),
  scopedMachines: statement(
    'scoped_machines',
    `SELECT s.from_machine_id AS from_id, m.id, m.name, m.default_token_ttl, m.created_at, m.updated_at
     FROM machine_scopes s JOIN machines m ON m.id = s.to_machine_id
     WHERE s.from_machine_id = ANY($1::text[])
     ORDER BY m.id`,
  ),
  insertKey: statement(
    'insert_key',
    `INSERT INTO machine_keys (id, machine_id, secret_hash, secret_sealed, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
  ),
  keyByHash: statement('key_by_hash', `SELECT ${KEY_COLUMNS} FROM machine_keys WHERE secret_hash = $1`),
  currentKey: statement(
    'current_key',
    `SELECT ${KEY_COLUMNS} FROM machine_keys WHERE machine_id = $1 AND expires_at IS NULL ORDER BY created_at DESC LIMIT 1`,
  ),
  expireKeys: statement(
    'expire_keys',
    'UPDATE machine_keys SET expires_at = $1 WHERE machine_id = $2 AND (expires_at IS NULL OR expires_at > $1)',
  ),
  insertScope: statement(
    'insert_scope',
    `INSERT INTO machine_scopes (from_machine_id, to_machine_id, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (from_machine_id, to_machine_id) DO NOTHING`,
  ),
  countScopes: statement('count_scopes', 'SELECT count(*) AS n FROM machine_scopes WHERE from_machine_id = $1'),
  scopeExists: statement('scope_exists', 'SELECT 1 FROM machine_scopes WHERE from_machine_id = $1 AND to_machine_id = $2'),
  deleteScope: statement('delete_scope', 'DELETE FROM machine_scopes WHERE from_machine_id = $1 AND to_machine_id = $2'),
  insertToken: statement(
    'insert_token',
    `INSERT INTO m2m_tokens (id, machine_id, format, secret_hash, secret_sealed, scopes, claims, revoked,
       revocation_reason, expiration, last_used_at, created_at, updated_at, signing_kid)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
  ),
  raiseKeyExpiration: statement(
    'raise_key_expiration',
    `UPDATE signing_keys SET max_token_expiration = GREATEST(coalesce(max_token_expiration, 0), $1) WHERE kid = $2`,
  ),
  tokenById: statement('token_by_id', `SELECT ${TOKEN_COLUMNS} FROM m2m_tokens WHERE id = $1`),
  reusableToken: statement(
    'reusable_token',
    `SELECT ${TOKEN_COLUMNS} FROM m2m_tokens
     WHERE machine_id = $1 AND format = 'opaque' AND NOT revoked AND secret_sealed IS NOT NULL
       AND scopes = $2 AND claims IS NOT DISTINCT FROM $3::text AND expiration >= $4
     ORDER BY expiration DESC LIMIT 1`,
  ),
  revokeToken: statement(
    'revoke_token',
    `UPDATE m2m_tokens SET revoked = true, revocation_reason = $1, updated_at = $2 WHERE id = $3 AND NOT revoked
     RETURNING ${TOKEN_COLUMNS}`,
  ),
  listTokens: statement(
    'list_tokens',
    `SELECT ${TOKEN_COLUMNS} FROM m2m_tokens
     WHERE machine_id = $1 AND format = 'opaque' AND ($2::boolean OR NOT revoked)
       AND ($3::boolean OR expiration IS NULL OR expiration > $4)
     ORDER BY created_at DESC, seq DESC LIMIT $5 OFFSET $6`,
  ),
  countTokens: statement(
    'count_tokens',
    `SELECT count(*) AS n FROM m2m_tokens
     WHERE machine_id = $1 AND format = 'opaque' AND ($2::boolean OR NOT revoked)
       AND ($3::boolean OR expiration IS NULL OR expiration > $4)`,
  ),
  // Rows are locked in ID order first, so two processes flushing overlapping batches
  // never deadlock.
  touchTokens: statement(
    'touch_tokens',
    `UPDATE m2m_tokens t
     SET last_used_at = GREATEST(coalesce(t.last_used_at, 0), u.at), updated_at = GREATEST(t.updated_at, u.at)
     FROM unnest($1::text[], $2::bigint[]) AS u(id, at)
     WHERE t.id = u.id
       AND t.id IN (SELECT id FROM m2m_tokens WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE)`,
  ),
  revokedJwts: statement(
    'revoked_jwts',
    `SELECT id, scopes FROM m2m_tokens WHERE format = 'jwt' AND revoked AND expiration > $1 ORDER BY id`,
  ),
  listSigningKeys: statement(
    'list_signing_keys',
    `SELECT ${SIGNING_KEY_COLUMNS} FROM signing_keys ORDER BY created_at DESC, kid DESC`,
  ),
  currentSigningKey: statement(
    'current_signing_key',
    `SELECT ${SIGNING_KEY_COLUMNS} FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1`,
  ),
  insertSigningKey: statement(
    'insert_signing_key',
    `INSERT INTO signing_keys (kid, public_jwk, private_sealed, created_at, retired_at, max_token_expiration)
     VALUES ($1, $2, $3, $4, $5, $6)`,
  ),
  lockSigningKeys: statement('lock_signing_keys', 'SELECT pg_advisory_xact_lock($1)'),
  retireSigningKeys: statement('retire_signing_keys', 'UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL'),
  pruneSigningKeys: statement(
    'prune_signing_keys',
    'DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND coalesce(max_token_expiration, retired_at) < $1',
  ),
} as const;


// int8 (timestamps, counts) as a JS number: milliseconds fit well within 2^53.
const INT8_OID = 20;
const parseInt8 = (value: string) => Number(value);
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const NETWORK_ERRNOS = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH',
  'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT',
]);
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|not queryable|Cannot use a pool after calling end|Client was closed/i;

/**
 * The short reason when `error` means "the database cannot be used right now", or null for
 * any other error (a bug or a constraint, which the caller handles or reports as a fault).
 */
export function unavailableReason(error: unknown): string | null {
  if (error instanceof StoreUnavailableError) return error.reason;
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_ERRNOS.has(code)) return code;
    // 08: connection exceptions (but 08P01 is a protocol violation: our bug); 53: out of
    // resources (too many connections); 57P: shutdown, crash, starting up; 57014: statement
    // timeout; 40001/40P01: serialization failure or deadlock (retry).
    if ((code.startsWith('08') && code !== '08P01') || code.startsWith('53') || code.startsWith('57P')) return code;
    if (code === '57014' || code === '40001' || code === '40P01') return code;
  }
  return CONNECTION_MESSAGES.test(error.message) ? 'connection_lost' : null;
}

/** Connection-level failures become StoreUnavailableError; every other error passes through. */
function storeError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const reason = unavailableReason(error);
  return reason === null ? error : new StoreUnavailableError(reason, { cause: error });
}

const isForeignKeyViolation = (error: unknown) => (error as { code?: unknown } | null)?.code === '23503';
const isRetryable = (error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
};

type Query = <R extends pg.QueryResultRow>(stmt: Statement, values?: unknown[]) => Promise<pg.QueryResult<R>>;

function connectionConfig(url: string, options: PostgresStoreOptions): pg.ClientConfig {
  const statementTimeout = options.statementTimeoutMs ?? DEFAULTS.statementTimeoutMs;
  return {
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    statement_timeout: statementTimeout,
    // The client gives up a little after the server would have: covers a server that
    // stopped answering without closing the connection.
    query_timeout: statementTimeout + 2000,
    // A transaction left open (never, by this code) cannot hold locks for long.
    idle_in_transaction_session_timeout: 10_000,
    keepAlive: true,
    application_name: 'tessera',
    types: TYPES,
  };
}

/**
 * The scale-out store: several Tessera processes share one PostgreSQL database. Nothing is
 * cached here, so every request sees what any process committed before it. Connection-level
 * failures surface as StoreUnavailableError (HTTP 503); the pool replaces broken connections
 * by itself, so the process recovers when the database is back.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #listMachineStatements = new Map<string, { rows: Statement; count: Statement }>();
  #closing: Promise<void> | undefined;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Connects, applies missing migrations (under an advisory lock), and opens the pool. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const config = connectionConfig(url, options);
    // Migrations may wait for another process's lock and may run long: no statement timeout.
    const migrator = new pg.Client({ ...config, statement_timeout: 0, query_timeout: 0 });
    migrator.on('error', () => {}); // a dropped connection fails the pending query instead
    try {
      await migrator.connect();
      await migrate(migrator);
    } catch (error) {
      throw storeError(error);
    } finally {
      await migrator.end().catch(() => {});
    }
    const pool = new pg.Pool({
      ...config,
      max: options.poolSize ?? DEFAULTS.poolSize,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection that fails (server restart, network drop) is removed by the pool and
    // reported here. Without a listener the process would crash.
    const onConnectionError = options.onConnectionError ?? (() => {});
    pool.on('error', (error) => onConnectionError(unavailableReason(error) ?? 'connection_error'));
    return new PostgresStore(pool);
  }

  /** One statement on a pooled connection; a connection that failed is discarded. */
  #query: Query = async (stmt, values = []) => {
    try {
      return await this.#pool.query({ name: stmt.name, text: stmt.text, values });
    } catch (error) {
      throw storeError(error);
    }
  };

  /**
   * Runs `work` in a transaction on one connection. Retries a serialization failure or a
   * deadlock; a connection-level failure becomes StoreUnavailableError (nothing committed
   * unless COMMIT itself was acknowledged).
   */
  async #tx<T>(work: (query: Query) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (error) {
        throw storeError(error);
      }
      let broken = false;
      // The connection may die between two statements; pg reports that as an event.
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      const query: Query = (stmt, values = []) => client.query({ name: stmt.name, text: stmt.text, values });
      try {
        await client.query('BEGIN');
        const result = await work(query);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (unavailableReason(error) !== null && !isRetryable(error)) broken = true;
        if (!broken) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
        }
        if (isRetryable(error) && attempt < 3) continue;
        throw storeError(error);
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    }
  }

  async ping(): Promise<void> {
    await this.#query(SQL.ping);
  }

  async getOrInitMeta(key: string, init: () => string): Promise<string> {
    const existing = await this.#query<{ value: string }>(SQL.getMeta, [key]);
    if (existing.rows[0]) return existing.rows[0].value;
    await this.#query(SQL.insertMeta, [key, init()]);
    return (await this.#query<{ value: string }>(SQL.getMeta, [key])).rows[0]!.value;
  }

  async createMachine(
    machine: MachineRecord,
    key: MachineKeyRecord,
    scopes: readonly ScopeRecord[],
  ): Promise<'created' | 'scope_target_missing'> {
    try {
      await this.#tx(async (query) => {
        await query(SQL.insertMachine, [
          machine.id,
          machine.name,
          machine.defaultTokenTtl,
          machine.createdAt,
          machine.updatedAt,
        ]);
        await query(SQL.insertKey, keyValues(key));
        for (const s of scopes) await query(SQL.insertScope, [s.fromMachineId, s.toMachineId, s.createdAt]);
      });
      return 'created';
    } catch (error) {
      if (isForeignKeyViolation(error)) return 'scope_target_missing';
      throw error;
    }
  }

  async getMachine(id: string): Promise<MachineRecord | null> {
    const row = (await this.#query<MachineRow>(SQL.getMachine, [id])).rows[0];
    return row ? toMachine(row) : null;
  }

  async listMachines(q: MachineListQuery): Promise<Page<MachineRecord>> {
    const { rows, count } = this.#listMachineStatementsFor(q);
    const filter = q.query === undefined ? [] : [q.query, likePattern(q.query)];
    const [counted, page] = await Promise.all([
      this.#query<{ n: number }>(count, filter),
      this.#query<MachineRow>(rows, [...filter, q.limit, q.offset]),
    ]);
    return { rows: page.rows.map(toMachine), total: counted.rows[0]!.n };
  }

  #listMachineStatementsFor(q: MachineListQuery) {
    const key = `${q.orderBy}_${q.descending ? 'desc' : 'asc'}_${q.query !== undefined ? 'filtered' : 'all'}`;
    let statements = this.#listMachineStatements.get(key);
    if (!statements) {
      const filtered = q.query !== undefined;
      const where = filtered ? `WHERE id = $1 OR name ILIKE $2 ESCAPE '\\'` : '';
      const direction = q.descending ? 'DESC' : 'ASC';
      const column = q.orderBy === 'name' ? 'name' : 'created_at'; // whitelisted, never user text
      const [limit, offset] = filtered ? ['$3', '$4'] : ['$1', '$2'];
      statements = {
        rows: statement(
          `list_machines_${key}`,
          `SELECT ${MACHINE_COLUMNS} FROM machines ${where}
           ORDER BY ${column} ${direction}, id ${direction} LIMIT ${limit} OFFSET ${offset}`,
        ),
        count: statement(`count_machines_${filtered ? 'filtered' : 'all'}`, `SELECT count(*) AS n FROM machines ${where}`),
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
    const result = await this.#query<MachineRow>(SQL.updateMachine, [
      patch.name ?? null,
      patch.defaultTokenTtl ?? null,
      updatedAt,
      id,
    ]);
    const row = result.rows[0];
    return row ? toMachine(row) : null;
  }

  async deleteMachine(id: string): Promise<boolean> {
    return ((await this.#query(SQL.deleteMachine, [id])).rowCount ?? 0) > 0;
  }

  async scopedMachinesOf(ids: readonly string[]): Promise<Map<string, MachineRecord[]>> {
    const result = new Map<string, MachineRecord[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return result;
    const rows = (await this.#query<MachineRow & { from_id: string }>(SQL.scopedMachines, [ids])).rows;
    for (const row of rows) result.get(row.from_id)!.push(toMachine(row));
    return result;
  }

  async addScope(scope: ScopeRecord, maxPerMachine: number): Promise<AddScopeResult> {
    try {
      return await this.#tx(async (query): Promise<AddScopeResult> => {
        // Locking the `from` machine serialises additions to its scopes, so the limit holds.
        if ((await query(SQL.lockMachine, [scope.fromMachineId])).rowCount === 0) return 'missing_from';
        if ((await query(SQL.machineExists, [scope.toMachineId])).rowCount === 0) return 'missing_to';
        const { n } = (await query<{ n: number }>(SQL.countScopes, [scope.fromMachineId])).rows[0]!;
        if (n >= maxPerMachine) {
          const exists = (await query(SQL.scopeExists, [scope.fromMachineId, scope.toMachineId])).rowCount !== 0;
          return exists ? 'duplicate' : 'limit';
        }
        const inserted = await query(SQL.insertScope, [scope.fromMachineId, scope.toMachineId, scope.createdAt]);
        return (inserted.rowCount ?? 0) > 0 ? 'created' : 'duplicate';
      });
    } catch (error) {
      // The target was deleted between the check and the insert.
      if (isForeignKeyViolation(error)) return 'missing_to';
      throw error;
    }
  }

  async removeScope(fromMachineId: string, toMachineId: string): Promise<boolean> {
    return ((await this.#query(SQL.deleteScope, [fromMachineId, toMachineId])).rowCount ?? 0) > 0;
  }

  async findMachineKeyByHash(secretHash: string): Promise<MachineKeyRecord | null> {
    const row = (await this.#query<KeyRow>(SQL.keyByHash, [secretHash])).rows[0];
    return row ? toKey(row) : null;
  }

  async currentMachineKey(machineId: string): Promise<MachineKeyRecord | null> {
    const row = (await this.#query<KeyRow>(SQL.currentKey, [machineId])).rows[0];
    return row ? toKey(row) : null;
  }

  async rotateMachineKey(machineId: string, next: MachineKeyRecord, previousExpiresAt: number): Promise<boolean> {
    return this.#tx(async (query) => {
      // Locking the machine serialises rotations of its key.
      if ((await query(SQL.lockMachine, [machineId])).rowCount === 0) return false;
      await query(SQL.expireKeys, [previousExpiresAt, machineId]);
      await query(SQL.insertKey, keyValues(next));
      return true;
    });
  }

  async insertToken(t: TokenRecord): Promise<void> {
    if (t.signingKid === null) {
      await this.#query(SQL.insertToken, tokenValues(t));
      return;
    }
    await this.#tx(async (query) => {
      await query(SQL.insertToken, tokenValues(t));
      await query(SQL.raiseKeyExpiration, [t.expiration, t.signingKid]);
    });
  }

  async insertTokens(tokens: readonly TokenRecord[]): Promise<void> {
    await this.#tx(async (query) => {
      for (const t of tokens) {
        await query(SQL.insertToken, tokenValues(t));
        if (t.signingKid !== null) await query(SQL.raiseKeyExpiration, [t.expiration, t.signingKid]);
      }
    });
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const row = (await this.#query<TokenRow>(SQL.tokenById, [id])).rows[0];
    return row ? toToken(row) : null;
  }

  async findReusableToken(q: {
    machineId: string;
    scopes: readonly string[];
    claimsJson: string | null;
    minExpiration: number;
  }): Promise<TokenRecord | null> {
    const result = await this.#query<TokenRow>(SQL.reusableToken, [
      q.machineId,
      JSON.stringify(q.scopes),
      q.claimsJson,
      q.minExpiration,
    ]);
    const row = result.rows[0];
    return row ? toToken(row) : null;
  }

  async revokeToken(id: string, reason: string | null, at: number): Promise<TokenRecord | null> {
    const revoked = (await this.#query<TokenRow>(SQL.revokeToken, [reason, at, id])).rows[0];
    return revoked ? toToken(revoked) : this.getToken(id);
  }

  async listTokens(q: TokenListQuery): Promise<Page<TokenRecord>> {
    const filter = [q.machineId, q.includeRevoked, q.includeExpired, q.now];
    const [counted, page] = await Promise.all([
      this.#query<{ n: number }>(SQL.countTokens, filter),
      this.#query<TokenRow>(SQL.listTokens, [...filter, q.limit, q.offset]),
    ]);
    return { rows: page.rows.map(toToken), total: counted.rows[0]!.n };
  }

  async recordTokenUse(uses: ReadonlyArray<{ id: string; at: number }>): Promise<void> {
    if (uses.length === 0) return;
    await this.#query(SQL.touchTokens, [uses.map((u) => u.id), uses.map((u) => u.at)]);
  }

  async revokedJwts(now: number): Promise<Array<{ id: string; scopes: string[] }>> {
    const rows = (await this.#query<{ id: string; scopes: string }>(SQL.revokedJwts, [now])).rows;
    return rows.map((r) => ({ id: r.id, scopes: JSON.parse(r.scopes) as string[] }));
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (await this.#query<SigningKeyRow>(SQL.listSigningKeys)).rows.map(toSigningKey);
  }

  async ensureSigningKey(candidate: SigningKeyRecord): Promise<SigningKeyRecord> {
    return this.#tx(async (query) => {
      await query(SQL.lockSigningKeys, [SIGNING_KEY_LOCK]);
      const current = (await query<SigningKeyRow>(SQL.currentSigningKey)).rows[0];
      if (current) return toSigningKey(current);
      await query(SQL.insertSigningKey, signingKeyValues(candidate));
      return candidate;
    });
  }

  async rotateSigningKey(next: SigningKeyRecord): Promise<void> {
    await this.#tx(async (query) => {
      await query(SQL.lockSigningKeys, [SIGNING_KEY_LOCK]);
      await query(SQL.retireSigningKeys, [next.createdAt]);
      await query(SQL.insertSigningKey, signingKeyValues(next));
    });
  }

  async pruneSigningKeys(before: number): Promise<number> {
    return (await this.#query(SQL.pruneSigningKeys, [before])).rowCount ?? 0;
  }

  close(): Promise<void> {
    this.#closing ??= this.#pool.end().catch(() => {});
    return this.#closing;
  }
}

const keyValues = (k: MachineKeyRecord) => [k.id, k.machineId, k.secretHash, k.secretSealed, k.createdAt, k.expiresAt];

const tokenValues = (t: TokenRecord) => [
  t.id,
  t.machineId,
  t.format,
  t.secretHash,
  t.secretSealed,
  JSON.stringify(t.scopes),
  t.claimsJson,
  t.revoked,
  t.revocationReason,
  t.expiration,
  t.lastUsedAt,
  t.createdAt,
  t.updatedAt,
  t.signingKid,
];

const signingKeyValues = (k: SigningKeyRecord) => [
  k.kid,
  k.publicJwk,
  k.privateSealed,
  k.createdAt,
  k.retiredAt,
  k.maxTokenExpiration,
];
