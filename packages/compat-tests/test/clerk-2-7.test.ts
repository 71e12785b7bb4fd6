/**
 * The seed-era published client, @clerk/backend 2.7.0 (installed as `clerk-backend-2-7`),
 * against a real Tessera server: the seed's flows verbatim (spec section 4.3), driven only
 * through the client.
 *
 * 2.7.0 differs from today's client on the wire: the namespace is `m2mTokens`, verify
 * sends `{"secret": …}`, and the created token is read from the response's `secret` field.
 */
import { createClerkClient } from 'clerk-backend-2-7';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { rejectionOf } from './helpers/util.js';

type Client = ReturnType<typeof createClerkClient>;
type Machine = Awaited<ReturnType<Client['machines']['create']>>;

let t: TestServer;
let admin: Client;
let R: Machine; // receiver
let S: Machine; // scoped sender: S → R
let U: Machine; // unscoped sender
let receiver: Receiver; // configured with R's machine secret key
let instanceReceiver: Receiver; // configured with the instance secret key only

beforeAll(async () => {
  t = await startTestServer();
  admin = createClerkClient({ apiUrl: t.url, secretKey: t.sk });
  R = await admin.machines.create({ name: 'Primary API Server' });
  S = await admin.machines.create({ name: 'Scoped Sender', scopedMachines: [R.id] });
  U = await admin.machines.create({ name: 'Unscoped Sender' });

  // The seed's receiving service: a Hono route calling authenticateRequest(c.req.raw, …).
  const machineClient = createClerkClient({ apiUrl: t.url, machineSecretKey: R.secretKey });
  receiver = await startReceiver((request) => machineClient.authenticateRequest(request, { acceptsToken: 'm2m_token' }));
  const instanceClient = createClerkClient({ apiUrl: t.url, secretKey: t.sk });
  instanceReceiver = await startReceiver((request) => instanceClient.authenticateRequest(request, { acceptsToken: 'm2m_token' }));
});

afterAll(async () => {
  await receiver?.close();
  await instanceReceiver?.close();
  await t?.stop();
});

const senderClient = (machine: Machine) => createClerkClient({ apiUrl: t.url, machineSecretKey: machine.secretKey });

describe('@clerk/backend 2.7.0: machines', () => {
  it('create returns the machine with its secret key and scoped machines', async () => {
    expect(R.id).toMatch(/^mch_\w{27}$/);
    expect(R.name).toBe('Primary API Server');
    expect(R.instanceId).toMatch(/^ins_/);
    expect(R.secretKey).toMatch(/^ak_/);
    expect(R.defaultTokenTtl).toBe(3600);
    expect(R.scopedMachines).toEqual([]);
    expect(S.scopedMachines.map((m) => [m.id, m.name, m.scopedMachines])).toEqual([[R.id, 'Primary API Server', []]]);
  });

  it('get, createScope, getSecretKey and deleteScope work with the 2.7.0 namespace', async () => {
    const fetched = await admin.machines.get(S.id);
    expect(fetched.id).toBe(S.id);
    expect(fetched.secretKey).toBeUndefined();
    expect((await admin.machines.getSecretKey(S.id)).secret).toBe(S.secretKey);

    const other = await admin.machines.create({ name: 'Scope target' });
    const scope = await admin.machines.createScope(U.id, other.id);
    expect(scope).toMatchObject({ fromMachineId: U.id, toMachineId: other.id });
    expect(typeof scope.createdAt).toBe('number');
    const removed: any = await admin.machines.deleteScope(U.id, other.id);
    // Published-client quirk (spec 6.11): a `deleted: true` body becomes a DeletedObject.
    expect(removed).toMatchObject({ object: 'machine_scope', id: null, deleted: true });
    expect((await admin.machines.get(U.id)).scopedMachines).toEqual([]);
  });
});

