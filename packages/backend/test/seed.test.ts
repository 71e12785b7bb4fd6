import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClerkClient, TesseraAPIResponseError, type M2MToken } from '../src/index.js';
import { isolateSdkEnv, setEnv } from './helpers/env.js';
import { machineNetwork, startTessera, type Tessera } from './helpers/tessera.js';

isolateSdkEnv();

// The seed's snippets, each line as written, configured only through the environment of
// the process that would run it. Only the placeholders ('sk_xxxx', 'mt_xxxxx',
// 'mt_secret_xxxxx') are replaced by real values.
let t: Tessera;
let net: Awaited<ReturnType<typeof machineNetwork>>;
let restoreEnv = () => {};
beforeAll(async () => {
  t = await startTessera();
  net = await machineNetwork(t);
});
afterAll(async () => {
  await t?.stop();
});
afterEach(() => restoreEnv());

/** The environment of one process: the sender, the receiver, or an admin tool. */
const asProcess = (keys: { CLERK_MACHINE_SECRET_KEY?: string; CLERK_SECRET_KEY?: string }) => {
  restoreEnv();
  restoreEnv = setEnv({ TESSERA_API_URL: t.url, CLERK_MACHINE_SECRET_KEY: undefined, CLERK_SECRET_KEY: undefined, ...keys });
};

/** The receiving service of the seed: a Hono route around `authenticateRequest(c.req.raw, …)`. */
function receiverApp(perCall: boolean) {
  const clerkClient = createClerkClient({ secretKey: process.env.CLERK_SECRET_KEY });
  const app = new Hono();
  app.get('/protected', async (c) => {
    const authReq = perCall
      ? await clerkClient.authenticateRequest(c.req.raw, { machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY, acceptsToken: 'm2m_token' })
      : await clerkClient.authenticateRequest(c.req.raw, { /* machineSecretKey: … */ acceptsToken: 'm2m_token' });
    if (authReq.isAuthenticated) {
      /* ... */
      return c.json({ subject: authReq.toAuth().subject });
    }
    return c.json({ reason: authReq.reason }, 401);
  });
  return app;
}

describe('the seed, run verbatim against Tessera', () => {
  it('machine client mints; instance client verifies; receiver authenticates; machine client revokes', async () => {
    asProcess({ CLERK_MACHINE_SECRET_KEY: net.sender.secretKey });
    let m2mToken: M2MToken;
    {
      const clerkClient = createClerkClient({ machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY })
      m2mToken = await clerkClient.m2mTokens.create({ /* or machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY */ secondsUntilExpiration: 3600 })
    }
    expect(m2mToken.subject).toBe(net.sender.id);
    expect(m2mToken.secret).toMatch(/^mt_/);
    expect(m2mToken.expiration! - m2mToken.createdAt).toBe(3_600_000);

    asProcess({ CLERK_SECRET_KEY: t.sk });
    {
      // Using instance secret (default)
      const clerkClient = createClerkClient({ secretKey: process.env.CLERK_SECRET_KEY })
      const verified = await clerkClient.m2mTokens.verifySecret({ secret: m2mToken.secret! })
      expect(verified).toMatchObject({ id: m2mToken.id, subject: net.sender.id, scopes: [net.receiver.id] });
    }

    // The receiver runs with the instance key, as in the seed.
    const instanceReceiver = receiverApp(false);
    const call = (app: Hono, token: string) => app.request('/protected', { headers: { Authorization: `Bearer ${token}` } });
    const ok = await call(instanceReceiver, m2mToken.secret!);
    expect([ok.status, await ok.json()]).toEqual([200, { subject: net.sender.id }]);

    // And with its own machine key passed per call, from its environment.
    asProcess({ CLERK_MACHINE_SECRET_KEY: net.receiver.secretKey, CLERK_SECRET_KEY: t.sk });
    expect((await call(receiverApp(true), m2mToken.secret!)).status).toBe(200);

    asProcess({ CLERK_MACHINE_SECRET_KEY: net.sender.secretKey });
    {
      const clerkClient = createClerkClient({ machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY })
      // Using machine secret
      const revoked = await clerkClient.m2mTokens.revoke({ m2mTokenId: m2mToken.id, revocationReason: 'Revoked by user' })
      expect(revoked).toMatchObject({ id: m2mToken.id, revoked: true, revocationReason: 'Revoked by user' });
    }

    asProcess({ CLERK_SECRET_KEY: t.sk });
    const refused = await call(receiverApp(false), m2mToken.secret!);
    expect([refused.status, await refused.json()]).toEqual([401, { reason: 'token-invalid' }]);
    const error = await createClerkClient({ secretKey: process.env.CLERK_SECRET_KEY })
      .m2mTokens.verifySecret({ secret: m2mToken.secret! })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraAPIResponseError);
    expect((error as TesseraAPIResponseError).status).toBe(404);
  });

  it('create with the per-call machine key on an instance client (the commented variant)', async () => {
    asProcess({ CLERK_SECRET_KEY: t.sk, CLERK_MACHINE_SECRET_KEY: net.sender.secretKey });
    const clerkClient = createClerkClient({ secretKey: process.env.CLERK_SECRET_KEY })
    const m2mToken = await clerkClient.m2mTokens.create({ machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY, secondsUntilExpiration: 3600 })
    expect(m2mToken.subject).toBe(net.sender.id);
  });

  it('the environment fills options not given: CLERK_API_URL when TESSERA_API_URL is unset, keys when omitted', async () => {
    restoreEnv();
    restoreEnv = setEnv({ TESSERA_API_URL: undefined, CLERK_API_URL: t.url, CLERK_MACHINE_SECRET_KEY: net.sender.secretKey });
    const m2mToken = await createClerkClient().m2m.createToken();
    expect(m2mToken.subject).toBe(net.sender.id);
  });
});
