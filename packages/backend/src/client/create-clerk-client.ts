import { MachineApi } from '../api/endpoints/machine-api.js';
import { M2MTokenApi, SeedM2MTokensApi } from '../api/endpoints/m2m-token-api.js';
import { Requester } from '../api/http/requester.js';
import { M2MJwtVerifier } from '../jwt/verify.js';
import { authenticateRequest, type AuthenticateRequestOptions } from '../tokens/authenticate-request.js';
import type { RequestState } from '../tokens/request-state.js';
import type { AcceptsToken } from '../tokens/token-types.js';
import type { Credentials } from './credentials.js';
import { resolveOptions, type ClerkClientOptions } from './options.js';

export interface ClerkClient {
  /** Current M2M token API (@clerk/backend ≥ 2.9). */
  m2m: M2MTokenApi;
  /** Seed-era M2M token API (@clerk/backend 2.7–2.8): create, revoke, verifySecret. */
  m2mTokens: SeedM2MTokensApi;
  machines: MachineApi;
  /** Authenticates a request by its `Authorization` header; the result is typed by `acceptsToken`. */
  authenticateRequest<const A extends AcceptsToken = 'session_token'>(
    request: Request,
    options?: AuthenticateRequestOptions<A>,
  ): Promise<RequestState<A>>;
}

/**
 * A client for the Tessera Backend API with the surface of @clerk/backend's. Options not
 * given are read from the environment when there is one (see `ClerkClientOptions`).
 * Create it once and reuse it: it holds the JWKS, revocation and verified-JWT caches.
 */
export function createClerkClient(options: ClerkClientOptions = {}): ClerkClient {
  const resolved = resolveOptions(options);
  const requester = new Requester({
    apiUrl: resolved.apiUrl,
    apiVersion: resolved.apiVersion,
    userAgent: resolved.userAgent,
    timeoutInMs: resolved.timeoutInMs,
    maxRetries: resolved.maxRetries,
    fetch: resolved.fetch,
  });
  const credentials: Credentials = {
    secretKey: resolved.secretKey,
    machineSecretKey: resolved.machineSecretKey,
    jwtKey: resolved.jwtKey,
    machineId: resolved.machineId,
    clockSkewInMs: resolved.clockSkewInMs,
  };
  const jwt = new M2MJwtVerifier({
    requester,
    jwksCredential: resolved.secretKey ?? resolved.machineSecretKey,
    jwksCacheTtlInMs: resolved.jwksCacheTtlInMs,
    jwksRefetchCooldownInMs: resolved.jwksRefetchCooldownInMs,
    revocationCacheTtlInMs: resolved.revocationCacheTtlInMs,
    revocationMaxAgeInMs: resolved.revocationMaxAgeInMs,
    jwtCacheSize: resolved.jwtCacheSize,
  });
  const m2m = new M2MTokenApi(requester, credentials, jwt);
  return {
    m2m,
    m2mTokens: new SeedM2MTokensApi(m2m),
    machines: new MachineApi(requester, resolved.secretKey),
    // The runtime follows the same rules the RequestState<A> type encodes.
    authenticateRequest: <const A extends AcceptsToken = 'session_token'>(request: Request, requestOptions?: AuthenticateRequestOptions<A>) =>
      authenticateRequest(m2m, jwt, credentials, request, requestOptions) as Promise<unknown> as Promise<RequestState<A>>,
  };
}