describe('@clerk/backend 2.7.0: m2mTokens (the seed snippet)', () => {
  it('create({ secondsUntilExpiration: 3600 }) with createClerkClient({ machineSecretKey }): the token arrives in `secret`', async () => {
    const token = await senderClient(S).m2mTokens.create({ secondsUntilExpiration: 3600 });
    expect(token.id).toMatch(/^mt_[0-9a-f]{32}$/);
    expect(token.secret).toMatch(/^mt_\w+$/);
    expect(token.secret).not.toBe(token.id);
    expect((token as unknown as Record<string, unknown>).token).toBeUndefined(); // 2.7.0 maps only `secret`
    expect(token.subject).toBe(S.id);
    expect(token.scopes).toEqual([R.id]);
    expect(token.claims).toBeNull();
    expect(token.revoked).toBe(false);
    expect(token.revocationReason).toBeNull();
    expect(token.expired).toBe(false);
    expect(token.expiration! - token.createdAt).toBe(3600 * 1000); // milliseconds
    expect(token.updatedAt).toBe(token.createdAt);
  });

  it('create with claims, and with a per-call machineSecretKey on an instance-key client', async () => {
    const token = await admin.m2mTokens.create({
      machineSecretKey: S.secretKey,
      claims: { tier: 'gold', camelCase: { keptAs: 'is' } },
    });
    expect(token.subject).toBe(S.id);
    expect(token.claims).toEqual({ tier: 'gold', camelCase: { keptAs: 'is' } });
    // Omitted secondsUntilExpiration (sent as null): the machine's default_token_ttl applies.
    expect(token.expiration! - token.createdAt).toBe(3600 * 1000);
  });

  it('create with only the instance secret key is refused: 401 machine_secret_key_invalid', async () => {
    const error = await rejectionOf(admin.m2mTokens.create({ secondsUntilExpiration: 60 }));
    expect(error.status).toBe(401);
    expect(error.errors[0].code).toBe('machine_secret_key_invalid');
    expect(error.errors[0].message).toBe(
      'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.',
    );
    expect(error.clerkTraceId).toMatch(/\S/);
  });

  it('createClerkClient({ secretKey }).m2mTokens.verifySecret({ secret }) returns the token without its value', async () => {
    const created = await senderClient(S).m2mTokens.create({ secondsUntilExpiration: 3600, claims: { a: 1 } });
    const verified = await createClerkClient({ apiUrl: t.url, secretKey: t.sk }).m2mTokens.verifySecret({ secret: created.secret! });
    expect(verified.id).toBe(created.id);
    expect(verified.subject).toBe(S.id);
    expect(verified.scopes).toEqual([R.id]);
    expect(verified.claims).toEqual({ a: 1 });
    expect(verified.secret).toBeUndefined();
  });

  it('verifySecret with the receiver machine key: scoped token yes, unscoped token 404', async () => {
    const client = createClerkClient({ apiUrl: t.url, machineSecretKey: R.secretKey });
    const scoped = await senderClient(S).m2mTokens.create({ secondsUntilExpiration: 600 });
    expect((await client.m2mTokens.verifySecret({ secret: scoped.secret! })).id).toBe(scoped.id);

    const unscoped = await senderClient(U).m2mTokens.create({ secondsUntilExpiration: 600 });
    const error = await rejectionOf(client.m2mTokens.verifySecret({ secret: unscoped.secret! }));
    expect(error.status).toBe(404);
    expect(error.errors[0].code).toBe('token_not_found');
  });

  it("revoke({ m2mTokenId, revocationReason: 'Revoked by user' }) with the machine secret", async () => {
    const sender = senderClient(S);
    const created = await sender.m2mTokens.create({ secondsUntilExpiration: 3600 });
    const revoked = await sender.m2mTokens.revoke({ m2mTokenId: created.id, revocationReason: 'Revoked by user' });
    expect(revoked.id).toBe(created.id);
    expect(revoked.revoked).toBe(true);
    expect(revoked.revocationReason).toBe('Revoked by user');
    expect(revoked.secret).toBeUndefined();

    const error = await rejectionOf(admin.m2mTokens.verifySecret({ secret: created.secret! }));
    expect(error.status).toBe(404);
    expect(error.errors[0].code).toBe('token_revoked');
  });

  it('revoke with the instance secret; revocationReason defaults to null', async () => {
    const created = await senderClient(S).m2mTokens.create({ secondsUntilExpiration: 3600 });
    const revoked = await admin.m2mTokens.revoke({ m2mTokenId: created.id });
    expect(revoked.revoked).toBe(true);
    expect(revoked.revocationReason).toBeNull();
  });

  it("a machine cannot revoke another machine's token (404)", async () => {
    const created = await senderClient(S).m2mTokens.create({ secondsUntilExpiration: 3600 });
    const error = await rejectionOf(senderClient(U).m2mTokens.revoke({ m2mTokenId: created.id }));
    expect(error.status).toBe(404);
    expect((await admin.m2mTokens.verifySecret({ secret: created.secret! })).revoked).toBe(false);
  });
});

