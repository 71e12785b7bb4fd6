/** Versioned schema of the SQLite store; each entry is applied once, in order, in a transaction. */
export const SQLITE_MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'machines, keys, scopes, tokens',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE machines (
        id                TEXT PRIMARY KEY,
        name              TEXT NOT NULL,
        default_token_ttl INTEGER NOT NULL,
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL
      );
      CREATE INDEX machines_by_created ON machines (created_at, id);
      CREATE INDEX machines_by_name ON machines (name, id);

      CREATE TABLE machine_keys (
        id            TEXT PRIMARY KEY,
        machine_id    TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
        secret_hash   TEXT NOT NULL UNIQUE,
        secret_sealed TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        expires_at    INTEGER
      );
      CREATE INDEX machine_keys_by_machine ON machine_keys (machine_id);

      CREATE TABLE machine_scopes (
        from_machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
        to_machine_id   TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
        created_at      INTEGER NOT NULL,
        PRIMARY KEY (from_machine_id, to_machine_id)
      ) WITHOUT ROWID;
      CREATE INDEX machine_scopes_by_to ON machine_scopes (to_machine_id);

      CREATE TABLE m2m_tokens (
        id                TEXT PRIMARY KEY,
        machine_id        TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
        format            TEXT NOT NULL,
        secret_hash       TEXT,
        secret_sealed     TEXT,
        scopes            TEXT NOT NULL,
        claims            TEXT,
        revoked           INTEGER NOT NULL DEFAULT 0,
        revocation_reason TEXT,
        expiration        INTEGER,
        last_used_at      INTEGER,
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL
      );
      CREATE INDEX m2m_tokens_by_machine ON m2m_tokens (machine_id, created_at);
    `,
  },
  {
    version: 2,
    name: 'JWT signing keys and revocable JWT records',
    sql: `
      CREATE TABLE signing_keys (
        kid                  TEXT PRIMARY KEY,
        public_jwk           TEXT NOT NULL,
        private_sealed       TEXT NOT NULL,
        created_at           INTEGER NOT NULL,
        retired_at           INTEGER,
        max_token_expiration INTEGER
      );
      ALTER TABLE m2m_tokens ADD COLUMN signing_kid TEXT;
      CREATE INDEX m2m_tokens_revoked_jwts ON m2m_tokens (expiration) WHERE format = 'jwt' AND revoked = 1;
    `,
  },
];
