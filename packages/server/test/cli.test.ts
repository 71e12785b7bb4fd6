import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mintSecret } from '../src/crypto/secrets.js';
import { apiClient } from './helpers/api.js';
import { runCli, spawnServer } from './helpers/process.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('tessera serve', () => {
  it('generates the instance key once, stores it 0600 with the master key, and prints it only on first start', async () => {
    const dataDir = tempDir();
    const first = await spawnServer(['--data-dir', dataDir]);
    const sk = readFileSync(join(dataDir, 'secret-key'), 'utf8').trim();
    expect(sk).toMatch(/^sk_live_[0-9A-Za-z]{49}$/);
    expect(first.output()).toContain(sk);
    expect(statSync(join(dataDir, 'secret-key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'tessera.db')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o077).toBe(0);
    const health = await fetch(`${first.url}/healthz`);
    expect(health.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await spawnServer(['--data-dir', dataDir]);
    expect(second.output()).not.toContain(sk);
    expect((await apiClient(second.url)('GET', '/v1/machines', { key: sk })).status).toBe(200);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('takes host, port and data dir from flags or environment, and the key from TESSERA_SECRET_KEY', async () => {
    const dataDir = tempDir();
    const sk = mintSecret('sk_test_');
    const server = await spawnServer([], { TESSERA_DATA_DIR: dataDir, TESSERA_HOST: '127.0.0.1', TESSERA_SECRET_KEY: sk });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.output()).not.toContain(sk);
    expect(() => statSync(join(dataDir, 'secret-key'))).toThrow();
    expect(statSync(join(dataDir, 'tessera.db')).isFile()).toBe(true);
    expect((await apiClient(server.url)('GET', '/v1/machines', { key: sk })).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses a malformed TESSERA_SECRET_KEY, a bad port, and a master key that did not write the database', async () => {
    const dataDir = tempDir();
    const badKey = await runCli(['serve', '--data-dir', dataDir], { TESSERA_SECRET_KEY: 'hunter2' });
    expect(badKey.code).toBe(2);
    expect(badKey.output).toContain('TESSERA_SECRET_KEY');
    expect(badKey.output).not.toContain('hunter2');

    const badPort = await runCli(['serve', '--data-dir', dataDir, '--port', 'seventy']);
    expect(badPort.code).toBe(2);
    expect(badPort.output).toContain('Invalid port');

    const server = await spawnServer(['--data-dir', dataDir]);
    server.child.kill('SIGTERM');
    await server.exited;
    const otherMaster = await runCli(['serve', '--data-dir', dataDir, '--port', '0'], {
      TESSERA_MASTER_KEY: 'a'.repeat(64),
    });
    expect(otherMaster.code).toBe(2);
    expect(otherMaster.output).toContain('master key does not match');
  });

  it('finishes an in-flight request on SIGTERM, then exits 0', async () => {
    const dataDir = tempDir();
    const server = await spawnServer(['--data-dir', dataDir]);
    const sk = readFileSync(join(dataDir, 'secret-key'), 'utf8').trim();
    const body = JSON.stringify({ name: 'in flight' });
    const { hostname, port } = new URL(server.url);
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        { hostname, port, method: 'POST', path: '/v1/machines', headers: { authorization: `Bearer ${sk}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        },
      );
      req.on('error', reject);
      // Half the body now; the rest after the signal, so the request is in flight when it lands.
      req.write(body.slice(0, 5));
      setTimeout(() => {
        server.child.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(5)), 300);
      }, 200);
    });
    const result = await response;
    expect(result.status).toBe(200);
    expect(JSON.parse(result.text).name).toBe('in flight');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('SIGTERM received');
  });

  it('never writes a secret or a token to its log', async () => {
    const dataDir = tempDir();
    const sk = mintSecret('sk_live_');
    const server = await spawnServer(['--data-dir', dataDir], { TESSERA_SECRET_KEY: sk, TESSERA_LOG_LEVEL: 'trace' });
    const call = apiClient(server.url);
    const receiver = (await call('POST', '/v1/machines', { key: sk, body: { name: 'r' } })).body;
    const sender = (await call('POST', '/v1/machines', { key: sk, body: { name: 's', scoped_machines: [receiver.id] } })).body;
    const opaque = (await call('POST', '/m2m_tokens', { key: sender.secret_key, body: {} })).body;
    const jwt = (await call('POST', '/m2m_tokens', { key: sender.secret_key, body: { token_format: 'jwt' } })).body;
    await call('POST', '/m2m_tokens/verify', { key: receiver.secret_key, body: { token: opaque.token } });
    await call('POST', '/m2m_tokens/verify', { key: receiver.secret_key, body: { token: jwt.token } });
    await call('POST', '/m2m_tokens/verify', { key: 'ak_wrong', body: { token: opaque.token } });
    await call('GET', `/m2m_tokens?subject=${sender.id}&token=${opaque.token}`, { key: sk });
    await call('POST', '/m2m_tokens/verify', { key: receiver.secret_key, rawBody: `{"token":"${opaque.token}"` });
    const rotated = (await call('POST', `/v1/machines/${sender.id}/secret_key/rotate`, { key: sk, body: { previous_token_ttl: 0 } })).body;
    server.child.kill('SIGTERM');
    await server.exited;
    const log = server.output();
    expect(log).toContain('"route":"/m2m_tokens/verify"');
    for (const secret of [sk, receiver.secret_key, sender.secret_key, rotated.secret, opaque.token, jwt.token, readFileSync(join(dataDir, 'master.key'), 'utf8').trim()]) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toMatch(/\bak_[0-9A-Za-z]{20,}/);
    expect(log).not.toMatch(/\bmt_[0-9A-Za-z]{40,}/);
  });
});

describe('tessera keys', () => {
  it('rotates the signing key and prints the public key as PEM', async () => {
    const dataDir = tempDir();
    const before = await runCli(['keys', 'public', '--data-dir', dataDir]);
    expect(before.code).toBe(0);
    expect(before.output).toMatch(/-----BEGIN PUBLIC KEY-----/);
    const rotated = await runCli(['keys', 'rotate', '--data-dir', dataDir]);
    expect(rotated.code).toBe(0);
    const kid = /New signing key (key_\w+)/.exec(rotated.output)?.[1];
    expect(kid).toBeDefined();
    const after = await runCli(['keys', 'public', '--data-dir', dataDir]);
    expect(after.output).toContain(`# kid ${kid}`);
    expect(after.output).not.toBe(before.output);
    const unknown = await runCli(['keys', 'shred', '--data-dir', dataDir]);
    expect(unknown.code).toBe(2);
  });

  it('refuses to open a data dir a server holds, and asks the running server with --url', async () => {
    const dataDir = tempDir();
    const server = await spawnServer(['--data-dir', dataDir]);
    try {
      const locked = await runCli(['keys', 'public', '--data-dir', dataDir]);
      expect(locked.code).toBe(2);
      expect(locked.output).toContain('in use by another process');
      const second = await runCli(['serve', '--data-dir', dataDir, '--port', '0']);
      expect(second.code).toBe(2);

      const before = await runCli(['keys', 'public', '--url', server.url]);
      expect(before.code).toBe(0);
      const rotated = await runCli(['keys', 'rotate', '--url', server.url, '--data-dir', dataDir]);
      expect(rotated.code).toBe(0);
      const kid = /New signing key (key_\w+)/.exec(rotated.output)?.[1];
      const after = await runCli(['keys', 'public', '--url', server.url]);
      expect(after.output).toContain(`# kid ${kid}`);
      expect(after.output).not.toBe(before.output);
      const refused = await runCli(['keys', 'rotate', '--url', server.url], { TESSERA_SECRET_KEY: mintSecret('sk_live_') });
      expect(refused.code).toBe(2);
      expect(refused.output).toContain('401');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('prints usage for help and exits 2 for an unknown command', async () => {
    expect((await runCli(['help'])).output).toContain('Usage: tessera');
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.output).toContain('Unknown command');
  });
});
