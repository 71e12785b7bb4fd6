import { errors as joseErrors, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import { JWT_ALGORITHM } from '../crypto/signing.js';
import { notFound, tokenNotFound } from './errors.js';
import { isMachineId, isTokenId } from './ids.js';
import type { TokenRecord } from './records.js';
import type { JwtCodec } from './tokens.js';
import type { SigningKeys } from './signing-keys.js';
import type { Store } from '../store/store.js';

/** Header `cat` that marks an M2M token (spec 3.2); session tokens carry another. */
export const M2M_TOKEN_CATEGORY = 'cl_B7d4PD333AAA';

const CLOCK_TOLERANCE_SECONDS = 5;

/** Signs and verifies JWT-format M2M tokens with the instance's signing keys. */
export class JwtTokens implements JwtCodec {
  constructor(
    private readonly store: Store,
    private readonly keys: SigningKeys,
    /** The server's public URL; known once it listens. */
    private readonly issuer: () => string,
  ) {}

  /** Signs `record` and fixes its expiry and key; the caller stores it. */
  async sign(record: TokenRecord, claims: Record<string, unknown> | null): Promise<string> {
    const { kid, privateKey } = await this.keys.current();
    // JWT times are whole seconds: exp is exactly the lifetime after iat.
    const iat = Math.floor(record.createdAt / 1000);
    const exp = iat + Math.round((record.expiration! - record.createdAt) / 1000);
    record.expiration = exp * 1000;
    record.signingKid = kid;
    const payload: Record<string, unknown> = { ...claims };
    // An empty `scopes` string would become [''] in the published SDK; omit both when empty.
    if (record.scopes.length > 0) {
      payload.aud = record.scopes;
      payload.scopes = record.scopes.join(' ');
    }
    return new SignJWT(payload)
      .setProtectedHeader({ alg: JWT_ALGORITHM, kid, typ: 'JWT', cat: M2M_TOKEN_CATEGORY })
      .setSubject(record.machineId)
      .setJti(record.id)
      .setIssuer(this.issuer())
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(privateKey);
  }

  /**
   * Checks signature (RS256 only, key chosen by `kid` among our own keys: `jku`, `x5u` and
   * embedded `jwk` headers are never followed), `typ`, `cat`, `exp`/`nbf`, subject and ID,
   * then returns the stored record so that revocation and machine deletion apply.
   */
  async verify(value: string): Promise<TokenRecord> {
    let payload;
    try {
      ({ payload } = await jwtVerify(value, (header: JWTHeaderParameters) => this.#keyFor(header), {
        algorithms: [JWT_ALGORITHM],
        typ: 'JWT',
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw notFound('token_expired', 'The M2M token has expired.');
      throw tokenNotFound();
    }
    if (!isMachineId(payload.sub) || !isTokenId(payload.jti)) throw tokenNotFound();
    const record = await this.store.getToken(payload.jti.toLowerCase());
    if (!record || record.format !== 'jwt' || record.machineId !== payload.sub) throw tokenNotFound();
    return record;
  }

  async #keyFor(header: JWTHeaderParameters) {
    if (header.cat !== M2M_TOKEN_CATEGORY || typeof header.kid !== 'string') throw tokenNotFound();
    const key = await this.keys.publicKey(header.kid);
    if (!key) throw tokenNotFound();
    return key;
  }
}
