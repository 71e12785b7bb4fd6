// Fills a Tessera instance with machines and N opaque tokens through the domain services
// (TokenService.createMany: the server's minting code, in batches of one transaction),
// then prints what the load needs as JSON.
// Usage: node bench/seed.js --data-dir DIR --count N [--database-url URL] [--sample 2000]
import { parseArgs } from 'node:util';
import { resolveServeConfig } from '../packages/server/dist/config.js';
import { openInstance } from '../packages/server/dist/instance.js';
import { MachineService } from '../packages/server/dist/domain/machines.js';
import { TokenService } from '../packages/server/dist/domain/tokens.js';
import { TokenUsageRecorder } from '../packages/server/dist/domain/token-usage.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    count: { type: 'string' },
    sample: { type: 'string', default: '2000' },
  },
});
const count = Number(values.count);
const sampleSize = Math.min(Number(values.sample), count);
const args = ['--data-dir', values['data-dir']];
if (values['database-url']) args.push('--database-url', values['database-url']);
const config = resolveServeConfig(args, { ...process.env, TESSERA_LOG_LEVEL: 'silent' });

const { store, keyring } = await openInstance(config);
const machines = new MachineService(store, keyring);
const usage = new TokenUsageRecorder(store);
const tokens = new TokenService(store, keyring, usage, null);

const receiver = await machines.create({ name: 'bench receiver' });
const sender = await machines.create({ name: 'bench sender', scopedMachines: [receiver.machine.id], defaultTokenTtl: 86_400 });
const principal = { kind: 'machine', machineId: sender.machine.id };
const input = { secondsUntilExpiration: null, claims: null, minRemainingTtlSeconds: null };

const sample = [];
const started = Date.now();
const BATCH = 5000;
for (let minted = 0; minted < count; minted += BATCH) {
  const issued = await tokens.createMany(principal, input, Math.min(BATCH, count - minted));
  for (const { token } of issued) if (sample.length < sampleSize) sample.push(token);
}
const seconds = (Date.now() - started) / 1000;
await store.close();

process.stdout.write(
  `${JSON.stringify({
    receiverKey: receiver.secretKey,
    senderKey: sender.secretKey,
    senderId: sender.machine.id,
    receiverId: receiver.machine.id,
    count,
    seconds,
    sample,
  })}\n`,
);
