// Tessera benchmarks: `npm run bench` (full, ~10 min) or `npm run bench -- --quick` (~90 s).
// Every figure is a ratio against a baseline measured in the same run on the same machine:
// servers are pinned to CPU 0, the load generator (this process) to CPU 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure } from './lib/load.js';
import { canPin, rssMb, startPinned } from './lib/procs.js';
import { fmt, summarise } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'packages/server/bin/tessera.js');
const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, 'no-postgres': { type: 'boolean', default: false } },
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

function summary(runs) {
  return {
    rps: summarise(runs, 'rps'),
    p99: summarise(runs, 'p99'),
    cpu: summarise(runs, 'cpuPct'),
    bad: runs.reduce((n, r) => n + r.bad, 0),
  };
}

async function withProcess(label, args, env, ready, body) {
  const proc = startPinned(0, args, { env, ready });
  try {
    const match = await proc.started;
    return await body(proc, match);
  } catch (error) {
    throw new Error(`${label}: ${error.message}`);
  } finally {
    await proc.stop();
  }
}

function seed(dataDir, count, databaseUrl) {
  const args = [join(ROOT, 'bench/seed.js'), '--data-dir', dataDir, '--count', String(count)];
  if (databaseUrl) args.push('--database-url', databaseUrl);
  const out = execFileSync(process.execPath, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, TESSERA_BENCH_PINNED: '' } });
  const seeded = JSON.parse(out.toString());
  log(`  seeded ${fmt(count)} tokens in ${fmt(seeded.seconds, 1)} s`);
  return seeded;
}

const cycle = (items) => {
  let i = 0;
  return () => items[i++ % items.length];
};

const load = (url, request, extra = {}) =>
  measure({ url, request, connections: 50, durationS: PLAN.durationS, runs: PLAN.runs, warmupS: PLAN.warmupS, ...extra });

const tesseraEnv = { TESSERA_LOG_LEVEL: 'warn' };
const TESSERA_READY = /Tessera listening on (http:\/\/\S+)/;

// 1. Ceiling: bare node:http.
async function ceiling() {
  log('ceiling: node:http, fixed JSON');
  await withProcess('ceiling', [join(ROOT, 'bench/peers/ceiling.js')], {}, /listening (\d+)/, async (proc, m) => {
    const runs = await load(`http://127.0.0.1:${m[1]}/`, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'mt_' + 'x'.repeat(49) }),
    }, { serverPid: proc.child.pid });
    results.ceiling = summary(runs);
  });
}

// 2. Peer: oidc-provider, client_credentials issuance and RFC 7662 introspection.
async function oidc() {
  log('peer: oidc-provider (client_credentials, introspection)');
  await withProcess('oidc-provider', [join(ROOT, 'bench/peers/oidc.js')], { NODE_ENV: 'production' }, /listening (\d+)/, async (proc, m) => {
    const url = `http://127.0.0.1:${m[1]}`;
    const basic = `Basic ${Buffer.from('bench-client:bench-client-secret-0123456789abcdef').toString('base64')}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
    const issue = await load(url, { method: 'POST', path: '/token', headers: form, body: 'grant_type=client_credentials' }, { serverPid: proc.child.pid });
    results.oidcIssue = summary(issue);
    const tokens = [];
    for (let i = 0; i < 500; i++) {
      const res = await fetch(`${url}/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' });
      tokens.push((await res.json()).access_token);
    }
    const next = cycle(tokens);
    const introspect = await load(url, { method: 'POST', path: '/token/introspection', headers: form }, {
      serverPid: proc.child.pid,
      bodies: () => `token=${next()}`,
    });
    results.oidcIntrospect = summary(introspect);
  });
}

/** Starts Tessera over `dataDir` (and `databaseUrl`), and runs `body(url, proc)`. */
function withTessera(dataDir, databaseUrl, body) {
  const args = [CLI, 'serve', '--port', '0', '--data-dir', dataDir];
  if (databaseUrl) args.push('--database-url', databaseUrl);
  return withProcess('tessera', args, tesseraEnv, TESSERA_READY, (proc, m) => body(m[1], proc));
}

