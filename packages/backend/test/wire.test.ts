import { describe, expect, it } from 'vitest';
import { snakeCaseKeys } from '../src/api/http/case.js';
import { joinPaths, queryString, resourceId } from '../src/api/http/url.js';
import { bearerToken } from '../src/tokens/bearer.js';
import { classifyToken } from '../src/tokens/classify.js';

// The small pure rules of the wire format and token routing (spec 3.3, 4.2, 4.6).

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (header: Record<string, unknown>, payload: Record<string, unknown>) => `${b64({ alg: 'RS256', ...header })}.${b64(payload)}.c2ln`;

describe('request building', () => {
  it('query: snake-cased keys, falsy values skipped, arrays repeated, true as "true"', () => {
    expect(queryString({ orderBy: '-name', limit: 0, offset: 5, revoked: false, expired: true, query: '', ids: ['a', '', 'b'], none: null })).toBe(
      '?order_by=-name&offset=5&expired=true&ids=a&ids=b',
    );
    expect(queryString({})).toBe('');
    expect(queryString(undefined)).toBe('');
  });

  it('body: top-level keys snake-cased, nested values verbatim', () => {
    expect(snakeCaseKeys({ secondsUntilExpiration: 1, claims: { someKey: { innerKey: 1 } }, tokenFormat: 'jwt' })).toEqual({
      seconds_until_expiration: 1,
      claims: { someKey: { innerKey: 1 } },
      token_format: 'jwt',
    });
  });

  it('paths: one slash between parts; ids encoded as one segment; empty, . and .. refused', () => {
    expect(joinPaths('http://a.test/', '', '/m2m_tokens/')).toBe('http://a.test/m2m_tokens');
    expect(joinPaths('http://a.test/base/', 'v1', 'machines')).toBe('http://a.test/base/v1/machines');
    expect(resourceId('mch_a/b?c')).toBe('mch_a%2Fb%3Fc');
    for (const id of ['', '.', '..']) expect(() => resourceId(id)).toThrow('A valid resource ID is required.');
  });
});

describe('token routing', () => {
  it('Authorization header: Bearer (case-sensitive), bare value, other schemes carry nothing', () => {
    expect(bearerToken('Bearer mt_abc')).toBe('mt_abc');
    expect(bearerToken('Bearer   mt_abc  ')).toBe('mt_abc');
    expect(bearerToken('mt_abc')).toBe('mt_abc');
    expect(bearerToken('bearer mt_abc')).toBeNull();
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeNull();
    expect(bearerToken('')).toBeNull();
    expect(bearerToken(null)).toBeNull();
  });

  it('type by prefix, then by JWT shape: mch_ subject → M2M, at+jwt → OAuth', () => {
    expect(classifyToken('mt_abc').type).toBe('m2m_token');
    expect(classifyToken('oat_abc').type).toBe('oauth_token');
    expect(classifyToken('ak_abc').type).toBe('api_key');
    expect(classifyToken('sess_abc').type).toBe('session_token');
    expect(classifyToken(jwt({}, { sub: 'mch_2yGkLpQ7Y3rXSwtU24CzTk9I7Em' }))).toMatchObject({ type: 'm2m_token', jwt: { payload: { sub: 'mch_2yGkLpQ7Y3rXSwtU24CzTk9I7Em' } } });
    expect(classifyToken(jwt({ typ: 'at+jwt' }, { sub: 'user_1' })).type).toBe('oauth_token');
    expect(classifyToken(jwt({ typ: 'application/at+jwt' }, { sub: 'user_1' })).type).toBe('oauth_token');
    expect(classifyToken(jwt({}, { sub: 'user_1' }))).toMatchObject({ type: 'session_token', jwt: { header: { alg: 'RS256' } } });
    // Three segments that do not decode are no JWT.
    expect(classifyToken('a.b.c')).toEqual({ type: 'session_token', jwt: null });
  });
});
