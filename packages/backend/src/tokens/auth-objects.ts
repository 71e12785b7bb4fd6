import type { M2MToken } from '../api/resources/m2m-token.js';
import type { AuthErrorReason } from './request-state.js';
import type { AcceptsToken, TokenType } from './token-types.js';

interface AuthObjectCommon {
  /** `has()` answers permission checks for sessions; machine tokens carry none. */
  has: (params?: unknown) => false;
  /** What was decided and why, without the token value: safe to log. */
  debug: () => Record<string, unknown>;
}

export interface AuthenticatedM2MObject extends AuthObjectCommon {
  tokenType: 'm2m_token';
  isAuthenticated: true;
  /** The token ID (`mt_…`). */
  id: string;
  /** The sending machine (`mch_…`). */
  subject: string;
  /** Same as `subject`. */
  machineId: string;
  /** Machines the token may be presented to. */
  scopes: string[];
  claims: Record<string, unknown> | null;
  getToken: () => Promise<string>;
}

interface Unauthenticated extends AuthObjectCommon {
  isAuthenticated: false;
  getToken: () => Promise<null>;
}

export interface UnauthenticatedM2MObject extends Unauthenticated {
  tokenType: 'm2m_token';
  id: null;
  subject: null;
  machineId: null;
  scopes: null;
  claims: null;
}

export interface UnauthenticatedApiKeyObject extends Unauthenticated {
  tokenType: 'api_key';
  id: null;
  name: null;
  subject: null;
  scopes: null;
  claims: null;
  userId: null;
  orgId: null;
}

export interface UnauthenticatedOAuthObject extends Unauthenticated {
  tokenType: 'oauth_token';
  id: null;
  subject: null;
  scopes: null;
  userId: null;
  clientId: null;
}

/** Tessera issues no session tokens: a session auth object is always signed out. */
export interface SignedOutAuthObject extends Unauthenticated {
  tokenType: 'session_token';
  sessionClaims: null;
  sessionId: null;
  sessionStatus: null;
  actor: null;
  userId: null;
  orgId: null;
  orgRole: null;
  orgSlug: null;
  orgPermissions: null;
  factorVerificationAge: null;
}

/** The token's type was not among those accepted (an `acceptsToken` array). */
export interface InvalidTokenAuthObject extends Unauthenticated {
  tokenType: null;
}

interface UnauthenticatedObjects {
  session_token: SignedOutAuthObject;
  api_key: UnauthenticatedApiKeyObject;
  m2m_token: UnauthenticatedM2MObject;
  oauth_token: UnauthenticatedOAuthObject;
}

/** The token types an `acceptsToken` value admits. */
export type AcceptedTypes<A extends AcceptsToken> = A extends 'any' ? TokenType : A extends readonly (infer U extends TokenType)[] ? U : A;

export type UnauthenticatedObjectFor<A extends AcceptsToken> =
  | UnauthenticatedObjects[AcceptedTypes<A>]
  | (A extends readonly unknown[] ? InvalidTokenAuthObject : never);

/** `toAuth()` of a request authenticated with `acceptsToken: A`, signed in or out. */
export type AuthObjectFor<A extends AcceptsToken> =
  | UnauthenticatedObjectFor<A>
  | ('m2m_token' extends AcceptedTypes<A> ? AuthenticatedM2MObject : never);

const never = () => false as const;

export function authenticatedM2MObject(token: string, m2m: M2MToken): AuthenticatedM2MObject {
  return {
    tokenType: 'm2m_token',
    isAuthenticated: true,
    id: m2m.id,
    subject: m2m.subject,
    machineId: m2m.subject,
    scopes: m2m.scopes,
    claims: m2m.claims,
    getToken: () => Promise.resolve(token),
    has: never,
    debug: () => ({ tokenType: 'm2m_token', isAuthenticated: true, id: m2m.id, subject: m2m.subject, scopes: m2m.scopes }),
  };
}

export function unauthenticatedObject(
  tokenType: TokenType | null,
  reason: AuthErrorReason,
  message: string,
): UnauthenticatedObjects[keyof UnauthenticatedObjects] | InvalidTokenAuthObject {
  const common = {
    isAuthenticated: false as const,
    getToken: () => Promise.resolve(null),
    has: never,
    debug: () => ({ tokenType, isAuthenticated: false, reason, message }),
  };
  switch (tokenType) {
    case null:
      return { ...common, tokenType };
    case 'm2m_token':
      return { ...common, tokenType, id: null, subject: null, machineId: null, scopes: null, claims: null };
    case 'api_key':
      return { ...common, tokenType, id: null, name: null, subject: null, scopes: null, claims: null, userId: null, orgId: null };
    case 'oauth_token':
      return { ...common, tokenType, id: null, subject: null, scopes: null, userId: null, clientId: null };
    case 'session_token':
      return {
        ...common,
        tokenType,
        sessionClaims: null,
        sessionId: null,
        sessionStatus: null,
        actor: null,
        userId: null,
        orgId: null,
        orgRole: null,
        orgSlug: null,
        orgPermissions: null,
        factorVerificationAge: null,
      };
  }
}

