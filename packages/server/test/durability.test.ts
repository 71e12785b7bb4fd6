import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from './helpers/api.js';
import { spawnServer } from './helpers/process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tessera-durability-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('durability', () => {
  it('keeps every acknowledged create and revoke across kill -9', async () => {
    const first = await spawnServer(['--data-dir', dataDir], { TESSERA_LOG_LEVEL: 'warn' });
    const sk = readFileSync(join(dataDir, 'secret-key'), 'utf8').trim();
    let call = apiClient(first.url);
    const sender = (await call('POST', '/v1/machines', { key: sk, body: { name: 'sender' } })).body;

    const acknowledgedTokens: Array<{ id: string; token: string }> = [];
    const acknowledgedRevokes = new Set<string>();
    // A revoke cut off by the kill may or may not have committed: either answer is honest.
    const attemptedRevokes = new Set<string>();
    const acknowledgedMachines: string[] = [];
    let stop = false;
    // Four writers keep creates and revokes in flight while the process is killed.
    const writer = async (n: number) => {
      while (!stop) {
        try {
          if (n === 0) {
            const res = await call('POST', '/v1/machines', { key: sk, body: { name: `m${acknowledgedMachines.length}` } });
            if (res.status === 200) acknowledgedMachines.push(res.body.id);
            continue;
          }
          const res = await call('POST', '/m2m_tokens', { key: sender.secret_key, body: {} });
          if (res.status !== 201) continue;
          acknowledgedTokens.push({ id: res.body.id, token: res.body.token });
          if (n === 1) {
            attemptedRevokes.add(res.body.id);
            const revoke = await call('POST', `/m2m_tokens/${res.body.id}/revoke`, { key: sk, body: {} });
            if (revoke.status === 200 && revoke.body.revoked === true) acknowledgedRevokes.add(res.body.id);
          }
        } catch {
          // Connection reset by the kill: not acknowledged, so nothing is promised.
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acknowledgedTokens.length < 150) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    stop = true;
    await Promise.all(writers);
    expect(acknowledgedRevokes.size).toBeGreaterThan(10);
    expect(acknowledgedMachines.length).toBeGreaterThan(5);

    const second = await spawnServer(['--data-dir', dataDir], { TESSERA_LOG_LEVEL: 'warn' });
    try {
      call = apiClient(second.url);
      for (const { id, token } of acknowledgedTokens) {
        const res = await call('POST', '/m2m_tokens/verify', { key: sk, body: { token } });
        if (acknowledgedRevokes.has(id)) {
          expect(res.status, `revoked ${id}`).toBe(404);
          expect(res.body.errors[0].code).toBe('token_revoked');
        } else if (attemptedRevokes.has(id) && res.status === 404) {
          expect(res.body.errors[0].code, `revoke in flight for ${id}`).toBe('token_revoked');
        } else {
          expect(res.status, `token ${id}`).toBe(200);
        }
      }
      for (const id of acknowledgedMachines) {
        expect((await call('GET', `/v1/machines/${id}`, { key: sk })).status).toBe(200);
      }
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 60_000);
});
