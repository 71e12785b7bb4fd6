import { exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClerkClient, M2MToken, MachineTokenVerificationError } from '../src/index.js';
import { isolateSdkEnv } from './helpers/env.js';
import { deadUrl } from './helpers/fault-injector.js';
import { expectSignedIn, expectSignedOut } from './helpers/states.js';
import { bearer } from './helpers/tessera.js';

isolateSdkEnv();

// Networkless verification with `jwtKey`: tokens are signed here with a key made for the test.
const SENDER = 'mch_2yGkLpQ7Y3rXSwtU24CzTk9I7Em';
const RECEIVER = 'mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk';
const OTHER = 'mch_2zzzzzzzzzzzzzzzzzzzzzzzzzz';
const TOKEN_ID = 'mt_0c1d2e3f405162738495a6b7c8d9e0f1';

let privateKey: CryptoKey;
let privatePkcs8: string;
let pem: string;
let apiUrl: string;
beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  privatePkcs8 = await exportPKCS8(pair.privateKey);
  pem = await exportSPKI(pair.publicKey);
  // Networkless: any request would fail, and a test asserting success would show it.
  apiUrl = await deadUrl();
});

const now = () => Math.floor(Date.now() / 1000);

interface Mint {
  header?: Record<string, unknown>;
  payload?: JWTPayload;
  omit?: string[];
  key?: CryptoKey;
  alg?: string;
}

async function mint({ header = {}, payload = {}, omit = [], key, alg = 'RS256' }: Mint = {}): Promise<string> {
  const claims: JWTPayload = {
    sub: SENDER,
    jti: TOKEN_ID,
    iat: now(),
    exp: now() + 600,
    iss: 'http://127.0.0.1:7600',
    aud: [RECEIVER],
    scopes: RECEIVER,
    tier: 'gold',
    ...payload,
  };
  for (const name of omit) delete claims[name];
  const signingKey = key ?? (alg === 'RS256' ? privateKey : await importPKCS8(privatePkcs8, alg));
  return new SignJWT(claims).setProtectedHeader({ alg, kid: 'key_test', typ: 'JWT', cat: 'cl_B7d4PD333AAA', ...header }).sign(signingKey);
}

const client = (options: Parameters<typeof createClerkClient>[0] = {}) => createClerkClient({ apiUrl, jwtKey: pem, maxRetries: 0, ...options });

async function failure(token: string, options: Parameters<typeof createClerkClient>[0] = {}): Promise<MachineTokenVerificationError> {
  const error = await client(options)
    .m2m.verify({ token })
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(MachineTokenVerificationError);
  return error as MachineTokenVerificationError;
}