async function verifyLoad(url, proc, seeded) {
  const next = cycle(seeded.sample);
  return load(url, {
    method: 'POST',
    path: '/m2m_tokens/verify',
    headers: { authorization: `Bearer ${seeded.receiverKey}`, 'content-type': 'application/json' },
  }, { serverPid: proc.child.pid, bodies: () => JSON.stringify({ token: next() }) });
}

// 3, 4, 6. Opaque verify at a small and a large store (SQLite), RSS at each; create opaque and JWT.
async function tesseraSqlite() {
  for (const [key, count] of [['verifySmall', PLAN.smallStore], ['verifyBig', PLAN.bigStore]]) {
    log(`tessera: opaque verify, SQLite, ${fmt(count)} tokens`);
    const dataDir = join(work, `sqlite-${count}`);
    const seeded = seed(dataDir, count);
    await withTessera(dataDir, undefined, async (url, proc) => {
      results[key] = { ...summary(await verifyLoad(url, proc, seeded)), count, rssMb: rssMb(proc.child.pid) };
      if (key === 'verifyBig') {
        log('tessera: create, opaque and JWT');
        const create = (body) => load(url, {
          method: 'POST',
          path: '/m2m_tokens',
          headers: { authorization: `Bearer ${seeded.senderKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }, { serverPid: proc.child.pid });
        results.createOpaque = summary(await create({}));
        results.createJwt = summary(await create({ token_format: 'jwt' }));
      }
    });
  }
}

// 3 (PostgreSQL). Opaque verify over the machine's PostgreSQL.
async function tesseraPostgres() {
  if (flags['no-postgres']) return;
  const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `tessera_bench_${process.pid}`;
  const psql = (sql) => execFileSync('psql', [admin, '-qAtc', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    psql(`CREATE DATABASE ${name}`);
  } catch (error) {
    log(`  PostgreSQL unavailable, skipped (${String(error.message).split('\n')[0]})`);
    return;
  }
  // PostgreSQL plays a separate database host: its processes go to the load generator's CPU,
  // so that CPU 0 measures Tessera alone (new backends inherit the postmaster's affinity).
  const pinPostgres = (cpus) => {
    if (!canPin) return;
    for (const pid of execFileSync('pgrep', ['-x', 'postgres']).toString().trim().split('\n').filter(Boolean)) {
      try {
        execFileSync('taskset', ['-a', '-p', '-c', cpus, pid], { stdio: 'ignore' });
      } catch {
        // a backend that exited meanwhile
      }
    }
  };
  try {
    pinPostgres('1');
    const url = `postgres://postgres@127.0.0.1:5432/${name}`;
    log(`tessera: opaque verify, PostgreSQL, ${fmt(PLAN.pgStore)} tokens`);
    const dataDir = join(work, 'postgres');
    const seeded = seed(dataDir, PLAN.pgStore, url);
    await withTessera(dataDir, url, async (serverUrl, proc) => {
      results.verifyPostgres = { ...summary(await verifyLoad(serverUrl, proc, seeded)), count: PLAN.pgStore };
    });
  } finally {
    pinPostgres(`0-${cpus().length - 1}`);
    psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

// 5. SDK in-process: authenticateRequest against raw jose on the same JWTs, and over opaque tokens.
async function sdk() {
  log('sdk: authenticateRequest (JWT repeated, JWT distinct, opaque) and raw jose jwtVerify');
  const dataDir = join(work, 'sdk');
  const seeded = seed(dataDir, 2000);
  await withTessera(dataDir, undefined, async (url, proc) => {
    const out = execFileSync(process.execPath, [join(ROOT, 'bench/sdk.js'), url, seeded.senderKey, seeded.receiverKey, String(PLAN.sdkMs)], {
      env: { ...process.env },
      maxBuffer: 16 * 1024 * 1024,
    });
    results.sdk = JSON.parse(out.toString());
  });
}

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
    `autocannon, 50 connections, ${PLAN.warmupS} s warm-up, then ${PLAN.runs} runs of ${PLAN.durationS} s; median of the runs, spread = half the min–max range. CPU = server process CPU time / wall time.`,
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
  ];
  return lines.join('\n');
}

try {
  await ceiling();
  await oidc();
  await tesseraSqlite();
  await tesseraPostgres();
  await sdk();
} finally {
  rmSync(work, { recursive: true, force: true });
}
const table = report();
writeFileSync(join(ROOT, 'bench/RESULTS.md'), table);
log('');
log(table);
