export interface Loaded<T> {
  value: T;
  /** When the load that produced `value` finished (ms since epoch, by the cache's clock). */
  loadedAt: number;
}

export interface RemoteValueOptions {
  /** After a failed load, callers get that failure again for this long instead of a new request. */
  failureCooldownInMs: number;
  now?: () => number;
}

/**
 * One value fetched from the server and kept: concurrent callers share one in-flight
 * load, and a failing server is asked at most once per cooldown. Freshness policy is the
 * caller's (JWKS, revocation list and machine identity each want a different one).
 */
export class RemoteValue<T> {
  #loaded: Loaded<T> | undefined;
  #inflight: Promise<Loaded<T>> | undefined;
  #failure: { error: unknown; at: number } | undefined;
  readonly #now: () => number;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly options: RemoteValueOptions,
  ) {
    this.#now = options.now ?? Date.now;
  }

  /** The last value loaded, however old. */
  get current(): Loaded<T> | undefined {
    return this.#loaded;
  }

  /** Milliseconds since the last successful load (at `now`, by default the cache's clock); Infinity if there was none. */
  age(now = this.#now()): number {
    return this.#loaded ? now - this.#loaded.loadedAt : Infinity;
  }

  /** The cached value if younger than `maxAgeInMs`, else a fresh load. */
  get(maxAgeInMs: number): Promise<Loaded<T>> {
    if (this.#loaded && this.age() < maxAgeInMs) return Promise.resolve(this.#loaded);
    return this.refresh();
  }

  /** Loads now, unless a load is running (joined) or the last one failed within the cooldown (its error). */
  refresh(): Promise<Loaded<T>> {
    if (this.#inflight) return this.#inflight;
    if (this.#failure && this.#now() - this.#failure.at < this.options.failureCooldownInMs) {
      return Promise.reject(this.#failure.error);
    }
    const inflight = this.load().then(
      (value) => {
        this.#loaded = { value, loadedAt: this.#now() };
        this.#failure = undefined;
        return this.#loaded;
      },
      (error: unknown) => {
        this.#failure = { error, at: this.#now() };
        throw error;
      },
    );
    this.#inflight = inflight;
    const clear = () => {
      if (this.#inflight === inflight) this.#inflight = undefined;
    };
    inflight.then(clear, clear);
    return inflight;
  }
}

/**
 * One `RemoteValue` per credential (the revocation list and machine identity are fetched
 * with whichever key the caller has). Bounded: the oldest entry goes when full.
 */
export class RemoteValuesByKey<T> {
  readonly #values = new Map<string, RemoteValue<T>>();

  constructor(
    private readonly load: (key: string) => Promise<T>,
    private readonly options: RemoteValueOptions,
    private readonly maxEntries = 16,
  ) {}

  /** The value kept for `key`, if any; creates nothing. */
  peek(key: string): RemoteValue<T> | undefined {
    return this.#values.get(key);
  }

  for(key: string): RemoteValue<T> {
    let value = this.#values.get(key);
    if (!value) {
      if (this.#values.size >= this.maxEntries) this.#values.delete(this.#values.keys().next().value!);
      value = new RemoteValue(() => this.load(key), this.options);
      this.#values.set(key, value);
    }
    return value;
  }
}
