/**
 * Bad input, class by class: every refusal must answer the exact status and the error
 * envelope (spec 1.10) with `Content-Type: application/json`, leak nothing of the
 * implementation, and change nothing. Each refused request runs between two snapshots
 * of the server's visible state (all machines with their scopes, the fixtures' secret
 * keys, the fixtures' tokens including revoked and expired ones), which must be equal.
 *
 * Status rules: validation failures are 422 on /v1/machines… and 400 on /m2m_tokens…;
 * unparseable JSON is 400 everywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintOpaqueToken } from '../src/crypto/secrets.js';
import { newTokenId } from '../src/domain/ids.js';
import type { ApiResponse } from './helpers/api.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
/** The fixtures: receiver R, sender S (S → R) and a live opaque token of S. */
let R: any;
let S: any;
let tok: any;
/** Placeholder → value, filled in once the fixtures exist. */
const ph: Record<string, string> = {};

const UNKNOWN_MCH = `mch_${'0'.repeat(27)}`; // well-formed, never issued
const UNKNOWN_MT_ID = `mt_${'0f'.repeat(16)}`; // well-formed token id, never issued
const LONG_MCH = `mch_${'a'.repeat(200)}`; // longer than any router's default parameter limit
const MIB = 1024 * 1024;

/** Anything that betrays the implementation: stack frames, error class dumps, paths, framework codes. */
const LEAK = /Error:|\n\s+at |\bat [\w.<>]+ \(|\/work\/|\/home\/|node_modules|\b[\w-]+\.(?:ts|js|mjs|cjs):\d+|FST_ERR|sqlite|SQLITE/i;

beforeAll(async () => {
  t = await startTestServer();
  R = await t.machine('receiver');
  S = await t.machine('sender', { scopedMachines: [R.id] });
  tok = await t.token(S.secret_key, { claims: { tier: 'gold' } });
  const value: string = tok.token;
  const swap = (c: string) => (c === 'A' ? 'B' : 'A');
  Object.assign(ph, {
    '{S}': S.id,
    '{R}': R.id,
    '{TOK}': tok.id,
    '{TOK_ID_UPPER}': `mt_${tok.id.slice(3).toUpperCase()}`,
    '{AK_S}': S.secret_key,
    // Last checksum character changed: right shape, wrong CRC.
    '{BAD_CHECKSUM}': value.slice(0, -1) + swap(value.slice(-1)),
    // One character of the random part changed: the checksum no longer matches it.
    '{BAD_BODY}': value.slice(0, 10) + swap(value.charAt(10)) + value.slice(11),
    // Right shape and a valid checksum, but never issued by this server.
    '{MADE_UP}': mintOpaqueToken(newTokenId()),
    // The real token's ID (which is not secret) with a made-up secret part and a valid checksum.
    '{FORGED_FOR_ID}': mintOpaqueToken(tok.id),
    '{TOKEN_SPACE}': `${value} `,
    '{TOKEN_UPPER_PREFIX}': `MT_${value.slice(3)}`,
    '{TOKEN_TRUNCATED}': value.slice(0, -2),
    '{TOKEN_PLUS}': `${value}x`,
  });
});

afterAll(async () => {
  await t?.stop();
});

// ---------------------------------------------------------------------------------------
// Helpers

type KeyRef = 'sk' | 'S' | 'R' | 'none';

interface Case {
  title: string;
  method: string;
  /** May contain placeholders such as {S}, {R}, {TOK}. */
  path: string;
  body?: unknown;
  raw?: string;
  contentType?: string;
  /** Credential; defaults to the instance key. */
  key?: KeyRef;
  status: number;
  code: string;
  /** Expected `errors[0].meta.param_name`; null = no `meta` at all; undefined = not checked. */
  param?: string | null;
  /** Text that must not be echoed back (user input that is not a well-formed id). */
  noEcho?: string;
}

function fill(text: string): string {
  return text.replace(/\{[A-Z0-9_]+\}/g, (m) => {
    const v = ph[m];
    if (v === undefined) throw new Error(`unknown placeholder ${m}`);
    return v;
  });
}

function fillDeep(value: unknown): unknown {
  if (typeof value === 'string') return fill(value);
  if (Array.isArray(value)) return value.map(fillDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v)]));
  }
  return value;
}

function keyOf(ref: KeyRef | undefined): string | null {
  switch (ref ?? 'sk') {
    case 'sk':
      return t.sk;
    case 'S':
      return S.secret_key;
    case 'R':
      return R.secret_key;
    case 'none':
      return null;
  }
  return null;
}

async function send(c: Pick<Case, 'method' | 'path' | 'body' | 'raw' | 'contentType' | 'key'>): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  return t.call(c.method, fill(c.path), {
    key: keyOf(c.key),
    headers,
    ...(c.raw !== undefined ? { rawBody: fill(c.raw) } : {}),
    ...(c.body !== undefined ? { body: fillDeep(c.body) } : {}),
  });
}

/** Asserts status, envelope shape, code, param_name, content type and the absence of leaks. */
function expectError(res: ApiResponse, status: number, code: string, param?: string | null): void {
  const ctx = `${res.status} ${res.text.slice(0, 400)}`;
  expect(res.status, ctx).toBe(status);
  expect(res.headers.get('content-type'), ctx).toBe('application/json');
  expect(res.text, ctx).not.toMatch(LEAK);
  const body = res.body;
  expect(body !== null && typeof body === 'object' && !Array.isArray(body), ctx).toBe(true);
  expect(Object.keys(body).sort(), ctx).toEqual(['clerk_trace_id', 'errors', 'meta']);
  expect(body.meta, ctx).toEqual({});
  expect(typeof body.clerk_trace_id, ctx).toBe('string');
  expect(body.clerk_trace_id.length, ctx).toBeGreaterThan(0);
  expect(Array.isArray(body.errors), ctx).toBe(true);
  expect(body.errors, ctx).toHaveLength(1);
  const item = body.errors[0];
  for (const k of Object.keys(item)) expect(['code', 'message', 'long_message', 'meta'], ctx).toContain(k);
  expect(typeof item.message, ctx).toBe('string');
  expect(item.message.length, ctx).toBeGreaterThan(0);
  expect(typeof item.long_message, ctx).toBe('string');
  expect(item.long_message.length, ctx).toBeGreaterThan(0);
  expect(item.code, ctx).toBe(code);
  if (param === null) expect(item.meta, ctx).toBeUndefined();
  else if (param !== undefined) expect(item.meta, ctx).toEqual({ param_name: param });
}

