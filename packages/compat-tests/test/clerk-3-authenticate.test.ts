/**
 * The current published client (@clerk/backend 3.x): `authenticateRequest` in Hono routes
 * in front of a real Tessera server, with opaque and JWT M2M tokens; the end-to-end
 * scenarios 1–9 of spec section 5 (no session tokens: Tessera issues none).
 *
 * Receivers, as Clerk users configure them:
 * - `m2mRoute`: CLERK_SECRET_KEY + CLERK_MACHINE_SECRET_KEY (the receiver R's ak_ key),
 *   `authenticateRequest(c.req.raw, { acceptsToken: 'm2m_token' })`.
 * - `framework`: the same keys plus a publishable key, `acceptsToken: 'any'` in the
 *   middleware and `getAuthObjectForAcceptedToken` per route, as @clerk/express, hono,
 *   fastify and next do.
 */
import { createClerkClient, type Machine } from '@clerk/backend';
import { getAuthObjectForAcceptedToken } from '@clerk/backend/internal';
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { PUBLISHABLE_KEY, waitUntilPast } from './helpers/util.js';

type Client = ReturnType<typeof createClerkClient>;
type Token = Awaited<ReturnType<Client['m2m']['createToken']>>;
type AcceptsToken = Parameters<typeof getAuthObjectForAcceptedToken>[0]['acceptsToken'];

const NOT_FOUND = 'Machine token not found (code=token-invalid, status=404)';
const UNREACHABLE_API = 'http://127.0.0.1:9';

let t: TestServer;
let admin: Client;
let R: Machine; // "Primary API Server": the receiver
let S: Machine; // "Scoped Sender": S → R
let U: Machine; // "Unscoped Sender"
let tS: Token;
let tU: Token;
let receiverClient: Client;
let m2mRoute: Receiver;
let framework: Receiver;
const receivers: Receiver[] = [];

async function receiver(client: Client, acceptsToken: AcceptsToken, options: Record<string, unknown> = {}): Promise<Receiver> {
  const r = await startReceiver((request) => client.authenticateRequest(request, { acceptsToken, ...options } as never));
  receivers.push(r);
  return r;
}

