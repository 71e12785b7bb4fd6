import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePostgresRunning, startCluster, STACK_TRACE_LINE, type Cluster, type TesseraProcess } from './helpers/postgres.js';

/**
 * Three real `tessera serve` processes over one PostgreSQL database. What one process
 * changes, the others must act on at their very next request: nothing on the request path
 * may answer from a stale copy.
 */
describe('several Tessera processes over one PostgreSQL database', () => {
  let cluster: Cluster;
  let a: TesseraProcess;
  let b: TesseraProcess;
  let c: TesseraProcess;

  beforeAll(async () => {
    await ensurePostgresRunning();
    cluster = await startCluster(3);
    [a, b, c] = cluster.instances as [TesseraProcess, TesseraProcess, TesseraProcess];
  });

  afterAll(async () => {
    const outputs = cluster?.instances.map((p) => p.output()) ?? [];
    await cluster?.stop();
    for (const output of outputs) {
      expect(output).not.toMatch(STACK_TRACE_LINE);
      expect(output).not.toContain(cluster.sk);
      expect(output).not.toContain(cluster.masterKey);
    }
  });

  const machine = async (via: TesseraProcess, name: string, scopedMachines: string[] = []) => {
    const res = await via.call('POST', '/v1/machines', { key: cluster.sk, body: { name, scoped_machines: scopedMachines } });
    expect(res.status).toBe(200);
    return res.body as { id: string; secret_key: string };
  };
  const mint = async (via: TesseraProcess, machineKey: string, body: Record<string, unknown> = {}) => {
    const res = await via.call('POST', '/m2m_tokens', { key: machineKey, body });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string; scopes: string[] };
  };
  const verify = (via: TesseraProcess, key: string, token: string) =>
    via.call('POST', '/m2m_tokens/verify', { key, body: { token } });

  it('started together: one schema, one signing key, every process healthy', async () => {
    const jwks = await Promise.all([a, b, c].map((p) => p.call('GET', '/v1/jwks')));
    const kids = jwks.map((res) => (res.body.keys as Array<{ kid: string }>).map((k) => k.kid).join(','));
    expect(kids[0]).toMatch(/\S/);
    expect(new Set(kids).size).toBe(1);
    for (const p of [a, b, c]) expect((await p.call('GET', '/healthz')).status).toBe(200);
  });

  it('a token minted through one process verifies through the others, opaque and JWT', async () => {
    const receiver = await machine(a, 'receiver');
    const sender = await machine(a, 'sender', [receiver.id]);
    const opaque = await mint(b, sender.secret_key);
    const jwt = await mint(c, sender.secret_key, { token_format: 'jwt' });
    for (const p of [a, b, c]) {
      for (const token of [opaque, jwt]) {
        const asReceiver = await verify(p, receiver.secret_key, token.token);
        expect(asReceiver.status).toBe(200);
        expect(asReceiver.body).toMatchObject({ id: token.id, subject: sender.id });
        expect((await verify(p, cluster.sk, token.token)).status).toBe(200);
      }
    }
  });

  it('25 rounds of create on one, revoke on another, verify on the third: no stale acceptance', async () => {
    const receiver = await machine(a, 'receiver');
    const sender = await machine(b, 'sender', [receiver.id]);
    const procs = [a, b, c];
    let staleAcceptances = 0;
    for (let round = 0; round < 25; round++) {
      const creator = procs[round % 3]!;
      const revoker = procs[(round + 1) % 3]!;
      const verifier = procs[(round + 2) % 3]!;
      const token = await mint(creator, sender.secret_key, { token_format: round % 2 === 0 ? 'opaque' : 'jwt' });
      // Live before the revocation, on the process that will check it afterwards.
      expect((await verify(verifier, receiver.secret_key, token.token)).status).toBe(200);
      const revoked = await revoker.call('POST', `/m2m_tokens/${token.id}/revoke`, {
        key: cluster.sk,
        body: { revocation_reason: `round ${round}` },
      });
      expect(revoked.status).toBe(200);
      expect(revoked.body.revoked).toBe(true);
      const after = await verify(verifier, receiver.secret_key, token.token);
      if (after.status === 200) staleAcceptances++;
      expect(after.status).toBe(404);
      expect(after.body.errors[0].code).toBe('token_revoked');
      expect((await verify(creator, receiver.secret_key, token.token)).status).toBe(404);
    }
    expect(staleAcceptances).toBe(0);
  });

  it('a machine key rotated with previous_token_ttl 0 is refused by every process at once', async () => {
    const receiver = await machine(a, 'receiver');
    const sender = await machine(a, 'sender', [receiver.id]);
    for (const p of [a, b, c]) await mint(p, sender.secret_key);
    const rotated = await a.call('POST', `/v1/machines/${sender.id}/secret_key/rotate`, {
      key: cluster.sk,
      body: { previous_token_ttl: 0 },
    });
    expect(rotated.status).toBe(200);
    const newKey = rotated.body.secret as string;
    expect(newKey).not.toBe(sender.secret_key);
    for (const p of [b, c, a]) {
      const old = await p.call('POST', '/m2m_tokens', { key: sender.secret_key, body: {} });
      expect(old.status).toBe(401);
      expect(old.body.errors[0].code).toBe('machine_secret_key_invalid');
      await mint(p, newKey);
    }
  });

  it('a removed scope and a deleted machine take effect on every process at once', async () => {
    const receiver = await machine(a, 'receiver');
    const sender = await machine(a, 'sender', [receiver.id]);
    const before = await mint(b, sender.secret_key);
    expect(before.scopes).toEqual([receiver.id]);

    const removed = await b.call('DELETE', `/v1/machines/${sender.id}/scopes/${receiver.id}`, { key: cluster.sk });
    expect(removed.status).toBe(200);
    // Tokens minted after the removal, anywhere, no longer reach the receiver.
    for (const p of [c, a]) {
      const after = await mint(p, sender.secret_key);
      expect(after.scopes).toEqual([]);
      expect((await verify(b, receiver.secret_key, after.token)).status).toBe(404);
    }
    for (const p of [a, b, c]) {
      const read = await p.call('GET', `/v1/machines/${sender.id}`, { key: cluster.sk });
      expect(read.body.scoped_machines).toEqual([]);
    }

    expect((await verify(a, cluster.sk, before.token)).status).toBe(200);
    const deleted = await c.call('DELETE', `/v1/machines/${sender.id}`, { key: cluster.sk });
    expect(deleted.status).toBe(200);
    for (const p of [a, b]) {
      expect((await verify(p, cluster.sk, before.token)).status).toBe(404);
      expect((await p.call('POST', '/m2m_tokens', { key: sender.secret_key, body: {} })).status).toBe(401);
      expect((await p.call('GET', `/v1/machines/${sender.id}`, { key: cluster.sk })).status).toBe(404);
    }
  });
});

