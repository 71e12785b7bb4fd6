import { describe, expect, it } from 'vitest';
import { TokenUsageRecorder } from '../src/domain/token-usage.js';
import type { Store } from '../src/store/store.js';

/** Records what the recorder writes; `failOn` makes that call (1-based) throw. */
function recordingStore(failOn?: number) {
  const calls: Array<Array<{ id: string; at: number }>> = [];
  const store = {
    async recordTokenUse(uses: ReadonlyArray<{ id: string; at: number }>) {
      calls.push([...uses]);
      if (calls.length === failOn) throw new Error('disk full');
    },
  } as unknown as Store;
  return { store, calls };
}

describe('TokenUsageRecorder', () => {
  it('keeps the latest use per token and writes it in chunks of at most 100', async () => {
    const { store, calls } = recordingStore();
    const recorder = new TokenUsageRecorder(store);
    for (let i = 0; i < 250; i++) recorder.record(`mt_${i}`, 1_000 + i);
    recorder.record('mt_0', 5_000);
    expect(recorder.pending('mt_0')).toBe(5_000);
    await recorder.flush();
    expect(calls.map((c) => c.length)).toEqual([100, 100, 50]);
    expect(calls.flat().find((u) => u.id === 'mt_0')!.at).toBe(5_000);
    expect(recorder.pending('mt_0')).toBeUndefined();
    await recorder.flush();
    expect(calls).toHaveLength(3); // nothing new, nothing written
  });

  it('keeps what a failed write did not store, unless a newer use replaced it', async () => {
    const { store, calls } = recordingStore(2);
    const errors: unknown[] = [];
    const recorder = new TokenUsageRecorder(store, 1000, (error) => errors.push(error));
    for (let i = 0; i < 250; i++) recorder.record(`mt_${i}`, 1_000);
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(recorder.pending('mt_0')).toBeUndefined(); // the first chunk was written
    expect(recorder.pending('mt_100')).toBe(1_000);
    expect(recorder.pending('mt_249')).toBe(1_000);
    recorder.record('mt_150', 9_000);
    await recorder.flush();
    expect(calls.slice(2).flat()).toHaveLength(150);
    expect(calls.slice(2).flat().find((u) => u.id === 'mt_150')!.at).toBe(9_000);
  });
});
