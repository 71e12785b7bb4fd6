import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { decodedLength, decodeBase64urlInto } from './base64url.js';

/** Three base64url segments: the shape test of @clerk/backend (spec 3.1). */
const JWT_SHAPE = /^[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+$/;

export interface DecodedJwt {
  header: ProtectedHeaderParameters;
  payload: JWTPayload;
}

export const isJwtShaped = (token: string) => JWT_SHAPE.test(token);

/** Strict, as jose's decoders are: bytes that are not UTF-8 make the token undecodable. */
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Reused for every segment (it is only read synchronously, by `utf8.decode`), up to 64 KiB. */
let scratch = new Uint8Array(4096);
const SCRATCH_MAX = 64 * 1024;

/** A JSON object (not an array, not null) from a base64url segment; null otherwise. */
function jsonObjectAt(token: string, start: number, end: number): Record<string, unknown> | null {
  const length = decodedLength(start, end);
  if (length > scratch.length && length <= SCRATCH_MAX) scratch = new Uint8Array(Math.min(SCRATCH_MAX, Math.max(length, scratch.length * 2)));
  const bytes = length <= scratch.length ? scratch : new Uint8Array(length);
  if (!decodeBase64urlInto(token, start, end, bytes)) return null;
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes.subarray(0, length))); // throws on bad UTF-8 or JSON
  } catch {
    return null;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/**
 * Header and payload without any verification; null when `token` is not a decodable JWT
 * (the three-segment shape, and header and payload JSON objects). Each segment is decoded
 * once: the verifier checks the signature over these same bytes and reuses this payload.
 */
export function decodeUnverified(token: string): DecodedJwt | null {
  if (!isJwtShaped(token)) return null;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const header = jsonObjectAt(token, 0, first);
  if (header === null) return null;
  const payload = jsonObjectAt(token, first + 1, second);
  if (payload === null) return null;
  return { header: header as ProtectedHeaderParameters, payload: payload as JWTPayload };
}
