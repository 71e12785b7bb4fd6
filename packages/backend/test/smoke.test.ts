import { it, expect } from 'vitest';
import { startTestServer, machineNetwork } from '../../server/test/helpers/server.js';
import { createClerkClient } from '../src/index.js';
it('smoke jwt', async () => {
  const t = await startTestServer();
  try {
    const { receiver, sender, unscoped } = await machineNetwork(t);
    const c = createClerkClient({ apiUrl: t.url, machineSecretKey: sender.secret_key });
    const tok = await c.m2m.createToken({ tokenFormat: 'jwt', claims: { tier: 'gold' } });
    const r = createClerkClient({ apiUrl: t.url, machineSecretKey: receiver.secret_key });
    const req = (tk: string) => new Request('http://x/', { headers: { authorization: `Bearer ${tk}` } });
    const st = await r.authenticateRequest(req(tok.token!), { acceptsToken: 'm2m_token' });
    console.log(st.status, st.reason, st.message, st.toAuth());
    console.log(await r.m2m.verify({ token: tok.token! }));
    const u = await createClerkClient({ apiUrl: t.url, machineSecretKey: unscoped.secret_key }).m2m.createToken({ tokenFormat: 'jwt' });
    const st2 = await r.authenticateRequest(req(u.token!), { acceptsToken: 'm2m_token' });
    console.log(st2.status, st2.reason, st2.message);
    await c.m2m.revokeToken({ m2mTokenId: tok.id });
    const r2 = createClerkClient({ apiUrl: t.url, machineSecretKey: receiver.secret_key });
    const st3 = await r2.authenticateRequest(req(tok.token!), { acceptsToken: 'm2m_token' });
    console.log(st3.status, st3.reason, st3.message);
  } finally { await t.stop(); }
});
