// Not part of the seed: creates the two machines the snippets need, with the instance key.
// Prints shell `export` lines: eval "$(node examples/seed/setup.mjs)"
import { createClerkClient } from '@tessera/backend'

const clerkClient = createClerkClient({ secretKey: process.env.CLERK_SECRET_KEY })
const receiver = await clerkClient.machines.create({ name: 'seed receiver' })
const sender = await clerkClient.machines.create({ name: 'seed sender', scopedMachines: [receiver.id] })

console.log(`export CLERK_MACHINE_SECRET_KEY=${sender.secretKey}  # the sender: mints and revokes tokens`)
console.log(`export RECEIVER_MACHINE_SECRET_KEY=${receiver.secretKey}  # for examples/hono-receiver`)
