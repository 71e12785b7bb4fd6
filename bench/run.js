// Tessera benchmarks: `npm run bench` (full, ~10 min) or `npm run bench -- --quick` (~90 s).
// Every figure is a ratio against a baseline measured in the same run on the same machine:
// servers are pinned to CPU 0, the load generator (this process) to CPU 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runOnce, warmUp } from './lib/load.js';
import { canPin, rssMb, startPinned } from './lib/procs.js';
import { fmt, summarise } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'packages/server/bin/tessera.js');
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'no-postgres': { type: 'boolean', default: false },
    // Re-run a part only: http or sdk.
    only: { type: 'string' },
  },
});
const QUICK = flags.quick;
const PLAN = QUICK
  ? { runs: 3, durationS: 2, warmupS: 1, bigStore: 100_000, smallStore: 10_000, pgStore: 10_000, sdkMs: 1500 }
  : { runs: 3, durationS: 8, warmupS: 3, bigStore: 1_000_000, smallStore: 10_000, pgStore: 100_000, sdkMs: 4000 };

// Pin the load generator (this process) to CPU 1; servers go to CPU 0.
if (canPin && !process.env.TESSERA_BENCH_PINNED) {
  const result = spawnSync('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, TESSERA_BENCH_PINNED: '1' },
  });
  process.exit(result.status ?? 1);
}

const work = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
const log = (line) => process.stdout.write(`${line}\n`);
const results = {};
const running = [];

function summary(runs) {
  return {
    rps: summarise(runs, 'rps'),
    p99: summarise(runs, 'p99'),
    cpu: summarise(runs, 'cpuPct'),
    bad: runs.reduce((n, r) => n + r.bad, 0),
  };
}

/** Starts `node <args>` on CPU 0 and waits for `ready`; every process is stopped at the end. */
async function start(label, args, env, ready) {
  const proc = startPinned(0, args, { env, ready });
  running.push(proc);
  try {
    return { proc, match: await proc.started };
  } catch (error) {
    throw new Error(`${label}: ${error.message}`);
  }
}

function seed(dataDir, count, databaseUrl) {
  const args = [join(ROOT, 'bench/seed.js'), '--data-dir', dataDir, '--count', String(count)];
  if (databaseUrl) args.push('--database-url', databaseUrl);
  const out = execFileSync(process.execPath, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, TESSERA_BENCH_PINNED: '' } });
  const seeded = JSON.parse(out.toString());
  log(`  seeded ${fmt(count)} tokens in ${fmt(seeded.seconds, 1)} s`);
  // Let the kernel write the seeded pages out now rather than during the measurement.
  execFileSync('sync');
  return seeded;
}

const cycle = (items) => {
  let i = 0;
  return () => items[i++ % items.length];
};

const TESSERA_READY = /Tessera listening on (http:\/\/\S+)/;

/** A Tessera server over `dataDir` (and `databaseUrl`), and the load targets it offers. */
async function tessera(label, dataDir, seeded, databaseUrl) {
  const args = [CLI, 'serve', '--port', '0', '--data-dir', dataDir];
  if (databaseUrl) args.push('--database-url', databaseUrl);
  const { proc, match } = await start(label, args, { TESSERA_LOG_LEVEL: 'warn' }, TESSERA_READY);
  const url = match[1];
  const serverPid = proc.child.pid;
  const next = cycle(seeded.sample);
  const json = (key) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
  return {
    pid: serverPid,
    verify: {
      url,
      serverPid,
      request: { method: 'POST', path: '/m2m_tokens/verify', headers: json(seeded.receiverKey) },
      bodies: () => JSON.stringify({ token: next() }),
    },
    create: (body) => ({ url, serverPid, request: { method: 'POST', path: '/m2m_tokens', headers: json(seeded.senderKey), body: JSON.stringify(body) } }),
  };
}

// PostgreSQL plays a separate database host: its processes go to the load generator's CPU,
// so that CPU 0 measures Tessera alone (new backends inherit the postmaster's affinity).
function pinPostgres(cpuList) {
  if (!canPin) return;
  let pids = [];
  try {
    pids = execFileSync('pgrep', ['-x', 'postgres']).toString().trim().split('\n').filter(Boolean);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', cpuList, pid], { stdio: 'ignore' });
    } catch {
      // a backend that exited meanwhile
    }
  }
}

