// HTTP load with autocannon: one run at a time, with the server's CPU use during the run.
import autocannon from 'autocannon';
import { cpuSeconds } from './procs.js';

function run(options) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false, outputStream: { write() {} } });
  });
}

/**
 * A load target: `request` is an autocannon request object; `bodies` (optional) gives the
 * next body, so each request can carry a different token; `serverPid` is the process whose
 * CPU time is reported.
 */
function options({ url, request, bodies, connections = 50 }, durationS) {
  const requests = [bodies ? { ...request, setupRequest: (req) => ({ ...req, body: bodies() }) } : request];
  return { url, connections, requests, pipelining: 1, duration: durationS };
}

export async function warmUp(target, durationS) {
  await run(options(target, durationS));
}

export async function runOnce(target, durationS) {
  const cpuBefore = target.serverPid ? cpuSeconds(target.serverPid) : 0;
  const started = process.hrtime.bigint();
  const r = await run(options(target, durationS));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    rps: r.requests.total / elapsed,
    p50: r.latency.p50,
    p99: r.latency.p99,
    bad: r.non2xx + r.errors + r.timeouts,
    total: r.requests.total,
    cpuPct: target.serverPid ? ((cpuSeconds(target.serverPid) - cpuBefore) / elapsed) * 100 : NaN,
  };
}
