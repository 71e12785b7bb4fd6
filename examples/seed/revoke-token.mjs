// Seed snippet 2: the machine that minted a token revokes it.
// Usage: node revoke-token.mjs <token id>   (the seed's 'mt_xxxxx')
import { createClerkClient } from '@tessera/backend'

const clerkClient = createClerkClient({ machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY })
// Using machine secret
const revoked = await clerkClient.m2mTokens.revoke({ m2mTokenId: process.argv[2], revocationReason: 'Revoked by user' }) // seed: 'mt_xxxxx'

console.log(JSON.stringify({ id: revoked.id, revoked: revoked.revoked, revocationReason: revoked.revocationReason }))
