import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { mintSecret } from '../../src/crypto/secrets.js';
import { apiClient, type Call } from './api.js';
import { spawnServer } from './process.js';

/** This machine's PostgreSQL server (trust auth for user postgres), as CI and DESIGN.md say. */
export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;
const ADMIN_URL = `postgres://postgres@${PG_HOST}:${PG_PORT}/postgres`;

const run = promisify(execFile);

async function adminQuery(sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database `tessera_test_<random>`; `drop()` removes it (closing its connections). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tessera_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    name,
    url: `postgres://postgres@${PG_HOST}:${PG_PORT}/${name}`,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** True when a connection to the server succeeds and it answers a query. */
export async function postgresAnswers(): Promise<boolean> {
  try {
    await adminQuery('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/** When the PostgreSQL server process started (changes on every restart). */
export async function postmasterStartTime(): Promise<string> {
  const result = await adminQuery('SELECT pg_postmaster_start_time()::text AS started');
  return result.rows[0].started as string;
}

/** The installed cluster versions (`/etc/postgresql/<version>/main`). */
function clusterVersions(): string[] {
  try {
    return readdirSync('/etc/postgresql');
  } catch {
    return [];
  }
}

/** `pg_ctlcluster <version> main <action>` for the machine's cluster. */
export async function pgCtl(action: 'start' | 'stop' | 'restart'): Promise<void> {
  const [version] = clusterVersions();
  if (!version) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action]);
}

/** Starts the cluster if it does not answer, then waits (bounded) until it does. */
export async function ensurePostgresRunning(): Promise<void> {
  if (await postgresAnswers()) return;
  await pgCtl('start').catch(() => {}); // "already running" while it is still starting up
  for (let i = 0; i < 120; i++) {
    if (await postgresAnswers()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('PostgreSQL did not come up on 127.0.0.1:5432');
}

// ---------------------------------------------------------------------------------------
// Several real `tessera serve` processes over one PostgreSQL database.


export interface TesseraProcess {
  child: ChildProcess;
  url: string;
  call: Call;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code, or the signal name, once the process has ended. */
  exited: Promise<number | string>;
  /** True until the process has exited. */
  alive(): boolean;
}

export interface Cluster {
  db: TestDatabase;
  /** The shared instance secret key (sk_test_…). */
  sk: string;
  /** The shared master key. */
  masterKey: string;
  instances: TesseraProcess[];
  /** Starts one more process on the same database and keys. */
  spawn(): Promise<TesseraProcess>;
  /** SIGTERM to every live process, then drops the database. */
  stop(): Promise<void>;
}

/**
 * `count` server processes (`tessera serve --port 0 --database-url …`) sharing one fresh
 * database and, through the environment, one master key and one instance key.
 */
export async function startCluster(count: number): Promise<Cluster> {
  const db = await createTestDatabase();
  const sk = mintSecret('sk_test_');
  const masterKey = randomBytes(32).toString('base64url');
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cluster-'));
  const processes: TesseraProcess[] = [];
  const spawnOne = async () => {
    const instance = await spawnTessera(['--database-url', db.url, '--data-dir', dataDir], {
      TESSERA_SECRET_KEY: sk,
      TESSERA_MASTER_KEY: masterKey,
      TESSERA_LOG_LEVEL: 'warn',
      TESSERA_PG_POOL_SIZE: '4',
    });
    processes.push(instance);
    return instance;
  };
  try {
    // All at once: migrations and the first signing key must cope with concurrent starts.
    await Promise.all(Array.from({ length: count }, spawnOne));
  } catch (error) {
    for (const p of processes) p.child.kill('SIGKILL');
    await db.drop().catch(() => {});
    throw error;
  }
  return {
    db,
    sk,
    masterKey,
    instances: [...processes],
    spawn: spawnOne,
    async stop() {
      await Promise.all(
        processes.map(async (p) => {
          if (!p.alive()) return;
          p.child.kill('SIGTERM');
          await p.exited;
        }),
      );
      rmSync(dataDir, { recursive: true, force: true });
      await db.drop();
    },
  };
}

/** `tessera serve` as a child process (helpers/process.ts), with an API client and a liveness check. */
async function spawnTessera(args: string[], env: Record<string, string>): Promise<TesseraProcess> {
  const server = await spawnServer(['--host', '127.0.0.1', ...args], env);
  const alive = () => server.child.exitCode === null && server.child.signalCode === null;
  return { ...server, call: apiClient(server.url), alive };
}

/** A line of a Node stack trace (`    at fn (file:line:col)`). */
export const STACK_TRACE_LINE = /^\s+at .+:\d+:\d+\)?$/m;
