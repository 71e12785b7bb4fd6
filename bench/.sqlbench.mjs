import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { resolveServeConfig } from '/work/main/packages/server/dist/config.js';
import { openInstance } from '/work/main/packages/server/dist/instance.js';
const s = JSON.parse(readFileSync('/tmp/pv.json', 'utf8'));
const { store, keyring } = await openInstance(resolveServeConfig(['--data-dir', '/tmp/pv2'], process.env));
const hashes = s.sample.map((t) => keyring.lookupHash(t));
await store.close();
for (const [label, pragmas] of [['default', []], ['cache 64MB', ['cache_size = -65536']], ['mmap 256MB', ['mmap_size = 268435456']], ['both', ['cache_size = -65536', 'mmap_size = 268435456']]]) {
  const db = new Database('/tmp/pv2/tessera.db');
  db.pragma('journal_mode = WAL');
  for (const p of pragmas) db.pragma(p);
  const all = db.prepare('SELECT * FROM m2m_tokens WHERE secret_hash = ?');
  const few = db.prepare('SELECT id, machine_id, format, secret_hash, scopes, claims, revoked, revocation_reason, expiration, last_used_at, created_at, updated_at, signing_kid FROM m2m_tokens WHERE secret_hash = ?');
  const N = 100000;
  for (const [name, st] of [['*', all], ['cols', few]]) {
    for (let i = 0; i < 5000; i++) st.get(hashes[i % 2000]);
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) st.get(hashes[i % 2000]);
    console.log(label, name, (Number(process.hrtime.bigint() - t) / N / 1000).toFixed(2), 'µs');
  }
  db.close();
}
