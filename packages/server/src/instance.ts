import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type ServerConfig } from './config.js';
import { Keyring } from './crypto/keyring.js';
import { newInstanceId } from './domain/ids.js';
import { ensureDataDir, loadInstanceSecretKey, loadMasterKey } from './secrets-on-disk.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import { DatabaseInUseError, SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

export const SQLITE_FILE = 'tessera.db';
const KEY_CHECK = 'tessera master key check';

export interface OpenInstance {
  store: Store;
  keyring: Keyring;
  instanceId: string;
  instanceKey: { key: string; generatedFile: string | null };
}

/**
 * Refuses a master key that did not write this database: otherwise every secret would
 * silently fail to verify or decrypt.
 */
async function checkMasterKey(store: Store, keyring: Keyring): Promise<void> {
  const sealed = await store.getOrInitMeta('master_key_check', () => keyring.seal(KEY_CHECK, 'key_check'));
  try {
    if (keyring.open(sealed, 'key_check') === KEY_CHECK) return;
  } catch {
    // fall through to the error below
  }
  throw new ConfigError('The master key does not match this database (TESSERA_MASTER_KEY or master.key changed).');
}

/** One JSON log line (the server's log format) when a pooled database connection fails. */
function logConnectionError(logLevel: string, reason: string): void {
  if (logLevel === 'silent' || logLevel === 'fatal' || logLevel === 'error') return;
  const line = { level: 40, time: Date.now(), pid: process.pid, reason, msg: 'database connection lost; the pool reconnects' };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

function openSqlite(file: string, config: ServerConfig): SqliteStore {
  // Hashes and sealed secrets live here: owner-only, like the key files (SQLite gives its
  // -wal and -shm files the database file's mode). An empty file is an empty database.
  if (!existsSync(file)) writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
  try {
    return new SqliteStore(file, { synchronous: config.sqliteSynchronous });
  } catch (error) {
    if (!(error instanceof DatabaseInUseError)) throw error;
    throw new ConfigError(
      `${error.message} One server owns a SQLite data dir; for key commands use --url to ask the running server.`,
    );
  }
}

/** The data dir, keys and store of an instance, checked and ready (for the server and the CLI). */
export async function openInstance(config: ServerConfig): Promise<OpenInstance> {
  ensureDataDir(config.dataDir);
  const keyring = new Keyring(loadMasterKey(config.dataDir, config.masterKey));
  const instanceKey = loadInstanceSecretKey(config.dataDir, config.secretKey);
  const store: Store = config.databaseUrl
    ? await PostgresStore.open(config.databaseUrl, {
        poolSize: config.pgPoolSize,
        onConnectionError: (reason) => logConnectionError(config.logLevel, reason),
      })
    : openSqlite(join(config.dataDir, SQLITE_FILE), config);
  try {
    await checkMasterKey(store, keyring);
    const instanceId = await store.getOrInitMeta('instance_id', newInstanceId);
    return { store, keyring, instanceId, instanceKey };
  } catch (error) {
    await store.close();
    throw error;
  }
}
