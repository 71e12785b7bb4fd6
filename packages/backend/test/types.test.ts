import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  createClerkClient,
  type AuthenticatedM2MObject,
  type ClerkClient,
  type InvalidTokenAuthObject,
  type RequestState,
  type SignedOutAuthObject,
  type UnauthenticatedApiKeyObject,
  type UnauthenticatedM2MObject,
  type UnauthenticatedOAuthObject,
} from '../src/index.js';
import { deadUrl } from './helpers/fault-injector.js';
import { requestWith } from './helpers/tessera.js';

// toAuth() is typed by acceptsToken. These assertions are checked by `tsc -b`
// (packages/backend/test is a project of the build); the runtime part checks that the
// values behind the types agree. No request needs the network: none carries a token.

let client: ClerkClient;
beforeAll(async () => {
  client = createClerkClient({ apiUrl: await deadUrl(), secretKey: 'sk_test_types' });
});
const noToken = () => requestWith();

describe('toAuth() follows acceptsToken', () => {
  it("'m2m_token': authenticated or unauthenticated M2M object, narrowed by isAuthenticated", async () => {
    const state = await client.authenticateRequest(noToken(), { acceptsToken: 'm2m_token' });
    expectTypeOf(state).toEqualTypeOf<RequestState<'m2m_token'>>();
    expectTypeOf(state.toAuth()).toEqualTypeOf<AuthenticatedM2MObject | UnauthenticatedM2MObject>();
    if (state.isAuthenticated) {
      expectTypeOf(state.toAuth()).toEqualTypeOf<AuthenticatedM2MObject>();
      expectTypeOf(state.toAuth().subject).toEqualTypeOf<string>();
      expectTypeOf(state.token).toEqualTypeOf<string>();
    } else {
      expectTypeOf(state.toAuth()).toEqualTypeOf<UnauthenticatedM2MObject>();
      expectTypeOf(state.toAuth().subject).toEqualTypeOf<null>();
      expectTypeOf(state.tokenType).toEqualTypeOf<'m2m_token'>();
      expect(state.toAuth().subject).toBeNull();
    }
    expect(state.tokenType).toBe('m2m_token');
  });

  it("default ('session_token'): only ever signed out on Tessera", async () => {
    const state = await client.authenticateRequest(noToken());
    expectTypeOf(state.isAuthenticated).toEqualTypeOf<false>();
    expectTypeOf(state.toAuth()).toEqualTypeOf<SignedOutAuthObject>();
    expect(state.toAuth()).toMatchObject({ tokenType: 'session_token', userId: null, sessionId: null });
  });

  it("'api_key' and 'oauth_token': their unauthenticated objects", async () => {
    const apiKey = await client.authenticateRequest(noToken(), { acceptsToken: 'api_key' });
    expectTypeOf(apiKey.toAuth()).toEqualTypeOf<UnauthenticatedApiKeyObject>();
    expect(apiKey.toAuth()).toMatchObject({ tokenType: 'api_key', name: null, userId: null, orgId: null });
    const oauth = await client.authenticateRequest(noToken(), { acceptsToken: 'oauth_token' });
    expectTypeOf(oauth.toAuth()).toEqualTypeOf<UnauthenticatedOAuthObject>();
    expect(oauth.toAuth()).toMatchObject({ tokenType: 'oauth_token', clientId: null });
  });

  it('arrays: the accepted types, plus the tokenType-null object of a mismatch', async () => {
    const state = await client.authenticateRequest(noToken(), { acceptsToken: ['api_key', 'm2m_token'] });
    expectTypeOf(state.toAuth()).toEqualTypeOf<
      AuthenticatedM2MObject | UnauthenticatedApiKeyObject | UnauthenticatedM2MObject | InvalidTokenAuthObject
    >();
    if (!state.isAuthenticated) expectTypeOf(state.tokenType).toEqualTypeOf<'api_key' | 'm2m_token' | null>();
    expect(state.toAuth().tokenType).toBeNull();

    const noM2M = await client.authenticateRequest(noToken(), { acceptsToken: ['api_key', 'oauth_token'] });
    expectTypeOf(noM2M.isAuthenticated).toEqualTypeOf<false>();
    expectTypeOf(noM2M.toAuth()).toEqualTypeOf<UnauthenticatedApiKeyObject | UnauthenticatedOAuthObject | InvalidTokenAuthObject>();
  });

  it("'any': every object", async () => {
    const state = await client.authenticateRequest(noToken(), { acceptsToken: 'any' });
    expectTypeOf(state.toAuth()).toEqualTypeOf<
      | AuthenticatedM2MObject
      | UnauthenticatedM2MObject
      | UnauthenticatedApiKeyObject
      | UnauthenticatedOAuthObject
      | SignedOutAuthObject
    >();
    expect(state.toAuth().tokenType).toBe('session_token');
  });

  it('refuses unknown token types at compile time', async () => {
    // @ts-expect-error not a token type
    await client.authenticateRequest(noToken(), { acceptsToken: 'machine_token' }).catch(() => {});
    // @ts-expect-error not a token type inside an array
    await client.authenticateRequest(noToken(), { acceptsToken: ['m2m_token', 'bogus'] }).catch(() => {});
  });
});
