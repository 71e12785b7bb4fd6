/**
 * The current published client (@clerk/backend 3.x), `m2m` namespace, against a real
 * Tessera server: createToken, revokeToken, verify (opaque over HTTP, JWT locally) and
 * list, with the credentials the client chooses (machine key › instance key).
 */
import { createClerkClient, type Machine } from '@clerk/backend';
import { isClerkAPIResponseError, MachineTokenVerificationError } from '@clerk/backend/errors';
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import { cliPublicKey, JWT_SHAPE, pemBlock, rejectionOf, waitUntilPast } from './helpers/util.js';

type Client = ReturnType<typeof createClerkClient>;

let t: TestServer;
let admin: Client;
let R: Machine;
let S: Machine;
let U: Machine;

beforeAll(async () => {
  t = await startTestServer();
  admin = createClerkClient({ apiUrl: t.url, secretKey: t.sk });
  R = await admin.machines.create({ name: 'Primary API Server' });
  S = await admin.machines.create({ name: 'Scoped Sender', scopedMachines: [R.id] });
  U = await admin.machines.create({ name: 'Unscoped Sender' });
});
afterAll(async () => {
  await t?.stop();
});

const machineClient = (machine: Machine) => createClerkClient({ apiUrl: t.url, machineSecretKey: machine.secretKey! });
const decodeSegment = (jwt: string, index: 0 | 1) => JSON.parse(Buffer.from(jwt.split('.')[index]!, 'base64url').toString('utf8'));

