import { exportSPKI, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClerkClient } from '../src/index.js';
import { isolateSdkEnv } from './helpers/env.js';
import { bearer, machineNetwork, recordingFetch, startTessera, type Tessera } from './helpers/tessera.js';

isolateSdkEnv();

// M2M JWTs minted by the real server, verified by the SDK against its /v1/jwks,
// /v1/machine_identity and /v1/jwt_revocations.
let t: Tessera;
let net: Awaited<ReturnType<typeof machineNetwork>>;
beforeAll(async () => {
  t = await startTessera();
  net = await machineNetwork(t);
});
afterAll(async () => {
  await t?.stop();
});

const mintJwt = (claims: Record<string, unknown> | null = null) =>
  t.client({ machineSecretKey: net.sender.secretKey }).m2m.createToken({ tokenFormat: 'jwt', claims });
const paths = (requests: { method: string; url: URL }[]) => requests.map((r) => `${r.method} ${r.url.pathname}`);

describe('JWT verification against the server’s keys', () => {
  it('fetches the JWKS and the receiver’s identity once, the revocation list once per TTL', async () => {
    const recorder = recordingFetch();
    const receiver = t.client({ machineSecretKey: net.receiver.secretKey, fetch: recorder.fetch, revocationCacheTtlInMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      const jwt = await mintJwt({ i });
      const state = await receiver.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' });
      expect(state.isAuthenticated && state.toAuth().claims).toEqual({ i });
    }
    expect(paths(recorder.requests).sort()).toEqual(['GET /v1/jwks', 'GET /v1/jwt_revocations', 'GET /v1/machine_identity']);
    const identity = recorder.requests.find((r) => r.url.pathname === '/v1/machine_identity')!;
    expect(identity.headers.get('authorization')).toBe(`Bearer ${net.receiver.secretKey}`);
  });

  it('a given machineId saves the identity lookup', async () => {
    const recorder = recordingFetch();
    const receiver = t.client({ machineSecretKey: net.receiver.secretKey, machineId: net.receiver.id, fetch: recorder.fetch });
    expect((await receiver.authenticateRequest(bearer((await mintJwt()).token!), { acceptsToken: 'm2m_token' })).isAuthenticated).toBe(true);
    expect(paths(recorder.requests)).not.toContain('GET /v1/machine_identity');
  });

  it('refuses a revoked JWT once the revocation list is refreshed', async () => {
    const jwt = await mintJwt();
    const receiver = t.client({ machineSecretKey: net.receiver.secretKey, revocationCacheTtlInMs: 0 });
    expect((await receiver.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' })).isAuthenticated).toBe(true);
    await t.client({ machineSecretKey: net.sender.secretKey }).m2m.revokeToken({ m2mTokenId: jwt.id, revocationReason: 'leaked' });
    const state = await receiver.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' });
    expect([state.reason, state.message]).toEqual(['token-invalid', 'The M2M token has been revoked. (code=token-invalid, status=n/a)']);
    // The instance key sees the same list.
    const instance = t.client({ secretKey: t.sk });
    expect((await instance.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' })).reason).toBe('token-invalid');
  });

  it('with the instance key there is no receiver: any scoped or unscoped JWT of the instance passes', async () => {
    const unscoped = await t.client({ machineSecretKey: net.unscoped.secretKey }).m2m.createToken({ tokenFormat: 'jwt' });
    const state = await t.client({ secretKey: t.sk }).authenticateRequest(bearer(unscoped.token!), { acceptsToken: 'm2m_token' });
    expect(state.isAuthenticated && state.toAuth()).toMatchObject({ subject: net.unscoped.id, scopes: [] });
  });

  it('an unknown kid refetches the JWKS at most once per cooldown', async () => {
    const recorder = recordingFetch();
    const jwt = await mintJwt();
    const [header, payload, signature] = jwt.token!.split('.');
    const decoded = JSON.parse(Buffer.from(header!, 'base64url').toString());
    const unknownKid = `${Buffer.from(JSON.stringify({ ...decoded, kid: 'key_unknown' })).toString('base64url')}.${payload}.${signature}`;

    const patient = t.client({ secretKey: t.sk, fetch: recorder.fetch, jwksRefetchCooldownInMs: 3_600_000 });
    expect((await patient.m2m.verify({ token: jwt.token! })).id).toBe(jwt.id);
    for (let i = 0; i < 5; i++) {
      await expect(patient.m2m.verify({ token: unknownKid })).rejects.toMatchObject({
        code: 'token-verification-failed',
        message: 'No signing key with kid "key_unknown" in the server\'s JWKS.',
      });
    }
    expect(paths(recorder.requests).filter((p) => p === 'GET /v1/jwks')).toHaveLength(1);

    recorder.requests.length = 0;
    const eager = t.client({ secretKey: t.sk, fetch: recorder.fetch, jwksRefetchCooldownInMs: 0 });
    await eager.m2m.verify({ token: jwt.token! });
    await expect(eager.m2m.verify({ token: unknownKid })).rejects.toMatchObject({ code: 'token-verification-failed' });
    expect(paths(recorder.requests).filter((p) => p === 'GET /v1/jwks')).toHaveLength(2);
  });

  it('finds a key rotated in after the JWKS was cached', async () => {
    const recorder = recordingFetch();
    const receiver = t.client({ machineSecretKey: net.receiver.secretKey, fetch: recorder.fetch, jwksRefetchCooldownInMs: 0 });
    expect((await receiver.m2m.verify({ token: (await mintJwt()).token! })).subject).toBe(net.sender.id);
    const rotated = await fetch(`${t.url}/v1/jwks/rotate`, { method: 'POST', headers: { authorization: `Bearer ${t.sk}` } });
    expect(rotated.status).toBe(200);
    const after = await mintJwt();
    expect((await receiver.m2m.verify({ token: after.token! })).id).toBe(after.id);
    expect(paths(recorder.requests).filter((p) => p === 'GET /v1/jwks')).toHaveLength(2);
  });

  it('verifies networkless with the server’s public key as jwtKey (PEM)', async () => {
    const jwks = (await (await fetch(`${t.url}/v1/jwks`)).json()) as { keys: JWK[] };
    const jwt = await mintJwt({ tier: 'gold' });
    const kid = JSON.parse(Buffer.from(jwt.token!.split('.')[0]!, 'base64url').toString()).kid as string;
    const pem = await exportSPKI((await importJWK(jwks.keys.find((k) => k.kid === kid)!, 'RS256', { extractable: true })) as CryptoKey);

    const recorder = recordingFetch();
    const networkless = createClerkClient({ apiUrl: t.url, jwtKey: pem, machineId: net.receiver.id, fetch: recorder.fetch });
    const state = await networkless.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' });
    expect(state.isAuthenticated && state.toAuth()).toMatchObject({ id: jwt.id, subject: net.sender.id, claims: { tier: 'gold' } });
    expect(recorder.requests).toEqual([]);
  });

  it('fails closed when the revocation list is older than its max age and cannot be refreshed', async () => {
    const other = await startTessera();
    try {
      const [receiver, sender] = await Promise.all([
        other.admin.machines.create({ name: 'r' }),
        other.admin.machines.create({ name: 's' }),
      ]);
      await other.admin.machines.createScope(sender.id, receiver.id);
      const jwt = await other.client({ machineSecretKey: sender.secretKey }).m2m.createToken({ tokenFormat: 'jwt' });
      const tolerant = other.client({ machineSecretKey: receiver.secretKey, revocationCacheTtlInMs: 0, revocationMaxAgeInMs: 3_600_000 });
      const strict = other.client({ machineSecretKey: receiver.secretKey, revocationCacheTtlInMs: 0, revocationMaxAgeInMs: 0 });
      for (const client of [tolerant, strict]) {
        expect((await client.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' })).isAuthenticated).toBe(true);
      }
      await other.stop();
      // JWKS and identity are cached; only the revocation list needs the server.
      expect((await tolerant.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' })).isAuthenticated).toBe(true);
      const refused = await strict.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' });
      expect([refused.status, refused.reason, refused.message]).toEqual([
        'signed-out',
        'unexpected-error',
        'The JWT revocation list could not be fetched from the Tessera server; JWTs are refused until it can be. (code=unexpected-error, status=n/a)',
      ]);
    } finally {
      await other.stop();
    }
  });
});
