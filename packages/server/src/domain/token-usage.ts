import type { Store } from '../store/store.js';

/**
 * Collects `last_used_at` in memory and writes it in batches, so that verifying a token
 * never costs a database write. A crash loses at most one interval of usage times, which
 * are informational; nothing that decides access lives here.
 */
const CHUNK = 100;
/**
 * Each used token costs one row write per interval however often it is verified; over a
 * large store those writes land on random pages, so they are kept rare. A crash loses at
 * most this much of usage history (informational, never used for access decisions).
 */
export const USAGE_FLUSH_INTERVAL_MS = 5000;

export class TokenUsageRecorder {
  #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly intervalMs = USAGE_FLUSH_INTERVAL_MS,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.flush(), this.intervalMs);
    this.#timer.unref();
  }

  record(tokenId: string, at: number): void {
    this.#pending.set(tokenId, at);
  }

  /** The not-yet-written last use of a token, so responses show it at once. */
  pending(tokenId: string): number | undefined {
    return this.#pending.get(tokenId);
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return;
      const batch = [...this.#pending].map(([id, at]) => ({ id, at }));
      this.#pending = new Map();
      // Small chunks with a turn of the event loop between them: one big write would stall
      // every request in flight (the embedded store writes synchronously).
      for (let start = 0; start < batch.length; start += CHUNK) {
        const chunk = batch.slice(start, start + CHUNK);
        try {
          await this.store.recordTokenUse(chunk);
        } catch (error) {
          // Keep what is left for the next attempt unless a newer use has replaced it.
          for (const { id, at } of batch.slice(start)) if (!this.#pending.has(id)) this.#pending.set(id, at);
          this.onError(error);
          return;
        }
        if (start + CHUNK < batch.length) await new Promise((resolve) => setImmediate(resolve));
      }
    });
    return this.#flushing;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
