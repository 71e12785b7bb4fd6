import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { M2MToken, TesseraAPIResponseError } from '../src/index.js';
import { isolateSdkEnv } from './helpers/env.js';
import { machineNetwork, recordingFetch, startTessera, type Tessera } from './helpers/tessera.js';

isolateSdkEnv();

let t: Tessera;
let net: Awaited<ReturnType<typeof machineNetwork>>;
beforeAll(async () => {
  t = await startTessera();
  net = await machineNetwork(t);
});
afterAll(async () => {
  await t?.stop();
});

const JWT = /^[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+$/;

async function rejection(promise: Promise<unknown>): Promise<TesseraAPIResponseError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TesseraAPIResponseError);
  return error as TesseraAPIResponseError;
}

describe('m2m.createToken', () => {
  it('posts the current body to /m2m_tokens (no /v1) with the client’s machine key and maps the answer', async () => {
    const recorder = recordingFetch();
    const sender = t.client({ machineSecretKey: net.sender.secretKey, fetch: recorder.fetch });
    const token = await sender.m2m.createToken();
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request!.method).toBe('POST');
    expect(request!.url.pathname).toBe('/m2m_tokens');
    expect(request!.headers.get('authorization')).toBe(`Bearer ${net.sender.secretKey}`);
    expect(request!.body).toEqual({ seconds_until_expiration: null, claims: null, token_format: 'opaque' });

    expect(token).toBeInstanceOf(M2MToken);
    expect(token).toMatchObject({ subject: net.sender.id, scopes: [net.receiver.id], claims: null, revoked: false, revocationReason: null, expired: false, lastUsedAt: null });
    expect(token.id).toMatch(/^mt_[0-9a-f]{32}$/);
    expect(token.token).toMatch(/^mt_/);
    expect(token.secret).toBe(token.token);
    // The machine's default TTL (3600 s) applies when none is given.
    expect(token.expiration! - token.createdAt).toBe(3_600_000);
  });

  it('with a per-call machine key on an instance-key client; snake-cases top-level keys only', async () => {
    const recorder = recordingFetch();
    const admin = t.client({ secretKey: t.sk, fetch: recorder.fetch });
    const claims = { someKey: { innerKey: 1 }, tier: 'gold' };
    const token = await admin.m2m.createToken({ machineSecretKey: net.sender.secretKey, secondsUntilExpiration: 1800, claims });
    expect(recorder.requests[0]!.headers.get('authorization')).toBe(`Bearer ${net.sender.secretKey}`);
    expect(recorder.requests[0]!.body).toEqual({ seconds_until_expiration: 1800, claims, token_format: 'opaque' });
    expect(token.claims).toEqual(claims);
    expect(token.expiration! - token.createdAt).toBe(1_800_000);
  });

  it('sends min_remaining_ttl_seconds and gets the live token back', async () => {
    const sender = t.client({ machineSecretKey: net.sender.secretKey });
    const first = await sender.m2m.createToken({ claims: { reuse: true }, secondsUntilExpiration: 600 });
    const again = await sender.m2m.createToken({ claims: { reuse: true }, secondsUntilExpiration: 600, minRemainingTtlSeconds: 300 });
    expect(again.id).toBe(first.id);
    expect(again.token).toBe(first.token);
  });

  it("tokenFormat 'jwt' returns a JWT whose id is its jti", async () => {
    const token = await t.client({ machineSecretKey: net.sender.secretKey }).m2m.createToken({ tokenFormat: 'jwt', claims: { a: 1 } });
    expect(token.token).toMatch(JWT);
    expect(token.claims).toEqual({ a: 1 });
  });

  it('refuses the instance key: 401 machine_secret_key_invalid', async () => {
    const error = await rejection(t.admin.m2m.createToken());
    expect(error.status).toBe(401);
    expect(error.errors[0]).toMatchObject({
      code: 'machine_secret_key_invalid',
      message: 'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.',
    });
  });
});

