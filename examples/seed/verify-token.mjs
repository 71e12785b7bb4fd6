// Seed snippet 3: verify a token with the instance secret key.
// Usage: node verify-token.mjs <token secret>   (the seed's 'mt_secret_xxxxx')
// Run it where only the instance key is configured: with CLERK_MACHINE_SECRET_KEY also in
// the environment, the M2M API would verify with that machine key, as @clerk/backend does.
import { createClerkClient } from '@tessera/backend'

// Using instance secret (default)
const clerkClient = createClerkClient({ secretKey: process.env.CLERK_SECRET_KEY }) // seed: 'sk_xxxx'
const verified = await clerkClient.m2mTokens.verifySecret({ secret: process.argv[2] }) // seed: 'mt_secret_xxxxx'

console.log(JSON.stringify({ id: verified.id, subject: verified.subject, scopes: verified.scopes }))
