import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';

/** Three base64url segments: the shape test of @clerk/backend (spec 3.1). */
const JWT_SHAPE = /^[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+$/;

export interface DecodedJwt {
  header: ProtectedHeaderParameters;
  payload: JWTPayload;
}

export const isJwtShaped = (token: string) => JWT_SHAPE.test(token);

/** Header and payload without any verification; null when `token` is not a decodable JWT. */
export function decodeUnverified(token: string): DecodedJwt | null {
  if (!isJwtShaped(token)) return null;
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch {
    return null;
  }
}
