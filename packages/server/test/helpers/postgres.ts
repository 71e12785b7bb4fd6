import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';

/** This machine's PostgreSQL server (trust auth for user postgres), as CI and DESIGN.md say. */
export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;
const ADMIN_URL = `postgres://postgres@${PG_HOST}:${PG_PORT}/postgres`;

const run = promisify(execFile);

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
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