/** Everything a refused request could have changed, as the API shows it. */
async function world() {
  const tokensOf = (id: string) => t.call('GET', `/m2m_tokens?subject=${id}&revoked=true&expired=true&limit=100`, { key: t.sk });
  const [machines, keyS, keyR, tokensS, tokensR] = await Promise.all([
    t.call('GET', '/v1/machines?limit=500&order_by=created_at', { key: t.sk }),
    t.call('GET', `/v1/machines/${S.id}/secret_key`, { key: t.sk }),
    t.call('GET', `/v1/machines/${R.id}/secret_key`, { key: t.sk }),
    tokensOf(S.id),
    tokensOf(R.id),
  ]);
  for (const res of [machines, keyS, keyR, tokensS, tokensR]) expect(res.status, res.text).toBe(200);
  return {
    machines: machines.body,
    secretKeys: [keyS.body.secret, keyR.body.secret],
    tokens: [tokensS.body, tokensR.body],
  };
}

/** Sends a request that must be refused as `c` says, and checks nothing changed. */
async function refused(c: Case): Promise<ApiResponse> {
  const before = await world();
  const res = await send(c);
  expectError(res, c.status, c.code, c.param);
  if (c.noEcho !== undefined) expect(res.text).not.toContain(c.noEcho);
  expect(await world()).toEqual(before);
  return res;
}

/** `refused` for `it.each`, which wants a void callback. */
const check = async (c: Case): Promise<void> => {
  await refused(c);
};

// ---------------------------------------------------------------------------------------
// Routes that take a JSON body

interface BodyRoute {
  route: string;
  method: string;
  path: string;
  key: KeyRef;
  /** Status of a validation failure on this route. */
  invalid: 400 | 422;
}

const bodyRoutes: BodyRoute[] = [
  { route: 'POST /v1/machines', method: 'POST', path: '/v1/machines', key: 'sk', invalid: 422 },
  { route: 'PATCH /v1/machines/:id', method: 'PATCH', path: '/v1/machines/{S}', key: 'sk', invalid: 422 },
  {
    route: 'POST /v1/machines/:id/secret_key/rotate',
    method: 'POST',
    path: '/v1/machines/{S}/secret_key/rotate',
    key: 'sk',
    invalid: 422,
  },
  { route: 'POST /v1/machines/:id/scopes', method: 'POST', path: '/v1/machines/{R}/scopes', key: 'sk', invalid: 422 },
  { route: 'POST /m2m_tokens', method: 'POST', path: '/m2m_tokens', key: 'S', invalid: 400 },
  { route: 'POST /v1/m2m_tokens', method: 'POST', path: '/v1/m2m_tokens', key: 'S', invalid: 400 },
  { route: 'POST /m2m_tokens/:id/revoke', method: 'POST', path: '/m2m_tokens/{TOK}/revoke', key: 'sk', invalid: 400 },
  { route: 'POST /v1/m2m_tokens/:id/revoke', method: 'POST', path: '/v1/m2m_tokens/{TOK}/revoke', key: 'sk', invalid: 400 },
  { route: 'POST /m2m_tokens/verify', method: 'POST', path: '/m2m_tokens/verify', key: 'sk', invalid: 400 },
  { route: 'POST /v1/m2m_tokens/verify', method: 'POST', path: '/v1/m2m_tokens/verify', key: 'sk', invalid: 400 },
];

const invalidJson: Array<[string, string]> = [
  ['truncated object', '{"name": "x", "previous_token_ttl": 1'],
  ['a lone brace', '{'],
  ['trailing garbage', '{"name": "x"} garbage'],
  ['two concatenated objects', '{"name": "x"}{"name": "y"}'],
  ['single-quoted keys', "{'name': 'x'}"],
  ['a trailing comma', '{"name": "x",}'],
  ['a __proto__ key (prototype poisoning)', '{"__proto__": {"admin": true}}'],
];

const nonObjects: Array<[string, string]> = [
  ['an empty array', '[]'],
  ['an array of objects', '[{"name": "x"}]'],
  ['a string', '"x"'],
  ['a number', '42'],
  ['null', 'null'],
  ['a boolean', 'true'],
];

describe('request bodies that are not a JSON object', () => {
  it.each(bodyRoutes.flatMap((r) => invalidJson.map(([what, raw]) => ({ ...r, what, raw }))))(
    '$route: $what → 400 request_body_invalid',
    async ({ method, path, key, raw }) => {
      await refused({ title: '', method, path, key, raw, status: 400, code: 'request_body_invalid', param: null });
    },
  );

  it.each(bodyRoutes.flatMap((r) => nonObjects.map(([what, raw]) => ({ ...r, what, raw }))))(
    '$route: body is $what → $invalid request_body_invalid',
    async ({ method, path, key, raw, invalid }) => {
      await refused({ title: '', method, path, key, raw, status: invalid, code: 'request_body_invalid', param: null });
    },
  );
});

// ---------------------------------------------------------------------------------------
// Field validation

const MACHINES = '/v1/machines';
const PATCH_S = '/v1/machines/{S}';
const ROTATE_S = '/v1/machines/{S}/secret_key/rotate';
const SCOPES_S = '/v1/machines/{S}/scopes';
const SCOPES_R = '/v1/machines/{R}/scopes';
const TOKENS = '/m2m_tokens';
const REVOKE = '/m2m_tokens/{TOK}/revoke';
const VERIFY = '/m2m_tokens/verify';

/** [title, method, path, key, body, status, code, param] */
type Row = [string, string, string, KeyRef, unknown, number, string, string];
const asCases = (rows: Row[]): Case[] =>
  rows.map(([title, method, path, key, body, status, code, param]) => ({ title, method, path, key, body, status, code, param }));

const F = 'form_param_format_invalid';
const V = 'form_param_value_invalid';

