import { expect } from 'vitest';
import type { RequestState } from '../../src/index.js';

const EMPTY_SESSION_CONTEXT = {
  publishableKey: '',
  proxyUrl: '',
  isSatellite: false,
  domain: '',
  signInUrl: '',
  signUpUrl: '',
  afterSignInUrl: '',
  afterSignUpUrl: '',
};

type AnyState = RequestState<any>;

/** Every field of a signed-out state, its debug headers and its auth object. */
export async function expectSignedOut(
  state: AnyState,
  expected: { tokenType: string | null; reason: string; message?: string },
): Promise<void> {
  const message = expected.message ?? '';
  expect(state).toMatchObject({
    ...EMPTY_SESSION_CONTEXT,
    status: 'signed-out',
    isAuthenticated: false,
    isSignedIn: false,
    tokenType: expected.tokenType,
    reason: expected.reason,
    message,
    token: null,
  });
  const headers: Record<string, string> = { 'x-clerk-auth-status': 'signed-out', 'x-clerk-auth-reason': expected.reason };
  if (message !== '') headers['x-clerk-auth-message'] = message;
  expect(Object.fromEntries(state.headers)).toEqual(headers);

  const auth = state.toAuth();
  expect(auth.tokenType).toBe(expected.tokenType);
  expect(auth.isAuthenticated).toBe(false);
  expect(await auth.getToken()).toBeNull();
  expect(auth.has()).toBe(false);
  if (expected.tokenType === 'm2m_token') {
    expect(auth).toMatchObject({ id: null, subject: null, machineId: null, scopes: null, claims: null });
  }
  expect(auth.debug()).toMatchObject({ reason: expected.reason, isAuthenticated: false });
}

/** Every field of a signed-in M2M state and its auth object. */
export async function expectSignedIn(
  state: AnyState,
  expected: { token: string; id: string; subject: string; scopes: string[]; claims: Record<string, unknown> | null },
): Promise<void> {
  expect(state).toMatchObject({
    ...EMPTY_SESSION_CONTEXT,
    status: 'signed-in',
    isAuthenticated: true,
    isSignedIn: true,
    tokenType: 'm2m_token',
    reason: null,
    message: null,
    token: expected.token,
  });
  expect([...state.headers]).toEqual([]);
  if (!state.isAuthenticated) throw new Error('unreachable');
  const auth = state.toAuth();
  expect(auth).toMatchObject({
    tokenType: 'm2m_token',
    isAuthenticated: true,
    id: expected.id,
    subject: expected.subject,
    machineId: expected.subject,
    scopes: expected.scopes,
    claims: expected.claims,
  });
  expect(await auth.getToken()).toBe(expected.token);
  expect(auth.has()).toBe(false);
  // debug() is for logs: it never carries the bearer value.
  expect(JSON.stringify(auth.debug())).not.toContain(expected.token);
}
