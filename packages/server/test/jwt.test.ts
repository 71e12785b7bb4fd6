import { generateKeyPairSync, createHmac, createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { SigningKeys } from '../src/domain/signing-keys.js';
import { openInstance } from '../src/instance.js';
import { machineNetwork, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let net: Awaited<ReturnType<typeof machineNetwork>>;
let initialSigningKey: { kid: string; privateKey: KeyObject };
beforeAll(async () => {
  // The running server holds its SQLite file exclusively, so read the signing key first.
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-jwt-'));
  initialSigningKey = await readSigningKey(dataDir);
  t = await startTestServer({ dataDir });
  net = await machineNetwork(t);
});
afterAll(async () => {
  await t.stop();
});

const jwtOf = (body: Record<string, unknown> = {}) => t.token(net.sender.secret_key, { token_format: 'jwt', ...body });
const verify = (token: string, key = net.receiver.secret_key) => t.call('POST', '/m2m_tokens/verify', { key, body: { token } });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Creates the instance's signing key the way the server does, and returns it (for forging edge cases). */
async function readSigningKey(dataDir: string): Promise<{ kid: string; privateKey: KeyObject }> {
  const { store, keyring } = await openInstance(resolveServeConfig(['--data-dir', dataDir], { TESSERA_LOG_LEVEL: 'silent' }));
  try {
    await new SigningKeys(store, keyring).init();
    const current = (await store.listSigningKeys()).find((k) => k.retiredAt === null)!;
    return { kid: current.kid, privateKey: createPrivateKey(keyring.open(current.privateSealed, `signing_key:${current.kid}`)) };
  } finally {
    await store.close();
  }
}

describe('JWT-format M2M tokens', () => {
  it('are signed RS256 with kid, typ and cat, and carry sub, jti, iat, exp, iss, aud, scopes and custom claims', async () => {
    const created = await jwtOf({ claims: { tier: 'gold', nested: { a: [1] } }, seconds_until_expiration: 600 });
    expect(created.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const header = decodeProtectedHeader(created.token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT', cat: 'cl_B7d4PD333AAA' });
    expect(header.kid).toMatch(/^key_/);
    const payload = decodeJwt(created.token);
    expect(payload).toMatchObject({
      sub: net.sender.id,
      jti: created.id,
      iss: t.url,
      aud: [net.receiver.id],
      scopes: net.receiver.id,
      tier: 'gold',
      nested: { a: [1] },
    });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(created.expiration).toBe(payload.exp! * 1000);
    expect(created.claims).toEqual({ tier: 'gold', nested: { a: [1] } });
  });

  it('omit aud and scopes when the sender has no scopes', async () => {
    const created = await t.token(net.unscoped.secret_key, { token_format: 'jwt' });
    const payload = decodeJwt(created.token);
    expect(payload.aud).toBeUndefined();
    expect(payload.scopes).toBeUndefined();
  });

  it('verify through the server route: scoped receiver and instance key yes, others not found', async () => {
    const created = await jwtOf();
    const ok = await verify(created.token);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: created.id, subject: net.sender.id, scopes: [net.receiver.id] });
    expect((await verify(created.token, t.sk)).status).toBe(200);
    for (const key of [net.unscoped.secret_key, net.sender.secret_key]) {
      const refused = await verify(created.token, key);
      expect(refused.status).toBe(404);
      expect(refused.body.errors[0].code).toBe('token_not_found');
    }
  });

  it('refuse reserved claim names and ignore min_remaining_ttl_seconds (never reused)', async () => {
    for (const claim of ['sub', 'exp', 'aud', 'scopes', 'jti', 'iss']) {
      const res = await t.call('POST', '/m2m_tokens', {
        key: net.sender.secret_key,
        body: { token_format: 'jwt', claims: { [claim]: 'x' } },
      });
      expect(res.status, claim).toBe(400);
      expect(res.body.errors[0].meta.param_name).toBe('claims');
    }
    const a = await jwtOf({ min_remaining_ttl_seconds: 10 });
    const b = await jwtOf({ min_remaining_ttl_seconds: 10 });
    expect(a.id).not.toBe(b.id);
  });

  it('can be revoked: the server refuses them and lists them for SDKs, filtered by scope for machine keys', async () => {
    const created = await jwtOf();
    const revoked = await t.call('POST', `/m2m_tokens/${created.id}/revoke`, { key: net.sender.secret_key, body: { revocation_reason: 'leak' } });
    expect(revoked.status).toBe(200);
    const res = await verify(created.token);
    expect(res.status).toBe(404);
    expect(res.body.errors[0].code).toBe('token_revoked');
    const forReceiver = await t.call('GET', '/v1/jwt_revocations', { key: net.receiver.secret_key });
    expect(forReceiver.status).toBe(200);
    expect(forReceiver.body.object).toBe('jwt_revocation_list');
    expect(forReceiver.body.ids).toContain(created.id);
    expect((await t.call('GET', '/v1/jwt_revocations', { key: net.unscoped.secret_key })).body.ids).not.toContain(created.id);
    expect((await t.call('GET', '/v1/jwt_revocations', { key: t.sk })).body.ids).toContain(created.id);
    expect((await t.call('GET', '/v1/jwt_revocations')).status).toBe(401);
  });

  it('never appear in token lists', async () => {
    const sender = await t.machine('jwt-only');
    await t.token(sender.secret_key, { token_format: 'jwt' });
    const list = await t.call('GET', `/m2m_tokens?subject=${sender.id}&revoked=true&expired=true`, { key: t.sk });
    expect(list.body.total_count).toBe(0);
  });

  it('stop verifying when their machine is deleted', async () => {
    const receiver = await t.machine('r');
    const sender = await t.machine('s', { scopedMachines: [receiver.id] });
    const created = await t.token(sender.secret_key, { token_format: 'jwt' });
    await t.call('DELETE', `/v1/machines/${sender.id}`, { key: t.sk });
    expect((await verify(created.token, t.sk)).status).toBe(404);
  });
});

describe('JWKS and machine identity', () => {
  it('serves the public keys without a credential at both paths, with cache headers', async () => {
    for (const path of ['/v1/jwks', '/.well-known/jwks.json']) {
      const res = await t.call('GET', path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
      const [key] = res.body.keys;
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
      expect(Buffer.from(key.n, 'base64url').length).toBe(256); // RSA-2048
      expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']); // nothing private
    }
    // Any credential, even a wrong one, is ignored here.
    expect((await t.call('GET', '/v1/jwks', { key: 'sk_live_wrong' })).status).toBe(200);
  });

  it('tells a machine key its machine ID, and nobody else', async () => {
    const res = await t.call('GET', '/v1/machine_identity', { key: net.receiver.secret_key });
    expect(res.body).toEqual({ object: 'machine_identity', machine_id: net.receiver.id, instance_id: net.receiver.instance_id });
    expect((await t.call('GET', '/v1/machine_identity', { key: t.sk })).status).toBe(401);
    expect((await t.call('GET', '/v1/machine_identity')).status).toBe(401);
  });
});

describe('server-side JWT verification refuses attacks', () => {
  let genuine: string;
  let kid: string;
  let privateKey: KeyObject;
  let jwks: any;
  beforeAll(async () => {
    genuine = (await jwtOf()).token;
    ({ kid, privateKey } = initialSigningKey);
    jwks = (await t.call('GET', '/v1/jwks')).body;
  });
  const claims = () => decodeJwt(genuine);
  const header = () => decodeProtectedHeader(genuine);
  const sign = (payload: Record<string, unknown>, protectedHeader: Record<string, unknown>, key: KeyObject = privateKey) =>
    new SignJWT(payload).setProtectedHeader(protectedHeader as never).sign(key);
  const refuse = async (token: string, code = 'token_not_found') => {
    const res = await verify(token);
    expect(res.status).toBe(404);
    expect(res.body.errors[0].code).toBe(code);
  };

  it('accepts the genuine token and a forged-but-correct one (sanity check of the forging helper)', async () => {
    expect((await verify(genuine)).status).toBe(200);
    expect((await verify(await sign(claims(), header()))).status).toBe(200);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('alg %s', async (alg) => {
    const [, payload] = genuine.split('.');
    await refuse(`${b64({ ...header(), alg })}.${payload}.`);
    await refuse(`${b64({ ...header(), alg })}.${payload}.${genuine.split('.')[2]}`);
  });

  it('HS256 signed with the public key (algorithm confusion)', async () => {
    const pem = JSON.stringify(jwks.keys[0]);
    const input = `${b64({ ...header(), alg: 'HS256' })}.${b64(claims())}`;
    for (const secret of [pem, jwks.keys[0].n]) {
      const mac = createHmac('sha256', secret).update(input).digest('base64url');
      await refuse(`${input}.${mac}`);
    }
  });

  it.each(['key_unknown', '../../etc/passwd', "key' OR '1'='1", 'key_x"; DROP TABLE signing_keys; --', ''])('kid %j', async (badKid) => {
    await refuse(await sign(claims(), { ...header(), kid: badKid }));
  });

  it('jku, x5u and an embedded jwk pointing at an attacker key are ignored', async () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const attackerJwk = await exportJWK(attacker.publicKey);
    for (const extra of [{ jku: 'http://127.0.0.1:1/jwks' }, { x5u: 'http://127.0.0.1:1/cert' }, { jwk: attackerJwk }]) {
      await refuse(await sign(claims(), { ...header(), ...extra }, attacker.privateKey));
    }
    await refuse(await sign(claims(), { ...header(), kid: 'attacker', jwk: { ...attackerJwk, kid: 'attacker' } }, attacker.privateKey));
  });

  it('tampered payload and tampered signature', async () => {
    const [h, , s] = genuine.split('.');
    await refuse(`${h}.${b64({ ...claims(), sub: net.unscoped.id })}.${s}`);
    await refuse(`${h}.${b64({ ...claims(), exp: claims().exp! + 3600 })}.${s}`);
    const sig = Buffer.from(s!, 'base64url');
    sig[10] ^= 0xff;
    await refuse(`${h}.${genuine.split('.')[1]}.${sig.toString('base64url')}`);
  });

  it('expired, nbf in the future, missing exp', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refuse(await sign({ ...claims(), iat: now - 120, exp: now - 60 }, header()), 'token_expired');
    await refuse(await sign({ ...claims(), nbf: now + 600 }, header()));
    const { exp: _exp, ...noExp } = claims();
    await refuse(await sign(noExp, header()));
  });

  it('wrong or missing cat, wrong typ, a subject that is not a machine, a jti that is not ours', async () => {
    await refuse(await sign(claims(), { ...header(), cat: 'cl_B7d4PD111AAA' }));
    const { cat: _cat, ...noCat } = header();
    await refuse(await sign(claims(), noCat));
    await refuse(await sign(claims(), { ...header(), typ: 'at+jwt' }));
    await refuse(await sign({ ...claims(), sub: 'user_2abc' }, header()));
    await refuse(await sign({ ...claims(), jti: `mt_${'0'.repeat(32)}` }, header()));
  });

  it('a token signed by another RSA key with our kid', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await refuse(await sign(claims(), { ...header(), kid }, other.privateKey));
  });
});

describe('signing key rotation', () => {
  it('keeps tokens from the previous key verifying, signs new ones with the new key, and publishes both', async () => {
    const before = await jwtOf();
    const oldKid = decodeProtectedHeader(before.token).kid;
    const rotated = await t.call('POST', '/v1/jwks/rotate', { key: t.sk });
    expect(rotated.status).toBe(200);
    expect(rotated.body.kid).not.toBe(oldKid);
    const after = await jwtOf();
    expect(decodeProtectedHeader(after.token).kid).toBe(rotated.body.kid);
    expect((await verify(before.token)).status).toBe(200);
    expect((await verify(after.token)).status).toBe(200);
    const kids = (await t.call('GET', '/v1/jwks')).body.keys.map((k: any) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, rotated.body.kid]));
    expect((await t.call('POST', '/v1/jwks/rotate', { key: net.receiver.secret_key })).status).toBe(401);
  });
});
