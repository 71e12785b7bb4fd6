import { M2MToken } from '../api/resources/m2m-token.js';
import { audienceOf, type M2MJwtPayload } from './claims.js';

/**
 * Claims that describe the token rather than carry the minter's data. @clerk/backend
 * leaves `aud`, `scopes` and `iss` inside `claims`; Tessera's server refuses them as
 * custom claim names, so excluding them makes `claims` equal what was given at creation
 * for both token formats.
 */
const STRUCTURAL_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scopes']);

/** Freezes a JSON value all the way down. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * A verified payload as an `M2MToken` (spec 3.5). The result is frozen, scopes and claims
 * included: a verified token is cached and the same object answers every later use of it,
 * so no caller can change what the next one sees.
 */
export function m2mTokenFromJwt(payload: M2MJwtPayload): M2MToken {
  let custom: Record<string, unknown> | null = null;
  for (const key of Object.keys(payload)) {
    if (!STRUCTURAL_CLAIMS.has(key)) (custom ??= {})[key] = payload[key];
  }
  const scopes =
    typeof payload.scopes === 'string' ? payload.scopes.split(' ').filter((s) => s !== '') : audienceOf(payload);
  const issuedAt = typeof payload.iat === 'number' ? payload.iat * 1000 : 0;
  return Object.freeze(
    new M2MToken({
      id: payload.jti,
      subject: payload.sub,
      scopes: Object.freeze(scopes) as string[],
      claims: custom === null ? null : deepFreeze(custom),
      revoked: false,
      revocationReason: null,
      // Verification just refused expired tokens.
      expired: false,
      expiration: payload.exp * 1000,
      createdAt: issuedAt,
      updatedAt: issuedAt,
      lastUsedAt: null,
    }),
  );
}
