import { describe, expect, it } from 'vitest';
import { MachineTokenVerificationError } from '../src/index.js';
import { RemoteValue, RemoteValuesByKey } from '../src/jwt/remote-value.js';
import { RevocationList } from '../src/jwt/revocations.js';

// The caches' freshness rules, driven by a hand-moved clock and a loader that counts calls.
// (The same caches against the real server are covered in jwt-server.test.ts.)

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function loader<T>(values: Array<T | Error>) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    load: async () => {
      const value = values[Math.min(calls++, values.length - 1)]!;
      if (value instanceof Error) throw value;
      return value;
    },
  };
}

describe('RemoteValue', () => {
  it('serves the cached value while younger than maxAge, then loads again', async () => {
    const time = clock();
    const source = loader(['a', 'b']);
    const value = new RemoteValue(source.load, { failureCooldownInMs: 1000, now: time.now });
    expect((await value.get(5000)).value).toBe('a');
    time.advance(4999);
    expect((await value.get(5000)).value).toBe('a');
    time.advance(1);
    expect((await value.get(5000)).value).toBe('b');
    expect(source.calls).toBe(2);
  });

  it('shares one in-flight load among concurrent callers', async () => {
    const source = loader(['a']);
    const value = new RemoteValue(source.load, { failureCooldownInMs: 1000 });
    const results = await Promise.all(Array.from({ length: 20 }, () => value.get(5000)));
    expect(results.map((r) => r.value)).toEqual(Array(20).fill('a'));
    expect(source.calls).toBe(1);
  });

  it('after a failure, answers with that failure for the cooldown instead of asking again', async () => {
    const time = clock();
    const down = new Error('down');
    const source = loader<string>([down, 'up']);
    const value = new RemoteValue(source.load, { failureCooldownInMs: 1000, now: time.now });
    await expect(value.get(5000)).rejects.toBe(down);
    time.advance(999);
    await expect(value.refresh()).rejects.toBe(down);
    expect(source.calls).toBe(1);
    time.advance(1);
    expect((await value.refresh()).value).toBe('up');
    expect(source.calls).toBe(2);
  });

  it('RemoteValuesByKey keeps one value per key, dropping the oldest when full', async () => {
    const loads: string[] = [];
    const byKey = new RemoteValuesByKey(async (key) => (loads.push(key), key.toUpperCase()), { failureCooldownInMs: 0 }, 2);
    expect((await byKey.for('a').get(Infinity)).value).toBe('A');
    expect((await byKey.for('a').get(Infinity)).value).toBe('A');
    await byKey.for('b').get(Infinity);
    await byKey.for('c').get(Infinity);
    await byKey.for('a').get(Infinity);
    expect(loads).toEqual(['a', 'b', 'c', 'a']);
  });
});

describe('RevocationList', () => {
  const options = (now: () => number) => ({ ttlInMs: 5000, maxAgeInMs: 60_000, failureCooldownInMs: 1000, now });

  it('refreshes after the TTL: a revocation takes effect within it', async () => {
    const time = clock();
    const source = loader([new Set<string>(), new Set(['mt_1'])]);
    const list = new RevocationList(source.load, options(time.now));
    expect(await list.isRevoked('mt_1', 'ak_r')).toBe(false);
    time.advance(4999);
    expect(await list.isRevoked('mt_1', 'ak_r')).toBe(false);
    time.advance(1);
    expect(await list.isRevoked('mt_1', 'ak_r')).toBe(true);
  });

  it('serves a stale list while the server is unreachable, up to the max age; then fails closed', async () => {
    const time = clock();
    const source = loader<Set<string>>([new Set(['mt_1']), new Error('down')]);
    const list = new RevocationList(source.load, options(time.now));
    expect(await list.isRevoked('mt_2', 'ak_r')).toBe(false);
    time.advance(60_000);
    expect(await list.isRevoked('mt_2', 'ak_r')).toBe(false);
    expect(await list.isRevoked('mt_1', 'ak_r')).toBe(true);
    time.advance(1);
    const error = await list.isRevoked('mt_2', 'ak_r').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MachineTokenVerificationError);
    expect((error as MachineTokenVerificationError).code).toBe('unexpected-error');
  });

  it('with no list ever loaded, an unreachable server means refusal', async () => {
    const list = new RevocationList(loader<Set<string>>([new Error('down')]).load, options(Date.now));
    await expect(list.isRevoked('mt_1', 'ak_r')).rejects.toMatchObject({ code: 'unexpected-error' });
  });

  it('keeps one list per credential (a machine sees only revocations of tokens it could receive)', async () => {
    const credentials: string[] = [];
    const list = new RevocationList(async (credential) => {
      credentials.push(credential);
      return new Set(credential === 'ak_a' ? ['mt_1'] : []);
    }, options(Date.now));
    expect(await list.isRevoked('mt_1', 'ak_a')).toBe(true);
    expect(await list.isRevoked('mt_1', 'ak_b')).toBe(false);
    expect(credentials).toEqual(['ak_a', 'ak_b']);
  });
});