describe('m2m.revokeToken', () => {
  it('revokes with the minting machine’s key; the reason defaults to null and is always sent', async () => {
    const recorder = recordingFetch();
    const sender = t.client({ machineSecretKey: net.sender.secretKey, fetch: recorder.fetch });
    const token = await sender.m2m.createToken();
    const revoked = await sender.m2m.revokeToken({ m2mTokenId: token.id });
    expect(recorder.requests[1]!.url.pathname).toBe(`/m2m_tokens/${token.id}/revoke`);
    expect(recorder.requests[1]!.body).toEqual({ revocation_reason: null });
    expect(revoked).toMatchObject({ id: token.id, revoked: true, revocationReason: null });
    expect(revoked.token).toBeUndefined();
    expect(revoked.secret).toBeUndefined();
  });

  it('revokes with the instance key, echoing the reason', async () => {
    const token = await t.admin.m2m.createToken({ machineSecretKey: net.sender.secretKey });
    const revoked = await t.admin.m2m.revokeToken({ m2mTokenId: token.id, revocationReason: 'rotated' });
    expect(revoked).toMatchObject({ id: token.id, revoked: true, revocationReason: 'rotated' });
  });

  it('refuses an empty id locally', async () => {
    const recorder = recordingFetch();
    await expect(t.client({ secretKey: t.sk, fetch: recorder.fetch }).m2m.revokeToken({ m2mTokenId: '' })).rejects.toThrow(
      'A valid resource ID is required.',
    );
    expect(recorder.requests).toEqual([]);
  });

  it('answers 404 for a token the machine does not manage', async () => {
    const token = await t.admin.m2m.createToken({ machineSecretKey: net.sender.secretKey });
    const error = await rejection(t.client({ machineSecretKey: net.unscoped.secretKey }).m2m.revokeToken({ m2mTokenId: token.id }));
    expect(error.status).toBe(404);
    expect(error.errors[0]!.code).toBe('token_not_found');
  });
});

describe('m2m.verify', () => {
  it('verifies an opaque token with the receiver’s key and with the instance key', async () => {
    const token = await t.admin.m2m.createToken({ machineSecretKey: net.sender.secretKey, claims: { x: 1 } });
    const recorder = recordingFetch();
    const receiver = t.client({ machineSecretKey: net.receiver.secretKey, fetch: recorder.fetch });
    const verified = await receiver.m2m.verify({ token: token.token! });
    expect(recorder.requests.map((r) => [r.url.pathname, r.body])).toEqual([['/m2m_tokens/verify', { token: token.token }]]);
    expect(verified).toBeInstanceOf(M2MToken);
    expect(verified).toMatchObject({ id: token.id, subject: net.sender.id, scopes: [net.receiver.id], claims: { x: 1 } });
    expect(verified.token).toBeUndefined();
    expect((await t.admin.m2m.verify({ token: token.token! })).id).toBe(token.id);
    // verifyToken is the deprecated 2.9–2.x name.
    expect((await receiver.m2m.verifyToken({ token: token.token! })).id).toBe(token.id);
  });

  it('throws 404 for an unscoped receiver, a revoked token and garbage', async () => {
    const token = await t.admin.m2m.createToken({ machineSecretKey: net.sender.secretKey });
    const bystander = t.client({ machineSecretKey: net.unscoped.secretKey });
    expect((await rejection(bystander.m2m.verify({ token: token.token! }))).status).toBe(404);
    await t.admin.m2m.revokeToken({ m2mTokenId: token.id });
    const revoked = await rejection(t.admin.m2m.verify({ token: token.token! }));
    expect([revoked.status, revoked.errors[0]!.code]).toEqual([404, 'token_revoked']);
    expect((await rejection(t.admin.m2m.verify({ token: 'invalid' }))).status).toBe(404);
  });

  it('without any key sends no Authorization header and the server answers 401', async () => {
    const recorder = recordingFetch();
    const error = await rejection(t.client({ fetch: recorder.fetch }).m2m.verify({ token: 'mt_whatever' }));
    expect(error.status).toBe(401);
    expect(recorder.requests[0]!.headers.has('authorization')).toBe(false);
  });

  it('verifies a JWT locally, without calling /m2m_tokens/verify', async () => {
    const jwt = await t.admin.m2m.createToken({ machineSecretKey: net.sender.secretKey, tokenFormat: 'jwt', claims: { tier: 'gold' } });
    const recorder = recordingFetch();
    const verified = await t.client({ machineSecretKey: net.receiver.secretKey, fetch: recorder.fetch }).m2m.verify({ token: jwt.token! });
    expect(verified).toMatchObject({
      id: jwt.id,
      subject: net.sender.id,
      scopes: [net.receiver.id],
      claims: { tier: 'gold' },
      revoked: false,
      expired: false,
      expiration: jwt.expiration,
    });
    expect(recorder.requests.map((r) => r.url.pathname).sort()).toEqual(['/v1/jwks', '/v1/jwt_revocations', '/v1/machine_identity']);
  });
});