describe('m2m.verify with jwtKey (no network)', () => {
  it('maps the payload to an M2MToken: id ← jti, scopes ← scopes, claims = custom claims only', async () => {
    const token = await mint({ payload: { iat: 1_754_938_436, exp: now() + 600, nested: { a: [1] } } });
    const verified = await client().m2m.verify({ token });
    expect(verified).toBeInstanceOf(M2MToken);
    expect({ ...verified }).toEqual({
      id: TOKEN_ID,
      subject: SENDER,
      scopes: [RECEIVER],
      claims: { tier: 'gold', nested: { a: [1] } },
      revoked: false,
      revocationReason: null,
      expired: false,
      expiration: (now() + 600) * 1000,
      createdAt: 1_754_938_436_000,
      updatedAt: 1_754_938_436_000,
      lastUsedAt: null,
      token: undefined,
      secret: undefined,
    });
  });

  it('takes scopes from aud when there is no scopes claim, and claims null when none are custom', async () => {
    const token = await mint({ payload: { aud: [RECEIVER, OTHER] }, omit: ['scopes', 'tier'] });
    expect(await client().m2m.verify({ token })).toMatchObject({ scopes: [RECEIVER, OTHER], claims: null });
    const bare = await mint({ omit: ['scopes', 'aud', 'tier'] });
    expect(await client().m2m.verify({ token: bare })).toMatchObject({ scopes: [], claims: null });
  });

  it('accepts RS384 and RS512; a token without cat; a token without typ', async () => {
    for (const alg of ['RS384', 'RS512']) expect((await client().m2m.verify({ token: await mint({ alg }) })).id).toBe(TOKEN_ID);
    expect((await client().m2m.verify({ token: await mint({ header: { cat: undefined } }) })).id).toBe(TOKEN_ID);
    expect((await client().m2m.verify({ token: await mint({ header: { typ: undefined } }) })).id).toBe(TOKEN_ID);
  });

  it('reads a PEM with literal \\n escapes or without armour, as env files carry it', async () => {
    const token = await mint();
    expect((await client({ jwtKey: pem.replace(/\n/g, '\\n') }).m2m.verify({ token })).id).toBe(TOKEN_ID);
    const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    expect((await client({ jwtKey: body }).m2m.verify({ token })).id).toBe(TOKEN_ID);
  });

  it('refuses alg none and HS256 before looking for a key', async () => {
    const [, payload] = (await mint()).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', cat: 'cl_B7d4PD333AAA' })).toString('base64url')}.${payload}.AAAA`;
    const error = await failure(none);
    expect([error.code, error.message]).toEqual(['token-verification-failed', 'Invalid JWT algorithm "none". Supported: RS256, RS384, RS512.']);
    const hs = await new SignJWT({ sub: SENDER, jti: TOKEN_ID, exp: now() + 60 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect((await failure(hs)).message).toContain('Invalid JWT algorithm "HS256"');
  });

  it('refuses a signature by another key', async () => {
    const { privateKey: other } = await generateKeyPair('RS256');
    const error = await failure(await mint({ key: other }));
    expect([error.code, error.message]).toEqual(['token-verification-failed', 'JWT signature is invalid.']);
  });

  it('refuses a payload altered after signing', async () => {
    const [header, , signature] = (await mint()).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: SENDER, jti: TOKEN_ID, exp: now() + 600, aud: [OTHER] })).toString('base64url');
    expect((await failure(`${header}.${forged}.${signature}`)).message).toBe('JWT signature is invalid.');
  });

  it('refuses a non-M2M category without any network call: token-invalid', async () => {
    for (const cat of ['cl_B7d4PD111AAA', 'cl_B7d4PD222AAA', 'cl_unknown']) {
      const error = await failure(await mint({ header: { cat } }), { jwtKey: undefined, secretKey: 'sk_test_x' });
      expect([error.code, error.message]).toEqual(['token-invalid', 'Invalid M2M JWT category.']);
    }
  });

  it('refuses a wrong typ', async () => {
    expect((await failure(await mint({ header: { typ: 'at+jwt' } }))).message).toBe('Invalid JWT type "at+jwt". Expected "JWT".');
  });

  it('time claims: exp required and enforced with clock skew; nbf and iat may not be in the future', async () => {
    expect((await failure(await mint({ omit: ['exp'] }))).message).toBe('Invalid JWT expiry date claim (exp): it must be a number.');
    const expired = await failure(await mint({ payload: { exp: now() - 60 } }));
    expect(expired.code).toBe('token-verification-failed');
    expect(expired.message).toMatch(/^JWT is expired\. Expiry date: .*, Current date: .*\.$/);
    // Two seconds past exp is inside the default 5 s skew.
    expect((await client().m2m.verify({ token: await mint({ payload: { exp: now() - 2 } }) })).id).toBe(TOKEN_ID);
    expect((await failure(await mint({ payload: { nbf: now() + 60 } }))).message).toMatch(/^JWT cannot be used prior to not before date claim \(nbf\)/);
    expect((await failure(await mint({ payload: { iat: now() + 60 } }))).message).toMatch(/^JWT issued at date claim \(iat\) is in the future/);
  });

  it('clockSkewInMs is a client option', async () => {
    const token = await mint({ payload: { exp: now() - 2 } });
    expect((await failure(token, { clockSkewInMs: 0 })).message).toMatch(/^JWT is expired/);
  });

  it('sub must be a machine ID and jti a token ID', async () => {
    expect((await failure(await mint({ payload: { sub: 'mch_short' } }))).message).toBe(
      'Invalid JWT subject claim (sub): expected a machine ID (mch_...).',
    );
    expect((await failure(await mint({ omit: ['jti'] }))).message).toBe('Invalid JWT ID claim (jti): expected an M2M token ID (mt_...).');
  });

  it('with machineId set, aud must include it (the scope rule); a string aud counts', async () => {
    expect((await client({ machineId: RECEIVER }).m2m.verify({ token: await mint() })).id).toBe(TOKEN_ID);
    expect((await client({ machineId: RECEIVER }).m2m.verify({ token: await mint({ payload: { aud: RECEIVER } }) })).id).toBe(TOKEN_ID);
    const error = await failure(await mint({ payload: { aud: [OTHER] } }), { machineId: RECEIVER });
    expect([error.code, error.message]).toEqual(['token-invalid', 'The M2M token is not scoped to this machine.']);
    expect((await failure(await mint({ omit: ['aud', 'scopes'] }), { machineId: RECEIVER })).code).toBe('token-invalid');
  });

  it('an unusable jwtKey is reported as such', async () => {
    const error = await failure(await mint(), { jwtKey: 'not a key' });
    expect([error.code, error.message]).toEqual([
      'token-verification-failed',
      'The configured jwtKey (CLERK_JWT_KEY) is not a valid RSA public key in PEM form.',
    ]);
    expect(error.getFullMessage()).toBe(
      'The configured jwtKey (CLERK_JWT_KEY) is not a valid RSA public key in PEM form. (code=token-verification-failed, status=n/a)',
    );
  });
});

