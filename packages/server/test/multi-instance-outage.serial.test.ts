import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensurePostgresRunning,
  pgCtl,
  postmasterStartTime,
  startCluster,
  STACK_TRACE_LINE,
  type Cluster,
  type TesseraProcess,
} from './helpers/postgres.js';

/**
 * Outages of the shared database, with real processes and the machine's real PostgreSQL.
 * This file stops and restarts PostgreSQL, so it runs alone (vitest.serial.config.ts),
 * after the main run; it always leaves PostgreSQL running.
 */

/** A request's status, or what went wrong below HTTP (the process is gone, or it hung). */
type Outcome = number | 'network_error' | 'no_answer';

/** One HTTP call with a generous bound, so a hung request shows up as `no_answer`, not a stuck test. */
async function attempt(url: string, init: RequestInit): Promise<{ outcome: Outcome; body: any }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { outcome: res.status, body };
  } catch (error) {
    return { outcome: (error as Error).name === 'TimeoutError' ? 'no_answer' : 'network_error', body: undefined };
  }
}

/** Polls (bounded) until `check` holds; the bound only keeps a broken run from hanging. */
async function until(what: string, check: () => Promise<boolean>, attempts = 240): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`gave up waiting: ${what}`);
}

describe('database outages with several Tessera processes', () => {
  let cluster: Cluster;
  let procs: TesseraProcess[];

  beforeAll(async () => {
    await ensurePostgresRunning();
    cluster = await startCluster(3);
    procs = [...cluster.instances];
  });

  afterAll(async () => {
    // Whatever happened above, the next suite finds PostgreSQL up.
    await ensurePostgresRunning();
    const outputs = cluster?.instances.map((p) => p.output()) ?? [];
    await cluster?.stop();
    for (const output of outputs) {
      expect(output).not.toMatch(STACK_TRACE_LINE);
      expect(output).not.toContain(cluster.sk);
      expect(output).not.toContain(cluster.masterKey);
    }
  });

  const json = (key: string | null, body?: unknown): RequestInit => ({
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const network = async (via: TesseraProcess) => {
    const receiver = await via.call('POST', '/v1/machines', { key: cluster.sk, body: { name: 'receiver' } });
    const sender = await via.call('POST', '/v1/machines', {
      key: cluster.sk,
      body: { name: 'sender', scoped_machines: [receiver.body.id] },
    });
    expect(sender.status).toBe(200);
    return { receiverKey: receiver.body.secret_key as string, senderKey: sender.body.secret_key as string };
  };

  it('while PostgreSQL is stopped: 503 database_unavailable everywhere, processes stay up, then recover by themselves', async () => {
    const { receiverKey, senderKey } = await network(procs[0]!);
    const before = await procs[1]!.call('POST', '/m2m_tokens', { key: senderKey, body: {} });
    expect(before.status).toBe(201);

    await pgCtl('stop');
    try {
      for (const p of procs) {
        const health = await attempt(`${p.url}/healthz`, json(null));
        expect(health.outcome).toBe(503);
        expect(health.body.errors[0].code).toBe('database_unavailable');
        const verify = await attempt(`${p.url}/m2m_tokens/verify`, json(receiverKey, { token: before.body.token }));
        expect(verify.outcome).toBe(503);
        expect(verify.body.errors[0]).toMatchObject({ code: 'database_unavailable' });
        expect(JSON.stringify(verify.body)).not.toMatch(/ECONNREFUSED|5432|postgres/i);
        const create = await attempt(`${p.url}/m2m_tokens`, json(senderKey, {}));
        expect(create.outcome).toBe(503);
        const list = await attempt(`${p.url}/v1/machines`, json(cluster.sk));
        expect(list.outcome).toBe(503);
      }
      for (const p of procs) expect(p.alive()).toBe(true);
    } finally {
      await pgCtl('start');
    }

    for (const p of procs) {
      await until(`${p.url} healthy again`, async () => (await attempt(`${p.url}/healthz`, json(null))).outcome === 200);
      const verify = await p.call('POST', '/m2m_tokens/verify', { key: receiverKey, body: { token: before.body.token } });
      expect(verify.status).toBe(200);
    }
  });

  it('steady create load, one process killed with kill -9 and PostgreSQL restarted: survivors answer only 2xx or 503, recover, and lose nothing acknowledged', async () => {
    const { receiverKey, senderKey } = await network(procs[0]!);
    const [survivorA, survivorB, victim] = procs as [TesseraProcess, TesseraProcess, TesseraProcess];
    const survivors = [survivorA, survivorB];

    const acknowledged: string[] = [];
    const outcomes = new Map<TesseraProcess, Outcome[]>(procs.map((p) => [p, []]));
    let victimKilled = false;
    let stopLoad = false;
    const createdAfter = new Map<TesseraProcess, number>(survivors.map((p) => [p, 0]));
    let countAfterRestart = false;

    const worker = async (offset: number) => {
      for (let i = offset; !stopLoad && i < offset + 100_000; i++) {
        const targets = victimKilled ? survivors : procs;
        const target = targets[i % targets.length]!;
        const { outcome, body } = await attempt(`${target.url}/m2m_tokens`, json(senderKey, {}));
        outcomes.get(target)!.push(outcome);
        if (outcome === 201) {
          acknowledged.push(body.token as string);
          if (countAfterRestart && target !== victim) createdAfter.set(target, createdAfter.get(target)! + 1);
        }
        if (outcome !== 201) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const load = Promise.all([0, 1, 2, 3, 4, 5].map(worker));

    try {
      await until('load under way', async () => acknowledged.length >= 60);
      victimKilled = true;
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toBe('SIGKILL');
      const afterKill = acknowledged.length;
      await until('survivors serving after the kill', async () => acknowledged.length >= afterKill + 60);

      const startedBefore = await postmasterStartTime();
      await pgCtl('restart');
      countAfterRestart = true;
      expect(await postmasterStartTime()).not.toBe(startedBefore); // it really restarted
      await until(
        'both survivors creating tokens again',
        async () => survivors.every((p) => createdAfter.get(p)! >= 20),
      );
    } finally {
      stopLoad = true;
      await load;
    }

    for (const p of survivors) {
      expect(p.alive()).toBe(true);
      const unexpected = outcomes.get(p)!.filter((o) => o !== 201 && o !== 503);
      expect(unexpected).toEqual([]);
    }
    // Before the kill the victim answered like any other process.
    const victimAnswers = outcomes.get(victim)!.filter((o) => o !== 'network_error');
    expect(victimAnswers.filter((o) => o !== 201 && o !== 503)).toEqual([]);

    // Every acknowledged create survived the kill and the restart, on every surviving process.
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    const failures: Array<{ via: string; status: number }> = [];
    for (const p of survivors) {
      for (let i = 0; i < acknowledged.length; i += 20) {
        const batch = acknowledged.slice(i, i + 20);
        const results = await Promise.all(
          batch.map((token) => p.call('POST', '/m2m_tokens/verify', { key: receiverKey, body: { token } })),
        );
        for (const r of results) if (r.status !== 200) failures.push({ via: p.url, status: r.status });
      }
    }
    expect(failures).toEqual([]);

    // A process started afterwards sees them too.
    const newcomer = await cluster.spawn();
    for (const token of acknowledged.slice(-10)) {
      expect((await newcomer.call('POST', '/m2m_tokens/verify', { key: receiverKey, body: { token } })).status).toBe(200);
    }
  });
});
