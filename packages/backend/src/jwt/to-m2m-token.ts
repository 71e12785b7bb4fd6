import { M2MToken } from '../api/resources/m2m-token.js';
import { audienceOf, type M2MJwtPayload } from './claims.js';

/**
 * Claims that describe the token rather than carry the minter's data. @clerk/backend
 * leaves `aud`, `scopes` and `iss` inside `claims`; Tessera's server refuses them as
 * custom claim names, so excluding them makes `claims` equal what was given at creation
 * for both token formats.
 */
const STRUCTURAL_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scopes']);

/** A verified payload as an `M2MToken` (spec 3.5). */
export function m2mTokenFromJwt(payload: M2MJwtPayload): M2MToken {
  const custom: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) if (!STRUCTURAL_CLAIMS.has(key)) custom[key] = value;
  const scopes =
    typeof payload.scopes === 'string' ? payload.scopes.split(' ').filter((s) => s !== '') : audienceOf(payload);
  const issuedAt = typeof payload.iat === 'number' ? payload.iat * 1000 : 0;
  return new M2MToken({
    id: payload.jti,
    subject: payload.sub,
    scopes,
    claims: Object.keys(custom).length > 0 ? custom : null,
    revoked: false,
    revocationReason: null,
    // Verification just refused expired tokens.
    expired: false,
    expiration: payload.exp * 1000,
    createdAt: issuedAt,
    updatedAt: issuedAt,
    lastUsedAt: null,
  });
}
