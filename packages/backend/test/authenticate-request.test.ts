import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClerkClient, M2MToken } from '../src/index.js';
import { bearer, machineNetwork, recordingFetch, requestWith, startTessera, type Tessera } from './helpers/tessera.js';
import { expectSignedIn, expectSignedOut } from './helpers/states.js';
import { isolateSdkEnv } from './helpers/env.js';

isolateSdkEnv();

let t: Tessera;
let net: Awaited<ReturnType<typeof machineNetwork>>;
/** The receiver R: verifies with its own machine key, as the spec's receiving app does. */
let receiver: ClerkClient;
let scoped: M2MToken;
let unscoped: M2MToken;

beforeAll(async () => {
  t = await startTessera();
  net = await machineNetwork(t);
  receiver = t.client({ machineSecretKey: net.receiver.secretKey });
  // As in the spec's setup: the instance-key client, the per-call machine key overriding it.
  scoped = await t.admin.m2m.createToken({ machineSecretKey: net.sender.secretKey, secondsUntilExpiration: 1800, claims: { job: 'sync' } });
  unscoped = await t.admin.m2m.createToken({ machineSecretKey: net.unscoped.secretKey, secondsUntilExpiration: 1800 });
});
afterAll(async () => {
  await t?.stop();
});

/** A JWT shaped like a Clerk session token, signed by a key Tessera has never seen. */
async function sessionLikeJwt(header: Record<string, unknown> = { cat: 'cl_B7d4PD111AAA' }): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({ sid: 'sess_123' })
    .setProtectedHeader({ alg: 'RS256', kid: 'ins_session', typ: 'JWT', ...header })
    .setSubject('user_2abc')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);
}

const NOT_FOUND = 'Machine token not found (code=token-invalid, status=404)';

