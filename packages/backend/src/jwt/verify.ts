import type { JWK } from 'jose';
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
import { decodedLength, decodeBase64urlInto, freshBytes } from './base64url.js';
import { checkClaims, hasAudience, timeFailure } from './claims.js';
import { decodeUnverified, type DecodedJwt } from './decode.js';
import { JwksCache, parseJwks, type JwksKey } from './jwks-cache.js';
import { MachineIdentity, parseMachineIdentity } from './machine-identity.js';
import { PemKey } from './pem-key.js';
import { parseRevocationList, RevocationList } from './revocations.js';
import { m2mTokenFromJwt } from './to-m2m-token.js';
import { VerifiedJwt, VerifiedJwtCache } from './verified-cache.js';

export interface M2MJwtVerifierConfig {
  requester: Requester;
  /** Sent when fetching the JWKS (public on Tessera, but a proxy may want a key). */
  jwksCredential: string | undefined;
  jwksCacheTtlInMs?: number;
  jwksRefetchCooldownInMs?: number;
  revocationCacheTtlInMs?: number;
  revocationMaxAgeInMs?: number;
  /** How many verified tokens are kept (0: none). */
  jwtCacheSize?: number;
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

/** A key a signature is checked with: one key of the JWKS, or the configured PEM. */
type VerificationKey = JwksKey | PemKey;

/** The three RS algorithms are RSASSA-PKCS1-v1_5; the hash is bound to the imported key. */
const RSA_PKCS1 = { name: 'RSASSA-PKCS1-v1_5' } as const;
const ascii = new TextEncoder();

const notScoped = () => tokenInvalid('The M2M token is not scoped to this machine.');
const revoked = () => tokenInvalid('The M2M token has been revoked.');

/**
 * Local verification of Tessera M2M JWTs: header checks, signature (JWKS or PEM), claims,
 * then, only for a token that is authentic, the receiver scope and the revocation list.
 * Every failure is a `MachineTokenVerificationError`; nothing unverifiable passes.
 *
 * Successful verifications are kept (`VerifiedJwtCache`, keyed by the exact token): a token
 * seen before skips decoding and the signature, but every use still checks the time claims
 * (with the call's skew), that its key is still the one at hand (same PEM, or the same key
 * in a JWKS younger than its TTL), the receiver's `aud` and the revocation list.
 */
export class M2MJwtVerifier {
  readonly #jwks: JwksCache;
  readonly #revocations: RevocationList;
  readonly #identity: MachineIdentity;
  readonly #pemKeys = new Map<string, PemKey>();
  readonly #verified: VerifiedJwtCache;
  readonly #now: () => number;

