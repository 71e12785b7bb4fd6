import { parseArgs } from 'node:util';
import { INSTANCE_KEY_PATTERN } from './crypto/secrets.js';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** Instance secret key from the environment; generated and stored in dataDir when absent. */
  secretKey: string | undefined;
  /** Master key from the environment; generated and stored in dataDir when absent. */
  masterKey: string | undefined;
  /** The URL clients reach this server at; JWTs carry it as `iss`. Defaults to the listen URL. */
  publicUrl?: string | undefined;
  logLevel: string;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** `postgres://…` selects the PostgreSQL store (several processes may share it); absent: SQLite in dataDir. */
  databaseUrl?: string | undefined;
  /** Most PostgreSQL connections this process opens (default 10). */
  pgPoolSize?: number | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `tessera serve` options: flags win over environment variables, which win over defaults. */
export function resolveServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'public-url': { type: 'string' },
      'database-url': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const portText = values.port ?? env.TESSERA_PORT ?? '7600';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new ConfigError(`Invalid port: ${portText}`);
  const secretKey = env.TESSERA_SECRET_KEY || undefined;
  if (secretKey !== undefined && !INSTANCE_KEY_PATTERN.test(secretKey)) {
    throw new ConfigError('TESSERA_SECRET_KEY must look like sk_live_… or sk_test_… followed by at least 20 letters or digits');
  }
  const logLevel = env.TESSERA_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`TESSERA_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const sync = (env.TESSERA_SQLITE_SYNCHRONOUS ?? 'NORMAL').toUpperCase();
  if (sync !== 'NORMAL' && sync !== 'FULL') throw new ConfigError('TESSERA_SQLITE_SYNCHRONOUS must be NORMAL or FULL');
  const databaseUrl = parseDatabaseUrl(values['database-url'] ?? env.TESSERA_DATABASE_URL ?? env.DATABASE_URL);
  const poolText = env.TESSERA_PG_POOL_SIZE ?? '10';
  const pgPoolSize = Number(poolText);
  if (!/^\d+$/.test(poolText) || pgPoolSize < 1 || pgPoolSize > 1000) {
    throw new ConfigError('TESSERA_PG_POOL_SIZE must be a whole number from 1 to 1000');
  }
  return {
    host: values.host ?? env.TESSERA_HOST ?? '127.0.0.1',
    port,
    dataDir: values['data-dir'] ?? env.TESSERA_DATA_DIR ?? './.tessera',
    secretKey,
    masterKey: env.TESSERA_MASTER_KEY || undefined,
    publicUrl: parsePublicUrl(values['public-url'] ?? env.TESSERA_PUBLIC_URL),
    logLevel,
    sqliteSynchronous: sync,
    databaseUrl,
    pgPoolSize,
  };
}

/** Only PostgreSQL URLs; the text is never echoed back, since it may carry a password. */
function parseDatabaseUrl(text: string | undefined): string | undefined {
  if (!text) return undefined;
  let protocol: string;
  try {
    protocol = new URL(text).protocol;
  } catch {
    throw new ConfigError('The database URL is not a valid URL (expected postgres://user:password@host:port/database)');
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new ConfigError('The database URL must start with postgres:// or postgresql://');
  }
  return text;
}

function parsePublicUrl(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return url.href.replace(/\/$/, '');
  } catch {
    throw new ConfigError(`Invalid public URL: ${text}`);
  }
}
