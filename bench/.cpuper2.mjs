// CPU µs per request on the server (robust to a busy machine): N requests, server CPU delta / N.
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const [pid, amount = '30000', path = '/m2m_tokens/verify'] = process.argv.slice(2);
const s = JSON.parse(readFileSync('/tmp/pv.json', 'utf8'));
const cpu = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) / 100; };
let i = 0;
const opts = (n) => ({ url: 'http://127.0.0.1:42157', connections: 50, amount: n, requests: [{ method: 'POST', path, headers: { authorization: `Bearer ${path.endsWith('verify') ? s.receiverKey : s.senderKey}`, 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: path.endsWith('verify') ? JSON.stringify({ token: s.sample[i++ % s.sample.length] }) : '{}' }) }] });
await autocannon(opts(5000));
const before = cpu();
const r = await autocannon(opts(Number(amount)));
const used = cpu() - before;
console.log(`${path}: ${(used / r.requests.total * 1e6).toFixed(1)} µs CPU/request (${r.requests.total} req, ${Math.round(r.requests.total / r.duration)} req/s, p99 ${r.latency.p99} ms)`);
