/** Kept equal to package.json's version by a test; sent in the default User-Agent. */
export const SDK_VERSION = '0.1.0';
export const DEFAULT_USER_AGENT = `@tessera/backend@${SDK_VERSION}`;

/** A local Tessera server (`npm start`) listens here by default. */
export const DEFAULT_API_URL = 'http://127.0.0.1:7600';
export const DEFAULT_API_VERSION = 'v1';
/** The Backend API version this SDK speaks, sent as `Clerk-API-Version` like @clerk/backend does. */
export const SUPPORTED_BAPI_VERSION = '2026-05-12';

export const DEFAULTS = {
  timeoutInMs: 5_000,
  maxRetries: 2,
  clockSkewInMs: 5_000,
  jwksCacheTtlInMs: 5 * 60_000,
  jwksRefetchCooldownInMs: 30_000,
  revocationCacheTtlInMs: 5_000,
  revocationMaxAgeInMs: 60_000,
  /** Verified JWTs kept so a repeated token skips the signature (each entry holds the token, ~1-2 KB). */
  jwtCacheSize: 1_000,
  /** After a failed fetch of JWKS, revocations or identity, wait this long before asking again. */
  failureCooldownInMs: 1_000,
} as const;

export const TOKEN_PREFIX = {
  m2mToken: 'mt_',
  oauthToken: 'oat_',
  apiKey: 'ak_',
  machineId: 'mch_',
} as const;

/** JWT header `cat` values (spec 3.2). */
export const JWT_CATEGORY = {
  m2mToken: 'cl_B7d4PD333AAA',
  sessionToken: 'cl_B7d4PD111AAA',
  ignore: 'cl_I7d4PD111III',
} as const;

export const MACHINE_ID_PATTERN = /^mch_\w{27}$/;
export const TOKEN_ID_PATTERN = /^mt_[0-9A-Fa-f]{32}$/;

export const AUTH_HEADERS = {
  status: 'x-clerk-auth-status',
  reason: 'x-clerk-auth-reason',
  message: 'x-clerk-auth-message',
} as const;