const wrongTypes: Case[] = asCases([
  // POST /v1/machines
  ['create: name as number', 'POST', MACHINES, 'sk', { name: 5 }, 422, F, 'name'],
  ['create: name as null', 'POST', MACHINES, 'sk', { name: null }, 422, F, 'name'],
  ['create: name as array', 'POST', MACHINES, 'sk', { name: ['x'] }, 422, F, 'name'],
  ['create: name as object', 'POST', MACHINES, 'sk', { name: { first: 'x' } }, 422, F, 'name'],
  ['create: name as boolean', 'POST', MACHINES, 'sk', { name: true }, 422, F, 'name'],
  ['create: scoped_machines as string', 'POST', MACHINES, 'sk', { name: 'x', scoped_machines: '{R}' }, 422, F, 'scoped_machines'],
  ['create: scoped_machines as object', 'POST', MACHINES, 'sk', { name: 'x', scoped_machines: { 0: '{R}' } }, 422, F, 'scoped_machines'],
  ['create: scoped_machines item as number', 'POST', MACHINES, 'sk', { name: 'x', scoped_machines: [5] }, 422, F, 'scoped_machines'],
  ['create: scoped_machines item as null', 'POST', MACHINES, 'sk', { name: 'x', scoped_machines: ['{R}', null] }, 422, F, 'scoped_machines'],
  ['create: scoped_machines item as object', 'POST', MACHINES, 'sk', { name: 'x', scoped_machines: [{ id: '{R}' }] }, 422, F, 'scoped_machines'],
  ['create: default_token_ttl as "3600"', 'POST', MACHINES, 'sk', { name: 'x', default_token_ttl: '3600' }, 422, F, 'default_token_ttl'],
  ['create: default_token_ttl as boolean', 'POST', MACHINES, 'sk', { name: 'x', default_token_ttl: true }, 422, F, 'default_token_ttl'],
  ['create: default_token_ttl as array', 'POST', MACHINES, 'sk', { name: 'x', default_token_ttl: [3600] }, 422, F, 'default_token_ttl'],
  // PATCH /v1/machines/:id
  ['update: name as number', 'PATCH', PATCH_S, 'sk', { name: 5 }, 422, F, 'name'],
  ['update: name as null', 'PATCH', PATCH_S, 'sk', { name: null }, 422, F, 'name'],
  ['update: default_token_ttl as "3600"', 'PATCH', PATCH_S, 'sk', { default_token_ttl: '3600' }, 422, F, 'default_token_ttl'],
  ['update: default_token_ttl as object', 'PATCH', PATCH_S, 'sk', { default_token_ttl: { s: 1 } }, 422, F, 'default_token_ttl'],
  // POST /v1/machines/:id/secret_key/rotate
  ['rotate: previous_token_ttl as "60"', 'POST', ROTATE_S, 'sk', { previous_token_ttl: '60' }, 422, F, 'previous_token_ttl'],
  ['rotate: previous_token_ttl as null', 'POST', ROTATE_S, 'sk', { previous_token_ttl: null }, 422, F, 'previous_token_ttl'],
  ['rotate: previous_token_ttl as boolean', 'POST', ROTATE_S, 'sk', { previous_token_ttl: false }, 422, F, 'previous_token_ttl'],
  // POST /v1/machines/:id/scopes
  ['scope: to_machine_id as number', 'POST', SCOPES_R, 'sk', { to_machine_id: 5 }, 422, F, 'to_machine_id'],
  ['scope: to_machine_id as null', 'POST', SCOPES_R, 'sk', { to_machine_id: null }, 422, F, 'to_machine_id'],
  ['scope: to_machine_id as array', 'POST', SCOPES_R, 'sk', { to_machine_id: ['{S}'] }, 422, F, 'to_machine_id'],
  // POST /m2m_tokens
  ['token: token_format as 5', 'POST', TOKENS, 'S', { token_format: 5 }, 400, F, 'token_format'],
  ['token: token_format as boolean', 'POST', TOKENS, 'S', { token_format: true }, 400, F, 'token_format'],
  ['token: seconds_until_expiration as "10"', 'POST', TOKENS, 'S', { seconds_until_expiration: '10' }, 400, F, 'seconds_until_expiration'],
  ['token: seconds_until_expiration as boolean', 'POST', TOKENS, 'S', { seconds_until_expiration: true }, 400, F, 'seconds_until_expiration'],
  ['token: claims as array', 'POST', TOKENS, 'S', { claims: [1, 2] }, 400, F, 'claims'],
  ['token: claims as string', 'POST', TOKENS, 'S', { claims: 'tier=gold' }, 400, F, 'claims'],
  ['token: claims as number', 'POST', TOKENS, 'S', { claims: 7 }, 400, F, 'claims'],
  ['token: claims as boolean', 'POST', TOKENS, 'S', { claims: false }, 400, F, 'claims'],
  ['token: min_remaining_ttl_seconds as "10"', 'POST', TOKENS, 'S', { min_remaining_ttl_seconds: '10' }, 400, F, 'min_remaining_ttl_seconds'],
  ['token (/v1): claims as array', 'POST', '/v1/m2m_tokens', 'S', { claims: [] }, 400, F, 'claims'],
  // POST /m2m_tokens/:id/revoke
  ['revoke: revocation_reason as number', 'POST', REVOKE, 'sk', { revocation_reason: 5 }, 400, F, 'revocation_reason'],
  ['revoke: revocation_reason as object', 'POST', REVOKE, 'sk', { revocation_reason: { why: 'x' } }, 400, F, 'revocation_reason'],
  ['revoke (/v1): revocation_reason as boolean', 'POST', '/v1/m2m_tokens/{TOK}/revoke', 'sk', { revocation_reason: true }, 400, F, 'revocation_reason'],
  // POST /m2m_tokens/verify
  ['verify: token as number', 'POST', VERIFY, 'sk', { token: 5 }, 400, F, 'token'],
  ['verify: token as null', 'POST', VERIFY, 'sk', { token: null }, 400, F, 'token'],
  ['verify: token as array', 'POST', VERIFY, 'R', { token: ['{TOK}'] }, 400, F, 'token'],
  ['verify: secret as number', 'POST', VERIFY, 'sk', { secret: 5 }, 400, F, 'secret'],
  ['verify (/v1): token as object', 'POST', '/v1/m2m_tokens/verify', 'sk', { token: { value: 'x' } }, 400, F, 'token'],
]);

