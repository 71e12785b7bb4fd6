import { createHmac, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../../server/src/config.js';
import { SigningKeys } from '../../server/src/domain/signing-keys.js';
import { openInstance } from '../../server/src/instance.js';
import { createClerkClient } from '../src/index.js';
import { isolateSdkEnv } from './helpers/env.js';
import { deadUrl } from './helpers/fault-injector.js';
import { machineNetwork, requestWith, startTessera, type MachineWithKey, type Tessera } from './helpers/tessera.js';

isolateSdkEnv();

// The attack battery of the JWT issue, run through authenticateRequest against the real
// server's JWKS. Forged tokens are signed with the server's own private key (read before
// the server starts: it then holds its data dir exclusively), so each case tests one rule.
let t: Tessera;
let net: { receiver: MachineWithKey; sender: MachineWithKey; unscoped: MachineWithKey };
let serverKey: { kid: string; privateKey: KeyObject };
let genuine: string;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-sdk-attacks-'));
  const { store, keyring } = await openInstance(resolveServeConfig(['--data-dir', dataDir], { TESSERA_LOG_LEVEL: 'silent' }));
  try {
    await new SigningKeys(store, keyring).init();
    const current = (await store.listSigningKeys()).find((k) => k.retiredAt === null)!;
    serverKey = { kid: current.kid, privateKey: createPrivateKey(keyring.open(current.privateSealed, `signing_key:${current.kid}`)) };
  } finally {
    await store.close();
  }
  t = await startTessera(dataDir);
  net = await machineNetwork(t);
  const sender = t.client({ machineSecretKey: net.sender.secretKey });
  genuine = (await sender.m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 600 })).token!;
});
afterAll(async () => {
  await t?.stop();
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = () => decodeJwt(genuine);
const header = () => decodeProtectedHeader(genuine);
const sign = (payload: Record<string, unknown>, protectedHeader: Record<string, unknown>, key: KeyObject = serverKey.privateKey) =>
  new SignJWT(payload).setProtectedHeader(protectedHeader as never).sign(key);

/** The receiver, as a service would configure it: its machine key and the instance key (for the JWKS). */
const receiver = () => t.client({ machineSecretKey: net.receiver.secretKey, secretKey: t.sk, maxRetries: 0 });

// A value that no longer classifies as an M2M JWT (no signature segment, a session `cat`, a
// non-machine `sub`) is refused as a type mismatch before any key is looked up.
async function refused(token: string, reasons = ['token-invalid', 'token-verification-failed', 'token-type-mismatch']) {
  const state = await receiver().authenticateRequest(requestWith(`Bearer ${token}`), { acceptsToken: 'm2m_token' });
  expect(state.isAuthenticated).toBe(false);
  expect(reasons).toContain(state.reason);
  return state;
}

describe('authenticateRequest refuses forged and misused JWTs (server JWKS)', () => {
  it('accepts the genuine token and a correctly forged copy (the forging helper works)', async () => {
    for (const token of [genuine, await sign(claims(), header())]) {
      const state = await receiver().authenticateRequest(requestWith(`Bearer ${token}`), { acceptsToken: 'm2m_token' });
      expect(state.isAuthenticated).toBe(true);
    }
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('alg %s, with and without a signature', async (alg) => {
    const [, payload, signature] = genuine.split('.');
    await refused(`${b64({ ...header(), alg })}.${payload}.`);
    await refused(`${b64({ ...header(), alg })}.${payload}.${signature}`);
  });

  it('HS256 signed with the public key (algorithm confusion)', async () => {
    const jwks = (await (await fetch(`${t.url}/v1/jwks`)).json()) as { keys: Array<Record<string, string>> };
    const input = `${b64({ ...header(), alg: 'HS256' })}.${b64(claims())}`;
    for (const secret of [JSON.stringify(jwks.keys[0]), jwks.keys[0]!.n!]) {
      await refused(`${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`);
    }
  });

  it.each(['key_unknown', '../../etc/passwd', "key' OR '1'='1", 'key_x"; DROP TABLE signing_keys; --', ''])('kid %j', async (kid) => {
    await refused(await sign(claims(), { ...header(), kid }));
  });

  it('jku, x5u and an embedded jwk pointing at an attacker key are not followed', async () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = await exportJWK(attacker.publicKey);
    for (const extra of [{ jku: 'http://127.0.0.1:1/jwks' }, { x5u: 'http://127.0.0.1:1/cert' }, { jwk }, { kid: 'attacker', jwk: { ...jwk, kid: 'attacker' } }]) {
      await refused(await sign(claims(), { ...header(), ...extra }, attacker.privateKey));
    }
  });

  it('a tampered payload and a tampered signature', async () => {
    const [h, , s] = genuine.split('.');
    await refused(`${h}.${b64({ ...claims(), sub: net.unscoped.id })}.${s}`);
    const bytes = Buffer.from(s!, 'base64url');
    bytes[7] = bytes[7]! ^ 0xff;
    await refused(`${h}.${genuine.split('.')[1]}.${bytes.toString('base64url')}`);
  });

  it('expired, not yet valid, and without exp', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(await sign({ ...claims(), iat: now - 120, exp: now - 60 }, header()), ['token-verification-failed']);
    await refused(await sign({ ...claims(), nbf: now + 600 }, header()), ['token-verification-failed']);
    const { exp: _exp, ...noExp } = claims();
    await refused(await sign(noExp, header()), ['token-verification-failed']);
  });

  it('a wrong cat, and a subject that is not a machine', async () => {
    await refused(await sign(claims(), { ...header(), cat: 'cl_B7d4PD111AAA' }));
    await refused(await sign({ ...claims(), sub: 'user_2abc' }, header()));
  });

  it('a token signed by another RSA key under our kid', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await refused(await sign(claims(), { ...header(), kid: serverKey.kid }, other.privateKey));
  });

  it('a genuine token sent to a receiver outside its scopes', async () => {
    const outsider = t.client({ machineSecretKey: net.unscoped.secretKey, secretKey: t.sk });
    const state = await outsider.authenticateRequest(requestWith(`Bearer ${genuine}`), { acceptsToken: 'm2m_token' });
    expect(state.isAuthenticated).toBe(false);
    expect(state.reason).toBe('token-invalid');
  });

  it('fails closed when the JWKS cannot be loaded and nothing is cached', async () => {
    const cut = createClerkClient({ apiUrl: await deadUrl(), secretKey: t.sk, maxRetries: 0 });
    const state = await cut.authenticateRequest(requestWith(`Bearer ${genuine}`), { acceptsToken: 'm2m_token' });
    expect(state.isAuthenticated).toBe(false);
    expect(state.reason).toBe('unexpected-error');
  });
});
