import type { M2MTokenApi } from '../api/endpoints/m2m-token-api.js';
import { mergeCredentials, type Credentials } from '../client/credentials.js';
import { JWT_CATEGORY } from '../constants.js';
import { MachineTokenVerificationErrorCode } from '../errors/machine-token-verification-error.js';
import { toVerificationError } from '../errors/to-verification-error.js';
import { bearerToken } from './bearer.js';
import { classifyToken, type ClassifiedToken } from './classify.js';
import { AuthErrorReason, signedIn, signedOut, type RequestState, type SignedInState, type SignedOutState } from './request-state.js';
import { isMachineTokenType, TokenType, type AcceptsToken, type MachineTokenType } from './token-types.js';

export interface AuthenticateRequestOptions<A extends AcceptsToken = AcceptsToken> {
  /** Which token types this route accepts. Default `'session_token'`, as in @clerk/backend (always signed out on Tessera). */
  acceptsToken?: A;
  /** Overrides the client's instance key for this call. */
  secretKey?: string;
  /** Overrides the client's machine key: opaque tokens are verified with it, and JWTs must be scoped to its machine. */
  machineSecretKey?: string;
  /** Overrides the client's PEM key for networkless JWT verification. */
  jwtKey?: string;
  /** This receiver's machine ID: JWTs must carry it in `aud` (learned from the server when only the machine key is known). */
  machineId?: string;
  clockSkewInMs?: number;
  /** Accepted for @clerk/backend compatibility; Tessera has no publishable keys. */
  publishableKey?: string;
}

/** Local answers for token types Tessera never issues: no server round trip for a value that cannot be valid. */
const NOT_ISSUED: Record<Exclude<MachineTokenType, 'm2m_token'>, string> = {
  api_key: 'API keys are not issued by Tessera',
  oauth_token: 'OAuth access tokens are not issued by Tessera',
};

/**
 * `authenticateRequest` for machine tokens (spec 4.6). The token is read from the
 * `Authorization` header only. Every path that cannot prove the token ends signed out
 * with a reason: a server that cannot be reached never lets a request through.
 */
export async function authenticateRequest(
  m2m: M2MTokenApi,
  clientCredentials: Credentials,
  request: Request,
  options: AuthenticateRequestOptions = {},
): Promise<RequestState<AcceptsToken>> {
  const accepts = options.acceptsToken ?? TokenType.SessionToken;
  const credentials = mergeCredentials(clientCredentials, options);
  if (!credentials.machineSecretKey && !credentials.secretKey && !credentials.jwtKey) {
    throw new Error(
      'Machine token authentication requires a machine secret key, a secret key or a JWT key. ' +
        'Set CLERK_MACHINE_SECRET_KEY, CLERK_SECRET_KEY or CLERK_JWT_KEY, or pass one in the options.',
    );
  }

  const token = bearerToken(request.headers.get('authorization'));
  const classified = token === null ? null : classifyToken(token);
  // Arrays are filtered first, before anything else is looked at (no header counts as a session).
  if (Array.isArray(accepts) && !accepts.includes(classified?.type ?? TokenType.SessionToken)) {
    return signedOut(null, AuthErrorReason.TokenTypeMismatch);
  }
  const single = typeof accepts === 'string' && accepts !== 'any' ? accepts : null;

  if (token === null || classified === null) {
    return signedOut(single ?? TokenType.SessionToken, AuthErrorReason.TokenMissing);
  }
  if (single !== null && single !== classified.type) {
    return signedOut(single, AuthErrorReason.TokenTypeMismatch);
  }
  if (!isMachineTokenType(classified.type)) return sessionOutcome(classified);
  return verifyMachineToken(m2m, credentials, token, classified);
}

async function verifyMachineToken(
  m2m: M2MTokenApi,
  credentials: Credentials,
  token: string,
  classified: ClassifiedToken,
): Promise<SignedInState | SignedOutState> {
  const type = classified.type as MachineTokenType;
  if (type !== TokenType.M2MToken) {
    return signedOut(type, MachineTokenVerificationErrorCode.TokenInvalid, `${NOT_ISSUED[type]} (code=token-invalid, status=n/a)`);
  }
  try {
    return signedIn(token, await m2m.verifyWith(token, credentials, classified));
  } catch (error) {
    const failure = toVerificationError(error, 'Machine token verification', 'Machine token not found');
    return signedOut(type, failure.code, failure.getFullMessage());
  }
}

/** A non-machine token where sessions are accepted: Tessera has nothing to verify it against. */
function sessionOutcome({ jwt }: ClassifiedToken): SignedOutState {
  if (jwt === null) {
    return signedOut(TokenType.SessionToken, MachineTokenVerificationErrorCode.TokenInvalid, 'The Authorization header does not carry a recognisable token.');
  }
  const category = jwt.header.cat;
  if (category !== undefined && category !== JWT_CATEGORY.sessionToken && category !== JWT_CATEGORY.ignore) {
    // A JWT of another class (a template token, say) is not a session token either.
    return signedOut(TokenType.SessionToken, AuthErrorReason.TokenTypeMismatch);
  }
  return signedOut(
    TokenType.SessionToken,
    AuthErrorReason.SessionTokenUnsupported,
    "Tessera issues no session tokens; protect machine routes with acceptsToken: 'm2m_token'.",
  );
}