const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const pgName = `tessera_bench_${process.pid}`;
const psql = (sql) => execFileSync('psql', [PG_ADMIN, '-qAtc', sql], { stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * Every HTTP scenario runs against its own server, all started up front. The measured runs
 * are interleaved — one run of each scenario per round — so that a slow moment of this
 * shared machine falls on every scenario alike and the ratios stay fair.
 */
async function http() {
  const targets = {};
  log('starting: node:http ceiling, oidc-provider, Tessera (SQLite small and large, PostgreSQL)');
  const ceiling = await start('ceiling', [join(ROOT, 'bench/peers/ceiling.js')], {}, /listening (\d+)/);
  targets.ceiling = {
    url: `http://127.0.0.1:${ceiling.match[1]}/`,
    serverPid: ceiling.proc.child.pid,
    request: { method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: `mt_${'x'.repeat(81)}` }) },
  };

  const oidc = await start('oidc-provider', [join(ROOT, 'bench/peers/oidc.js')], { NODE_ENV: 'production' }, /listening (\d+)/);
  const oidcUrl = `http://127.0.0.1:${oidc.match[1]}`;
  const basic = `Basic ${Buffer.from('bench-client:bench-client-secret-0123456789abcdef').toString('base64')}`;
  const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
  const oidcTokens = [];
  for (let i = 0; i < 500; i++) {
    const res = await fetch(`${oidcUrl}/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' });
    oidcTokens.push((await res.json()).access_token);
  }
  const nextOidc = cycle(oidcTokens);
  targets.oidcIssue = { url: oidcUrl, serverPid: oidc.proc.child.pid, request: { method: 'POST', path: '/token', headers: form, body: 'grant_type=client_credentials' } };
  targets.oidcIntrospect = {
    url: oidcUrl,
    serverPid: oidc.proc.child.pid,
    request: { method: 'POST', path: '/token/introspection', headers: form },
    bodies: () => `token=${nextOidc()}`,
  };

  log(`seeding SQLite stores of ${fmt(PLAN.smallStore)} and ${fmt(PLAN.bigStore)} tokens`);
  const smallSeed = seed(join(work, 'small'), PLAN.smallStore);
  const bigSeed = seed(join(work, 'big'), PLAN.bigStore);
  const small = await tessera('tessera small', join(work, 'small'), smallSeed);
  const big = await tessera('tessera big', join(work, 'big'), bigSeed);
  targets.verifySmall = small.verify;
  targets.verifyBig = big.verify;
  targets.createOpaque = small.create({});
  targets.createJwt = small.create({ token_format: 'jwt' });

  let postgres = false;
  if (!flags['no-postgres']) {
    try {
      psql(`CREATE DATABASE ${pgName}`);
      postgres = true;
    } catch (error) {
      log(`  PostgreSQL unavailable, skipped (${String(error.message).split('\n')[0]})`);
    }
  }
  if (postgres) {
    pinPostgres('1');
    const url = `postgres://postgres@127.0.0.1:5432/${pgName}`;
    log(`seeding PostgreSQL with ${fmt(PLAN.pgStore)} tokens`);
    const pgSeed = seed(join(work, 'postgres'), PLAN.pgStore, url);
    targets.verifyPostgres = (await tessera('tessera postgres', join(work, 'postgres'), pgSeed, url)).verify;
  }

  const names = Object.keys(targets);
  log(`warming up ${names.length} scenarios`);
  for (const name of names) await warmUp(targets[name], PLAN.warmupS);
  const runs = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 1; round <= PLAN.runs; round++) {
    log(`round ${round} of ${PLAN.runs}: ${names.join(', ')}`);
    for (const name of names) runs[name].push(await runOnce(targets[name], PLAN.durationS));
  }
  for (const name of names) results[name] = summary(runs[name]);
  results.verifySmall.rssMb = rssMb(small.pid);
  results.verifyBig.rssMb = rssMb(big.pid);
}

// SDK in-process: authenticateRequest against raw jose on the same JWTs, and over opaque tokens.
async function sdk() {
  log('sdk: authenticateRequest (JWT repeated, JWT distinct, opaque) and raw jose jwtVerify');
  const dataDir = join(work, 'sdk');
  const seeded = seed(dataDir, 2000);
  const server = await tessera('tessera sdk', dataDir, seeded);
  const out = execFileSync(process.execPath, [join(ROOT, 'bench/sdk.js'), server.verify.url, seeded.senderKey, seeded.receiverKey, String(PLAN.sdkMs)], {
    maxBuffer: 16 * 1024 * 1024,
  });
  results.sdk = JSON.parse(out.toString());
}