describe('authenticateRequest with jwtKey (no network)', () => {
  it('signs in a valid JWT and reports failures with their codes', async () => {
    const token = await mint();
    const receiver = client({ machineId: RECEIVER });
    await expectSignedIn(await receiver.authenticateRequest(bearer(token), { acceptsToken: 'm2m_token' }), {
      token,
      id: TOKEN_ID,
      subject: SENDER,
      scopes: [RECEIVER],
      claims: { tier: 'gold' },
    });
    const foreign = await mint({ payload: { aud: [OTHER] } });
    await expectSignedOut(await receiver.authenticateRequest(bearer(foreign), { acceptsToken: 'm2m_token' }), {
      tokenType: 'm2m_token',
      reason: 'token-invalid',
      message: 'The M2M token is not scoped to this machine. (code=token-invalid, status=n/a)',
    });
    const session = await mint({ header: { cat: 'cl_B7d4PD111AAA' } });
    expect(await receiver.authenticateRequest(bearer(session), { acceptsToken: 'm2m_token' })).toMatchObject({
      reason: 'token-invalid',
      message: 'Invalid M2M JWT category. (code=token-invalid, status=n/a)',
    });
  });

  it('per-call machineId and clockSkewInMs override the client’s', async () => {
    const token = await mint({ payload: { exp: now() - 2 } });
    const receiver = client({ machineId: OTHER });
    expect((await receiver.authenticateRequest(bearer(token), { acceptsToken: 'm2m_token' })).reason).toBe('token-invalid');
    expect((await receiver.authenticateRequest(bearer(token), { acceptsToken: 'm2m_token', machineId: RECEIVER })).isAuthenticated).toBe(true);
    expect(
      (await receiver.authenticateRequest(bearer(token), { acceptsToken: 'm2m_token', machineId: RECEIVER, clockSkewInMs: 0 })).reason,
    ).toBe('token-verification-failed');
  });

  it('an M2M JWT is a type mismatch on a session route', async () => {
    expect(await client().authenticateRequest(bearer(await mint()))).toMatchObject({ tokenType: 'session_token', reason: 'token-type-mismatch' });
  });
});