  constructor(config: M2MJwtVerifierConfig) {
    const { requester } = config;
    const now = (this.#now = config.now ?? (() => Date.now()));
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
    this.#verified = new VerifiedJwtCache(config.jwtCacheSize ?? DEFAULTS.jwtCacheSize);
  }

  /** The kept verification of exactly this token, if any (it still has to pass `check`'s per-use rules). */
  lookup(token: string): VerifiedJwt | undefined {
    return this.#verified.get(token);
  }

  /** Verifies `token`; `decoded`, when given, must be `decodeUnverified(token)`. */
  async verify(token: string, options: M2MJwtVerifyOptions, decoded?: DecodedJwt | null): Promise<M2MToken> {
    return this.check(token, options, decoded);
  }

  /**
   * `verify` without a promise when none is needed: a kept token whose key, receiver id
   * and revocation list are at hand is answered synchronously. Failures are thrown
   * (synchronously or as a rejection), always as `MachineTokenVerificationError`.
   * `decoded`, when given, must be `decodeUnverified(token)`; `known`, when given, the
   * result of `lookup(token)` (null: it found nothing).
   */
  check(token: string, options: M2MJwtVerifyOptions, decoded?: DecodedJwt | null, known?: VerifiedJwt | null): M2MToken | Promise<M2MToken> {
    const entry = known === undefined ? this.#verified.get(token) : (known ?? undefined);
    if (entry !== undefined) {
      const now = this.#now();
      if (this.#keyAtHand(entry.kid, options.jwtKey, now) === entry.key) return this.#admit(entry, options, now);
    }
    return this.#verifyFully(token, options, decoded === undefined ? decodeUnverified(token) : decoded, entry);
  }

  /** Header, key, signature and claims; then the per-use checks; kept only if all pass. */
  async #verifyFully(token: string, options: M2MJwtVerifyOptions, decoded: DecodedJwt | null, known: VerifiedJwt | undefined): Promise<M2MToken> {
    if (!decoded) throw tokenInvalid('The token is not a decodable JWT.');
    const { header, payload } = decoded;
    // Checked before any key lookup: a session or template JWT never costs a JWKS fetch.
    if (header.cat !== undefined && header.cat !== JWT_CATEGORY.m2mToken) throw tokenInvalid('Invalid M2M JWT category.');
    if (header.typ !== undefined && header.typ !== 'JWT') throw verificationFailed(`Invalid JWT type "${header.typ}". Expected "JWT".`);
    const { alg } = header;
    if (!isAllowedAlgorithm(alg)) {
      throw verificationFailed(`Invalid JWT algorithm "${String(alg)}". Supported: ${ALLOWED_ALGORITHMS.join(', ')}.`);
    }
    // Tessera never marks header parameters critical, and this verifier understands none.
    if (header.crit !== undefined) throw verificationFailed('JWT header parameter "crit" is not supported.');

    const pendingKey = this.#key(header.kid, options.jwtKey);
    const key = pendingKey instanceof Promise ? await pendingKey : pendingKey;
    // The JWKS was refetched and still serves the key this token was verified with.
    if (known !== undefined && known.key === key) return this.#admit(known, options, this.#now());

    let cryptoKey = this.#cryptoKey(key, alg, options.jwtKey);
    if (cryptoKey instanceof Promise) cryptoKey = await cryptoKey;
    // The signature over the first two segments, checked with WebCrypto directly: header and
    // payload were decoded once already, and `alg` is allow-listed and bound to the key.
    const dot = token.lastIndexOf('.');
    const signature = freshBytes(decodedLength(dot + 1, token.length));
    let valid = false;
    if (decodeBase64urlInto(token, dot + 1, token.length, signature)) {
      // The signing input is ASCII (the shape test admits base64url and dots only).
      const signingInput = freshBytes(dot);
      ascii.encodeInto(token.slice(0, dot), signingInput);
      try {
        valid = await crypto.subtle.verify(RSA_PKCS1, cryptoKey, signature, signingInput);
      } catch {
        valid = false;
      }
    }
    if (!valid) throw verificationFailed('JWT signature is invalid.');
    const now = this.#now();
    const claims = checkClaims(payload, now, options.clockSkewInMs ?? DEFAULTS.clockSkewInMs);

    const entry = new VerifiedJwt(token, m2mTokenFromJwt(claims), claims.jti, claims.exp, claims.nbf, claims.iat, claims.aud, key, header.kid);
    let result = this.#admit(entry, options, now);
    if (result instanceof Promise) result = await result;
    this.#verified.set(entry);
    return result;
  }

  /**
   * The checks every use of a verified token makes: time claims with the call's skew,
   * `aud` against the receiver, the revocation list. Synchronous when the receiver's id and
   * a fresh list are at hand, which is the steady state.
   */
  #admit(entry: VerifiedJwt, options: M2MJwtVerifyOptions, now: number): M2MToken | Promise<M2MToken> {
    const failure = timeFailure(entry.exp, entry.nbf, entry.iat, now, options.clockSkewInMs ?? DEFAULTS.clockSkewInMs);
    if (failure !== null) {
      this.#verified.delete(entry);
      throw failure;
    }
    const receiver = options.machineId || (options.machineSecretKey ? this.#identity.peek(options.machineSecretKey) : null);
    if (receiver === undefined) return this.#admitLater(entry, options);
    if (receiver !== null && !hasAudience(entry.aud, receiver)) throw notScoped();
    const credential = options.machineSecretKey || options.secretKey;
    if (credential) {
      const isRevoked = this.#revocations.peek(entry.jti, credential, now);
      if (isRevoked === undefined) return this.#admitLater(entry, options);
      if (isRevoked) throw revoked();
    }
    return entry.result;
  }

  /** `#admit` after learning the receiver's id or fetching the revocation list. */
  async #admitLater(entry: VerifiedJwt, options: M2MJwtVerifyOptions): Promise<M2MToken> {
    const receiver = await this.#receiverMachineId(options);
    if (receiver !== null && !hasAudience(entry.aud, receiver)) throw notScoped();
    const credential = options.machineSecretKey || options.secretKey;
    if (credential && (await this.#revocations.isRevoked(entry.jti, credential))) throw revoked();
    return entry.result;
  }

  /** The key a kept token must have been verified with, if it is at hand without waiting. */
  #keyAtHand(kid: unknown, jwtKey: string | undefined, now: number): VerificationKey | undefined {
    if (jwtKey) return this.#pemKeys.get(jwtKey);
    return kid ? this.#jwks.peek(kid, now) : undefined;
  }

  /** The PEM key when one is configured (no network), else the JWKS key named by `kid`. */
  #key(kid: unknown, jwtKey: string | undefined): VerificationKey | Promise<VerificationKey> {
    if (jwtKey) return this.#pemKey(jwtKey);
    if (!kid) throw verificationFailed('JWT has no key ID (kid) to look up in the JWKS.');
    return this.#jwks.peek(kid, this.#now()) ?? this.#jwks.getKey(kid);
  }

  /** The key's CryptoKey for `alg` (imported once); a PEM that cannot be imported is reported as such. */
  #cryptoKey(key: VerificationKey, alg: AllowedAlgorithm, jwtKey: string | undefined): CryptoKey | Promise<CryptoKey> {
    const cryptoKey = key.cryptoKey(alg);
    if (!jwtKey || !(cryptoKey instanceof Promise)) return cryptoKey;
    return cryptoKey.catch((error: unknown) => {
      throw new MachineTokenVerificationError({
        code: Code.TokenVerificationFailed,
        message: 'The configured jwtKey (CLERK_JWT_KEY) is not a valid RSA public key in PEM form.',
        action: 'Set CLERK_JWT_KEY to the PEM public key the Tessera server signs with.',
        cause: error,
      });
    });
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