// What the numbers above cannot say by themselves: why a target is missed, what was tried.
const ANALYSIS = [
  '## Targets this machine does not meet reliably, and why',
  '',
  'Which targets read "met" moves between runs on this shared machine (spreads of ±10–30% above); these are the ones',
  'at or below their line in some or all runs.',
  '',
  '- **Opaque verify vs oidc-provider introspection (≥ 4×), vs the node:http ceiling (≥ 0.45×), and p99 ≤ 5 ms.**',
  '  A verify is one Fastify request plus two keyed hashes (HMAC-SHA-256 of the caller\'s `ak_` key, to find it, and of the',
  '  token, to compare it in constant time), two in-memory cache hits, schema validation and the JSON response. Profiles',
  '  put most of the time in Node\'s HTTP stack and the kernel\'s `writev` (shared with the ceiling) and in Fastify\'s',
  '  per-request pipeline; our own work is ~11 µs of ~70 µs per request (measured in-process). The server is CPU-bound at',
  '  the throughput shown, so with 50 connections p99 is queueing time (Little\'s law: 50 / throughput ≈ the mean).',
  '  oidc-provider introspects from an in-memory store with no per-request hashing, so 4× it needs about the bare',
  '  Fastify rate. Tried and kept: an exclusive SQLite lock (three file-lock syscalls per read gone), an in-memory cache of',
  '  machine keys, tokens, machines and scopes in the SQLite store (safe because the store owns its file), token IDs',
  '  inside opaque tokens (lookup by a time-ordered primary key), pooled CSPRNG bytes, no per-request child logger,',
  '  callback-style hooks, trace IDs without `randomBytes`, chunked `last_used_at` writes every 5 s. Tried and dropped: a',
  '  larger V8 young generation (no change), a hand-rolled HMAC over `crypto.hash` (slower). Not done, on purpose:',
  '  caching raw secrets to skip the HMACs (secrets would then be matched by a hash-table lookup, not compared in',
  '  constant time) and bypassing Fastify for the hot route.',
  '- **Opaque create vs oidc-provider issuance (≥ 2×)** lands at 1.9–2.1×. Creates share commits (group commit), the row',
  '  lands on indexes that grow in order, and CSPRNG bytes come from a pool; what remains is the HMAC and the AES-GCM',
  '  seal of each token (kept so that `min_remaining_ttl_seconds` can hand the same token out again) and the commit.',
  '- **PostgreSQL verify vs the ceiling (≥ 0.15×)** lands at 0.12–0.17×. Two queries per verify (the caller\'s key, the',
  '  token), each a round trip through `pg`; nothing is cached, because a cache would need LISTEN/NOTIFY, whose delivery',
  '  is asynchronous, while the multi-instance guarantee is that a revocation or a key rotation is refused by every',
  '  process on its very next request. PostgreSQL here shares the load generator\'s CPU.',
  '',
];

function versions() {
  const pkg = (name) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  let postgres = 'n/a';
  try {
    postgres = execFileSync('psql', ['postgres://postgres@127.0.0.1:5432/postgres', '-qAtc', 'SHOW server_version']).toString().trim();
  } catch {
    // not available
  }
  return {
    node: process.version,
    fastify: pkg('fastify'),
    'better-sqlite3': pkg('better-sqlite3'),
    pg: pkg('pg'),
    jose: pkg('jose'),
    'oidc-provider': pkg('oidc-provider'),
    autocannon: pkg('autocannon'),
    postgres,
  };
}

