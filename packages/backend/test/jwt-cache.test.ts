import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { M2MToken, type ClerkClientOptions } from '../src/index.js';
import { VerifiedJwt, VerifiedJwtCache } from '../src/jwt/verified-cache.js';
import { isolateSdkEnv } from './helpers/env.js';
import { bearer, machineNetwork, startTessera, type Tessera } from './helpers/tessera.js';

isolateSdkEnv();

// The cache of verified JWTs (README, SDK guide, "Caches and bounds"): a repeated token skips the
// signature, but expiry, aud, revocation and the key it was verified with are checked on
// every use. Signature checks are counted on crypto.subtle.verify, which the SDK calls once
// per JWT it verifies (the in-process server signs, and verifies nothing in these flows).
let t: Tessera;
let net: Awaited<ReturnType<typeof machineNetwork>>;
let signatureChecks: MockInstance;
beforeAll(async () => {
  t = await startTessera();
  net = await machineNetwork(t);
});
afterAll(async () => {
  await t?.stop();
});
afterEach(() => {
  vi.useRealTimers();
  signatureChecks?.mockRestore();
});

function countSignatureChecks(): MockInstance {
  signatureChecks = vi.spyOn(crypto.subtle, 'verify');
  return signatureChecks;
}

const mintJwt = (secondsUntilExpiration = 3600, claims: Record<string, unknown> | null = null) =>
  t.client({ machineSecretKey: net.sender.secretKey }).m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration, claims });
const receiverClient = (options: ClerkClientOptions = {}) => t.client({ machineSecretKey: net.receiver.secretKey, ...options });
const m2mOnly = { acceptsToken: 'm2m_token' } as const;

/** The state's reason, null when signed in. */
async function outcome(client: ReturnType<typeof receiverClient>, token: string, options: Record<string, unknown> = {}) {
  const state = await client.authenticateRequest(bearer(token), { ...m2mOnly, ...options });
  return state.isAuthenticated ? null : [state.reason, state.message];
}

/** Another token with `token`'s header and payload and a signature that is not theirs. */
const withForeignSignature = (token: string, donor: string) => `${token.slice(0, token.lastIndexOf('.'))}${donor.slice(donor.lastIndexOf('.'))}`;