/** The instance's JWT public key as PEM, derived from GET /v1/jwks with node:crypto. */
async function jwksPem(): Promise<string> {
  const { keys } = (await (await fetch(`${t.url}/v1/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
  return createPublicKey({ key: keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}

beforeAll(async () => {
  t = await startTestServer();
  admin = createClerkClient({ apiUrl: t.url, secretKey: t.sk });
  // Spec 5, "machine network".
  R = await admin.machines.create({ name: 'Primary API Server' });
  S = await admin.machines.create({ name: 'Scoped Sender', scopedMachines: [R.id] });
  U = await admin.machines.create({ name: 'Unscoped Sender' });
  tS = await admin.m2m.createToken({ machineSecretKey: S.secretKey!, secondsUntilExpiration: 1800 });
  tU = await admin.m2m.createToken({ machineSecretKey: U.secretKey!, secondsUntilExpiration: 1800 });

  receiverClient = createClerkClient({
    apiUrl: t.url,
    secretKey: t.sk,
    machineSecretKey: R.secretKey!,
    publishableKey: PUBLISHABLE_KEY,
    telemetry: { disabled: true }, // a pk_test_ key would otherwise enable Clerk's telemetry
  });
  m2mRoute = await receiver(receiverClient, 'm2m_token');
  const filter = (acceptsToken: AcceptsToken) => (authObject: unknown) =>
    getAuthObjectForAcceptedToken({ authObject: authObject as never, acceptsToken });
  framework = await startReceiver((request) => receiverClient.authenticateRequest(request, { acceptsToken: 'any' }), {
    m2m: filter('m2m_token'),
    apiKey: filter('api_key'),
    oauth: filter('oauth_token'),
    mixed: filter(['m2m_token', 'session_token']),
  });
  receivers.push(framework);
});

afterAll(async () => {
  // Spec 5 teardown, through the client.
  if (admin && tS && tU) {
    await admin.m2m.revokeToken({ m2mTokenId: tS.id });
    await admin.m2m.revokeToken({ m2mTokenId: tU.id });
    for (const m of [S, U, R]) await admin.machines.delete(m.id);
  }
  for (const r of receivers) await r.close();
  await t?.stop();
});

describe('spec 5 scenarios 1–5: opaque tokens on an m2m_token route', () => {
  it('1. no token: 401, "No token in header"', async () => {
    const res = await m2mRoute.get('/api/protected');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 'signed-out', reason: 'No token in header', message: '', tokenType: 'm2m_token' });
    expect(res.body.auth).toMatchObject({ tokenType: 'm2m_token', isAuthenticated: false, id: null, subject: null });
  });

  it('2. garbage mt_xxx: 401, the server answers verify with 404', async () => {
    const res = await m2mRoute.get('/api/protected', { bearer: 'mt_xxx' });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 'signed-out', reason: 'token-invalid', message: NOT_FOUND, tokenType: 'm2m_token' });
  });

  it('2 (older Express variant). m2m.verify of `invalid` and `mt_xxx` is rejected with 404', async () => {
    for (const token of ['invalid', 'mt_xxx']) {
      await expect(receiverClient.m2m.verify({ token })).rejects.toMatchObject({ status: 404 });
    }
  });

  it('3. unscoped sender: 401, R is not in the token scopes', async () => {
    const res = await m2mRoute.get('/api/protected', { bearer: tU.token! });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 'signed-out', reason: 'token-invalid', message: NOT_FOUND, tokenType: 'm2m_token' });
  });

  it('4. scoped sender: 200 with subject S and tokenType m2m_token', async () => {
    const res = await m2mRoute.get('/api/protected', { bearer: tS.token! });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'signed-in', isAuthenticated: true, reason: null, message: null, tokenType: 'm2m_token' });
    expect(res.body.auth).toEqual({
      tokenType: 'm2m_token',
      isAuthenticated: true,
      id: tS.id,
      subject: S.id,
      machineId: S.id,
      scopes: [R.id],
      claims: null,
      token: tS.token,
    });
  });

  it('4 (older Express variant). m2m.verify with the receiver key: subject S, id tS', async () => {
    const verified = await receiverClient.m2m.verify({ token: tS.token! });
    expect([verified.subject, verified.id]).toEqual([S.id, tS.id]);
  });

  it('5. scope added later: a new token from U is accepted; the old one keeps its scopes; revoked, it is refused', async () => {
    const scope = await admin.machines.createScope(U.id, R.id);
    expect([scope.fromMachineId, scope.toMachineId]).toEqual([U.id, R.id]);
    const fresh = await admin.m2m.createToken({ machineSecretKey: U.secretKey!, secondsUntilExpiration: 1800 });
    const res = await m2mRoute.get('/api/protected', { bearer: fresh.token! });
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ subject: U.id, scopes: [R.id] });
    expect((await m2mRoute.get('/api/protected', { bearer: tU.token! })).status).toBe(401);

    await admin.m2m.revokeToken({ m2mTokenId: fresh.id });
    const revoked = await m2mRoute.get('/api/protected', { bearer: fresh.token! });
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatchObject({ reason: 'token-invalid', message: NOT_FOUND, tokenType: 'm2m_token' });
    await admin.machines.deleteScope(U.id, R.id);
  });
});

describe('opaque tokens: other refusals, as the client reports them', () => {
  it('an expired token: 401 token-invalid', async () => {
    const expiring = await admin.m2m.createToken({ machineSecretKey: S.secretKey!, secondsUntilExpiration: 1 });
    expect((await m2mRoute.get('/api/protected', { bearer: expiring.token! })).status).toBe(200);
    await waitUntilPast(expiring.expiration!);
    const res = await m2mRoute.get('/api/protected', { bearer: expiring.token! });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 'signed-out', reason: 'token-invalid', message: NOT_FOUND, tokenType: 'm2m_token' });
  });

  it('ak_ and oat_ values on an m2m_token route: token-type-mismatch, decided locally', async () => {
    for (const bearer of ['ak_test_mismatch', 'oat_test_mismatch', R.secretKey!]) {
      const res = await m2mRoute.get('/api/protected', { bearer });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ status: 'signed-out', reason: 'token-type-mismatch', message: '', tokenType: 'm2m_token' });
    }
  });

  it('an mt_ token in the __session cookie only: "No token in header" (machine tokens are read from the header)', async () => {
    const res = await m2mRoute.get('/api/protected', { cookie: `__session=${tS.token}` });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 'signed-out', reason: 'No token in header', message: '', tokenType: 'm2m_token' });
  });

  it('a value that is not a machine token, or another scheme: token-type-mismatch / no token', async () => {
    const opaque = await m2mRoute.get('/api/protected', { bearer: 'not-a-machine-token' });
    expect(opaque.body).toMatchObject({ reason: 'token-type-mismatch', message: '', tokenType: 'm2m_token' });
    const basic = await m2mRoute.get('/api/protected', { header: `Basic ${tS.token}` });
    expect(basic.status).toBe(401);
    expect(basic.body).toMatchObject({ reason: 'No token in header', tokenType: 'm2m_token' });
  });

  it('a receiver whose machine key was rotated out: secret-key-invalid with the server message', async () => {
    const target = await admin.machines.create({ name: 'Rotated receiver' });
    const sender = await admin.machines.create({ name: 'Sender to rotated', scopedMachines: [target.id] });
    const stale = await receiver(createClerkClient({ apiUrl: t.url, machineSecretKey: target.secretKey! }), 'm2m_token');
    await admin.machines.rotateSecretKey({ machineId: target.id, previousTokenTtl: 0 });
    const token = await admin.m2m.createToken({ machineSecretKey: sender.secretKey!, secondsUntilExpiration: 600 });
    const res = await stale.get('/api/protected', { bearer: token.token! });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      status: 'signed-out',
      reason: 'secret-key-invalid',
      message:
        'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct. (code=secret-key-invalid, status=401)',
      tokenType: 'm2m_token',
    });
  });

  it('a receiver holding only the instance key verifies any token of the instance (no scope check, by design)', async () => {
    const instanceOnly = await receiver(createClerkClient({ apiUrl: t.url, secretKey: t.sk }), 'm2m_token');
    const res = await instanceOnly.get('/api/protected', { bearer: tU.token! });
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ subject: U.id, scopes: [] });
  });

  it('a server that cannot be reached: unexpected-error', async () => {
    const offline = await receiver(createClerkClient({ apiUrl: UNREACHABLE_API, machineSecretKey: R.secretKey! }), 'm2m_token');
    const res = await offline.get('/api/protected', { bearer: tS.token! });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      reason: 'unexpected-error',
      message: 'Unexpected error (code=unexpected-error, status=n/a)',
      tokenType: 'm2m_token',
    });
  });
});

describe('spec 5 scenario 6: JWT tokens, verified by the receiver', () => {
  let jwt: Token;
  beforeAll(async () => {
    jwt = await admin.m2m.createToken({
      machineSecretKey: S.secretKey!,
      secondsUntilExpiration: 1800,
      tokenFormat: 'jwt',
      claims: { tier: 'gold' },
    });
  });

  const expectAccepted = (res: Awaited<ReturnType<Receiver['get']>>) => {
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'signed-in', reason: null, message: null, tokenType: 'm2m_token' });
    expect(res.body.auth).toEqual({
      tokenType: 'm2m_token',
      isAuthenticated: true,
      id: jwt.id,
      subject: S.id,
      machineId: S.id,
      scopes: [R.id],
      // Published-client quirk: `aud` and `scopes` show up among the claims (spec 3.5, 6.4).
      claims: { tier: 'gold', aud: [R.id], scopes: R.id },
      token: jwt.token,
    });
  };

  it('through the JWKS, fetched with the instance key', async () => {
    expectAccepted(await m2mRoute.get('/api/protected', { bearer: jwt.token! }));
  });

  it('networkless, with jwtKey = the PEM of the instance key (the API URL is unreachable)', async () => {
    const offline = await receiver(
      createClerkClient({ apiUrl: UNREACHABLE_API, machineSecretKey: R.secretKey!, jwtKey: await jwksPem() }),
      'm2m_token',
    );
    expectAccepted(await offline.get('/api/protected', { bearer: jwt.token! }));
  });

  it('after a signing-key rotation: old tokens still verify, new ones are found by the unknown-kid refetch', async () => {
    const fresh = await receiver(createClerkClient({ apiUrl: t.url, secretKey: t.sk }), 'm2m_token');
    expect((await fresh.get('/api/protected', { bearer: jwt.token! })).status).toBe(200); // JWKS now cached
    // Rotation is a Tessera admin operation; the published client has no method for it.
    const rotate = await fetch(`${t.url}/v1/jwks/rotate`, { method: 'POST', headers: { authorization: `Bearer ${t.sk}` } });
    expect(rotate.status).toBe(200);
    const next = await admin.m2m.createToken({ machineSecretKey: S.secretKey!, tokenFormat: 'jwt' });
    const header = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(header(next.token!).kid).not.toBe(header(jwt.token!).kid);
    expect((await fresh.get('/api/protected', { bearer: next.token! })).status).toBe(200);
    expect((await fresh.get('/api/protected', { bearer: jwt.token! })).status).toBe(200);
  });

  it('an expired JWT: token-verification-failed', async () => {
    const expiring = await admin.m2m.createToken({ machineSecretKey: S.secretKey!, secondsUntilExpiration: 1, tokenFormat: 'jwt' });
    const strict = await receiver(receiverClient, 'm2m_token', { clockSkewInMs: 0 });
    await waitUntilPast(expiring.expiration!);
    const res = await strict.get('/api/protected', { bearer: expiring.token! });
    expect(res.status).toBe(401);
    expect(res.body.status).toBe('signed-out');
    expect(res.body.reason).toBe('token-verification-failed');
    expect(res.body.tokenType).toBe('m2m_token');
    expect(res.body.message).toMatch(/^JWT is expired\. Expiry date: .+, Current date: .+\. \(code=token-verification-failed, status=n\/a\)$/);
  });

  it('a receiver with only the machine key cannot verify JWTs (published-client quirk, spec 6.6)', async () => {
    const machineOnly = await receiver(createClerkClient({ apiUrl: t.url, machineSecretKey: R.secretKey! }), 'm2m_token');
    const res = await machineOnly.get('/api/protected', { bearer: jwt.token! });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      reason: 'token-verification-failed',
      message: 'Failed to resolve JWK during verification. (code=token-verification-failed, status=n/a)',
      tokenType: 'm2m_token',
    });
  });

  it('the published client checks neither scope nor revocation of JWTs (quirk, spec 6.5): use opaque tokens where that matters', async () => {
    const unscoped = await admin.m2m.createToken({ machineSecretKey: U.secretKey!, tokenFormat: 'jwt' });
    const res = await m2mRoute.get('/api/protected', { bearer: unscoped.token! });
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ subject: U.id, scopes: [] });

    const revocable = await admin.m2m.createToken({ machineSecretKey: S.secretKey!, tokenFormat: 'jwt' });
    await admin.m2m.revokeToken({ m2mTokenId: revocable.id });
    expect((await m2mRoute.get('/api/protected', { bearer: revocable.token! })).status).toBe(200);
  });

  it('claims of a verified JWT: Tessera adds aud and scopes only when the sender has scopes', async () => {
    const plain = await admin.m2m.createToken({ machineSecretKey: S.secretKey!, tokenFormat: 'jwt' });
    expect((await m2mRoute.get('/api/protected', { bearer: plain.token! })).body.auth?.claims).toEqual({ aud: [R.id], scopes: R.id });
    // Verified opaque, the same kind of token reports claims: null.
    const opaque = await admin.m2m.createToken({ machineSecretKey: S.secretKey! });
    expect((await m2mRoute.get('/api/protected', { bearer: opaque.token! })).body.auth?.claims).toBeNull();
    const unscoped = await admin.m2m.createToken({ machineSecretKey: U.secretKey!, tokenFormat: 'jwt' });
    expect((await m2mRoute.get('/api/protected', { bearer: unscoped.token! })).body.auth).toMatchObject({ claims: null, scopes: [] });
  });

  it('custom claims named aud or scopes are refused for JWTs (Tessera reserves them; Clerk treats them as custom claims)', async () => {
    for (const claims of [{ aud: 'https://api.example.com' }, { scopes: 'read write' }]) {
      const error = await admin.m2m.createToken({ machineSecretKey: S.secretKey!, tokenFormat: 'jwt', claims }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 400 });
      expect((error as { errors: Array<{ meta: { paramName: string } }> }).errors[0]!.meta.paramName).toBe('claims');
    }
  });

  it('the JWKS is public: a receiver with a wrong instance key still verifies JWTs (opaque tokens it cannot verify)', async () => {
    const wrongKey = await receiver(createClerkClient({ apiUrl: t.url, secretKey: 'sk_test_wrong' }), 'm2m_token');
    expect((await wrongKey.get('/api/protected', { bearer: jwt.token! })).status).toBe(200);
    const opaque = await wrongKey.get('/api/protected', { bearer: tS.token! });
    expect(opaque.status).toBe(401);
    expect(opaque.body).toMatchObject({
      reason: 'secret-key-invalid',
      message:
        'The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct. (code=secret-key-invalid, status=401)',
    });
  });

  it('an M2M JWT is never taken for a session token', async () => {
    const sessionRoute = await receiver(receiverClient, 'session_token');
    const res = await sessionRoute.get('/api/protected', { bearer: jwt.token! });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 'signed-out', reason: 'token-type-mismatch', message: '', tokenType: 'session_token' });
  });
});

describe("spec 5 scenarios 7–9: framework-style middleware (acceptsToken 'any', then a per-route filter)", () => {
  it('the m2m route accepts the scoped sender and refuses the unscoped one and a made-up value', async () => {
    const ok = await framework.get('/api/filtered/m2m', { bearer: tS.token! });
    expect(ok.status).toBe(200);
    expect(ok.body.auth).toMatchObject({ tokenType: 'm2m_token', subject: S.id, id: tS.id });
    for (const bearer of [tU.token!, 'mt_xxx']) {
      const refused = await framework.get('/api/filtered/m2m', { bearer });
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ reason: 'token-invalid', message: NOT_FOUND, tokenType: 'm2m_token' });
    }
    const jwt = await admin.m2m.createToken({ machineSecretKey: S.secretKey!, tokenFormat: 'jwt' });
    expect((await framework.get('/api/filtered/m2m', { bearer: jwt.token! })).body.auth).toMatchObject({ subject: S.id });
  });

  it('2 (framework). `Bearer invalid` is no machine token: it fails as a session token without reaching the server', async () => {
    const res = await framework.get('/api/filtered/m2m', { bearer: 'invalid' });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 'signed-out', tokenType: 'session_token' });
    expect(res.body.auth).toMatchObject({ tokenType: 'm2m_token', isAuthenticated: false });
  });

  it('no token: the middleware falls back to the (absent) session; the m2m route answers 401', async () => {
    const res = await framework.get('/api/filtered/m2m');
    expect(res.status).toBe(401);
    expect(res.body.tokenType).toBe('session_token');
    expect(res.body.auth).toMatchObject({ tokenType: 'm2m_token', isAuthenticated: false });
  });

  it('7. ak_/oat_ on the m2m route: the middleware asks /api_keys/verify and /oauth_applications/access_tokens/verify, gets 404, the route answers 401', async () => {
    const apiKey = await framework.get('/api/filtered/m2m', { bearer: 'ak_test_mismatch' });
    expect(apiKey.status).toBe(401);
    expect(apiKey.body).toMatchObject({
      status: 'signed-out',
      reason: 'token-invalid',
      message: 'API key not found (code=token-invalid, status=404)',
      tokenType: 'api_key',
    });
    expect(apiKey.body.auth).toMatchObject({ tokenType: 'm2m_token', isAuthenticated: false });

    const oauth = await framework.get('/api/filtered/m2m', { bearer: 'oat_test_mismatch' });
    expect(oauth.status).toBe(401);
    expect(oauth.body).toMatchObject({
      status: 'signed-out',
      reason: 'token-invalid',
      message: 'OAuth token not found (code=token-invalid, status=404)',
      tokenType: 'oauth_token',
    });
    expect(oauth.body.auth).toMatchObject({ tokenType: 'm2m_token', isAuthenticated: false });
  });

  it('8. an M2M token on the api_key and oauth_token routes: 401 (a valid one too)', async () => {
    for (const route of ['apiKey', 'oauth']) {
      const garbage = await framework.get(`/api/filtered/${route}`, { bearer: 'mt_test_mismatch' });
      expect(garbage.status).toBe(401);
      expect(garbage.body).toMatchObject({ reason: 'token-invalid', message: NOT_FOUND, tokenType: 'm2m_token' });
      const valid = await framework.get(`/api/filtered/${route}`, { bearer: tS.token! });
      expect(valid.status).toBe(401);
      expect(valid.body.status).toBe('signed-in'); // the token itself is fine: the route filter refuses its type
      expect(valid.body.auth).toMatchObject({ tokenType: route === 'apiKey' ? 'api_key' : 'oauth_token', isAuthenticated: false });
    }
  });

  it("9. mixed acceptance ['m2m_token', 'session_token']: the M2M token is accepted and reported as m2m_token", async () => {
    const res = await framework.get('/api/filtered/mixed', { bearer: tS.token! });
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ tokenType: 'm2m_token', subject: S.id });
    const none = await framework.get('/api/filtered/mixed');
    expect(none.status).toBe(401);
    expect(none.body.auth).toMatchObject({ tokenType: 'session_token', isAuthenticated: false });
  });

  it('9. acceptsToken arrays given to authenticateRequest directly', async () => {
    const mixed = await receiver(receiverClient, ['session_token', 'm2m_token']);
    const ok = await mixed.get('/api/protected', { bearer: tS.token! });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'signed-in', tokenType: 'm2m_token' });

    const other = await receiver(receiverClient, ['api_key', 'oauth_token']);
    const mismatch = await other.get('/api/protected', { bearer: tS.token! });
    expect(mismatch.status).toBe(401);
    expect(mismatch.body).toMatchObject({ status: 'signed-out', reason: 'token-type-mismatch', message: '', tokenType: null });
    expect(mismatch.body.auth).toMatchObject({ tokenType: null, isAuthenticated: false });

    const machineOnly = await receiver(receiverClient, ['api_key', 'm2m_token']);
    const noHeader = await machineOnly.get('/api/protected');
    expect(noHeader.body).toMatchObject({ status: 'signed-out', reason: 'token-type-mismatch', tokenType: null });
  });
});
