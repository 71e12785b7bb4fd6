import type pg from 'pg';

/**
 * Versioned schema of the PostgreSQL store; each entry is applied once, in order, in a
 * transaction. The same shape as the SQLite schema, with PostgreSQL types:
 *
 * - timestamps are `bigint` Unix milliseconds (the store parses int8 to a JS number);
 * - IDs and names use `COLLATE "C"`, so ordering is by bytes as in SQLite, whatever the
 *   database's default collation;
 * - `m2m_tokens.seq` (an identity column) breaks ties between tokens created in the same
 *   millisecond, as SQLite's rowid does;
 * - at most one signing key is current (a unique partial index), so concurrent starts
 *   cannot create two.
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'machines, keys, scopes, tokens',
    sql: `
      CREATE TABLE meta (
        key   text PRIMARY KEY,
        value text NOT NULL
      );
      CREATE TABLE machines (
        id                text COLLATE "C" PRIMARY KEY,
        name              text COLLATE "C" NOT NULL,
        default_token_ttl integer NOT NULL,
        created_at        bigint NOT NULL,
        updated_at        bigint NOT NULL
      );
      CREATE INDEX machines_by_created ON machines (created_at, id);
      CREATE INDEX machines_by_name ON machines (name, id);

      CREATE TABLE machine_keys (
        id            text COLLATE "C" PRIMARY KEY,
        machine_id    text COLLATE "C" NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
        secret_hash   text NOT NULL UNIQUE,
        secret_sealed text NOT NULL,
        created_at    bigint NOT NULL,
        expires_at    bigint
      );
      CREATE INDEX machine_keys_by_machine ON machine_keys (machine_id);

      CREATE TABLE machine_scopes (
        from_machine_id text COLLATE "C" NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
        to_machine_id   text COLLATE "C" NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
        created_at      bigint NOT NULL,
        PRIMARY KEY (from_machine_id, to_machine_id)
      );
      CREATE INDEX machine_scopes_by_to ON machine_scopes (to_machine_id);

      CREATE TABLE m2m_tokens (
        seq               bigint GENERATED ALWAYS AS IDENTITY,
        id                text COLLATE "C" PRIMARY KEY,
        machine_id        text COLLATE "C" NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
        format            text NOT NULL,
        secret_hash       text,
        secret_sealed     text,
        scopes            text NOT NULL,
        claims            text,
        revoked           boolean NOT NULL DEFAULT false,
        revocation_reason text,
        expiration        bigint,
        last_used_at      bigint,
        created_at        bigint NOT NULL,
        updated_at        bigint NOT NULL
      );
      CREATE INDEX m2m_tokens_by_machine ON m2m_tokens (machine_id, created_at DESC, seq DESC);
    `,
  },
  {
    version: 2,
    name: 'JWT signing keys and revocable JWT records',
    sql: `
      CREATE TABLE signing_keys (
        kid                  text COLLATE "C" PRIMARY KEY,
        public_jwk           text NOT NULL,
        private_sealed       text NOT NULL,
        created_at           bigint NOT NULL,
        retired_at           bigint,
        max_token_expiration bigint
      );
      CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((true)) WHERE retired_at IS NULL;
      ALTER TABLE m2m_tokens ADD COLUMN signing_kid text;
      CREATE INDEX m2m_tokens_revoked_jwts ON m2m_tokens (expiration) WHERE format = 'jwt' AND revoked;
    `,
  },
];

/** Any constant: the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK = 0x7e55e7a1;

/**
 * Applies the missing migrations. Several processes may start at once: each takes the same
 * session-level advisory lock first, so one migrates and the others then find nothing to do.
 */
export async function migrate(client: pg.Client): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`,
    );
    const applied = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    for (const migration of POSTGRES_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
  }
}
