// Mints an M2M token with this machine's key and calls the receiver's /protected route.
// Env: CLERK_MACHINE_SECRET_KEY (this sender's key), TESSERA_API_URL,
//      RECEIVER_URL (default http://127.0.0.1:3000), TOKEN_FORMAT (opaque | jwt, default opaque).
import { createClerkClient } from '@tessera/backend'

const clerkClient = createClerkClient({ machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY })
const { token } = await clerkClient.m2m.createToken({
  secondsUntilExpiration: 60,
  tokenFormat: process.env.TOKEN_FORMAT === 'jwt' ? 'jwt' : 'opaque',
  claims: { job: 'nightly-report' },
})

const receiverUrl = process.env.RECEIVER_URL ?? 'http://127.0.0.1:3000'
const response = await fetch(`${receiverUrl}/protected`, { headers: { Authorization: `Bearer ${token}` } })
console.log(response.status, await response.text())
process.exitCode = response.ok ? 0 : 1