describe("acceptsToken: 'm2m_token'", () => {
  it('signs in a scoped sender’s opaque token with every RequestState and toAuth field', async () => {
    const state = await receiver.authenticateRequest(bearer(scoped.token!), { acceptsToken: 'm2m_token' });
    await expectSignedIn(state, { token: scoped.token!, id: scoped.id, subject: net.sender.id, scopes: [net.receiver.id], claims: { job: 'sync' } });
  });

  it('signs in a scoped sender’s JWT, verified locally', async () => {
    const jwt = await t.admin.m2m.createToken({ machineSecretKey: net.sender.secretKey, tokenFormat: 'jwt', claims: { job: 'sync' } });
    const state = await receiver.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' });
    await expectSignedIn(state, { token: jwt.token!, id: jwt.id, subject: net.sender.id, scopes: [net.receiver.id], claims: { job: 'sync' } });
  });

  it('refuses an unscoped sender’s opaque token as not found', async () => {
    const state = await receiver.authenticateRequest(bearer(unscoped.token!), { acceptsToken: 'm2m_token' });
    await expectSignedOut(state, { tokenType: 'm2m_token', reason: 'token-invalid', message: NOT_FOUND });
  });

  it('refuses an unscoped sender’s JWT: the receiver is not in aud', async () => {
    const jwt = await t.admin.m2m.createToken({ machineSecretKey: net.unscoped.secretKey, tokenFormat: 'jwt' });
    const state = await receiver.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' });
    await expectSignedOut(state, {
      tokenType: 'm2m_token',
      reason: 'token-invalid',
      message: 'The M2M token is not scoped to this machine. (code=token-invalid, status=n/a)',
    });
  });

  it('accepts any token of the instance when verifying with the instance key (no scope check, as the server)', async () => {
    const instance = t.client({ secretKey: t.sk });
    const state = await instance.authenticateRequest(bearer(unscoped.token!), { acceptsToken: 'm2m_token' });
    expect(state.isAuthenticated).toBe(true);
  });

  it('refuses a revoked opaque token', async () => {
    const token = await t.admin.m2m.createToken({ machineSecretKey: net.sender.secretKey });
    expect((await receiver.authenticateRequest(bearer(token.token!), { acceptsToken: 'm2m_token' })).isAuthenticated).toBe(true);
    await t.admin.m2m.revokeToken({ m2mTokenId: token.id, revocationReason: 'compromised' });
    const state = await receiver.authenticateRequest(bearer(token.token!), { acceptsToken: 'm2m_token' });
    await expectSignedOut(state, { tokenType: 'm2m_token', reason: 'token-invalid', message: NOT_FOUND });
  });

  it('refuses an expired opaque token', async () => {
    const token = await t.admin.m2m.createToken({ machineSecretKey: net.sender.secretKey, secondsUntilExpiration: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const state = await receiver.authenticateRequest(bearer(token.token!), { acceptsToken: 'm2m_token' });
    await expectSignedOut(state, { tokenType: 'm2m_token', reason: 'token-invalid', message: NOT_FOUND });
  });

  it('refuses an expired JWT locally, naming the expiry', async () => {
    const jwt = await t.admin.m2m.createToken({ machineSecretKey: net.sender.secretKey, tokenFormat: 'jwt', secondsUntilExpiration: 1 });
    while (Date.now() < jwt.expiration!) await new Promise((resolve) => setTimeout(resolve, 50));
    const state = await receiver.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token', clockSkewInMs: 0 });
    expect(state.reason).toBe('token-verification-failed');
    expect(state.message).toMatch(/^JWT is expired\. Expiry date: .+ \(code=token-verification-failed, status=n\/a\)$/);
    await expectSignedOut(state, { tokenType: 'm2m_token', reason: 'token-verification-failed', message: state.message! });
  });

  it('without an Authorization header: signed out, "No token in header"', async () => {
    await expectSignedOut(await receiver.authenticateRequest(requestWith(), { acceptsToken: 'm2m_token' }), {
      tokenType: 'm2m_token',
      reason: 'No token in header',
    });
  });

  it('never reads a token from the __session cookie', async () => {
    const request = new Request('http://receiver.test/', { headers: { cookie: `__session=${scoped.token}` } });
    await expectSignedOut(await receiver.authenticateRequest(request, { acceptsToken: 'm2m_token' }), {
      tokenType: 'm2m_token',
      reason: 'No token in header',
    });
  });

  it('garbage that is no machine token is a type mismatch, decided without the server', async () => {
    const recorder = recordingFetch();
    const client = t.client({ machineSecretKey: net.receiver.secretKey, fetch: recorder.fetch });
    for (const value of ['Bearer garbage', 'Bearer ak_test_mismatch', 'Bearer oat_test_mismatch', `Bearer ${await sessionLikeJwt()}`]) {
      await expectSignedOut(await client.authenticateRequest(requestWith(value), { acceptsToken: 'm2m_token' }), {
        tokenType: 'm2m_token',
        reason: 'token-type-mismatch',
      });
    }
    expect(recorder.requests).toEqual([]);
  });

  it('garbage with the mt_ prefix goes to the server and is not found', async () => {
    await expectSignedOut(await receiver.authenticateRequest(bearer('mt_xxx'), { acceptsToken: 'm2m_token' }), {
      tokenType: 'm2m_token',
      reason: 'token-invalid',
      message: NOT_FOUND,
    });
  });

  it('reads only `Bearer <token>` or a bare token: another scheme carries none', async () => {
    const bare = await receiver.authenticateRequest(requestWith(scoped.token!), { acceptsToken: 'm2m_token' });
    expect(bare.isAuthenticated).toBe(true);
    const basic = await receiver.authenticateRequest(requestWith(`Basic ${scoped.token}`), { acceptsToken: 'm2m_token' });
    await expectSignedOut(basic, { tokenType: 'm2m_token', reason: 'No token in header' });
  });

  it('verifies with the per-call machineSecretKey over the client’s', async () => {
    const recorder = recordingFetch();
    const client = t.client({ machineSecretKey: net.unscoped.secretKey, fetch: recorder.fetch });
    expect((await client.authenticateRequest(bearer(scoped.token!), { acceptsToken: 'm2m_token' })).isAuthenticated).toBe(false);
    const state = await client.authenticateRequest(bearer(scoped.token!), { acceptsToken: 'm2m_token', machineSecretKey: net.receiver.secretKey });
    expect(state.isAuthenticated).toBe(true);
    expect(recorder.requests.map((r) => [r.method, r.url.pathname, r.headers.get('authorization'), r.body])).toEqual([
      ['POST', '/m2m_tokens/verify', `Bearer ${net.unscoped.secretKey}`, { token: scoped.token }],
      ['POST', '/m2m_tokens/verify', `Bearer ${net.receiver.secretKey}`, { token: scoped.token }],
    ]);
  });

  it('throws when it has no key at all to verify with', async () => {
    const client = t.client({ secretKey: undefined, machineSecretKey: undefined, jwtKey: undefined });
    await expect(client.authenticateRequest(bearer(scoped.token!), { acceptsToken: 'm2m_token' })).rejects.toThrow(
      /requires a machine secret key, a secret key or a JWT key/,
    );
  });
});

describe('other single token types', () => {
  it("'api_key' and 'oauth_token': Tessera issues neither, so their values are refused locally as token-invalid", async () => {
    const recorder = recordingFetch();
    const client = t.client({ secretKey: t.sk, fetch: recorder.fetch });
    await expectSignedOut(await client.authenticateRequest(bearer('ak_test_value'), { acceptsToken: 'api_key' }), {
      tokenType: 'api_key',
      reason: 'token-invalid',
      message: 'API keys are not issued by Tessera (code=token-invalid, status=n/a)',
    });
    await expectSignedOut(await client.authenticateRequest(bearer('oat_test_value'), { acceptsToken: 'oauth_token' }), {
      tokenType: 'oauth_token',
      reason: 'token-invalid',
      message: 'OAuth access tokens are not issued by Tessera (code=token-invalid, status=n/a)',
    });
    expect(recorder.requests).toEqual([]);
  });

  it('an M2M token on an api_key or oauth_token route is a type mismatch', async () => {
    for (const acceptsToken of ['api_key', 'oauth_token'] as const) {
      await expectSignedOut(await receiver.authenticateRequest(bearer(scoped.token!), { acceptsToken }), {
        tokenType: acceptsToken,
        reason: 'token-type-mismatch',
      });
    }
  });

  it("'session_token' (the default): machine tokens mismatch, session-looking JWTs are unsupported", async () => {
    await expectSignedOut(await receiver.authenticateRequest(bearer(scoped.token!)), { tokenType: 'session_token', reason: 'token-type-mismatch' });
    await expectSignedOut(await receiver.authenticateRequest(bearer(await sessionLikeJwt()), { acceptsToken: 'session_token' }), {
      tokenType: 'session_token',
      reason: 'session-token-unsupported',
      message: "Tessera issues no session tokens; protect machine routes with acceptsToken: 'm2m_token'.",
    });
    // A JWT of another Clerk category (a JWT template token) is not a session token either.
    await expectSignedOut(await receiver.authenticateRequest(bearer(await sessionLikeJwt({ cat: 'cl_B7d4PD222AAA' }))), {
      tokenType: 'session_token',
      reason: 'token-type-mismatch',
    });
    await expectSignedOut(await receiver.authenticateRequest(bearer('not-a-jwt')), {
      tokenType: 'session_token',
      reason: 'token-invalid',
      message: 'The Authorization header does not carry a recognisable token.',
    });
    await expectSignedOut(await receiver.authenticateRequest(requestWith()), { tokenType: 'session_token', reason: 'No token in header' });
  });
});

describe('arrays and any', () => {
  it("['session_token', 'm2m_token'] signs in an M2M token and reports its type", async () => {
    const state = await receiver.authenticateRequest(bearer(scoped.token!), { acceptsToken: ['session_token', 'm2m_token'] });
    await expectSignedIn(state, { token: scoped.token!, id: scoped.id, subject: net.sender.id, scopes: [net.receiver.id], claims: { job: 'sync' } });
  });

  it("['session_token', 'm2m_token'] with a session-looking JWT: session-token-unsupported", async () => {
    const state = await receiver.authenticateRequest(bearer(await sessionLikeJwt()), { acceptsToken: ['session_token', 'm2m_token'] });
    expect(state).toMatchObject({ tokenType: 'session_token', reason: 'session-token-unsupported' });
  });

  it("['api_key', 'oauth_token'] with an M2M token: tokenType null, mismatch, no verification", async () => {
    const recorder = recordingFetch();
    const client = t.client({ machineSecretKey: net.receiver.secretKey, fetch: recorder.fetch });
    const state = await client.authenticateRequest(bearer(scoped.token!), { acceptsToken: ['api_key', 'oauth_token'] });
    await expectSignedOut(state, { tokenType: null, reason: 'token-type-mismatch' });
    expect(recorder.requests).toEqual([]);
  });

  it("['api_key', 'm2m_token'] without a header counts as a session: tokenType null, mismatch", async () => {
    await expectSignedOut(await receiver.authenticateRequest(requestWith(), { acceptsToken: ['api_key', 'm2m_token'] }), {
      tokenType: null,
      reason: 'token-type-mismatch',
    });
  });

  it("['m2m_token'] refuses an unscoped token like the single type does", async () => {
    await expectSignedOut(await receiver.authenticateRequest(bearer(unscoped.token!), { acceptsToken: ['m2m_token'] }), {
      tokenType: 'm2m_token',
      reason: 'token-invalid',
      message: NOT_FOUND,
    });
  });

  it("'any' signs in an M2M token, refuses API keys locally and sees no header as a session", async () => {
    const state = await receiver.authenticateRequest(bearer(scoped.token!), { acceptsToken: 'any' });
    await expectSignedIn(state, { token: scoped.token!, id: scoped.id, subject: net.sender.id, scopes: [net.receiver.id], claims: { job: 'sync' } });
    expect(await receiver.authenticateRequest(bearer('ak_test_value'), { acceptsToken: 'any' })).toMatchObject({
      tokenType: 'api_key',
      reason: 'token-invalid',
    });
    await expectSignedOut(await receiver.authenticateRequest(requestWith(), { acceptsToken: 'any' }), {
      tokenType: 'session_token',
      reason: 'No token in header',
    });
  });
});