describe('verified-JWT cache', () => {
  it('checks the signature of a repeated token once; authenticateRequest and m2m.verify share it', async () => {
    const jwt = await mintJwt(3600, { tier: 'gold' });
    const receiver = receiverClient();
    const checks = countSignatureChecks();
    for (let i = 0; i < 5; i++) {
      const state = await receiver.authenticateRequest(bearer(jwt.token!), m2mOnly);
      expect(state.isAuthenticated && state.toAuth()).toMatchObject({ id: jwt.id, subject: net.sender.id, claims: { tier: 'gold' } });
    }
    expect((await receiver.m2m.verify({ token: jwt.token! })).id).toBe(jwt.id);
    expect(checks).toHaveBeenCalledTimes(1);

    const other = await mintJwt();
    expect(await outcome(receiver, other.token!)).toBeNull();
    expect(checks).toHaveBeenCalledTimes(2);
  });

  it('hands out a frozen result: no caller can change what the next use of the token sees', async () => {
    const jwt = await mintJwt(3600, { tier: 'gold', nested: { a: 1 } });
    const receiver = receiverClient();
    const first = await receiver.m2m.verify({ token: jwt.token! });
    expect(first).toBeInstanceOf(M2MToken);
    expect(() => (first.scopes as string[]).push('mch_x')).toThrow(TypeError);
    expect(() => ((first.claims!.nested as Record<string, unknown>).a = 2)).toThrow(TypeError);
    const again = await receiver.authenticateRequest(bearer(jwt.token!), m2mOnly);
    expect(again.isAuthenticated && again.toAuth()).toMatchObject({ scopes: [net.receiver.id], claims: { tier: 'gold', nested: { a: 1 } } });
  });

  it('refuses a cached token once it is revoked, within revocationCacheTtlInMs', async () => {
    const jwt = await mintJwt();
    const receiver = receiverClient();
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const checks = countSignatureChecks();
    expect(await outcome(receiver, jwt.token!)).toBeNull();
    await t.client({ machineSecretKey: net.sender.secretKey }).m2m.revokeToken({ m2mTokenId: jwt.id });
    // The revocation list pulled just now is used for its TTL (5 s): the documented delay.
    vi.setSystemTime(Date.now() + 4_999);
    expect(await outcome(receiver, jwt.token!)).toBeNull();
    vi.setSystemTime(Date.now() + 1);
    expect(await outcome(receiver, jwt.token!)).toEqual(['token-invalid', 'The M2M token has been revoked. (code=token-invalid, status=n/a)']);
    expect(await outcome(receiver, jwt.token!)).toEqual(['token-invalid', 'The M2M token has been revoked. (code=token-invalid, status=n/a)']);
    expect(checks).toHaveBeenCalledTimes(1);
  });

  it('refuses a cached token the moment it expires (exp + clockSkewInMs), and for a call with less skew', async () => {
    const [a, b] = await Promise.all([mintJwt(60), mintJwt(60)]);
    const receiver = receiverClient();
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const checks = countSignatureChecks();
    expect(await outcome(receiver, a!.token!)).toBeNull();
    expect(await outcome(receiver, b!.token!)).toBeNull();

    // Two seconds past exp is inside the default 5 s skew, not inside a call's 0.
    vi.setSystemTime(b!.expiration! + 2_000);
    expect(await outcome(receiver, b!.token!)).toBeNull();
    expect((await outcome(receiver, b!.token!, { clockSkewInMs: 0 }))?.[0]).toBe('token-verification-failed');

    vi.setSystemTime(a!.expiration! + 4_999);
    expect(await outcome(receiver, a!.token!)).toBeNull();
    vi.setSystemTime(a!.expiration! + 5_000);
    const [reason, message] = (await outcome(receiver, a!.token!))!;
    expect(reason).toBe('token-verification-failed');
    expect(message).toMatch(/^JWT is expired\. Expiry date: .*, Current date: .*\. \(code=token-verification-failed, status=n\/a\)$/);
    expect(checks).toHaveBeenCalledTimes(2);
    // An expired token is dropped: its next use is verified afresh, and fails on the same claim.
    expect((await outcome(receiver, a!.token!))?.[0]).toBe('token-verification-failed');
    expect(checks).toHaveBeenCalledTimes(3);
  });

  it('refuses a cached token for a receiver that is not in its aud', async () => {
    const jwt = await mintJwt();
    const receiver = receiverClient();
    const checks = countSignatureChecks();
    expect(await outcome(receiver, jwt.token!)).toBeNull();
    const notScoped = ['token-invalid', 'The M2M token is not scoped to this machine. (code=token-invalid, status=n/a)'];
    // The same client acting for another machine, by its key (identity learned) or by its id.
    expect(await outcome(receiver, jwt.token!, { machineSecretKey: net.unscoped.secretKey })).toEqual(notScoped);
    expect(await outcome(receiver, jwt.token!, { machineId: net.unscoped.id })).toEqual(notScoped);
    await expect(receiver.m2m.verify({ token: jwt.token!, machineSecretKey: net.sender.secretKey })).rejects.toMatchObject({
      code: 'token-invalid',
      message: 'The M2M token is not scoped to this machine.',
    });
    expect(await outcome(receiver, jwt.token!)).toBeNull();
    expect(checks).toHaveBeenCalledTimes(1);
  });

  it('holds at most jwtCacheSize tokens; 0 turns it off', async () => {
    const [a, b, c] = await Promise.all([mintJwt(), mintJwt(), mintJwt()]);
    const small = receiverClient({ jwtCacheSize: 2 });
    const checks = countSignatureChecks();
    for (const jwt of [a, b, c]) expect(await outcome(small, jwt!.token!)).toBeNull();
    expect(checks).toHaveBeenCalledTimes(3);
    // The third token took the place of the oldest unused one.
    expect(await outcome(small, c!.token!)).toBeNull();
    expect(checks).toHaveBeenCalledTimes(3);
    expect(await outcome(small, a!.token!)).toBeNull();
    expect(checks).toHaveBeenCalledTimes(4);

    const none = receiverClient({ jwtCacheSize: 0 });
    for (let i = 0; i < 3; i++) expect(await outcome(none, a!.token!)).toBeNull();
    expect(checks).toHaveBeenCalledTimes(7);
  });

  it('keeps no failures: bad tokens, however many, evict nothing', async () => {
    const [good, donor] = await Promise.all([mintJwt(), mintJwt()]);
    const receiver = receiverClient({ jwtCacheSize: 1 });
    const checks = countSignatureChecks();
    expect(await outcome(receiver, good!.token!)).toBeNull();
    const forged = withForeignSignature(good!.token!, donor!.token!);
    for (let i = 0; i < 10; i++) {
      expect(await outcome(receiver, forged)).toEqual(['token-verification-failed', 'JWT signature is invalid. (code=token-verification-failed, status=n/a)']);
    }
    expect(checks).toHaveBeenCalledTimes(11);
    // A valid token of another receiver is a failure here too: not kept either.
    const unscopedJwt = await t.client({ machineSecretKey: net.unscoped.secretKey }).m2m.createToken({ tokenFormat: 'jwt' });
    expect((await outcome(receiver, unscopedJwt.token!))?.[0]).toBe('token-invalid');
    expect((await outcome(receiver, unscopedJwt.token!))?.[0]).toBe('token-invalid');
    expect(checks).toHaveBeenCalledTimes(13);
    expect(await outcome(receiver, good!.token!)).toBeNull();
    expect(checks).toHaveBeenCalledTimes(13);
  });

  it('a cached token stands only with the key that verified it: a JWKS refetch keeps it, a withdrawn key or another jwtKey does not', async () => {
    const jwt = await mintJwt();
    const kid = JSON.parse(Buffer.from(jwt.token!.split('.')[0]!, 'base64url').toString()).kid as string;
    const stranger = await generateKeyPair('RS256', { extractable: true });
    const strangerJwk: JWK = { ...(await exportJWK(stranger.publicKey)), kid: 'key_stranger', alg: 'RS256', use: 'sig' };
    let withdrawn = false;
    let jwksFetches = 0;
    // The real server, except that its JWKS can be made to stop serving the token's key.
    const fetchImpl: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname === '/v1/jwks') {
        jwksFetches++;
        if (withdrawn) return Response.json({ keys: [strangerJwk] });
      }
      return fetch(input, init);
    };
    const receiver = receiverClient({ fetch: fetchImpl, jwksCacheTtlInMs: 0, jwksRefetchCooldownInMs: 0 });
    const checks = countSignatureChecks();
    expect(await outcome(receiver, jwt.token!)).toBeNull();
    expect(await outcome(receiver, jwt.token!)).toBeNull();
    expect([jwksFetches, checks.mock.calls.length]).toEqual([2, 1]);

    withdrawn = true;
    expect(await outcome(receiver, jwt.token!)).toEqual([
      'token-verification-failed',
      `No signing key with kid "${kid}" in the server's JWKS. (code=token-verification-failed, status=n/a)`,
    ]);
    withdrawn = false;
    expect(await outcome(receiver, jwt.token!)).toBeNull();

    // A per-call PEM that did not sign the token: the cached verification does not count.
    const otherPem = await exportSPKI(stranger.publicKey);
    expect(await outcome(receiver, jwt.token!, { jwtKey: otherPem })).toEqual([
      'token-verification-failed',
      'JWT signature is invalid. (code=token-verification-failed, status=n/a)',
    ]);
  });

  it('refuses a JWT whose header marks parameters critical', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sub: net.sender.id, jti: 'mt_0c1d2e3f405162738495a6b7c8d9e0f1', exp: now + 600, aud: [net.receiver.id] })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', crit: ['x-ext'], 'x-ext': 1 })
      .sign(privateKey, { crit: { 'x-ext': true } });
    const networkless = t.client({ jwtKey: await exportSPKI(publicKey), machineId: net.receiver.id, fetch: () => Promise.reject(new Error('no network')) });
    expect(await outcome(networkless, token)).toEqual([
      'token-verification-failed',
      'JWT header parameter "crit" is not supported. (code=token-verification-failed, status=n/a)',
    ]);
  });
});