describe('tessera serve --database-url', () => {
  const cli = fileURLToPath(new URL('../bin/tessera.js', import.meta.url));
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-dburl-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const serve = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--data-dir', dataDir, ...args], {
        env: { ...process.env, TESSERA_MASTER_KEY: 'a'.repeat(64), TESSERA_SECRET_KEY: `sk_test_${'b'.repeat(30)}`, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('exit', (code) => resolve({ code, output }));
    });

  it('refuses a URL that is not postgres:// without echoing it (it may hold a password)', async () => {
    const result = await serve(['--database-url', 'mysql://root:hunter2@127.0.0.1/db']);
    expect(result.code).toBe(2);
    expect(result.output).toContain('postgres://');
    expect(result.output).not.toContain('hunter2');
  });

  it('refuses a bad TESSERA_PG_POOL_SIZE', async () => {
    const result = await serve([], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x', TESSERA_PG_POOL_SIZE: '0' });
    expect(result.code).toBe(2);
    expect(result.output).toContain('TESSERA_PG_POOL_SIZE');
  });

  it('exits with a one-line reason, no stack trace and no password, when the database is unreachable at start', async () => {
    // Port 1 on loopback: nothing listens there.
    const result = await serve([], { DATABASE_URL: 'postgres://tessera:hunter2@127.0.0.1:1/tessera' });
    expect(result.code).toBe(1);
    expect(result.output).toContain('cannot reach the database (ECONNREFUSED)');
    expect(result.output).not.toContain('hunter2');
    expect(result.output).not.toMatch(STACK_TRACE_LINE);
  });
});