const outOfRange: Case[] = asCases([
  ['create: default_token_ttl 0', 'POST', MACHINES, 'sk', { name: 'x', default_token_ttl: 0 }, 422, V, 'default_token_ttl'],
  ['create: default_token_ttl -1', 'POST', MACHINES, 'sk', { name: 'x', default_token_ttl: -1 }, 422, V, 'default_token_ttl'],
  ['create: default_token_ttl 315360001', 'POST', MACHINES, 'sk', { name: 'x', default_token_ttl: 315360001 }, 422, V, 'default_token_ttl'],
  // Not an integer: the schema type is `integer`, so this is a type (format) error.
  ['create: default_token_ttl 1.5', 'POST', MACHINES, 'sk', { name: 'x', default_token_ttl: 1.5 }, 422, F, 'default_token_ttl'],
  ['update: default_token_ttl 0', 'PATCH', PATCH_S, 'sk', { default_token_ttl: 0 }, 422, V, 'default_token_ttl'],
  ['update: default_token_ttl -1', 'PATCH', PATCH_S, 'sk', { default_token_ttl: -1 }, 422, V, 'default_token_ttl'],
  ['update: default_token_ttl 315360001', 'PATCH', PATCH_S, 'sk', { default_token_ttl: 315360001 }, 422, V, 'default_token_ttl'],
  ['update: default_token_ttl 1.5', 'PATCH', PATCH_S, 'sk', { default_token_ttl: 1.5 }, 422, F, 'default_token_ttl'],
  ['rotate: previous_token_ttl -1', 'POST', ROTATE_S, 'sk', { previous_token_ttl: -1 }, 422, V, 'previous_token_ttl'],
  ['rotate: previous_token_ttl 28801', 'POST', ROTATE_S, 'sk', { previous_token_ttl: 28801 }, 422, V, 'previous_token_ttl'],
  ['rotate: previous_token_ttl 0.5', 'POST', ROTATE_S, 'sk', { previous_token_ttl: 0.5 }, 422, F, 'previous_token_ttl'],
  ['token: seconds_until_expiration 0', 'POST', TOKENS, 'S', { seconds_until_expiration: 0 }, 400, V, 'seconds_until_expiration'],
  ['token: seconds_until_expiration -5', 'POST', TOKENS, 'S', { seconds_until_expiration: -5 }, 400, V, 'seconds_until_expiration'],
  ['token: seconds_until_expiration 315360001', 'POST', TOKENS, 'S', { seconds_until_expiration: 315360001 }, 400, V, 'seconds_until_expiration'],
  ['token: seconds_until_expiration 2.5', 'POST', TOKENS, 'S', { seconds_until_expiration: 2.5 }, 400, F, 'seconds_until_expiration'],
  ['token: min_remaining_ttl_seconds -1', 'POST', TOKENS, 'S', { min_remaining_ttl_seconds: -1 }, 400, V, 'min_remaining_ttl_seconds'],
  ['token: min_remaining_ttl_seconds 0.5', 'POST', TOKENS, 'S', { min_remaining_ttl_seconds: 0.5 }, 400, F, 'min_remaining_ttl_seconds'],
  // Not below the effective lifetime (the machine default of 3600, or the explicit one).
  ['token: min_remaining_ttl_seconds = default lifetime', 'POST', TOKENS, 'S', { min_remaining_ttl_seconds: 3600 }, 400, V, 'min_remaining_ttl_seconds'],
  [
    'token: min_remaining_ttl_seconds > seconds_until_expiration',
    'POST',
    TOKENS,
    'S',
    { seconds_until_expiration: 60, min_remaining_ttl_seconds: 61 },
    400,
    V,
    'min_remaining_ttl_seconds',
  ],
  ['token: token_format "xml"', 'POST', TOKENS, 'S', { token_format: 'xml' }, 400, V, 'token_format'],
  ['token: token_format "OPAQUE" (case matters)', 'POST', TOKENS, 'S', { token_format: 'OPAQUE' }, 400, V, 'token_format'],
  ['revoke: revocation_reason of 1001 chars', 'POST', REVOKE, 'sk', { revocation_reason: 'r'.repeat(1001) }, 400, V, 'revocation_reason'],
  ['verify: token of 16385 chars', 'POST', VERIFY, 'sk', { token: `mt_${'a'.repeat(16382)}` }, 400, V, 'token'],
]);

const names: Case[] = asCases([
  ['create: empty name', 'POST', MACHINES, 'sk', { name: '' }, 422, V, 'name'],
  ['create: whitespace-only name', 'POST', MACHINES, 'sk', { name: '   ' }, 422, V, 'name'],
  ['create: tabs and newlines only', 'POST', MACHINES, 'sk', { name: '\t\n \r' }, 422, V, 'name'],
  ['create: 256-char name', 'POST', MACHINES, 'sk', { name: 'n'.repeat(256) }, 422, V, 'name'],
  ['update: empty name', 'PATCH', PATCH_S, 'sk', { name: '' }, 422, V, 'name'],
  ['update: whitespace-only name', 'PATCH', PATCH_S, 'sk', { name: '  ' }, 422, V, 'name'],
  ['update: 256-char name', 'PATCH', PATCH_S, 'sk', { name: 'n'.repeat(256) }, 422, V, 'name'],
  ['update (256-char name with a valid ttl beside it)', 'PATCH', PATCH_S, 'sk', { name: 'n'.repeat(256), default_token_ttl: 60 }, 422, V, 'name'],
]);

const M = 'form_param_missing';
const missing: Case[] = [
  ...asCases([
    ['create: {}', 'POST', MACHINES, 'sk', {}, 422, M, 'name'],
    ['create: only scoped_machines', 'POST', MACHINES, 'sk', { scoped_machines: ['{R}'] }, 422, M, 'name'],
    ['create: only default_token_ttl', 'POST', MACHINES, 'sk', { default_token_ttl: 60 }, 422, M, 'name'],
    ['rotate: {}', 'POST', ROTATE_S, 'sk', {}, 422, M, 'previous_token_ttl'],
    ['scope: {}', 'POST', SCOPES_R, 'sk', {}, 422, M, 'to_machine_id'],
    ['verify: {}', 'POST', VERIFY, 'sk', {}, 400, M, 'token'],
    ['verify (/v1) with a machine key: {}', 'POST', '/v1/m2m_tokens/verify', 'R', {}, 400, M, 'token'],
  ]),
  // No body at all (a JSON content type with an empty payload) counts as `{}`.
  { title: 'create: empty body', method: 'POST', path: MACHINES, raw: '', contentType: 'application/json', status: 422, code: M, param: 'name' },
  { title: 'rotate: empty body', method: 'POST', path: ROTATE_S, raw: '', contentType: 'application/json', status: 422, code: M, param: 'previous_token_ttl' },
  { title: 'scope: whitespace body', method: 'POST', path: SCOPES_R, raw: '  \n', contentType: 'application/json', status: 422, code: M, param: 'to_machine_id' },
  { title: 'verify: empty body', method: 'POST', path: VERIFY, raw: '', contentType: 'application/json', status: 400, code: M, param: 'token' },
  { title: 'verify: no body, no content type', method: 'POST', path: VERIFY, status: 400, code: M, param: 'token' },
];

const U = 'form_param_unknown';
const unknownFields: Case[] = asCases([
  ['create: extra field', 'POST', MACHINES, 'sk', { name: 'x', color: 'blue' }, 422, U, 'color'],
  ['create: camelCase scopedMachines', 'POST', MACHINES, 'sk', { name: 'x', scopedMachines: ['{R}'] }, 422, U, 'scopedMachines'],
  ['create: camelCase defaultTokenTtl', 'POST', MACHINES, 'sk', { name: 'x', defaultTokenTtl: 60 }, 422, U, 'defaultTokenTtl'],
  ['create: client-chosen id', 'POST', MACHINES, 'sk', { name: 'x', id: UNKNOWN_MCH }, 422, U, 'id'],
  ['update: scoped_machines (scopes are not editable here)', 'PATCH', PATCH_S, 'sk', { scoped_machines: [] }, 422, U, 'scoped_machines'],
  ['update: name plus an extra field', 'PATCH', PATCH_S, 'sk', { name: 'renamed', extra: 1 }, 422, U, 'extra'],
  ['update: secret_key', 'PATCH', PATCH_S, 'sk', { secret_key: '{AK_S}' }, 422, U, 'secret_key'],
  ['rotate: valid ttl plus an extra field', 'POST', ROTATE_S, 'sk', { previous_token_ttl: 0, secret: 'ak_x' }, 422, U, 'secret'],
  ['scope: from_machine_id beside to_machine_id', 'POST', SCOPES_R, 'sk', { to_machine_id: '{S}', from_machine_id: '{S}' }, 422, U, 'from_machine_id'],
  ['token: extra field', 'POST', TOKENS, 'S', { foo: 1 }, 400, U, 'foo'],
  ['token: scopes (a snapshot, not an input)', 'POST', TOKENS, 'S', { scopes: ['{R}'] }, 400, U, 'scopes'],
  ['token: subject', 'POST', TOKENS, 'S', { subject: '{R}' }, 400, U, 'subject'],
  ['token: camelCase secondsUntilExpiration', 'POST', TOKENS, 'S', { secondsUntilExpiration: 60 }, 400, U, 'secondsUntilExpiration'],
  ['revoke: extra field', 'POST', REVOKE, 'sk', { revocation_reason: 'x', revoked: true }, 400, U, 'revoked'],
  ['verify: extra field beside a token', 'POST', VERIFY, 'sk', { token: '{MADE_UP}', scope: 'x' }, 400, U, 'scope'],
  ['verify (/v1): extra field', 'POST', '/v1/m2m_tokens/verify', 'R', { token: '{MADE_UP}', x: 1 }, 400, U, 'x'],
]);

