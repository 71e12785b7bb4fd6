import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
const s = JSON.parse(readFileSync('/tmp/pv.json', 'utf8'));
let i = 0;
const r = await autocannon({ url: 'http://127.0.0.1:7660', connections: 50, duration: Number(process.argv[2] ?? 8), requests: [{ method: 'POST', path: process.argv[3] ?? '/m2m_tokens/verify', headers: { authorization: `Bearer ${process.argv[3] ? s.senderKey : s.receiverKey}`, 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: process.argv[3] ? '{}' : JSON.stringify({ token: s.sample[i++ % s.sample.length] }) }) }] });
console.log(Math.round(r.requests.total / r.duration), 'req/s', 'p50', r.latency.p50, 'p99', r.latency.p99, 'non2xx', r.non2xx);
