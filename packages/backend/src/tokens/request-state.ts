import { AUTH_HEADERS } from '../constants.js';
import type { MachineTokenVerificationErrorCode } from '../errors/machine-token-verification-error.js';
import type { M2MToken } from '../api/resources/m2m-token.js';
import {
  authenticatedM2MObject,
  unauthenticatedObject,
  type AcceptedTypes,
  type AuthenticatedM2MObject,
  type UnauthenticatedObjectFor,
} from './auth-objects.js';
import type { AcceptsToken, TokenType } from './token-types.js';

/** Reasons a request ends signed out (documented in the README, SDK guide). */
export const AuthErrorReason = {
  /** The token's type is not one the route accepts. No verification was attempted. */
  TokenTypeMismatch: 'token-type-mismatch',
  /** No usable `Authorization` header (Tessera never reads cookies). Literal string as in @clerk/backend. */
  TokenMissing: 'No token in header',
  /** A session-style token where sessions are accepted: Tessera issues no session tokens. */
  SessionTokenUnsupported: 'session-token-unsupported',
} as const;

export type AuthErrorReason = (typeof AuthErrorReason)[keyof typeof AuthErrorReason] | MachineTokenVerificationErrorCode;

export const AuthStatus = { SignedIn: 'signed-in', SignedOut: 'signed-out' } as const;

/** Fields @clerk/backend's RequestState carries for its session flow; always empty on Tessera. */
interface SessionContextFields {
  publishableKey: string;
  proxyUrl: string;
  isSatellite: boolean;
  domain: string;
  signInUrl: string;
  signUpUrl: string;
  afterSignInUrl: string;
  afterSignUpUrl: string;
}

export interface SignedInState extends SessionContextFields {
  status: typeof AuthStatus.SignedIn;
  isAuthenticated: true;
  /** @deprecated use `isAuthenticated` */
  isSignedIn: true;
  /** Only M2M tokens can sign a request in on Tessera. */
  tokenType: 'm2m_token';
  reason: null;
  message: null;
  /** The raw bearer value. */
  token: string;
  headers: Headers;
  toAuth: () => AuthenticatedM2MObject;
}

export interface SignedOutState<A extends AcceptsToken = AcceptsToken> extends SessionContextFields {
  status: typeof AuthStatus.SignedOut;
  isAuthenticated: false;
  /** @deprecated use `isAuthenticated` */
  isSignedIn: false;
  /** The requested or detected type; null when an `acceptsToken` array did not include the token's type. */
  tokenType: AcceptedTypes<A> | (A extends readonly unknown[] ? null : never);
  reason: AuthErrorReason;
  /** '' for type mismatches; otherwise `"<message> (code=<code>, status=<status|n/a>)"` or a plain explanation. */
  message: string;
  token: null;
  /** `x-clerk-auth-status`, `x-clerk-auth-reason` and (when non-empty) `x-clerk-auth-message`. */
  headers: Headers;
  toAuth: () => UnauthenticatedObjectFor<A>;
}

/** The outcome of `authenticateRequest`, typed by what it accepted. */
export type RequestState<A extends AcceptsToken = 'session_token'> =
  | ('m2m_token' extends AcceptedTypes<A> ? SignedInState : never)
  | SignedOutState<A>;

const sessionContext: SessionContextFields = {
  publishableKey: '',
  proxyUrl: '',
  isSatellite: false,
  domain: '',
  signInUrl: '',
  signUpUrl: '',
  afterSignInUrl: '',
  afterSignUpUrl: '',
};

/**
 * A signed-in state. A class rather than a spread literal, and `headers` (always empty when
 * signed in) and the auth object are made on first use: this is the hot path of
 * `authenticateRequest`, and most callers read `isAuthenticated` and `toAuth()` only.
 */
class SignedIn implements SignedInState {
  readonly publishableKey = '';
  readonly proxyUrl = '';
  readonly isSatellite = false;
  readonly domain = '';
  readonly signInUrl = '';
  readonly signUpUrl = '';
  readonly afterSignInUrl = '';
  readonly afterSignUpUrl = '';
  readonly status = AuthStatus.SignedIn;
  readonly isAuthenticated = true;
  readonly isSignedIn = true;
  readonly tokenType = 'm2m_token';
  readonly reason = null;
  readonly message = null;
  readonly token: string;
  readonly toAuth: () => AuthenticatedM2MObject;
  #headers: Headers | undefined;

  constructor(token: string, m2m: M2MToken) {
    this.token = token;
    let auth: AuthenticatedM2MObject | undefined;
    this.toAuth = () => (auth ??= authenticatedM2MObject(token, m2m));
  }

  get headers(): Headers {
    return (this.#headers ??= new Headers());
  }
}

export function signedIn(token: string, m2m: M2MToken): SignedInState {
  return new SignedIn(token, m2m);
}

export function signedOut(tokenType: TokenType | null, reason: AuthErrorReason, message = ''): SignedOutState {
  const headers = new Headers({ [AUTH_HEADERS.status]: AuthStatus.SignedOut, [AUTH_HEADERS.reason]: reason });
  if (message !== '') headers.set(AUTH_HEADERS.message, headerSafe(message));
  const auth = unauthenticatedObject(tokenType, reason, message);
  return {
    ...sessionContext,
    status: AuthStatus.SignedOut,
    isAuthenticated: false,
    isSignedIn: false,
    tokenType,
    reason,
    message,
    token: null,
    headers,
    toAuth: () => auth,
  } as SignedOutState;
}

/** Header values must be printable ASCII here; anything else would make `Headers` throw. */
const headerSafe = (value: string) => value.replace(/[^\x20-\x7e]/g, '?');