describe('body fields', () => {
  it.each(wrongTypes)('wrong type — $title → $status $code ($param)', check);
  it.each(outOfRange)('out of range — $title → $status $code ($param)', check);
  it.each(names)('bad name — $title → $status $code', check);
  it.each(missing)('missing — $title → $status $code ($param)', check);
  it.each(unknownFields)('unknown — $title → $status $code ($param)', check);
});

// ---------------------------------------------------------------------------------------
// Query strings

const queryCases: Case[] = [
  ['machines: limit=0', '/v1/machines?limit=0', 422, V, 'limit'],
  ['machines: limit=501', '/v1/machines?limit=501', 422, V, 'limit'],
  ['machines: limit=-1', '/v1/machines?limit=-1', 422, V, 'limit'],
  ['machines: limit=abc', '/v1/machines?limit=abc', 422, F, 'limit'],
  ['machines: limit=1.5', '/v1/machines?limit=1.5', 422, F, 'limit'],
  ['machines: limit= (empty)', '/v1/machines?limit=', 422, F, 'limit'],
  ['machines: limit given twice', '/v1/machines?limit=1&limit=2', 422, F, 'limit'],
  ['machines: offset=-1', '/v1/machines?offset=-1', 422, V, 'offset'],
  ['machines: offset=abc', '/v1/machines?offset=abc', 422, F, 'offset'],
  ['machines: order_by=foo', '/v1/machines?order_by=foo', 422, V, 'order_by'],
  ['machines: order_by=name;drop table', '/v1/machines?order_by=name%3Bdrop%20table', 422, V, 'order_by'],
  ['machines: order_by=*name', '/v1/machines?order_by=*name', 422, V, 'order_by'],
  ['machines: query of 256 chars', `/v1/machines?query=${'q'.repeat(256)}`, 422, V, 'query'],
  ['machines: unknown parameter', '/v1/machines?color=blue', 422, U, 'color'],
  ['machines: camelCase orderBy', '/v1/machines?orderBy=name', 422, U, 'orderBy'],
  ['tokens: no subject', '/m2m_tokens', 400, M, 'subject'],
  ['tokens: no subject, other params given', '/m2m_tokens?limit=5&revoked=true', 400, M, 'subject'],
  ['tokens: limit=0', '/m2m_tokens?subject={S}&limit=0', 400, V, 'limit'],
  ['tokens: limit=101', '/m2m_tokens?subject={S}&limit=101', 400, V, 'limit'],
  ['tokens: limit=abc', '/m2m_tokens?subject={S}&limit=abc', 400, F, 'limit'],
  ['tokens: offset=-1', '/m2m_tokens?subject={S}&offset=-1', 400, V, 'offset'],
  ['tokens: offset=abc', '/m2m_tokens?subject={S}&offset=abc', 400, F, 'offset'],
  ['tokens: revoked=maybe', '/m2m_tokens?subject={S}&revoked=maybe', 400, F, 'revoked'],
  ['tokens: expired=yes', '/m2m_tokens?subject={S}&expired=yes', 400, F, 'expired'],
  ['tokens: subject given twice', '/m2m_tokens?subject={S}&subject={R}', 400, F, 'subject'],
  ['tokens: unknown parameter', '/m2m_tokens?subject={S}&foo=1', 400, U, 'foo'],
  ['tokens (/v1): unknown parameter', '/v1/m2m_tokens?subject={S}&machine_id={S}', 400, U, 'machine_id'],
  ['tokens (/v1): limit=101', '/v1/m2m_tokens?subject={S}&limit=101', 400, V, 'limit'],
].map(([title, path, status, code, param]) => ({
  title: title as string,
  method: 'GET',
  path: path as string,
  status: status as number,
  code: code as string,
  param: param as string,
}));

