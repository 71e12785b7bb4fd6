// A Hono service whose /protected route accepts only M2M tokens scoped to this machine.
// Env: CLERK_MACHINE_SECRET_KEY (this receiver's key), TESSERA_API_URL, PORT (default 3000; 0 = any free port).
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { createClerkClient } from '@tessera/backend'

// Created once: it caches the JWKS, the revocation list and this machine's id.
const clerkClient = createClerkClient({ machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY })

const app = new Hono()

app.get('/protected', async (c) => {
  const authReq = await clerkClient.authenticateRequest(c.req.raw, { /* machineSecretKey: … */ acceptsToken: 'm2m_token' })
  if (authReq.isAuthenticated) {
    const auth = authReq.toAuth()
    return c.json({ subject: auth.subject, tokenType: auth.tokenType, scopes: auth.scopes, claims: auth.claims })
  }
  // The x-clerk-auth-* headers say why; the body only says no.
  authReq.headers.forEach((value, key) => c.header(key, value))
  return c.json({ error: 'unauthorized', reason: authReq.reason }, 401)
})

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 3000) }, (info) => {
  console.log(`hono-receiver listening on http://127.0.0.1:${info.port}`)
})

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)))
