import Database from 'better-sqlite3';
const db = new Database('/tmp/pv2/tessera.db'); if (process.argv[2]) db.pragma(process.argv[2]);
console.log(db.pragma('journal_mode', { simple: true }), db.pragma('page_size', { simple: true }), db.pragma('page_count', { simple: true }));
console.log(db.prepare("EXPLAIN QUERY PLAN SELECT * FROM m2m_tokens WHERE secret_hash = ?").all('x'));
const ids = db.prepare('SELECT id, secret_hash FROM m2m_tokens LIMIT 2000').all();
const N = 100000;
for (const [name, sql, key] of [['by id', 'SELECT * FROM m2m_tokens WHERE id = ?', 'id'], ['by hash', 'SELECT * FROM m2m_tokens WHERE secret_hash = ?', 'secret_hash'], ['select 1', 'SELECT 1 WHERE ? IS NOT NULL', 'id']]) {
  const st = db.prepare(sql);
  for (let i = 0; i < 5000; i++) st.get(ids[i % 2000][key]);
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) st.get(ids[i % 2000][key]);
  console.log(name, (Number(process.hrtime.bigint() - t) / N / 1000).toFixed(2), 'µs');
}
