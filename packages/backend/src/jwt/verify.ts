import { compactVerify, type JWK, type JWTPayload } from 'jose';
import type { M2MToken } from '../api/resources/m2m-token.js';
import type { Requester } from '../api/http/requester.js';
import { DEFAULTS, JWT_CATEGORY } from '../constants.js';
import {
  MachineTokenVerificationError,
  MachineTokenVerificationErrorCode as Code,
  tokenInvalid,
  verificationFailed,
} from '../errors/machine-token-verification-error.js';
import { toVerificationError } from '../errors/to-verification-error.js';
import { ALLOWED_ALGORITHMS, isAllowedAlgorithm, type AllowedAlgorithm } from './algorithms.js';
import { audienceOf, checkClaims } from './claims.js';
import { decodeUnverified, type DecodedJwt } from './decode.js';
import { JwksCache, parseJwks } from './jwks-cache.js';
import { MachineIdentity, parseMachineIdentity } from './machine-identity.js';
import { PemKey } from './pem-key.js';
import { parseRevocationList, RevocationList } from './revocations.js';
import { m2mTokenFromJwt } from './to-m2m-token.js';

export interface M2MJwtVerifierConfig {
  requester: Requester;
  /** Sent when fetching the JWKS (public on Tessera, but a proxy may want a key). */
  jwksCredential: string | undefined;
  jwksCacheTtlInMs?: number;
  jwksRefetchCooldownInMs?: number;
  revocationCacheTtlInMs?: number;
  revocationMaxAgeInMs?: number;
  failureCooldownInMs?: number;
  now?: () => number;
}

/** What one verification may use; per-call values already merged over the client's. */
export interface M2MJwtVerifyOptions {
  /** PEM public key: verify without fetching the JWKS. */
  jwtKey?: string | undefined;
  secretKey?: string | undefined;
  /** Receiver's machine key: its machine must be in `aud`; also fetches the revocation list. */
  machineSecretKey?: string | undefined;
  /** Receiver's machine id, when known without asking the server. */
  machineId?: string | undefined;
  clockSkewInMs?: number | undefined;
}

const textDecoder = new TextDecoder();

/**
 * Local verification of Tessera M2M JWTs: header checks, signature (JWKS or PEM), claims,
 * then, only for a token that is authentic, the receiver scope and the revocation list.
 * Every failure is a `MachineTokenVerificationError`; nothing unverifiable passes.
 */
export class M2MJwtVerifier {
  readonly #jwks: JwksCache;
  readonly #revocations: RevocationList;
  readonly #identity: MachineIdentity;
  readonly #pemKeys = new Map<string, PemKey>();
  readonly #now: () => number;

  constructor(config: M2MJwtVerifierConfig) {
    const { requester } = config;
    const now = (this.#now = config.now ?? Date.now);
    const failureCooldownInMs = config.failureCooldownInMs ?? DEFAULTS.failureCooldownInMs;
    const get = async (path: string, bearer: string | undefined, what: string) => {
      try {
        return await requester.send({ method: 'GET', path, versioned: true, bearer, retry: true });
      } catch (error) {
        throw toVerificationError(error, what);
      }
    };
    this.#jwks = new JwksCache(async (): Promise<JWK[]> => parseJwks(await get('/jwks', config.jwksCredential, 'Loading the JWKS')), {
      ttlInMs: config.jwksCacheTtlInMs ?? DEFAULTS.jwksCacheTtlInMs,
      refetchCooldownInMs: config.jwksRefetchCooldownInMs ?? DEFAULTS.jwksRefetchCooldownInMs,
      failureCooldownInMs,
      now,
    });
    this.#revocations = new RevocationList(
      async (credential) => parseRevocationList(await get('/jwt_revocations', credential, 'Loading the JWT revocation list')),
      {
        ttlInMs: config.revocationCacheTtlInMs ?? DEFAULTS.revocationCacheTtlInMs,
        maxAgeInMs: config.revocationMaxAgeInMs ?? DEFAULTS.revocationMaxAgeInMs,
        failureCooldownInMs,
        now,
      },
    );
    this.#identity = new MachineIdentity(
      async (key) => parseMachineIdentity(await get('/machine_identity', key, "Learning this machine's id")),
      { failureCooldownInMs, now },
    );
  }

  async verify(token: string, options: M2MJwtVerifyOptions, decoded: DecodedJwt | null = decodeUnverified(token)): Promise<M2MToken> {
    if (!decoded) throw tokenInvalid('The token is not a decodable JWT.');
    const { header } = decoded;
    // Checked before any key lookup: a session or template JWT never costs a JWKS fetch.
    if (header.cat !== undefined && header.cat !== JWT_CATEGORY.m2mToken) throw tokenInvalid('Invalid M2M JWT category.');
    if (header.typ !== undefined && header.typ !== 'JWT') throw verificationFailed(`Invalid JWT type "${header.typ}". Expected "JWT".`);
    if (!isAllowedAlgorithm(header.alg)) {
      throw verificationFailed(`Invalid JWT algorithm "${String(header.alg)}". Supported: ${ALLOWED_ALGORITHMS.join(', ')}.`);
    }

    const key = await this.#key(header.alg, header.kid, options.jwtKey);
    let payload: JWTPayload;
    try {
      const verified = await compactVerify(token, key, { algorithms: [header.alg] });
      payload = JSON.parse(textDecoder.decode(verified.payload)) as JWTPayload;
    } catch (error) {
      throw verificationFailed('JWT signature is invalid.', error);
    }
    if (typeof payload !== 'object' || payload === null) throw verificationFailed('JWT payload is not an object.');
    const claims = checkClaims(payload, this.#now(), options.clockSkewInMs ?? DEFAULTS.clockSkewInMs);

    const receiver = await this.#receiverMachineId(options);
    if (receiver !== null && !audienceOf(claims).includes(receiver)) {
      throw tokenInvalid('The M2M token is not scoped to this machine.');
    }
    const credential = options.machineSecretKey || options.secretKey;
    if (credential && (await this.#revocations.isRevoked(claims.jti, credential))) {
      throw tokenInvalid('The M2M token has been revoked.');
    }
    return m2mTokenFromJwt(claims);
  }

  /** The PEM key when one is configured (no network), else the JWKS key named by `kid`. */
  async #key(alg: AllowedAlgorithm, kid: string | undefined, jwtKey: string | undefined): Promise<CryptoKey> {
    if (jwtKey) {
      try {
        return await this.#pemKey(jwtKey).get(alg);
      } catch (error) {
        throw new MachineTokenVerificationError({
          code: Code.TokenVerificationFailed,
          message: 'The configured jwtKey (CLERK_JWT_KEY) is not a valid RSA public key in PEM form.',
          action: 'Set CLERK_JWT_KEY to the PEM public key the Tessera server signs with.',
          cause: error,
        });
      }
    }
    if (!kid) throw verificationFailed('JWT has no key ID (kid) to look up in the JWKS.');
    return this.#jwks.getKey(kid, alg);
  }

  #pemKey(jwtKey: string): PemKey {
    let key = this.#pemKeys.get(jwtKey);
    if (!key) {
      if (this.#pemKeys.size >= 4) this.#pemKeys.clear();
      this.#pemKeys.set(jwtKey, (key = new PemKey(jwtKey)));
    }
    return key;
  }

  /** The machine the token must be scoped to, or null when this verifier acts for the instance. */
  async #receiverMachineId(options: M2MJwtVerifyOptions): Promise<string | null> {
    if (options.machineId) return options.machineId;
    if (!options.machineSecretKey) return null;
    return this.#identity.machineIdOf(options.machineSecretKey);
  }
}

