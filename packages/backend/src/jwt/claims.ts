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
  if (isExpired(exp, nowMs, clockSkewInMs)) throw expired(exp, nowMs);
  if (nbf !== undefined) {
    if (typeof nbf !== 'number') throw verificationFailed('Invalid JWT not before date claim (nbf): it must be a number.');
    if (isNotYetValid(nbf, nowMs, clockSkewInMs)) throw notYetValid(nbf, nowMs);
  }
  if (iat !== undefined) {
    if (typeof iat !== 'number') throw verificationFailed('Invalid JWT issued at date claim (iat): it must be a number.');
    if (isNotYetValid(iat, nowMs, clockSkewInMs)) throw issuedInFuture(iat, nowMs);
  }
  return payload as M2MJwtPayload;
}

/** `exp` (seconds) has passed, `clockSkewInMs` of tolerance included. */
const isExpired = (exp: number, nowMs: number, clockSkewInMs: number) => exp * 1000 <= nowMs - clockSkewInMs;
/** `nbf` or `iat` (seconds) is still in the future, `clockSkewInMs` of tolerance included. */
const isNotYetValid = (seconds: number, nowMs: number, clockSkewInMs: number) => seconds * 1000 > nowMs + clockSkewInMs;

const expired = (exp: number, nowMs: number) =>
  verificationFailed(`JWT is expired. Expiry date: ${date(exp)}, Current date: ${date(Math.floor(nowMs / 1000))}.`);
const notYetValid = (nbf: number, nowMs: number) =>
  verificationFailed(
    `JWT cannot be used prior to not before date claim (nbf). Not before date: ${date(nbf)}, Current date: ${date(Math.floor(nowMs / 1000))}.`,
  );
const issuedInFuture = (iat: number, nowMs: number) =>
  verificationFailed(`JWT issued at date claim (iat) is in the future. Issued at date: ${date(iat)}, Current date: ${date(Math.floor(nowMs / 1000))}.`);

/**
 * The time rules of `checkClaims` alone, on claims it already accepted as numbers: run on
 * every use of a cached token, since they depend on the clock and on the call's skew.
 * Returns the failure instead of throwing it, so the caller can drop an expired token first.
 */
export function timeFailure(
  exp: number,
  nbf: number | undefined,
  iat: number | undefined,
  nowMs: number,
  clockSkewInMs: number,
): Error | null {
  if (isExpired(exp, nowMs, clockSkewInMs)) return expired(exp, nowMs);
  if (nbf !== undefined && isNotYetValid(nbf, nowMs, clockSkewInMs)) return notYetValid(nbf, nowMs);
  if (iat !== undefined && isNotYetValid(iat, nowMs, clockSkewInMs)) return issuedInFuture(iat, nowMs);
  return null;
}

/** The audience as a list: a JWT may carry `aud` as one string or an array. */
export function audienceOf(payload: JWTPayload): string[] {
  if (typeof payload.aud === 'string') return [payload.aud];
  return Array.isArray(payload.aud) ? payload.aud.filter((a): a is string => typeof a === 'string') : [];
}

/** Whether `aud` (one string or an array, as in the payload) names `machineId`; builds nothing. */
export const hasAudience = (aud: unknown, machineId: string): boolean =>
  aud === machineId || (Array.isArray(aud) && aud.includes(machineId));