describe('m2m.list', () => {
  it('sends subject, true flags, limit and offset; skips falsy values; keeps the machine key out of the query', async () => {
    const lister = (await t.admin.machines.create({ name: 'lister' })) as { id: string; secretKey: string };
    const client = t.client({ machineSecretKey: lister.secretKey });
    const minted: M2MToken[] = [];
    for (let i = 0; i < 4; i++) minted.push(await client.m2m.createToken({ claims: { i } }));
    await client.m2m.revokeToken({ m2mTokenId: minted[0]!.id });

    const recorder = recordingFetch();
    const admin = t.client({ secretKey: t.sk, fetch: recorder.fetch });
    const live = await admin.m2m.list({ subject: lister.id, revoked: false, expired: false, limit: 10, offset: 0, machineSecretKey: lister.secretKey });
    expect(recorder.requests[0]!.url.pathname).toBe('/m2m_tokens');
    expect(recorder.requests[0]!.url.search).toBe(`?subject=${lister.id}&limit=10`);
    expect(recorder.requests[0]!.headers.get('authorization')).toBe(`Bearer ${lister.secretKey}`);
    expect(live.totalCount).toBe(3);
    expect(live.data.every((token) => token instanceof M2MToken)).toBe(true);
    expect(live.data.map((token) => token.id)).toEqual(minted.slice(1).reverse().map((token) => token.id));

    const all = await admin.m2m.list({ subject: lister.id, revoked: true, limit: 2, offset: 2 });
    expect(recorder.requests[1]!.url.search).toBe(`?subject=${lister.id}&revoked=true&limit=2&offset=2`);
    expect(all.totalCount).toBe(4);
    expect(all.data.map((token) => token.id)).toEqual([minted[1]!.id, minted[0]!.id]);
    expect(all.data[1]!.revoked).toBe(true);
  });

  it('a machine key may list only its own machine’s tokens (403)', async () => {
    const error = await rejection(t.client({ machineSecretKey: net.unscoped.secretKey }).m2m.list({ subject: net.sender.id }));
    expect(error.status).toBe(403);
  });
});

describe('m2mTokens (seed era) is the same implementation', () => {
  it('create, verifySecret and revoke', async () => {
    const recorder = recordingFetch();
    const sender = t.client({ machineSecretKey: net.sender.secretKey, fetch: recorder.fetch });
    const token = await sender.m2mTokens.create({ secondsUntilExpiration: 3600, claims: { seed: true } });
    expect(token).toBeInstanceOf(M2MToken);
    expect(token.secret).toMatch(/^mt_/);
    const receiver = t.client({ machineSecretKey: net.receiver.secretKey });
    expect(await receiver.m2mTokens.verifySecret({ secret: token.secret! })).toMatchObject({ id: token.id, claims: { seed: true } });
    expect(await sender.m2mTokens.revoke({ m2mTokenId: token.id, revocationReason: 'Revoked by user' })).toMatchObject({
      revoked: true,
      revocationReason: 'Revoked by user',
    });
    expect(recorder.requests.map((r) => [r.url.pathname, r.body])).toEqual([
      ['/m2m_tokens', { seconds_until_expiration: 3600, claims: { seed: true }, token_format: 'opaque' }],
      [`/m2m_tokens/${token.id}/revoke`, { revocation_reason: 'Revoked by user' }],
    ]);
    expect((await rejection(receiver.m2mTokens.verifySecret({ secret: token.secret! }))).status).toBe(404);
  });

  it('per-call machineSecretKey wins over the client’s keys', async () => {
    const recorder = recordingFetch();
    const client = t.client({ secretKey: t.sk, machineSecretKey: net.unscoped.secretKey, fetch: recorder.fetch });
    const token = await client.m2mTokens.create({ machineSecretKey: net.sender.secretKey });
    expect(token.subject).toBe(net.sender.id);
    await client.m2mTokens.revoke({ m2mTokenId: token.id, machineSecretKey: net.sender.secretKey });
    const fromClientKey = await client.m2mTokens.create();
    expect(fromClientKey.subject).toBe(net.unscoped.id);
    expect(recorder.requests.map((r) => r.headers.get('authorization'))).toEqual([
      `Bearer ${net.sender.secretKey}`,
      `Bearer ${net.sender.secretKey}`,
      // The client's machine key comes before its instance key for M2M routes.
      `Bearer ${net.unscoped.secretKey}`,
    ]);
  });
});
