import { TOKEN_PREFIX } from '../constants.js';
import { decodeUnverified, type DecodedJwt } from '../jwt/decode.js';
import { TokenType } from './token-types.js';

export interface ClassifiedToken {
  type: TokenType;
  /** Header and payload when the token is a decodable JWT (unverified). */
  jwt: DecodedJwt | null;
}

const OAUTH_JWT_TYPES = new Set(['at+jwt', 'application/at+jwt']);

/**
 * The token type by prefix and JWT shape, as @clerk/backend decides it (spec 3.3). Only
 * a hint for routing: nothing here is verified.
 */
export function classifyToken(token: string): ClassifiedToken {
  const jwt = decodeUnverified(token);
  if (token.startsWith(TOKEN_PREFIX.m2mToken) || (typeof jwt?.payload.sub === 'string' && jwt.payload.sub.startsWith(TOKEN_PREFIX.machineId))) {
    return { type: TokenType.M2MToken, jwt };
  }
  if (token.startsWith(TOKEN_PREFIX.oauthToken) || (typeof jwt?.header.typ === 'string' && OAUTH_JWT_TYPES.has(jwt.header.typ))) {
    return { type: TokenType.OAuthToken, jwt };
  }
  if (token.startsWith(TOKEN_PREFIX.apiKey)) return { type: TokenType.ApiKey, jwt };
  return { type: TokenType.SessionToken, jwt };
}

