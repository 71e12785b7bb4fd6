import { DEFAULT_API_URL, DEFAULT_API_VERSION, DEFAULT_USER_AGENT, DEFAULTS } from '../constants.js';
import { readEnv } from '../runtime/env.js';

/**
 * Options of `createClerkClient`. A key, URL or PEM that is not given (undefined or '') is
 * read from the environment; `null` means "none", without looking at the environment.
 */
export interface ClerkClientOptions {
  /** Instance secret key (`sk_…`). Env: CLERK_SECRET_KEY. */
  secretKey?: string | null | undefined;
  /**
   * This machine's secret key (`ak_…`). Env: CLERK_MACHINE_SECRET_KEY. When set, the M2M
   * token API uses it in preference to `secretKey`, as @clerk/backend does.
   */
  machineSecretKey?: string | null | undefined;
  /** Base URL of the Tessera server, without version. Env: TESSERA_API_URL, then CLERK_API_URL; default http://127.0.0.1:7600. */
  apiUrl?: string | null | undefined;
  /** Path segment of versioned routes. Default `v1`. */
  apiVersion?: string | undefined;
  /** PEM public key for networkless JWT verification. Env: CLERK_JWT_KEY. */
  jwtKey?: string | null | undefined;
  userAgent?: string | undefined;
  /** Budget for one API call, retries included. Default 5000 ms. */
  timeoutInMs?: number | undefined;
  /** Extra attempts for reads and verification after a network error, 5xx or 429. Default 2. */
  maxRetries?: number | undefined;
  /** This machine's ID, if known: JWTs must list it in `aud`. Otherwise learned from the server with `machineSecretKey`. */
  machineId?: string | undefined;
  /** Tolerance for JWT `exp`, `nbf`, `iat`. Default 5000 ms. */
  clockSkewInMs?: number | undefined;
  /** How long the JWKS is kept. Default 5 minutes. */
  jwksCacheTtlInMs?: number | undefined;
  /** Minimum time between JWKS refetches triggered by an unknown `kid`. Default 30 s. */
  jwksRefetchCooldownInMs?: number | undefined;
  /** How long a JWT revocation list is used before it is refreshed: the revocation delay bound. Default 5 s. */
  revocationCacheTtlInMs?: number | undefined;
  /** Past this age without a successful refresh, JWTs are refused (fail closed). Default 60 s. */
  revocationMaxAgeInMs?: number | undefined;
  /**
   * How many verified JWTs are kept, so a repeated token skips the signature check (time
   * claims, `aud` and revocation are still checked on every use). Default 1000; 0 turns
   * the cache off.
   */
  jwtCacheSize?: number | undefined;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch | undefined;
  /** Accepted for @clerk/backend compatibility and ignored: Tessera has no publishable keys. */
  publishableKey?: string | undefined;
}

export interface ResolvedOptions {
  secretKey: string | undefined;
  machineSecretKey: string | undefined;
  apiUrl: string;
  apiVersion: string;
  jwtKey: string | undefined;
  userAgent: string;
  timeoutInMs: number;
  maxRetries: number;
  machineId: string | undefined;
  clockSkewInMs: number;
  jwksCacheTtlInMs: number;
  jwksRefetchCooldownInMs: number;
  revocationCacheTtlInMs: number;
  revocationMaxAgeInMs: number;
  jwtCacheSize: number;
  fetch: typeof fetch;
}

const given = (value: string | null | undefined) => (value === null || value === '' ? undefined : value);

/** The option if given, `undefined` if explicitly null, else the first environment variable set. */
function fromEnv(value: string | null | undefined, ...names: string[]): string | undefined {
  if (value === null) return undefined;
  if (value !== undefined && value !== '') return value;
  for (const name of names) {
    const found = readEnv(name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Options over environment over defaults; the environment is read now, at client creation. */
export function resolveOptions(options: ClerkClientOptions = {}): ResolvedOptions {
  // Bound: some runtimes (Workers) throw "Illegal invocation" on a detached fetch.
  const fetchImpl = options.fetch ?? (typeof globalThis.fetch === 'function' ? globalThis.fetch.bind(globalThis) : undefined);
  if (!fetchImpl) throw new Error('No fetch implementation in this runtime: pass `fetch` in the options.');
  return {
    secretKey: fromEnv(options.secretKey, 'CLERK_SECRET_KEY'),
    machineSecretKey: fromEnv(options.machineSecretKey, 'CLERK_MACHINE_SECRET_KEY'),
    apiUrl: fromEnv(options.apiUrl, 'TESSERA_API_URL', 'CLERK_API_URL') ?? DEFAULT_API_URL,
    apiVersion: given(options.apiVersion) ?? DEFAULT_API_VERSION,
    jwtKey: fromEnv(options.jwtKey, 'CLERK_JWT_KEY'),
    userAgent: given(options.userAgent) ?? DEFAULT_USER_AGENT,
    timeoutInMs: options.timeoutInMs ?? DEFAULTS.timeoutInMs,
    maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
    machineId: given(options.machineId),
    clockSkewInMs: options.clockSkewInMs ?? DEFAULTS.clockSkewInMs,
    jwksCacheTtlInMs: options.jwksCacheTtlInMs ?? DEFAULTS.jwksCacheTtlInMs,
    jwksRefetchCooldownInMs: options.jwksRefetchCooldownInMs ?? DEFAULTS.jwksRefetchCooldownInMs,
    revocationCacheTtlInMs: options.revocationCacheTtlInMs ?? DEFAULTS.revocationCacheTtlInMs,
    revocationMaxAgeInMs: options.revocationMaxAgeInMs ?? DEFAULTS.revocationMaxAgeInMs,
    jwtCacheSize: options.jwtCacheSize ?? DEFAULTS.jwtCacheSize,
    fetch: fetchImpl,
  };
}