describe('@clerk/backend 2.7.0: authenticateRequest(c.req.raw, { acceptsToken: "m2m_token" }) in a Hono route', () => {
  it('accepts a token from the scoped sender', async () => {
    const created = await senderClient(S).m2mTokens.create({ secondsUntilExpiration: 3600, claims: { job: 'nightly' } });
    const res = await receiver.get('/api/protected', { bearer: created.secret! });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'signed-in', isAuthenticated: true, reason: null, message: null, tokenType: 'm2m_token' });
    expect(res.body.auth).toEqual({
      tokenType: 'm2m_token',
      isAuthenticated: true,
      id: created.id,
      subject: S.id,
      machineId: S.id,
      scopes: [R.id],
      claims: { job: 'nightly' },
      token: created.secret,
    });
  });

  it('refuses a token from the unscoped sender: Machine token not found', async () => {
    const created = await senderClient(U).m2mTokens.create({ secondsUntilExpiration: 3600 });
    const res = await receiver.get('/api/protected', { bearer: created.secret! });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      status: 'signed-out',
      reason: 'token-invalid',
      message: 'Machine token not found (code=token-invalid, status=404)',
      tokenType: 'm2m_token',
    });
    expect(res.body.auth).toMatchObject({ tokenType: 'm2m_token', isAuthenticated: false, id: null, subject: null, token: null });
  });

  it('refuses no token, a made-up mt_ value, and a revoked token', async () => {
    const none = await receiver.get('/api/protected');
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ reason: 'No token in header', message: '', tokenType: 'm2m_token' });

    const garbage = await receiver.get('/api/protected', { bearer: 'mt_xxx' });
    expect(garbage.status).toBe(401);
    expect(garbage.body).toMatchObject({
      reason: 'token-invalid',
      message: 'Machine token not found (code=token-invalid, status=404)',
    });

    const sender = senderClient(S);
    const created = await sender.m2mTokens.create({ secondsUntilExpiration: 3600 });
    expect((await receiver.get('/api/protected', { bearer: created.secret! })).status).toBe(200);
    await sender.m2mTokens.revoke({ m2mTokenId: created.id, revocationReason: 'Revoked by user' });
    const revoked = await receiver.get('/api/protected', { bearer: created.secret! });
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatchObject({ reason: 'token-invalid', message: 'Machine token not found (code=token-invalid, status=404)' });
  });

  it('the seed variant: authenticateRequest(c.req.raw, { machineSecretKey, acceptsToken }) on a client without keys', async () => {
    const bare = createClerkClient({ apiUrl: t.url });
    const perCall = await startReceiver((request) =>
      bare.authenticateRequest(request, { machineSecretKey: R.secretKey, acceptsToken: 'm2m_token' }),
    );
    try {
      const scoped = await senderClient(S).m2mTokens.create({ secondsUntilExpiration: 600 });
      const ok = await perCall.get('/api/protected', { bearer: scoped.secret! });
      expect(ok.status).toBe(200);
      expect(ok.body.auth).toMatchObject({ subject: S.id, id: scoped.id });
      const unscoped = await senderClient(U).m2mTokens.create({ secondsUntilExpiration: 600 });
      const refused = await perCall.get('/api/protected', { bearer: unscoped.secret! });
      expect(refused.status).toBe(401);
      // The reasons also travel as the x-clerk-auth-* debug headers of the request state.
      expect(refused.body.debugHeaders).toEqual({
        'x-clerk-auth-status': 'signed-out',
        'x-clerk-auth-reason': 'token-invalid',
        'x-clerk-auth-message': 'Machine token not found (code=token-invalid, status=404)',
      });
    } finally {
      await perCall.close();
    }
  });

  it('refuses ak_ and oat_ values locally with token-type-mismatch', async () => {
    for (const bearer of ['ak_test_mismatch', 'oat_test_mismatch']) {
      const res = await receiver.get('/api/protected', { bearer });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ status: 'signed-out', reason: 'token-type-mismatch', message: '', tokenType: 'm2m_token' });
    }
  });

  it('a receiver with a rotated-out machine key reports secret-key-invalid (401 from verify)', async () => {
    const victim = await admin.machines.create({ name: 'Receiver with a stale key' });
    const sender = await admin.machines.create({ name: 'Sender to stale', scopedMachines: [victim.id] });
    const stale = createClerkClient({ apiUrl: t.url, machineSecretKey: victim.secretKey });
    const staleReceiver = await startReceiver((request) => stale.authenticateRequest(request, { acceptsToken: 'm2m_token' }));
    try {
      // Rotation is not in 2.7.0 (added in 2.14.0); deleting the receiver machine also voids its key.
      await admin.machines.delete(victim.id);
      const created = await senderClient(sender).m2mTokens.create({ secondsUntilExpiration: 600 });
      const res = await staleReceiver.get('/api/protected', { bearer: created.secret! });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({
        reason: 'secret-key-invalid',
        message:
          'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct. (code=secret-key-invalid, status=401)',
      });
    } finally {
      await staleReceiver.close();
    }
  });

  it('a receiver configured with the instance secret key only verifies without a scope check (by design)', async () => {
    const created = await senderClient(U).m2mTokens.create({ secondsUntilExpiration: 3600 });
    const res = await instanceReceiver.get('/api/protected', { bearer: created.secret! });
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ subject: U.id, scopes: [] });
  });
});