describe('query parameters', () => {
  it.each(queryCases)('$title → $status $code ($param)', check);

  // An offset past the end is not an error of the caller's making: an empty page or a
  // 422 naming `offset` are both fine; a 500 is not.
  // Exponent notation is not an integer as written: a format error, not a range error.
  it.each([
    ['machines: offset=1e20', '/v1/machines?limit=1&offset=100000000000000000000', 422, V],
    ['machines: offset=1e400', '/v1/machines?limit=1&offset=1e400', 422, F],
    ['machines: offset of 400 digits', `/v1/machines?limit=1&offset=${'9'.repeat(400)}`, 422, F],
    ['tokens: offset=1e20', '/m2m_tokens?subject={S}&offset=100000000000000000000', 400, V],
  ])('huge offset — %s → an empty page or a refusal naming offset, never a 500', async (_title, path, invalid, code) => {
    const before = await world();
    const res = await send({ method: 'GET', path });
    expect([200, invalid], res.text).toContain(res.status);
    if (res.status === 200) {
      expect(res.headers.get('content-type')).toBe('application/json');
      const rows = res.body.data ?? res.body.m2m_tokens;
      expect(rows).toEqual([]);
    } else {
      expectError(res, invalid, code, 'offset');
    }
    expect(await world()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------
// Unknown ids

const malformedMachineIds: Array<[string, string]> = [
  ['unknown well-formed', UNKNOWN_MCH],
  ['malformed (no prefix)', 'not_a_machine_id'],
  ['malformed (short)', 'mch_short'],
  ['malformed (bad character)', `mch_${'0'.repeat(26)}-`],
  ['a token id', UNKNOWN_MT_ID],
  ['malformed (200 chars)', LONG_MCH],
];

const machineOps: Array<Omit<Case, 'status' | 'code' | 'title'> & { op: string }> = [
  { op: 'GET', method: 'GET', path: '/v1/machines/ID' },
  { op: 'PATCH', method: 'PATCH', path: '/v1/machines/ID', body: { name: 'renamed' } },
  { op: 'PATCH {}', method: 'PATCH', path: '/v1/machines/ID', body: {} },
  { op: 'DELETE', method: 'DELETE', path: '/v1/machines/ID' },
  { op: 'GET secret_key', method: 'GET', path: '/v1/machines/ID/secret_key' },
  { op: 'rotate', method: 'POST', path: '/v1/machines/ID/secret_key/rotate', body: { previous_token_ttl: 0 } },
  { op: 'create scope', method: 'POST', path: '/v1/machines/ID/scopes', body: { to_machine_id: '{R}' } },
  { op: 'delete scope', method: 'DELETE', path: '/v1/machines/ID/scopes/{R}' },
];

describe('unknown and malformed ids', () => {
  it.each(
    malformedMachineIds.flatMap(([kind, id]) =>
      machineOps.map(({ op, ...c }) => ({ ...c, path: c.path.replace('ID', id), kind, op, id })),
    ),
  )('$op on a $kind machine id → 404 resource_not_found', async ({ kind, op: _op, id, ...c }) => {
    await refused({
      ...c,
      title: '',
      status: 404,
      code: 'resource_not_found',
      param: null,
      ...(kind.startsWith('malformed') ? { noEcho: id } : {}),
    });
  });

  const notFoundCases: Case[] = [
    { title: 'create with an unknown scoped machine', method: 'POST', path: MACHINES, body: { name: 'x', scoped_machines: [UNKNOWN_MCH] }, status: 404, code: 'resource_not_found', param: 'scoped_machines' },
    { title: 'create with a known and an unknown scoped machine', method: 'POST', path: MACHINES, body: { name: 'x', scoped_machines: ['{R}', UNKNOWN_MCH] }, status: 404, code: 'resource_not_found', param: 'scoped_machines' },
    { title: 'create with an unknown scoped machine after a known one repeated', method: 'POST', path: MACHINES, body: { name: 'x', scoped_machines: ['{R}', '{R}', UNKNOWN_MCH] }, status: 404, code: 'resource_not_found', param: 'scoped_machines' },
    { title: 'create with a malformed scoped machine', method: 'POST', path: MACHINES, body: { name: 'x', scoped_machines: ['{R}', 'not_a_machine_id'] }, status: 404, code: 'resource_not_found', param: 'scoped_machines', noEcho: 'not_a_machine_id' },
    { title: 'create with a token id as scoped machine', method: 'POST', path: MACHINES, body: { name: 'x', scoped_machines: ['{TOK}'] }, status: 404, code: 'resource_not_found', param: 'scoped_machines' },
    { title: 'scope to an unknown machine', method: 'POST', path: SCOPES_R, body: { to_machine_id: UNKNOWN_MCH }, status: 404, code: 'resource_not_found', param: 'to_machine_id' },
    { title: 'scope to a malformed id', method: 'POST', path: SCOPES_R, body: { to_machine_id: 'not_a_machine_id' }, status: 404, code: 'resource_not_found', param: 'to_machine_id', noEcho: 'not_a_machine_id' },
    { title: 'scope to an empty id', method: 'POST', path: SCOPES_R, body: { to_machine_id: '' }, status: 404, code: 'resource_not_found', param: 'to_machine_id' },
    { title: 'delete a scope that does not exist (R → S)', method: 'DELETE', path: '/v1/machines/{R}/scopes/{S}', status: 404, code: 'resource_not_found', param: null },
    { title: 'delete a scope to an unknown machine', method: 'DELETE', path: `/v1/machines/{S}/scopes/${UNKNOWN_MCH}`, status: 404, code: 'resource_not_found', param: null },
    { title: 'delete a scope to a malformed id', method: 'DELETE', path: '/v1/machines/{S}/scopes/not_a_machine_id', status: 404, code: 'resource_not_found', param: null, noEcho: 'not_a_machine_id' },
    { title: 'delete a scope to a 200-char id', method: 'DELETE', path: `/v1/machines/{S}/scopes/${LONG_MCH}`, status: 404, code: 'resource_not_found', param: null, noEcho: LONG_MCH },
    { title: 'list tokens of an unknown subject', method: 'GET', path: `/m2m_tokens?subject=${UNKNOWN_MCH}`, status: 404, code: 'resource_not_found', param: 'subject' },
    { title: 'list tokens of a malformed subject', method: 'GET', path: '/m2m_tokens?subject=not_a_machine_id', status: 404, code: 'resource_not_found', param: 'subject', noEcho: 'not_a_machine_id' },
    { title: 'revoke an unknown mt_ id', method: 'POST', path: `/m2m_tokens/${UNKNOWN_MT_ID}/revoke`, body: {}, status: 404, code: 'token_not_found', param: null },
    { title: 'revoke (/v1) an unknown mt_ id', method: 'POST', path: `/v1/m2m_tokens/${UNKNOWN_MT_ID}/revoke`, body: { revocation_reason: 'x' }, status: 404, code: 'token_not_found', param: null },
    { title: 'revoke a malformed id', method: 'POST', path: '/m2m_tokens/mt_xyz/revoke', body: {}, status: 404, code: 'token_not_found', param: null },
    { title: 'revoke by token value instead of id', method: 'POST', path: '/m2m_tokens/{MADE_UP}/revoke', body: {}, status: 404, code: 'token_not_found', param: null },
    { title: 'revoke a machine id', method: 'POST', path: '/m2m_tokens/{S}/revoke', body: {}, status: 404, code: 'token_not_found', param: null },
    { title: 'revoke a 200-char id', method: 'POST', path: `/m2m_tokens/mt_${'0'.repeat(200)}/revoke`, body: {}, status: 404, code: 'token_not_found', param: null },
    { title: 'revoke a token of another machine with a machine key', method: 'POST', path: REVOKE, key: 'R', body: {}, status: 404, code: 'token_not_found', param: null },
  ];
  it.each(notFoundCases)('$title → 404 $code', check);
});

// ---------------------------------------------------------------------------------------
// Verify

describe('verify with a value that is not a live token', () => {
  const values: Array<[string, string]> = [
    ['a malformed token', 'not-a-token'],
    ['an empty string', ''],
    ['the bare prefix', 'mt_'],
    ['a short mt_ value', 'mt_abc'],
    ['an mt_ value with a bad checksum', '{BAD_CHECKSUM}'],
    ['an mt_ value with a changed random part', '{BAD_BODY}'],
    ['a made-up mt_ value with a valid checksum', '{MADE_UP}'],
    ["a made-up secret part behind a real token's ID", '{FORGED_FOR_ID}'],
    ['the token with a trailing space', '{TOKEN_SPACE}'],
    ['the token with an upper-case prefix', '{TOKEN_UPPER_PREFIX}'],
    ['the token truncated', '{TOKEN_TRUNCATED}'],
    ['the token with a character appended', '{TOKEN_PLUS}'],
    ['the token id instead of its value', '{TOK}'],
    ['a machine secret key', '{AK_S}'],
    ['a JWT-shaped value', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtY2hfeCJ9.c2ln'],
  ];
  const callers: Array<[string, string, KeyRef, 'token' | 'secret']> = [
    ['sk', '/m2m_tokens/verify', 'sk', 'token'],
    ['receiver key', '/m2m_tokens/verify', 'R', 'token'],
    ['sk, /v1', '/v1/m2m_tokens/verify', 'sk', 'token'],
    ['receiver key, seed-era `secret`', '/m2m_tokens/verify', 'R', 'secret'],
  ];
  it.each(callers.flatMap(([caller, path, key, field]) => values.map(([what, value]) => ({ caller, path, key, field, what, value }))))(
    '$what ($caller) → 404 token_not_found',
    async ({ path, key, field, value }) => {
      await refused({ title: '', method: 'POST', path, key, body: { [field]: value }, status: 404, code: 'token_not_found', param: null });
    },
  );

  it('a live token presented by a machine outside its scopes → 404 token_not_found', async () => {
    await refused({ title: '', method: 'POST', path: VERIFY, key: 'S', body: { token: tok.token }, status: 404, code: 'token_not_found', param: null });
  });

  it.each([
    ['a live token and a made-up secret', { token: '{LIVE}', secret: '{MADE_UP}' }],
    ['a made-up token and the live secret', { token: '{MADE_UP}', secret: '{LIVE}' }],
    ['two malformed values', { token: 'a', secret: 'b' }],
  ])('both token and secret, different: %s → 400 form_param_value_invalid (token)', async (_what, body) => {
    ph['{LIVE}'] = tok.token;
    for (const key of ['sk', 'R'] as const) {
      await refused({ title: '', method: 'POST', path: VERIFY, key, body, status: 400, code: V, param: 'token' });
    }
  });

  it('control: the untampered token verifies, with token and with token = secret', async () => {
    const a = await t.call('POST', VERIFY, { key: R.secret_key, body: { token: tok.token } });
    expect(a.status, a.text).toBe(200);
    const b = await t.call('POST', VERIFY, { key: R.secret_key, body: { token: tok.token, secret: tok.token } });
    expect(b.status, b.text).toBe(200);
    expect(b.body.id).toBe(tok.id);
  });
});

// ---------------------------------------------------------------------------------------
// Scopes: duplicates and the 150 limit

describe('scope duplicates and limits', () => {
  it('a duplicate scope → 409 duplicate_record (to_machine_id)', async () => {
    await refused({ title: '', method: 'POST', path: SCOPES_S, body: { to_machine_id: '{R}' }, status: 409, code: 'duplicate_record', param: 'to_machine_id' });
  });

  it('151 scoped machines on create, and a 151st scope, are refused; 150 is the limit', async () => {
    const targets: string[] = [];
    for (let i = 0; i < 151; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, 151 - i) }, (_, j) => t.machine(`target-${i + j}`)),
      );
      targets.push(...batch.map((m) => m.id));
    }
    expect(new Set(targets).size).toBe(151);

    const full = await t.machine('full', { scopedMachines: targets.slice(0, 150) });
    expect(full.scoped_machines).toHaveLength(150);
    ph['{FULL}'] = full.id;
    ph['{T150}'] = targets[150]!;
    ph['{T0}'] = targets[0]!;

    // 151 real, distinct ids: only the count is wrong.
    await refused({
      title: '',
      method: 'POST',
      path: MACHINES,
      body: { name: 'too many', scoped_machines: targets },
      status: 422,
      code: V,
      param: 'scoped_machines',
    });

    const before = await t.call('GET', `/v1/machines/${full.id}`, { key: t.sk });
    expect(before.body.scoped_machines).toHaveLength(150);
    await refused({
      title: '',
      method: 'POST',
      path: '/v1/machines/{FULL}/scopes',
      body: { to_machine_id: '{T150}' },
      status: 422,
      code: 'scope_limit_reached',
      param: 'to_machine_id',
    });
    // At the limit, a duplicate is still reported as a duplicate.
    await refused({
      title: '',
      method: 'POST',
      path: '/v1/machines/{FULL}/scopes',
      body: { to_machine_id: '{T0}' },
      status: 409,
      code: 'duplicate_record',
      param: 'to_machine_id',
    });
    const after = await t.call('GET', `/v1/machines/${full.id}`, { key: t.sk });
    expect(after.body).toEqual(before.body);
    const target150 = await t.call('GET', `/v1/machines/${targets[150]}`, { key: t.sk });
    expect(target150.body.scoped_machines).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------
// Transport: size, media type, routes, methods

describe('transport-level refusals', () => {
  const big = (field: string) => JSON.stringify({ [field]: 'x'.repeat(MIB) });
  it.each([
    { route: 'POST /v1/machines', method: 'POST', path: MACHINES, key: 'sk' as KeyRef, raw: big('name') },
    { route: 'PATCH /v1/machines/:id', method: 'PATCH', path: PATCH_S, key: 'sk' as KeyRef, raw: big('name') },
    { route: 'POST /m2m_tokens', method: 'POST', path: TOKENS, key: 'S' as KeyRef, raw: JSON.stringify({ claims: { blob: 'x'.repeat(MIB) } }) },
    { route: 'POST /m2m_tokens/verify', method: 'POST', path: VERIFY, key: 'sk' as KeyRef, raw: big('token') },
    { route: 'POST /m2m_tokens/:id/revoke', method: 'POST', path: REVOKE, key: 'sk' as KeyRef, raw: big('revocation_reason') },
    { route: 'POST /v1/machines (not even JSON)', method: 'POST', path: MACHINES, key: 'sk' as KeyRef, raw: 'x'.repeat(MIB + 1) },
  ])('$route with a body over 1 MiB → 413 request_body_too_large', async ({ method, path, key, raw }) => {
    expect(raw.length).toBeGreaterThan(MIB);
    await refused({ title: '', method, path, key, raw, status: 413, code: 'request_body_too_large', param: null });
  });

  const mediaTypes: Array<[string, string]> = [
    ['text/plain', '{"name":"x","previous_token_ttl":0,"to_machine_id":"{S}","token":"{MADE_UP}"}'],
    ['text/plain;charset=UTF-8', '{"name":"x"}'],
    ['application/x-www-form-urlencoded', 'name=x&previous_token_ttl=0'],
    ['application/xml', '<machine><name>x</name></machine>'],
  ];
  const mediaRoutes = bodyRoutes.filter((r) => !r.route.startsWith('POST /v1/m2m_tokens'));
  it.each(mediaRoutes.flatMap((r) => mediaTypes.map(([contentType, raw]) => ({ ...r, contentType, raw }))))(
    '$route with Content-Type $contentType → 415 unsupported_media_type',
    async ({ method, path, key, contentType, raw }) => {
      await refused({ title: '', method, path, key, raw, contentType, status: 415, code: 'unsupported_media_type', param: null });
    },
  );

  it.each([['text/plain'], ['application/x-www-form-urlencoded']])(
    'DELETE /v1/machines/:id with a %s body → 415, and the machine survives',
    async (contentType) => {
      const victim = await t.machine('victim');
      ph['{VICTIM}'] = victim.id;
      await refused({ title: '', method: 'DELETE', path: '/v1/machines/{VICTIM}', raw: 'confirm=yes', contentType, status: 415, code: 'unsupported_media_type', param: null });
      const still = await t.call('GET', `/v1/machines/${victim.id}`, { key: t.sk });
      expect(still.status).toBe(200);
    },
  );

  it.each([
    ['GET /', 'GET', '/'],
    ['GET /v1', 'GET', '/v1'],
    ['GET /v1/nothing', 'GET', '/v1/nothing'],
    ['POST /v1/machine (singular)', 'POST', '/v1/machine'],
    ['GET /v2/machines', 'GET', '/v2/machines'],
    ['GET /machines (machines are only under /v1)', 'GET', '/machines'],
    ['GET /v1/machines/:id/unknown', 'GET', '/v1/machines/{S}/unknown'],
    ['POST /m2m_tokens/:id/unrevoke', 'POST', '/m2m_tokens/{TOK}/unrevoke'],
    ['GET /m2m_tokens/:id (no such route)', 'GET', '/m2m_tokens/{TOK}'],
    ['GET /v1/machines/:id/scopes/:other/extra', 'GET', '/v1/machines/{S}/scopes/{R}/extra'],
  ])('%s → 404 resource_not_found', async (_title, method, path) => {
    await refused({ title: '', method, path, status: 404, code: 'resource_not_found', param: null });
  });

  it.each([
    ['PUT /v1/machines', 'PUT', '/v1/machines', 'GET, HEAD, POST', { name: 'x' }],
    ['DELETE /v1/machines', 'DELETE', '/v1/machines', 'GET, HEAD, POST', undefined],
    ['PATCH /v1/machines', 'PATCH', '/v1/machines', 'GET, HEAD, POST', { name: 'x' }],
    ['PUT /v1/machines/:id', 'PUT', '/v1/machines/{S}', 'DELETE, GET, HEAD, PATCH', { name: 'renamed' }],
    ['POST /v1/machines/:id', 'POST', '/v1/machines/{S}', 'DELETE, GET, HEAD, PATCH', { name: 'renamed' }],
    ['POST /v1/machines/:id/secret_key', 'POST', '/v1/machines/{S}/secret_key', 'GET, HEAD', {}],
    ['GET /v1/machines/:id/secret_key/rotate', 'GET', '/v1/machines/{S}/secret_key/rotate', 'POST', undefined],
    ['GET /v1/machines/:id/scopes', 'GET', '/v1/machines/{S}/scopes', 'POST', undefined],
    ['POST /v1/machines/:id/scopes/:other', 'POST', '/v1/machines/{S}/scopes/{R}', 'DELETE', {}],
    ['DELETE /m2m_tokens', 'DELETE', '/m2m_tokens', 'GET, HEAD, POST', undefined],
    ['GET /m2m_tokens/verify', 'GET', '/m2m_tokens/verify', 'POST', undefined],
    ['DELETE /m2m_tokens/verify', 'DELETE', '/m2m_tokens/verify', 'POST', undefined],
    ['PUT /v1/m2m_tokens/verify', 'PUT', '/v1/m2m_tokens/verify', 'POST', { token: '{TOK}' }],
    ['GET /m2m_tokens/:id/revoke', 'GET', '/m2m_tokens/{TOK}/revoke', 'POST', undefined],
    ['DELETE /v1/m2m_tokens/:id/revoke', 'DELETE', '/v1/m2m_tokens/{TOK}/revoke', 'POST', undefined],
  ])('%s → 405 method_not_allowed, Allow: %s', async (_title, method, path, allow, body) => {
    const res = await refused({ title: '', method, path, body, status: 405, code: 'method_not_allowed', param: null });
    expect(res.headers.get('allow')).toBe(allow);
  });
});

// ---------------------------------------------------------------------------------------
// Pathological but well-formed JSON

describe('pathological JSON', () => {
  it('deeply nested claims (10 000 levels, well under 1 MiB) are refused as a bad claims value, not a 500', async () => {
    const depth = 10_000;
    const raw = `{"claims":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
    expect(raw.length).toBeLessThan(MIB);
    await refused({ title: '', method: 'POST', path: TOKENS, key: 'S', raw, status: 400, code: V, param: 'claims' });
  });
});

// ---------------------------------------------------------------------------------------
// Controls: the boundaries themselves are accepted, so the refusals above are about the
// values and not about something else in those requests.

describe('controls', () => {
  it('accepts the edge values of every limit', async () => {
    const create = await t.call('POST', MACHINES, { key: t.sk, body: { name: 'n'.repeat(255), default_token_ttl: 315360000 } });
    expect(create.status, create.text).toBe(200);
    const edge = create.body;
    const low = await t.call('PATCH', `/v1/machines/${edge.id}`, { key: t.sk, body: { name: ' x ', default_token_ttl: 1 } });
    expect(low.status, low.text).toBe(200);
    expect(low.body.default_token_ttl).toBe(1);
    const rotate = await t.call('POST', `/v1/machines/${edge.id}/secret_key/rotate`, { key: t.sk, body: { previous_token_ttl: 28800 } });
    expect(rotate.status, rotate.text).toBe(200);
    const rotate0 = await t.call('POST', `/v1/machines/${edge.id}/secret_key/rotate`, { key: t.sk, body: { previous_token_ttl: 0 } });
    expect(rotate0.status, rotate0.text).toBe(200);
    const token = await t.call('POST', TOKENS, {
      key: rotate0.body.secret,
      body: { seconds_until_expiration: 315360000, min_remaining_ttl_seconds: 315359999 },
    });
    expect(token.status, token.text).toBe(201);
    const list = await t.call('GET', `/m2m_tokens?subject=${edge.id}&limit=100&offset=0`, { key: t.sk });
    expect(list.status, list.text).toBe(200);
    const machines = await t.call('GET', '/v1/machines?limit=500&offset=0&order_by=%2Bname', { key: t.sk });
    expect(machines.status, machines.text).toBe(200);
    const revoke = await t.call('POST', `/m2m_tokens/${token.body.id}/revoke`, { key: t.sk, body: { revocation_reason: 'r'.repeat(1000) } });
    expect(revoke.status, revoke.text).toBe(200);
  });
});
