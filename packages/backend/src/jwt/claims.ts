import type { JWTPayload } from 'jose';
import { MACHINE_ID_PATTERN, TOKEN_ID_PATTERN } from '../constants.js';
import { verificationFailed } from '../errors/machine-token-verification-error.js';

const date = (seconds: number) => new Date(seconds * 1000).toUTCString();

/** A verified M2M JWT payload: the claims this SDK relies on are present and typed. */
export interface M2MJwtPayload extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
}

/**
 * Time and identity claims of an already signature-checked payload. `exp` is required;
 * `nbf` and `iat` are checked when present; all with `clockSkewInMs` of tolerance.
 */
export function checkClaims(payload: JWTPayload, nowMs: number, clockSkewInMs: number): M2MJwtPayload {
  const { sub, jti, exp, nbf, iat } = payload;
  if (typeof sub !== 'string' || !MACHINE_ID_PATTERN.test(sub)) {
    throw verificationFailed('Invalid JWT subject claim (sub): expected a machine ID (mch_...).');
  }
  // Revocation is by id, so a Tessera M2M JWT always names itself.
  if (typeof jti !== 'string' || !TOKEN_ID_PATTERN.test(jti)) {
    throw verificationFailed('Invalid JWT ID claim (jti): expected an M2M token ID (mt_...).');
  }
  if (typeof exp !== 'number') throw verificationFailed('Invalid JWT expiry date claim (exp): it must be a number.');
  const current = Math.floor(nowMs / 1000);
  if (exp * 1000 <= nowMs - clockSkewInMs) {
    throw verificationFailed(`JWT is expired. Expiry date: ${date(exp)}, Current date: ${date(current)}.`);
  }
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') throw verificationFailed('Invalid JWT not before date claim (nbf): it must be a number.');
    if (nbf * 1000 > nowMs + clockSkewInMs) {
      throw verificationFailed(`JWT cannot be used prior to not before date claim (nbf). Not before date: ${date(nbf)}, Current date: ${date(current)}.`);
    }
  }
  if (iat !== undefined) {
    if (typeof iat !== 'number') throw verificationFailed('Invalid JWT issued at date claim (iat): it must be a number.');
    if (iat * 1000 > nowMs + clockSkewInMs) {
      throw verificationFailed(`JWT issued at date claim (iat) is in the future. Issued at date: ${date(iat)}, Current date: ${date(current)}.`);
    }
  }
  return payload as M2MJwtPayload;
}

/** The audience as a list: a JWT may carry `aud` as one string or an array. */
export function audienceOf(payload: JWTPayload): string[] {
  if (typeof payload.aud === 'string') return [payload.aud];
  return Array.isArray(payload.aud) ? payload.aud.filter((a): a is string => typeof a === 'string') : [];
}