describe('@clerk/backend 2.7.0: features it predates (quirks, not server faults)', () => {
  it('has no token formats: a tokenFormat option is not sent, so the token is opaque', async () => {
    const created = await senderClient(S).m2mTokens.create({ tokenFormat: 'jwt' } as never);
    expect(created.secret).toMatch(/^mt_/);
  });

  it('does not recognise JWT-format M2M tokens: a JWT bearer is a token-type-mismatch', async () => {
    // Mint the JWT with today's client; 2.7.0 treats anything without an mt_/ak_/oat_ prefix as a session token.
    const { createClerkClient: createCurrent } = await import('@clerk/backend');
    const jwt = await createCurrent({ apiUrl: t.url, machineSecretKey: S.secretKey }).m2m.createToken({ tokenFormat: 'jwt' });
    const res = await receiver.get('/api/protected', { bearer: jwt.token! });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ reason: 'token-type-mismatch', message: '', tokenType: 'm2m_token' });
  });

  it('has neither list, verify nor rotateSecretKey', () => {
    const m2m = admin.m2mTokens as unknown as Record<string, unknown>;
    expect([m2m.list, m2m.verify, m2m.createToken]).toEqual([undefined, undefined, undefined]);
    expect((admin.machines as unknown as Record<string, unknown>).rotateSecretKey).toBeUndefined();
  });
});
