// HTTP load with autocannon: a warm-up, then N measured runs, with the server's CPU use per run.
import autocannon from 'autocannon';
import { cpuSeconds } from './procs.js';

function run(options) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false, outputStream: { write() {} } });
  });
}

/**
 * `request` is an autocannon request object; `bodies` (optional) is a function giving the
 * next body, so each request can carry a different token.
 */
export async function measure({ url, request, bodies, connections = 50, durationS, runs, warmupS, serverPid }) {
  const requests = [
    bodies ? { ...request, setupRequest: (req) => ({ ...req, body: bodies() }) } : request,
  ];
  const base = { url, connections, requests, pipelining: 1 };
  await run({ ...base, duration: warmupS });
  const results = [];
  for (let i = 0; i < runs; i++) {
    const cpuBefore = serverPid ? cpuSeconds(serverPid) : 0;
    const started = process.hrtime.bigint();
    const r = await run({ ...base, duration: durationS });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    const bad = r.non2xx + r.errors + r.timeouts;
    results.push({
      rps: r.requests.total / elapsed,
      p50: r.latency.p50,
      p99: r.latency.p99,
      bad,
      total: r.requests.total,
      cpuPct: serverPid ? ((cpuSeconds(serverPid) - cpuBefore) / elapsed) * 100 : NaN,
    });
  }
  return results;
}
