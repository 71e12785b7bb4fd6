// Seed snippet 1: a machine mints a token with its own secret key.
// Prints the token as JSON: { "id": "mt_…", "secret": "mt_…" }
import { createClerkClient } from '@tessera/backend'

const clerkClient = createClerkClient({ machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY })
const m2mToken = await clerkClient.m2mTokens.create({ /* or machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY */ secondsUntilExpiration: 3600 })

console.log(JSON.stringify({ id: m2mToken.id, secret: m2mToken.secret }))
