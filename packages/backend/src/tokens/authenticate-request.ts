import type { M2MTokenApi } from '../api/endpoints/m2m-token-api.js';
import type { M2MToken } from '../api/resources/m2m-token.js';
import { mergeCredentials, type Credentials } from '../client/credentials.js';
import { JWT_CATEGORY } from '../constants.js';
import { MachineTokenVerificationErrorCode } from '../errors/machine-token-verification-error.js';
import { toVerificationError } from '../errors/to-verification-error.js';
import type { M2MJwtVerifier } from '../jwt/verify.js';
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
export function authenticateRequest(
  m2m: M2MTokenApi,
  jwt: M2MJwtVerifier,
  clientCredentials: Credentials,
  request: Request,
  options: AuthenticateRequestOptions = {},
): Promise<RequestState<AcceptsToken>> {
  try {
    // A state is often known synchronously (a kept JWT, a mismatch): one promise, no chain.
    return Promise.resolve(authenticate(m2m, jwt, clientCredentials, request, options));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Whether a call overrides any of the client's credentials (else they are used as they are). */
const overrides = (options: AuthenticateRequestOptions) =>
  !!(options.secretKey || options.machineSecretKey || options.jwtKey || options.machineId) || options.clockSkewInMs !== undefined;

function authenticate(
  m2m: M2MTokenApi,
  jwt: M2MJwtVerifier,
  clientCredentials: Credentials,
  request: Request,
  options: AuthenticateRequestOptions,
): RequestState<AcceptsToken> | Promise<SignedInState | SignedOutState> {
  const accepts = options.acceptsToken ?? TokenType.SessionToken;
  const credentials = overrides(options) ? mergeCredentials(clientCredentials, options) : clientCredentials;
  if (!credentials.machineSecretKey && !credentials.secretKey && !credentials.jwtKey) {
    throw new Error(
      'Machine token authentication requires a machine secret key, a secret key or a JWT key. ' +
        'Set CLERK_MACHINE_SECRET_KEY, CLERK_SECRET_KEY or CLERK_JWT_KEY, or pass one in the options.',
    );
  }

  const token = bearerToken(request.headers.get('authorization'));
  // A JWT verified before is an M2M JWT: its kept verification stands in for decoding it again.
  const known = token === null ? undefined : jwt.lookup(token);
  const classified = token === null || known !== undefined ? null : classifyToken(token);
  const type = known !== undefined ? TokenType.M2MToken : classified?.type;
  // Arrays are filtered first, before anything else is looked at (no header counts as a session).
  if (Array.isArray(accepts) && !accepts.includes(type ?? TokenType.SessionToken)) {
    return signedOut(null, AuthErrorReason.TokenTypeMismatch);
  }
  const single = typeof accepts === 'string' && accepts !== 'any' ? accepts : null;

  if (token === null || type === undefined) {
    return signedOut(single ?? TokenType.SessionToken, AuthErrorReason.TokenMissing);
  }
  if (single !== null && single !== type) {
    return signedOut(single, AuthErrorReason.TokenTypeMismatch);
  }
  if (!isMachineTokenType(type)) return sessionOutcome(classified!);
  if (type !== TokenType.M2MToken) {
    return signedOut(type, MachineTokenVerificationErrorCode.TokenInvalid, `${NOT_ISSUED[type]} (code=token-invalid, status=n/a)`);
  }

  let verified: M2MToken | Promise<M2MToken>;
  try {
    if (known !== undefined) verified = jwt.check(token, credentials, undefined, known);
    else if (classified!.jwt !== null) verified = jwt.check(token, credentials, classified!.jwt, null);
    else verified = m2m.verifyWith(token, credentials, classified!);
  } catch (error) {
    return machineFailure(error);
  }
  if (verified instanceof Promise) return verified.then((m2mToken) => signedIn(token, m2mToken), machineFailure);
  return signedIn(token, verified);
}

/** A failed M2M verification as a signed-out state (never a pass). */
function machineFailure(error: unknown): SignedOutState {
  const failure = toVerificationError(error, 'Machine token verification', 'Machine token not found');
  return signedOut(TokenType.M2MToken, failure.code, failure.getFullMessage());
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