/** The instance's current JWT public key as PEM, derived from GET /v1/jwks with node:crypto. */
async function jwksPem(): Promise<string> {
  const { keys } = (await (await fetch(`${t.url}/v1/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
  expect(keys.length).toBeGreaterThan(0);
  return createPublicKey({ key: keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}

describe('m2m.createToken', () => {
  it('mints an opaque token with the client machineSecretKey; the response maps to M2MToken', async () => {
    const token = await machineClient(S).m2m.createToken({ secondsUntilExpiration: 1800, claims: { tier: 'gold' } });
    expect(token.id).toMatch(/^mt_[0-9a-f]{32}$/);
    expect(token.token).toMatch(/^mt_\w+$/);
    expect(token.token).not.toContain('.');
    expect(token.subject).toBe(S.id);
    expect(token.scopes).toEqual([R.id]);
    expect(token.claims).toEqual({ tier: 'gold' });
    expect(token.revoked).toBe(false);
    expect(token.revocationReason).toBeNull();
    expect(token.expired).toBe(false);
    expect(token.expiration! - token.createdAt).toBe(1800 * 1000);
    expect(token.createdAt).toBeGreaterThan(1e12); // milliseconds
    expect(token.updatedAt).toBe(token.createdAt);
  });

  it('a per-call machineSecretKey overrides the instance key of the client (spec 5, setup)', async () => {
    const token = await admin.m2m.createToken({ machineSecretKey: U.secretKey!, secondsUntilExpiration: 1800 });
    expect(token.subject).toBe(U.id);
    expect(token.scopes).toEqual([]);
  });

  it('without arguments the body is {seconds_until_expiration:null, claims:null, token_format:"opaque"}: default TTL applies', async () => {
    const short = await admin.machines.create({ name: 'Short TTL', defaultTokenTtl: 120 });
    const token = await machineClient(short).m2m.createToken();
    expect(token.token).toMatch(/^mt_/);
    expect(token.claims).toBeNull();
    expect(token.expiration! - token.createdAt).toBe(120 * 1000);
  });

  it('minRemainingTtlSeconds reuses a live opaque token with the same claims and scopes', async () => {
    const client = machineClient(S);
    const first = await client.m2m.createToken({ secondsUntilExpiration: 3600, claims: { job: 'reuse' }, minRemainingTtlSeconds: 600 });
    const again = await client.m2m.createToken({ secondsUntilExpiration: 3600, claims: { job: 'reuse' }, minRemainingTtlSeconds: 600 });
    expect(again.id).toBe(first.id);
    expect(again.token).toBe(first.token);
    const other = await client.m2m.createToken({ secondsUntilExpiration: 3600, claims: { job: 'other' }, minRemainingTtlSeconds: 600 });
    expect(other.id).not.toBe(first.id);

    const error = await rejectionOf(client.m2m.createToken({ secondsUntilExpiration: 60, minRemainingTtlSeconds: 60 }));
    expect(isClerkAPIResponseError(error)).toBe(true);
    expect(error.status).toBe(400);
    expect(error.errors[0].meta.paramName).toBe('min_remaining_ttl_seconds');
  });

  it("tokenFormat: 'jwt' returns a JWT: RS256, typ JWT, cat cl_B7d4PD333AAA; sub, jti, aud, scopes and custom claims", async () => {
    const token = await machineClient(S).m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 1800, claims: { tier: 'gold' } });
    expect(token.token).toMatch(JWT_SHAPE);
    expect(decodeSegment(token.token!, 0)).toMatchObject({ alg: 'RS256', typ: 'JWT', cat: 'cl_B7d4PD333AAA' });
    const payload = decodeSegment(token.token!, 1);
    expect(payload).toMatchObject({ sub: S.id, jti: token.id, aud: [R.id], scopes: R.id, tier: 'gold' });
    expect(payload.exp - payload.iat).toBe(1800);
    expect(token.expiration).toBe(payload.exp * 1000);
    expect(token.claims).toEqual({ tier: 'gold' });
  });

  it('refuses the instance key with 401 machine_secret_key_invalid, and no key with 401', async () => {
    const error = await rejectionOf(admin.m2m.createToken({ secondsUntilExpiration: 60 }));
    expect(isClerkAPIResponseError(error)).toBe(true);
    expect(error.status).toBe(401);
    expect(error.message).toBe('Unauthorized'); // the HTTP status text
    expect(error.errors[0].code).toBe('machine_secret_key_invalid');
    expect(error.errors[0].message).toBe(
      'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.',
    );
    expect(error.clerkTraceId).toMatch(/\S/);

    const anonymous = await rejectionOf(createClerkClient({ apiUrl: t.url }).m2m.createToken());
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors[0].code).toBe('authentication_invalid');
  });

  it('refuses a non-positive lifetime with 400 naming the parameter', async () => {
    const error = await rejectionOf(machineClient(S).m2m.createToken({ secondsUntilExpiration: 0 }));
    expect(error.status).toBe(400);
    expect(error.errors[0].meta.paramName).toBe('seconds_until_expiration');
    expect(error.errors[0].longMessage).toMatch(/seconds_until_expiration/);
  });
});

describe('m2m.revokeToken', () => {
  it('with the owning machine key: revoked, reason echoed, no token value', async () => {
    const client = machineClient(S);
    const created = await client.m2m.createToken({ secondsUntilExpiration: 1800 });
    const revoked = await client.m2m.revokeToken({ m2mTokenId: created.id, revocationReason: 'Revoked by user' });
    expect(revoked.id).toBe(created.id);
    expect(revoked.revoked).toBe(true);
    expect(revoked.revocationReason).toBe('Revoked by user');
    expect(revoked.token).toBeUndefined();
  });

  it('with the instance key (spec 5 teardown); the reason defaults to null', async () => {
    const created = await machineClient(S).m2m.createToken({ secondsUntilExpiration: 1800 });
    const revoked = await admin.m2m.revokeToken({ m2mTokenId: created.id });
    expect(revoked.revoked).toBe(true);
    expect(revoked.revocationReason).toBeNull();
  });

  it("another machine's key, an unknown ID and no key are refused; an empty ID never leaves the client", async () => {
    const created = await machineClient(S).m2m.createToken({ secondsUntilExpiration: 1800 });
    const foreign = await rejectionOf(machineClient(U).m2m.revokeToken({ m2mTokenId: created.id }));
    expect(foreign.status).toBe(404);
    const unknown = await rejectionOf(admin.m2m.revokeToken({ m2mTokenId: 'mt_00000000000000000000000000000000' }));
    expect(unknown.status).toBe(404);
    const anonymous = await rejectionOf(createClerkClient({ apiUrl: t.url }).m2m.revokeToken({ m2mTokenId: created.id }));
    expect(anonymous.status).toBe(401);
    const local = await rejectionOf(admin.m2m.revokeToken({ m2mTokenId: '' }));
    expect(local.message).toBe('A valid resource ID is required.');
    expect((await admin.m2m.verify({ token: created.token! })).revoked).toBe(false);
  });
});

describe('m2m.verify (opaque: POST /m2m_tokens/verify)', () => {
  it("with the receiver's machine key and with the instance key", async () => {
    const created = await machineClient(S).m2m.createToken({ secondsUntilExpiration: 1800, claims: { a: [1, 2] } });
    for (const client of [machineClient(R), admin]) {
      const verified = await client.m2m.verify({ token: created.token! });
      expect(verified.id).toBe(created.id);
      expect(verified.subject).toBe(S.id);
      expect(verified.scopes).toEqual([R.id]);
      expect(verified.claims).toEqual({ a: [1, 2] });
      expect(verified.token).toBeUndefined();
    }
  });

  it('out of scope, unknown, malformed (`invalid`), revoked and expired tokens all fail with 404', async () => {
    const receiverClient = machineClient(R);
    const unscoped = await machineClient(U).m2m.createToken({ secondsUntilExpiration: 1800 });
    const revoked = await machineClient(S).m2m.createToken({ secondsUntilExpiration: 1800 });
    await admin.m2m.revokeToken({ m2mTokenId: revoked.id });
    const expiring = await machineClient(S).m2m.createToken({ secondsUntilExpiration: 1 });
    await waitUntilPast(expiring.expiration!);

    const cases: Array<[string, string]> = [
      [unscoped.token!, 'token_not_found'],
      ['mt_xxx', 'token_not_found'],
      ['invalid', 'token_not_found'],
      [revoked.token!, 'token_revoked'],
      [expiring.token!, 'token_expired'],
    ];
    for (const [token, code] of cases) {
      const error = await rejectionOf(receiverClient.m2m.verify({ token }));
      expect(isClerkAPIResponseError(error)).toBe(true);
      expect([error.status, error.errors[0].code]).toEqual([404, code]);
    }
  });

  it('without any key: 401', async () => {
    const created = await machineClient(S).m2m.createToken({ secondsUntilExpiration: 1800 });
    const error = await rejectionOf(createClerkClient({ apiUrl: t.url }).m2m.verify({ token: created.token! }));
    expect(error.status).toBe(401);
  });
});

describe('m2m.verify (JWT: verified locally by the client)', () => {
  it('through the JWKS fetched with the instance key: id = jti, subject = sub, scopes from the token', async () => {
    const created = await machineClient(S).m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 1800, claims: { tier: 'gold' } });
    const verified = await admin.m2m.verify({ token: created.token! });
    expect(verified.id).toBe(created.id);
    expect(verified.subject).toBe(S.id);
    expect(verified.scopes).toEqual([R.id]);
    expect(verified.expiration).toBe(created.expiration);
    expect(verified.revoked).toBe(false);
    expect(verified.expired).toBe(false);
    // Published-client quirk (spec 3.5/6.4): every non-structural payload key lands in
    // `claims`, so Tessera's `aud` and `scopes` appear beside the custom claims.
    expect(verified.claims).toEqual({ tier: 'gold', aud: [R.id], scopes: R.id });
  });

  it('jwks.getJwks() returns the RSA signing keys the JWTs name by kid', async () => {
    const created = await machineClient(S).m2m.createToken({ tokenFormat: 'jwt' });
    const jwks: any = await admin.jwks.getJwks();
    const key = jwks.keys.find((k: { kid: string }) => k.kid === decodeSegment(created.token!, 0).kid);
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(Buffer.from(key.n, 'base64url')).toHaveLength(256); // RSA-2048, as the jwtKey PEM path requires
  });

  it('networkless with jwtKey = the PEM derived from GET /v1/jwks (the client never calls apiUrl)', async () => {
    const created = await machineClient(S).m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 1800 });
    const offline = createClerkClient({ apiUrl: 'http://127.0.0.1:9', jwtKey: await jwksPem() });
    const verified = await offline.m2m.verify({ token: created.token! });
    expect(verified.id).toBe(created.id);
    expect(verified.subject).toBe(S.id);
  });

  it('networkless with jwtKey = the PEM block printed by `tessera keys public`', async () => {
    const created = await machineClient(S).m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 1800 });
    const pem = pemBlock(await cliPublicKey(t.url));
    expect(pem).toBe((await jwksPem()).trim());
    const offline = createClerkClient({ apiUrl: 'http://127.0.0.1:9', jwtKey: pem });
    expect((await offline.m2m.verify({ token: created.token! })).id).toBe(created.id);
  });

  it('networkless with jwtKey = the whole stdout of `tessera keys public` (as in CLERK_JWT_KEY="$(tessera keys public)")', async () => {
    const created = await machineClient(S).m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 1800 });
    const offline = createClerkClient({ apiUrl: 'http://127.0.0.1:9', jwtKey: await cliPublicKey(t.url) });
    expect((await offline.m2m.verify({ token: created.token! })).id).toBe(created.id);
  });

  it('a client holding only a machine secret key cannot verify JWTs (published-client quirk, spec 6.6)', async () => {
    const created = await machineClient(S).m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 1800 });
    const error = await rejectionOf(machineClient(R).m2m.verify({ token: created.token! }));
    expect(error).toBeInstanceOf(MachineTokenVerificationError);
    expect(error.code).toBe('token-verification-failed');
    expect(error.message).toBe('Failed to resolve JWK during verification.');
  });

  it('local verification checks neither scope nor revocation (published-client quirk, spec 6.5)', async () => {
    const unscoped = await machineClient(U).m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 1800 });
    const local = await admin.m2m.verify({ token: unscoped.token! });
    expect(local.subject).toBe(U.id);
    expect(local.scopes).toEqual([]);

    const scoped = await machineClient(S).m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 1800 });
    const revoked = await admin.m2m.revokeToken({ m2mTokenId: scoped.id, revocationReason: 'leaked' });
    expect(revoked).toMatchObject({ id: scoped.id, revoked: true, revocationReason: 'leaked' });
    expect((await admin.m2m.verify({ token: scoped.token! })).revoked).toBe(false); // signature and exp still good
  });
});

describe('m2m.list', () => {
  let L: Machine;
  const active: string[] = [];
  let revokedId: string;
  let expiredId: string;

  beforeAll(async () => {
    L = await admin.machines.create({ name: 'Lister', scopedMachines: [R.id] });
    const client = machineClient(L);
    const expiring = await client.m2m.createToken({ secondsUntilExpiration: 1 });
    expiredId = expiring.id;
    const revoked = await client.m2m.createToken({ secondsUntilExpiration: 3600 });
    revokedId = revoked.id;
    await client.m2m.revokeToken({ m2mTokenId: revoked.id });
    for (let i = 0; i < 3; i++) active.unshift((await client.m2m.createToken({ secondsUntilExpiration: 3600, claims: { i } })).id);
    await client.m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 3600 }); // JWTs are never listed
    await waitUntilPast(expiring.expiration!);
  });

  it('with the instance key: { data, totalCount }, newest first, revoked and expired left out by default', async () => {
    const page = await admin.m2m.list({ subject: L.id });
    expect(page.totalCount).toBe(3);
    expect(page.data.map((token) => token.id)).toEqual(active);
    for (const token of page.data) {
      expect(token.subject).toBe(L.id);
      expect(token.token).toBeUndefined();
    }
  });

  it('revoked: true and expired: true include those tokens', async () => {
    const withRevoked = await admin.m2m.list({ subject: L.id, revoked: true });
    expect(withRevoked.totalCount).toBe(4);
    expect(withRevoked.data.map((token) => token.id)).toContain(revokedId);
    const withExpired = await admin.m2m.list({ subject: L.id, expired: true });
    expect(withExpired.totalCount).toBe(4);
    expect(withExpired.data.find((token) => token.id === expiredId)?.expired).toBe(true);
    const all = await admin.m2m.list({ subject: L.id, revoked: true, expired: true, limit: 100 });
    expect(all.totalCount).toBe(5);
    expect(all.data).toHaveLength(5);
  });

  it('limit and offset page through; totalCount counts every match', async () => {
    const first = await admin.m2m.list({ subject: L.id, limit: 2 });
    const second = await admin.m2m.list({ subject: L.id, limit: 2, offset: 2 });
    expect([first.totalCount, second.totalCount]).toEqual([3, 3]);
    expect([...first.data, ...second.data].map((token) => token.id)).toEqual(active);
  });

  it("with the machine's own key (client option or per call); another machine's key gets 403", async () => {
    expect((await machineClient(L).m2m.list({ subject: L.id })).totalCount).toBe(3);
    expect((await admin.m2m.list({ subject: L.id, machineSecretKey: L.secretKey! })).totalCount).toBe(3);
    const error = await rejectionOf(machineClient(S).m2m.list({ subject: L.id }));
    expect(error.status).toBe(403);
    expect(error.errors[0].code).toBe('authorization_invalid');
  });
});