function report() {
  const r = results;
  const rps = (x) => x?.rps.median;
  const line = (name, x) =>
    x
      ? `| ${name} | ${fmt(x.rps.median)} | ±${fmt(x.rps.spreadPct, 1)}% | ${fmt(x.p99.median, 1)} | ${fmt(x.cpu.median)}% | ${x.bad} |`
      : `| ${name} | n/a | | | | |`;
  const ratio = (a, b) => (a && b ? a / b : NaN);
  const check = (value, target, atLeast = true) =>
    Number.isFinite(value) ? (atLeast ? value >= target : value <= target) ? 'met' : '**missed**' : 'n/a';
  const targets = [
    ['Opaque verify (SQLite) / node:http ceiling', ratio(rps(r.verifyBig), rps(r.ceiling)), 0.45],
    ['Opaque verify (SQLite) / oidc-provider introspection', ratio(rps(r.verifyBig), rps(r.oidcIntrospect)), 4],
    ['Opaque create / oidc-provider issuance', ratio(rps(r.createOpaque), rps(r.oidcIssue)), 2],
    ['Opaque verify (PostgreSQL) / node:http ceiling', ratio(rps(r.verifyPostgres), rps(r.ceiling)), 0.15],
    ['authenticateRequest, repeated JWT / raw jose jwtVerify', ratio(r.sdk?.jwtRepeated, r.sdk?.joseVerify), 10],
    ['authenticateRequest, distinct JWTs / raw jose jwtVerify', ratio(r.sdk?.jwtDistinct, r.sdk?.joseVerify), 0.8],
    [`Verify at ${fmt(PLAN.bigStore)} tokens / at ${fmt(PLAN.smallStore)}`, ratio(rps(r.verifyBig), rps(r.verifySmall)), 0.9],
  ];
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  const v = versions();
  const lines = [
    '# Benchmark results',
    '',
    `${new Date().toISOString().slice(0, 10)} · ${QUICK ? 'quick run' : 'full run'} · ${cpus().length} × ${cpuModel}, ${Math.round(totalmem() / 2 ** 30)} GiB · ${canPin ? 'server on CPU 0, load on CPU 1 (taskset)' : 'not pinned (no taskset)'}`,
    '',
    Object.entries(v).map(([k, x]) => `${k} ${x}`).join(' · '),
    '',
    `autocannon, 50 connections, ${PLAN.warmupS} s warm-up per scenario, then ${PLAN.runs} rounds in which every scenario runs ${PLAN.durationS} s in turn (interleaved, so a slow moment of this shared machine hits all alike); median of the rounds, spread = half the min–max range. CPU = server process CPU time / wall time. Each server runs alone on CPU 0 while it is measured; the others are idle.`,
    '',
    '## Targets (ratios measured in this run)',
    '',
    '| Target | Measured | Target | |',
    '| --- | ---: | ---: | --- |',
    ...targets.map(([name, value, target]) => `| ${name} | ${fmt(value, 2)}× | ≥ ${target}× | ${check(value, target)} |`),
    `| Opaque verify (SQLite, ${fmt(PLAN.bigStore)} tokens) p99 latency | ${fmt(r.verifyBig?.p99.median, 1)} ms | ≤ 5 ms | ${check(r.verifyBig?.p99.median, 5, false)} |`,
    `| Server RSS at ${fmt(PLAN.bigStore)} tokens | ${fmt(r.verifyBig?.rssMb)} MB | ≤ 200 MB | ${check(r.verifyBig?.rssMb, 200, false)} |`,
    '',
    '## HTTP scenarios',
    '',
    '| Scenario | req/s | spread | p99 ms | server CPU | non-2xx/errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    line('node:http ceiling (fixed JSON)', r.ceiling),
    line('oidc-provider: client_credentials token', r.oidcIssue),
    line('oidc-provider: introspection', r.oidcIntrospect),
    line(`Tessera: opaque verify, SQLite, ${fmt(PLAN.smallStore)} tokens`, r.verifySmall),
    line(`Tessera: opaque verify, SQLite, ${fmt(PLAN.bigStore)} tokens`, r.verifyBig),
    line(`Tessera: opaque verify, PostgreSQL, ${fmt(PLAN.pgStore)} tokens`, r.verifyPostgres),
    line('Tessera: create opaque', r.createOpaque),
    line('Tessera: create JWT', r.createJwt),
    '',
    `Server RSS: ${fmt(r.verifySmall?.rssMb)} MB at ${fmt(PLAN.smallStore)} tokens, ${fmt(r.verifyBig?.rssMb)} MB at ${fmt(PLAN.bigStore)} tokens (after the verify load).`,
    '',
    `PostgreSQL ran on the load generator's CPU (as a separate database host would), so Tessera's CPU is its own.`,
    '',
    '## SDK, in process (50 concurrent calls)',
    '',
    '| Operation | per second |',
    '| --- | ---: |',
    `| raw jose jwtVerify (RS256, same key) | ${fmt(r.sdk?.joseVerify)} |`,
    `| authenticateRequest, the same JWT repeated | ${fmt(r.sdk?.jwtRepeated)} |`,
    `| authenticateRequest, a distinct JWT each time | ${fmt(r.sdk?.jwtDistinct)} |`,
    `| authenticateRequest, opaque token (one server round trip) | ${fmt(r.sdk?.opaque)} |`,
    '',
    ...ANALYSIS,
  ];
  return lines.join('\n');
}

const wanted = (name) => !flags.only || flags.only.split(',').includes(name);
try {
  if (wanted('http')) await http();
  if (wanted('sdk')) await sdk();
} finally {
  for (const proc of running) await proc.stop();
  pinPostgres(`0-${cpus().length - 1}`);
  try {
    psql(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`);
  } catch {
    // PostgreSQL was not there
  }
  rmSync(work, { recursive: true, force: true });
}
const table = report();
// A partial run (--only) prints its table but leaves the published results alone.
if (!flags.only) writeFileSync(join(ROOT, 'bench/RESULTS.md'), table);
log('');
log(table);
