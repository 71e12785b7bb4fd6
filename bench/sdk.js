// In-process SDK throughput: authenticateRequest on JWTs (repeated and distinct) against
// raw jose jwtVerify on the same tokens and key, and on an opaque token (a server round trip).
// Usage: node bench/sdk.js <server url> <sender ak_> <receiver ak_> <ms per measurement>
import { createClerkClient } from '@tessera/backend';
import { importJWK, jwtVerify } from 'jose';

const [url, senderKey, receiverKey, msText] = process.argv.slice(2);
const durationMs = Number(msText);
const CONCURRENCY = 50;
const DISTINCT = 2000;

const receiver = createClerkClient({ apiUrl: url, machineSecretKey: receiverKey });
const sender = createClerkClient({ apiUrl: url, machineSecretKey: senderKey });

const jwts = [];
for (let i = 0; i < DISTINCT; i++) jwts.push((await sender.m2m.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 3600 })).token);
const opaque = (await sender.m2m.createToken({ secondsUntilExpiration: 3600 })).token;
const { keys } = await (await fetch(`${url}/v1/jwks`)).json();
const publicKey = await importJWK(keys[0], 'RS256');

/** Calls `op` from CONCURRENCY loops for durationMs (after a short warm-up); returns calls per second. */
async function rate(op) {
  const loop = async (until) => {
    let n = 0;
    while (performance.now() < until) {
      await op(n);
      n++;
    }
    return n;
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => loop(performance.now() + Math.min(500, durationMs / 3))));
  const started = performance.now();
  const counts = await Promise.all(Array.from({ length: CONCURRENCY }, () => loop(started + durationMs)));
  return (counts.reduce((a, b) => a + b, 0) / (performance.now() - started)) * 1000;
}

// Requests are built once, up front: the loops measure authenticateRequest, not the Request constructor.
const requestFor = (token) => new Request('http://receiver.local/api', { headers: { authorization: `Bearer ${token}` } });
const jwtRequests = jwts.map(requestFor);
const repeatedRequest = requestFor(jwts[0]);
const opaqueRequest = requestFor(opaque);

let next = 0;
const distinct = () => jwts[next++ % jwts.length];
let nextRequest = 0;
const distinctRequest = () => jwtRequests[nextRequest++ % jwtRequests.length];
const authenticate = async (request) => {
  const state = await receiver.authenticateRequest(request, { acceptsToken: 'm2m_token' });
  if (!state.isAuthenticated) throw new Error(`not authenticated: ${state.reason} ${state.message}`);
};

// Three rounds, the four operations interleaved in each, so a slow moment of this shared
// machine hits every operation alike; each figure is the median of its three rounds.
const operations = {
  joseVerify: () => jwtVerify(distinct(), publicKey, { algorithms: ['RS256'] }),
  jwtRepeated: () => authenticate(repeatedRequest),
  jwtDistinct: () => authenticate(distinctRequest()),
  opaque: () => authenticate(opaqueRequest),
};
const samples = Object.fromEntries(Object.keys(operations).map((name) => [name, []]));
for (let round = 0; round < 3; round++) {
  for (const [name, op] of Object.entries(operations)) samples[name].push(await rate(op));
}
const median = (values) => [...values].sort((a, b) => a - b)[1];
const result = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
process.stdout.write(`${JSON.stringify(result)}\n`);
