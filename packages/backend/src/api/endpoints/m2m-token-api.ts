import type { Credentials } from '../../client/credentials.js';
import { mergeCredentials } from '../../client/credentials.js';
import type { M2MJwtVerifier } from '../../jwt/verify.js';
import { classifyToken, type ClassifiedToken } from '../../tokens/classify.js';
import type { ApiRequest, Requester } from '../http/requester.js';
import { resourceId } from '../http/url.js';
import { deserialize, type PaginatedResourceResponse } from '../resources/deserializer.js';
import type { M2MToken } from '../resources/m2m-token.js';

interface WithMachineSecretKey {
  /** Overrides the client's keys for this call: the request carries `Bearer <machineSecretKey>`. */
  machineSecretKey?: string | undefined;
}

export type M2MTokenFormat = 'opaque' | 'jwt';

export interface CreateM2MTokenParams extends WithMachineSecretKey {
  /** Lifetime; null or absent → the machine's `default_token_ttl`. */
  secondsUntilExpiration?: number | null;
  /** Custom claims, echoed back and (for JWTs) part of the payload. */
  claims?: Record<string, unknown> | null;
  tokenFormat?: M2MTokenFormat;
  /** Reuse a live opaque token with the same claims and scopes that has at least this much life left. */
  minRemainingTtlSeconds?: number;
}

export interface RevokeM2MTokenParams extends WithMachineSecretKey {
  m2mTokenId: string;
  revocationReason?: string | null;
}

export interface VerifyM2MTokenParams extends WithMachineSecretKey {
  token: string;
}

export interface ListM2MTokensParams extends WithMachineSecretKey {
  /** The machine whose tokens to list (`mch_…`). */
  subject: string;
  /** Include revoked tokens. */
  revoked?: boolean;
  /** Include expired tokens. */
  expired?: boolean;
  limit?: number;
  offset?: number;
}

/**
 * M2M tokens (spec 2.3, 4.3): the one implementation behind both `m2m` and the seed-era
 * `m2mTokens`. Routes are unversioned (`/m2m_tokens…`), as @clerk/backend calls them.
 * Credential: per-call machine key › client machine key › client instance key.
 */
export class M2MTokenApi {
  constructor(
    private readonly requester: Requester,
    private readonly credentials: Credentials,
    private readonly jwt: M2MJwtVerifier,
  ) {}

  async createToken(params: CreateM2MTokenParams = {}): Promise<M2MToken> {
    const { machineSecretKey, secondsUntilExpiration = null, claims = null, tokenFormat = 'opaque', minRemainingTtlSeconds } = params;
    return (await this.#send({
      method: 'POST',
      path: '/m2m_tokens',
      bearer: this.#bearer(machineSecretKey),
      body: { secondsUntilExpiration, claims, tokenFormat, minRemainingTtlSeconds },
      retry: false,
    })) as M2MToken;
  }

  async revokeToken(params: RevokeM2MTokenParams): Promise<M2MToken> {
    const { machineSecretKey, m2mTokenId, revocationReason = null } = params;
    return (await this.#send({
      method: 'POST',
      path: `/m2m_tokens/${resourceId(m2mTokenId)}/revoke`,
      bearer: this.#bearer(machineSecretKey),
      body: { revocationReason },
      retry: false,
    })) as M2MToken;
  }

  /**
   * An M2M JWT is verified locally (throws `MachineTokenVerificationError`); an opaque
   * token by the server (throws `TesseraAPIResponseError`, 404 when it is not usable).
   */
  async verify(params: VerifyM2MTokenParams): Promise<M2MToken> {
    return this.verifyWith(params.token, mergeCredentials(this.credentials, { machineSecretKey: params.machineSecretKey }));
  }

  /** @deprecated @clerk/backend 2.9–2.x name of `verify`. */
  async verifyToken(params: VerifyM2MTokenParams): Promise<M2MToken> {
    return this.verify(params);
  }

  async list(params: ListM2MTokensParams): Promise<PaginatedResourceResponse<M2MToken[]>> {
    // The machine key travels in the header, never in the query.
    const { machineSecretKey, ...query } = params;
    const page = await this.#send({ method: 'GET', path: '/m2m_tokens', bearer: this.#bearer(machineSecretKey), query, retry: true });
    return page as PaginatedResourceResponse<M2MToken[]>;
  }

  /**
   * Verification with fully resolved credentials; `authenticateRequest` passes its own,
   * and the token it already classified (decoding a JWT once per request, not three times).
   */
  async verifyWith(token: string, credentials: Credentials, classified: ClassifiedToken = classifyToken(token)): Promise<M2MToken> {
    if (classified.type === 'm2m_token' && classified.jwt) return this.jwt.verify(token, credentials, classified.jwt);
    return (await this.#send({
      method: 'POST',
      path: '/m2m_tokens/verify',
      bearer: credentials.machineSecretKey || credentials.secretKey,
      body: { token },
      retry: true,
    })) as M2MToken;
  }

  #bearer(perCall: string | undefined): string | undefined {
    return perCall || this.credentials.machineSecretKey || this.credentials.secretKey;
  }

  async #send(request: Omit<ApiRequest, 'versioned'>): Promise<unknown> {
    return deserialize(await this.requester.send({ ...request, versioned: false }));
  }
}

/** The seed-era (`@clerk/backend` 2.7–2.8) `m2mTokens` namespace, on top of `M2MTokenApi`. */
export class SeedM2MTokensApi {
  constructor(private readonly api: M2MTokenApi) {}

  create(params: Omit<CreateM2MTokenParams, 'tokenFormat' | 'minRemainingTtlSeconds'> = {}): Promise<M2MToken> {
    return this.api.createToken(params);
  }

  revoke(params: RevokeM2MTokenParams): Promise<M2MToken> {
    return this.api.revokeToken(params);
  }

  verifySecret(params: WithMachineSecretKey & { secret: string }): Promise<M2MToken> {
    return this.api.verify({ token: params.secret, machineSecretKey: params.machineSecretKey });
  }
}