describe('VerifiedJwtCache', () => {
  const entry = (n: number) =>
    new VerifiedJwt(`header.payload.${String(n).padStart(40, '0')}`, {} as M2MToken, `mt_${n}`, 0, undefined, undefined, undefined, {}, 'kid');

  it('is bounded, returns an entry only for exactly its token, and gives used entries a second chance', () => {
    const cache = new VerifiedJwtCache(3);
    const entries = Array.from({ length: 10 }, (_, n) => entry(n));
    for (const e of entries.slice(0, 3)) cache.set(e);
    expect(cache.get(entries[0]!.token)).toBe(entries[0]);
    // A token that shares the lookup tail but is not the same string is not a hit.
    expect(cache.get(`other.${entries[0]!.token}`)).toBeUndefined();
    cache.set(entries[3]!); // evicts 1, the oldest unused; 0 was used
    expect([0, 1, 2, 3].map((n) => cache.get(entries[n]!.token) !== undefined)).toEqual([true, false, true, true]);
    for (const e of entries.slice(4)) cache.set(e);
    expect(cache.size).toBe(3);
    expect(entries.filter((e) => cache.get(e.token) !== undefined)).toHaveLength(3);
  });

  it('delete drops an entry only if it is still the one held', () => {
    const cache = new VerifiedJwtCache(2);
    const first = entry(1);
    const again = entry(1);
    cache.set(first);
    cache.set(again);
    cache.delete(first);
    expect(cache.get(again.token)).toBe(again);
    cache.delete(again);
    expect([cache.size, cache.get(again.token)]).toEqual([0, undefined]);
  });
});
