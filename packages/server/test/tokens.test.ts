import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineNetwork, sleep, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

describe('M2M tokens: create, verify, revoke, list', () => {
  it('mints an opaque token that the scoped receiver verifies', async () => {
    const { receiver, sender } = await machineNetwork(t);
    const created = await t.token(sender.secret_key, { claims: { tier: 'gold' }, seconds_until_expiration: 1800 });
    expect(created).toMatchObject({
      object: 'machine_to_machine_token',
      subject: sender.id,
      scopes: [receiver.id],
      claims: { tier: 'gold' },
      revoked: false,
      revocation_reason: null,
      expired: false,
      last_used_at: null,
    });
    expect(created.id).toMatch(/^mt_[0-9a-f]{32}$/);
    // mt_ + the token ID's 32 hex + 43 random base62 + a 6-character checksum.
    expect(created.token).toMatch(/^mt_[0-9a-f]{32}[0-9A-Za-z]{49}$/);
    expect(created.token.slice(0, 35)).toBe(created.id);
    expect(created.secret).toBe(created.token);
    expect(created.expiration - created.created_at).toBe(1800_000);

    const verified = await t.call('POST', '/m2m_tokens/verify', { key: receiver.secret_key, body: { token: created.token } });
    expect(verified.status).toBe(200);
    expect(verified.headers.get('content-type')).toBe('application/json');
    expect(verified.body.id).toBe(created.id);
    expect(verified.body.token).toBeUndefined();
    expect(verified.body.secret).toBeUndefined();
    expect(verified.body.last_used_at).toBeGreaterThanOrEqual(created.created_at);
  });

  it('refuses a token whose sender has no scope for the receiver, as not found', async () => {
    const { receiver, unscoped } = await machineNetwork(t);
    const created = await t.token(unscoped.secret_key);
    const res = await t.call('POST', '/m2m_tokens/verify', { key: receiver.secret_key, body: { token: created.token } });
    expect(res.status).toBe(404);
    expect(res.body.errors[0].code).toBe('token_not_found');
    // The instance key sees every token: no scope check.
    const bySk = await t.call('POST', '/m2m_tokens/verify', { key: t.sk, body: { token: created.token } });
    expect(bySk.status).toBe(200);
  });

  it('applies a scope added later only to tokens minted after it', async () => {
    const { receiver, unscoped } = await machineNetwork(t);
    const before = await t.token(unscoped.secret_key);
    const scope = await t.call('POST', `/v1/machines/${unscoped.id}/scopes`, { key: t.sk, body: { to_machine_id: receiver.id } });
    expect(scope.status).toBe(200);
    const after = await t.token(unscoped.secret_key);
    const verify = (token: string) => t.call('POST', '/m2m_tokens/verify', { key: receiver.secret_key, body: { token } });
    expect((await verify(before.token)).status).toBe(404);
    expect((await verify(after.token)).status).toBe(200);
  });

  it('expires a token with a short TTL and one with the machine default', async () => {
    const receiver = await t.machine('r');
    const sender = await t.machine('s', { scopedMachines: [receiver.id], defaultTokenTtl: 1 });
    const short = await t.token(sender.secret_key, { seconds_until_expiration: 1 });
    const byDefault = await t.token(sender.secret_key, { seconds_until_expiration: null });
    expect(byDefault.expiration - byDefault.created_at).toBe(1000);
    const verify = (token: string) => t.call('POST', '/m2m_tokens/verify', { key: receiver.secret_key, body: { token } });
    expect((await verify(short.token)).status).toBe(200);
    await sleep(1100);
    for (const token of [short.token, byDefault.token]) {
      const res = await verify(token);
      expect(res.status).toBe(404);
      expect(res.body.errors[0].code).toBe('token_expired');
    }
  });

  it('revokes a token; it then fails verification with token_revoked', async () => {
    const { receiver, sender } = await machineNetwork(t);
    const created = await t.token(sender.secret_key);
    const revoked = await t.call('POST', `/m2m_tokens/${created.id}/revoke`, {
      key: sender.secret_key,
      body: { revocation_reason: 'rotated out' },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: created.id, revoked: true, revocation_reason: 'rotated out' });
    expect(revoked.body.token).toBeUndefined();
    const res = await t.call('POST', '/m2m_tokens/verify', { key: receiver.secret_key, body: { token: created.token } });
    expect(res.status).toBe(404);
    expect(res.body.errors[0].code).toBe('token_revoked');
    // Revoking again changes nothing and keeps the first reason.
    const again = await t.call('POST', `/v1/m2m_tokens/${created.id}/revoke`, { key: t.sk, body: { revocation_reason: 'other' } });
    expect(again.status).toBe(200);
    expect(again.body.revocation_reason).toBe('rotated out');
  });

  it('lists tokens newest first with revoked/expired filters and pagination', async () => {
    const sender = await t.machine('lister', { defaultTokenTtl: 3600 });
    const minted = [];
    for (let i = 0; i < 5; i++) minted.push(await t.token(sender.secret_key, { claims: { i } }));
    const short = await t.token(sender.secret_key, { seconds_until_expiration: 1 });
    await t.call('POST', `/m2m_tokens/${minted[0].id}/revoke`, { key: t.sk, body: {} });
    await sleep(1100);
    const list = (query: string, key = sender.secret_key) => t.call('GET', `/m2m_tokens?subject=${sender.id}${query}`, { key });

    const live = await list('&limit=10');
    expect(live.status).toBe(200);
    expect(live.body.total_count).toBe(4);
    expect(live.body.m2m_tokens.map((x: any) => x.id)).toEqual(minted.slice(1).reverse().map((x) => x.id));
    expect(live.body.m2m_tokens[0].token).toBeUndefined();

    expect((await list('&revoked=true')).body.total_count).toBe(5);
    expect((await list('&expired=true')).body.total_count).toBe(5);
    const all = await list('&revoked=true&expired=true', t.sk);
    expect(all.body.total_count).toBe(6);
    expect(all.body.m2m_tokens[0].id).toBe(short.id);
    expect(all.body.m2m_tokens[0].expired).toBe(true);

    const page = await list('&revoked=true&expired=true&limit=2&offset=2');
    expect(page.body.total_count).toBe(6);
    expect(page.body.m2m_tokens.map((x: any) => x.id)).toEqual([minted[3].id, minted[2].id]);
  });

  it('reuses a live token with the same claims and scopes for min_remaining_ttl_seconds', async () => {
    const { sender } = await machineNetwork(t);
    const first = await t.token(sender.secret_key, { claims: { a: 1, b: [1, 2] }, seconds_until_expiration: 600 });
    const reused = await t.token(sender.secret_key, {
      claims: { b: [1, 2], a: 1 },
      seconds_until_expiration: 600,
      min_remaining_ttl_seconds: 300,
    });
    expect(reused.id).toBe(first.id);
    expect(reused.token).toBe(first.token);
    const otherClaims = await t.token(sender.secret_key, { claims: { a: 2 }, min_remaining_ttl_seconds: 300 });
    expect(otherClaims.id).not.toBe(first.id);
    const tooLittleLeft = await t.token(sender.secret_key, {
      claims: { a: 1, b: [1, 2] },
      seconds_until_expiration: 3600,
      min_remaining_ttl_seconds: 700,
    });
    expect(tooLittleLeft.id).not.toBe(first.id);
    await t.call('POST', `/m2m_tokens/${first.id}/revoke`, { key: t.sk, body: {} });
    const afterRevoke = await t.token(sender.secret_key, { claims: { a: 1, b: [1, 2] }, min_remaining_ttl_seconds: 1 });
    // The revoked token is never handed out again; the other live one with equal claims is.
    expect(afterRevoke.id).toBe(tooLittleLeft.id);
  });

  it('rejects min_remaining_ttl_seconds not below the lifetime', async () => {
    const sender = await t.machine('ttl', { defaultTokenTtl: 100 });
    const res = await t.call('POST', '/m2m_tokens', { key: sender.secret_key, body: { min_remaining_ttl_seconds: 100 } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].meta.param_name).toBe('min_remaining_ttl_seconds');
  });

  it('gives 40 concurrent creates 40 distinct tokens that all verify', async () => {
    const { receiver, sender } = await machineNetwork(t);
    const created = await Promise.all(Array.from({ length: 40 }, () => t.token(sender.secret_key)));
    expect(new Set(created.map((c) => c.id)).size).toBe(40);
    expect(new Set(created.map((c) => c.token)).size).toBe(40);
    const verified = await Promise.all(
      created.map((c) => t.call('POST', '/m2m_tokens/verify', { key: receiver.secret_key, body: { token: c.token } })),
    );
    expect(verified.map((v) => v.status)).toEqual(Array(40).fill(200));
  });
});
