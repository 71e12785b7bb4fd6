/**
 * The credential matrix (spec 2.1) and the machine key lifecycle, route by route, for the
 * M2M token routes at both `/m2m_tokens…` and `/v1/m2m_tokens…`.
 *
 * Every response that passes through `req` is also checked for leaked secrets: the
 * instance key never appears in a body, and a machine key (`ak_…`) appears only in the
 * three places the API hands one out (machine create, GET secret_key, rotate).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintOpaqueToken, mintSecret } from '../src/crypto/secrets.js';
import { newTokenId } from '../src/domain/ids.js';
import type { ApiResponse } from './helpers/api.js';
import { sleep, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let responsesChecked = 0;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

// ---------------------------------------------------------------------------------------
// Requests, with the secret-leak check on every response

/** Anything shaped like an instance key or a machine key. */
const KEY_LIKE = /(?:sk_(?:live|test)_|ak_)[0-9A-Za-z]{8,}/;
const MACHINE_KEY = /^ak_[0-9A-Za-z]{49}$/;

/** The one field in which the API may return a machine key on this route, if any. */
function keyFieldOf(method: string, path: string): string | null {
  if (method === 'POST' && path === '/v1/machines') return 'secret_key';
  if (method === 'GET' && /^\/v1\/machines\/[^/]+\/secret_key$/.test(path)) return 'secret';
  if (method === 'POST' && /^\/v1\/machines\/[^/]+\/secret_key\/rotate$/.test(path)) return 'secret';
  return null;
}

function checkResponse(method: string, fullPath: string, res: ApiResponse): void {
  const where = `${method} ${fullPath} → ${res.status}`;
  expect(res.headers.get('content-type'), where).toBe('application/json');
  expect(res.text.includes(t.sk), `${where} leaked the instance key`).toBe(false);
  if (res.status >= 400) {
    expect(Array.isArray(res.body?.errors) && res.body.errors.length > 0, `${where} has no error envelope`).toBe(true);
    expect(typeof res.body.errors[0].code, where).toBe('string');
    expect(typeof res.body.errors[0].message, where).toBe('string');
    expect(typeof res.body.errors[0].long_message, where).toBe('string');
  }
  const field = keyFieldOf(method, fullPath.split('?')[0]!);
  let rest = res.text;
  if (field !== null && res.status === 200) {
    expect(res.body[field], where).toMatch(MACHINE_KEY);
    const { [field]: _returned, ...others } = res.body as Record<string, unknown>;
    rest = JSON.stringify(others);
  }
  expect(KEY_LIKE.exec(rest)?.[0], `${where} leaked a key`).toBeUndefined();
  responsesChecked++;
}

/** A request with a raw `Authorization` header value (null: no header). */
async function req(method: string, path: string, authorization: string | null, body?: unknown): Promise<ApiResponse> {
  const headers: Record<string, string> = authorization === null ? {} : { authorization };
  const res = await t.call(method, path, { key: null, headers, body });
  checkResponse(method, path, res);
  return res;
}

const bearer = (key: string) => `Bearer ${key}`;
const asInstance = () => bearer(t.sk);
const codeOf = (res: ApiResponse): string | undefined => res.body?.errors?.[0]?.code;

async function createMachine(name: string, scopedMachines?: string[]): Promise<any> {
  const body: Record<string, unknown> = { name };
  if (scopedMachines) body.scoped_machines = scopedMachines;
  const res = await req('POST', '/v1/machines', asInstance(), body);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** A machine key this server never issued but that passes the shape and checksum check. */
const madeUpMachineKey = () => mintSecret('ak_');
/** The right length and alphabet, but the checksum is off. */
function badChecksumMachineKey(): string {
  const key = mintSecret('ak_');
  return key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
}

// ---------------------------------------------------------------------------------------
// The matrix runner

interface Want {
  status: number;
  /** Accepted `errors[0].code` values (any when absent). */
  codes?: readonly string[];
  message?: string;
}
type Case = readonly [name: string, authorization: string | null, want: Want];

const NO_CREDENTIAL: Want = { status: 401, codes: ['authentication_invalid'] };
const BAD_INSTANCE_KEY: Want = { status: 401, codes: ['clerk_key_invalid'] };
const BAD_MACHINE_KEY: Want = { status: 401, codes: ['machine_secret_key_invalid'] };
const MACHINE_KEY_MESSAGE = 'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.';

/**
 * Sends one request per case and reports every cell that differs, not just the first.
 * Returns the responses by case name for further assertions.
 */
async function runMatrix(cases: readonly Case[], send: (authorization: string | null) => Promise<ApiResponse>) {
  const problems: string[] = [];
  const responses = new Map<string, ApiResponse>();
  for (const [name, authorization, want] of cases) {
    const res = await send(authorization);
    responses.set(name, res);
    const code = codeOf(res);
    const okStatus = res.status === want.status;
    const okCode = want.codes === undefined || (code !== undefined && want.codes.includes(code));
    const okMessage = want.message === undefined || res.body?.errors?.[0]?.message === want.message;
    if (!okStatus || !okCode || !okMessage) {
      problems.push(
        `${name}: got ${res.status} ${code ?? '-'}${okMessage ? '' : ` "${res.body?.errors?.[0]?.message}"`}; ` +
          `want ${want.status} ${want.codes?.join('|') ?? '(any code)'}${want.message ? ` "${want.message}"` : ''}`,
      );
    }
  }
  expect(problems).toEqual([]);
  return responses;
}

/** Credentials that identify no one, with the answers every route gives them. */
function unidentifiedCases(rotatedOutKey: string, overrides: Partial<Record<string, Want>> = {}): Case[] {
  const cases: Case[] = [
    ['no Authorization header', null, NO_CREDENTIAL],
    ['Basic with the real instance key', `Basic ${Buffer.from(`${t.sk}:`).toString('base64')}`, NO_CREDENTIAL],
    ['Bearer garbage', 'Bearer garbage', NO_CREDENTIAL],
    ['well-formed wrong sk_live_', bearer(mintSecret('sk_live_')), BAD_INSTANCE_KEY],
    ['made-up ak_ (valid checksum)', bearer(madeUpMachineKey()), BAD_MACHINE_KEY],
    ['ak_ with a bad checksum', bearer(badChecksumMachineKey()), BAD_MACHINE_KEY],
    ['rotated-out ak_ past its grace', bearer(rotatedOutKey), BAD_MACHINE_KEY],
  ];
  return cases.map(([name, auth, want]) => [name, auth, overrides[name] ?? want] as const);
}

/** A machine whose original key has been rotated out with no grace. */
async function machineWithRotatedOutKey(name: string, scopedMachines?: string[]) {
  const machine = await createMachine(name, scopedMachines);
  const rotated = await req('POST', `/v1/machines/${machine.id}/secret_key/rotate`, asInstance(), { previous_token_ttl: 0 });
  expect(rotated.status).toBe(200);
  return { machine, oldKey: machine.secret_key as string, newKey: rotated.body.secret as string };
}

// ---------------------------------------------------------------------------------------

describe('GET /healthz', () => {
  it('answers without any credential, and ignores a bad one', async () => {
    const none = await req('GET', '/healthz', null);
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ status: 'ok' });
    const bad = await req('GET', '/healthz', bearer(mintSecret('sk_live_')));
    expect(bad.status).toBe(200);
  });
});

describe('/v1/machines…: the instance key only', () => {
  it('refuses every other credential on every machines route, and the refusals change nothing', async () => {
    const target = await createMachine('matrix target');
    const keepScope = await createMachine('kept scope target');
    const wouldScope = await createMachine('would-be scope target');
    const bystander = await createMachine('bystander', [target.id]);
    const addKept = await req('POST', `/v1/machines/${target.id}/scopes`, asInstance(), { to_machine_id: keepScope.id });
    expect(addKept.status).toBe(200);
    const rotatedOut = await machineWithRotatedOutKey('rotated out (machines matrix)');

    const before = await req('GET', `/v1/machines/${target.id}`, asInstance());
    const countBefore = (await req('GET', '/v1/machines?limit=1', asInstance())).body.total_count;
    expect(countBefore).toBeGreaterThanOrEqual(5);

    const machineKeyRefused: Want = { status: 401, codes: ['clerk_key_invalid'] };
    // A key that is no machine's at all may be reported either way: it is neither a valid sk nor a valid ak.
    const unknownKeyRefused: Want = { status: 401, codes: ['clerk_key_invalid', 'machine_secret_key_invalid'] };
    const cases: Case[] = [
      ...unidentifiedCases(rotatedOut.oldKey, {
        'made-up ak_ (valid checksum)': unknownKeyRefused,
        'ak_ with a bad checksum': unknownKeyRefused,
        'rotated-out ak_ past its grace': unknownKeyRefused,
      }),
      ["the target machine's own ak_", bearer(target.secret_key), machineKeyRefused],
      ["an unscoped machine's ak_", bearer(wouldScope.secret_key), machineKeyRefused],
      ["a machine scoped to the target's ak_", bearer(bystander.secret_key), machineKeyRefused],
      ["the rotated machine's current ak_", bearer(rotatedOut.newKey), machineKeyRefused],
    ];

    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/machines'],
      ['POST', '/v1/machines', { name: 'must not exist' }],
      ['GET', `/v1/machines/${target.id}`],
      ['PATCH', `/v1/machines/${target.id}`, { name: 'must not be renamed', default_token_ttl: 7 }],
      ['DELETE', `/v1/machines/${target.id}`],
      ['GET', `/v1/machines/${target.id}/secret_key`],
      ['POST', `/v1/machines/${target.id}/secret_key/rotate`, { previous_token_ttl: 0 }],
      ['POST', `/v1/machines/${target.id}/scopes`, { to_machine_id: wouldScope.id }],
      ['DELETE', `/v1/machines/${target.id}/scopes/${keepScope.id}`],
    ];
    const problems: string[] = [];
    for (const [method, path, body] of routes) {
      try {
        await runMatrix(cases, (auth) => req(method, path, auth, body));
      } catch (error) {
        problems.push(`${method} ${path}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);

    // Nothing changed: no machine created, the target neither renamed, deleted, rotated nor re-scoped.
    expect((await req('GET', '/v1/machines?limit=1', asInstance())).body.total_count).toBe(countBefore);
    const after = await req('GET', `/v1/machines/${target.id}`, asInstance());
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    expect(after.body.scoped_machines.map((m: any) => m.id)).toEqual([keepScope.id]);
    const secret = await req('GET', `/v1/machines/${target.id}/secret_key`, asInstance());
    expect(secret.body.secret).toBe(target.secret_key);
    const stillWorks = await req('POST', '/m2m_tokens', bearer(target.secret_key), {});
    expect(stillWorks.status).toBe(201);
    expect(stillWorks.body.scopes).toEqual([keepScope.id]);
  });

  it('accepts the instance key on every machines route', async () => {
    const other = await createMachine('scope target');
    const kept = await createMachine('kept');

    const created = await req('POST', '/v1/machines', asInstance(), { name: 'instance-managed', scoped_machines: [kept.id] });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ object: 'machine', name: 'instance-managed' });
    expect(created.body.secret_key).toMatch(MACHINE_KEY);
    const id = created.body.id as string;

    const list = await req('GET', `/v1/machines?query=${id}`, asInstance());
    expect(list.status).toBe(200);
    expect(list.body.data.map((m: any) => m.id)).toEqual([id]);
    expect(list.body.data[0].secret_key).toBeUndefined();

    const got = await req('GET', `/v1/machines/${id}`, asInstance());
    expect(got.status).toBe(200);
    expect(got.body.secret_key).toBeUndefined();

    const patched = await req('PATCH', `/v1/machines/${id}`, asInstance(), { name: 'renamed' });
    expect(patched.status).toBe(200);
    expect(patched.body.name).toBe('renamed');

    const secret = await req('GET', `/v1/machines/${id}/secret_key`, asInstance());
    expect(secret.status).toBe(200);
    expect(secret.body).toEqual({ object: 'machine_secret_key', secret: created.body.secret_key });

    const scope = await req('POST', `/v1/machines/${id}/scopes`, asInstance(), { to_machine_id: other.id });
    expect(scope.status).toBe(200);
    expect(scope.body).toMatchObject({ object: 'machine_scope', from_machine_id: id, to_machine_id: other.id });

    const unscope = await req('DELETE', `/v1/machines/${id}/scopes/${kept.id}`, asInstance());
    expect(unscope.status).toBe(200);
    expect(unscope.body).toEqual({ object: 'machine_scope', from_machine_id: id, to_machine_id: kept.id, deleted: true });

    const rotated = await req('POST', `/v1/machines/${id}/secret_key/rotate`, asInstance(), { previous_token_ttl: 0 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.object).toBe('machine_secret_key');
    expect(rotated.body.secret).not.toBe(created.body.secret_key);

    const deleted = await req('DELETE', `/v1/machines/${id}`, asInstance());
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ object: 'machine', id, deleted: true });
  });

  it('checks the credential before the request body', async () => {
    // A caller without a valid instance key gets 401, not a 422 that describes the body it sent.
    const machine = await createMachine('validation order');
    const problems = await expectAll401([
      ['POST /v1/machines, no credential, missing name', () => req('POST', '/v1/machines', null, {}), 'authentication_invalid'],
      ['GET /v1/machines?limit=0, no credential', () => req('GET', '/v1/machines?limit=0', null), 'authentication_invalid'],
      [
        'POST rotate, machine key, missing previous_token_ttl',
        () => req('POST', `/v1/machines/${machine.id}/secret_key/rotate`, bearer(machine.secret_key), {}),
        'clerk_key_invalid',
      ],
    ]);
    expect(problems).toEqual([]);
  });
});

/** Runs each request and lists those that did not answer 401 with the given code. */
async function expectAll401(cases: Array<[string, () => Promise<ApiResponse>, string?]>): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, send, code] of cases) {
    const res = await send();
    if (res.status !== 401 || (code !== undefined && codeOf(res) !== code)) {
      problems.push(`${name}: got ${res.status} ${codeOf(res) ?? '-'}; want 401 ${code ?? ''}`.trim());
    }
  }
  return problems;
}

describe('/api_keys/verify and /oauth_applications/access_tokens/verify', () => {
  it.each([
    ['', '/api_keys/verify', { secret: 'ak_notanapikey' }],
    ['/v1', '/api_keys/verify', { secret: 'ak_notanapikey' }],
    ['', '/oauth_applications/access_tokens/verify', { access_token: 'oat_notatoken' }],
    ['/v1', '/oauth_applications/access_tokens/verify', { access_token: 'oat_notatoken' }],
  ] as const)('%s%s: 404 with a valid key, 401 without', async (prefix, path, body) => {
    const receiver = await createMachine('api-key receiver');
    const sender = await createMachine('api-key sender', [receiver.id]);
    const rotatedOut = await machineWithRotatedOutKey('api-key rotated');
    const notFound: Want = { status: 404 };
    const responses = await runMatrix(
      [
        ...unidentifiedCases(rotatedOut.oldKey),
        ['instance key', asInstance(), notFound],
        ['scoped machine ak_', bearer(sender.secret_key), notFound],
        ['receiver ak_', bearer(receiver.secret_key), notFound],
      ],
      (auth) => req('POST', `${prefix}${path}`, auth, body),
    );
    for (const name of ['instance key', 'scoped machine ak_', 'receiver ak_']) {
      expect(codeOf(responses.get(name)!)).toMatch(/not_found$/);
    }
  });
});

describe.each([
  { prefix: '', label: '/m2m_tokens' },
  { prefix: '/v1', label: '/v1/m2m_tokens' },
])('$label: the credential matrix', ({ prefix }) => {
  const tokens = `${prefix}/m2m_tokens`;

  // Receiver R; sender S scoped to R; unscoped U; machine X whose first key is rotated out.
  let receiver: any;
  let sender: any;
  let unscoped: any;
  let rotatedOut: Awaited<ReturnType<typeof machineWithRotatedOutKey>>;
  beforeAll(async () => {
    receiver = await createMachine('receiver');
    sender = await createMachine('scoped sender', [receiver.id]);
    unscoped = await createMachine('unscoped sender');
    rotatedOut = await machineWithRotatedOutKey('rotated', [receiver.id]);
  });

  const mint = async (key: string, body: Record<string, unknown> = {}) => {
    const res = await req('POST', tokens, bearer(key), body);
    expect(res.status, res.text).toBe(201);
    return res.body;
  };
  const verify = (auth: string | null, token: string) => req('POST', `${tokens}/verify`, auth, { token });
  const listAll = (subject: string) => req('GET', `${tokens}?subject=${subject}&revoked=true&expired=true&limit=100`, asInstance());

  it('POST: only a machine key creates, and the token belongs to that machine', async () => {
    const senderBefore = (await listAll(sender.id)).body.total_count;
    const rotatedBefore = (await listAll(rotatedOut.machine.id)).body.total_count;
    const created = await runMatrix(
      [
        ...unidentifiedCases(rotatedOut.oldKey, {
          // None of these is a machine key; spec 1.10 names the code only for sk_ and bad ak_.
          'no Authorization header': { status: 401, codes: ['authentication_invalid', 'machine_secret_key_invalid'] },
          'Basic with the real instance key': { status: 401, codes: ['authentication_invalid', 'machine_secret_key_invalid'] },
          'Bearer garbage': { status: 401, codes: ['authentication_invalid', 'machine_secret_key_invalid'] },
          'well-formed wrong sk_live_': { status: 401, codes: ['machine_secret_key_invalid', 'clerk_key_invalid'] },
          'made-up ak_ (valid checksum)': { ...BAD_MACHINE_KEY, message: MACHINE_KEY_MESSAGE },
          'rotated-out ak_ past its grace': { ...BAD_MACHINE_KEY, message: MACHINE_KEY_MESSAGE },
        }),
        ['instance key', asInstance(), { ...BAD_MACHINE_KEY, message: MACHINE_KEY_MESSAGE }],
        ['scoped sender ak_', bearer(sender.secret_key), { status: 201 }],
        ['receiver ak_', bearer(receiver.secret_key), { status: 201 }],
        ['unscoped ak_', bearer(unscoped.secret_key), { status: 201 }],
        ["rotated machine's current ak_", bearer(rotatedOut.newKey), { status: 201 }],
      ],
      (auth) => req('POST', tokens, auth, { claims: { from: 'matrix' } }),
    );
    const subjects = {
      'scoped sender ak_': [sender.id, [receiver.id]],
      'receiver ak_': [receiver.id, []],
      'unscoped ak_': [unscoped.id, []],
      "rotated machine's current ak_": [rotatedOut.machine.id, [receiver.id]],
    } as const;
    for (const [name, [subject, scopes]] of Object.entries(subjects)) {
      const body = created.get(name)!.body;
      expect(body, name).toMatchObject({ object: 'machine_to_machine_token', subject, scopes, claims: { from: 'matrix' } });
      expect(body.token, name).toMatch(/^mt_/);
    }
    // Refused creates added nothing: the sender got exactly its one token, the rotated machine
    // only the one made with its current key (none from the refused old key).
    expect((await listAll(sender.id)).body.total_count).toBe(senderBefore + 1);
    const rotatedList = await listAll(rotatedOut.machine.id);
    expect(rotatedList.body.total_count).toBe(rotatedBefore + 1);
    expect(rotatedList.body.m2m_tokens[0].id).toBe(created.get("rotated machine's current ak_")!.body.id);
  });

  it('GET: the instance key lists any machine, a machine key only its own', async () => {
    const own = await mint(sender.secret_key);
    const theirs = await mint(unscoped.secret_key);
    const forbidden: Want = { status: 403, codes: ['authorization_invalid'] };
    const responses = await runMatrix(
      [
        ...unidentifiedCases(rotatedOut.oldKey),
        ['instance key', asInstance(), { status: 200 }],
        ['scoped sender ak_ (own subject)', bearer(sender.secret_key), { status: 200 }],
        ['receiver ak_', bearer(receiver.secret_key), forbidden],
        ['unscoped ak_', bearer(unscoped.secret_key), forbidden],
        ["rotated machine's current ak_", bearer(rotatedOut.newKey), forbidden],
      ],
      (auth) => req('GET', `${tokens}?subject=${sender.id}&limit=100`, auth),
    );
    for (const name of ['instance key', 'scoped sender ak_ (own subject)']) {
      const list = responses.get(name)!.body;
      expect(list.m2m_tokens.map((x: any) => x.id), name).toContain(own.id);
      expect(list.m2m_tokens.every((x: any) => x.subject === sender.id), name).toBe(true);
      expect(list.m2m_tokens.every((x: any) => x.token === undefined), name).toBe(true);
    }
    expect(responses.get('receiver ak_')!.body.m2m_tokens).toBeUndefined();

    // Each machine lists its own; the instance key lists the other one too.
    const mine = await req('GET', `${tokens}?subject=${unscoped.id}`, bearer(unscoped.secret_key));
    expect(mine.status).toBe(200);
    expect(mine.body.m2m_tokens.map((x: any) => x.id)).toContain(theirs.id);
    const bySk = await req('GET', `${tokens}?subject=${unscoped.id}`, asInstance());
    expect(bySk.body.m2m_tokens.map((x: any) => x.id)).toContain(theirs.id);

    // An unknown (well-formed) machine with the instance key: 404.
    const unknown = await req('GET', `${tokens}?subject=mch_${'A'.repeat(27)}`, asInstance());
    expect(unknown.status).toBe(404);
    expect(codeOf(unknown)).toBe('resource_not_found');
  });

  it('POST /:id/revoke: the instance key revokes any token, a machine key only its own', async () => {
    const target = await mint(sender.secret_key);
    const notFound: Want = { status: 404, codes: ['token_not_found'] };
    await runMatrix(
      [
        ...unidentifiedCases(rotatedOut.oldKey),
        ['receiver ak_ (in the scopes, not the owner)', bearer(receiver.secret_key), notFound],
        ['unscoped ak_', bearer(unscoped.secret_key), notFound],
        ["rotated machine's current ak_", bearer(rotatedOut.newKey), notFound],
      ],
      (auth) => req('POST', `${tokens}/${target.id}/revoke`, auth, { revocation_reason: 'should not stick' }),
    );
    // Nothing changed: the token still verifies and is listed unrevoked.
    expect((await verify(bearer(receiver.secret_key), target.token)).status).toBe(200);
    expect((await verify(asInstance(), target.token)).status).toBe(200);
    const listed = (await listAll(sender.id)).body.m2m_tokens.find((x: any) => x.id === target.id);
    expect(listed).toMatchObject({ revoked: false, revocation_reason: null });

    // The owner revokes its own token.
    const byOwner = await req('POST', `${tokens}/${target.id}/revoke`, bearer(sender.secret_key), { revocation_reason: 'owner' });
    expect(byOwner.status).toBe(200);
    expect(byOwner.body).toMatchObject({ id: target.id, subject: sender.id, revoked: true, revocation_reason: 'owner' });
    expect(byOwner.body.token).toBeUndefined();
    const after = await verify(asInstance(), target.token);
    expect(after.status).toBe(404);
    expect(codeOf(after)).toBe('token_revoked');

    // The instance key revokes another machine's token.
    const other = await mint(unscoped.secret_key);
    const bySk = await req('POST', `${tokens}/${other.id}/revoke`, asInstance(), { revocation_reason: null });
    expect(bySk.status).toBe(200);
    expect(bySk.body).toMatchObject({ id: other.id, subject: unscoped.id, revoked: true });

    // An unknown token ID: 404 for both credentials.
    const unknownId = `mt_${'0'.repeat(32)}`;
    for (const auth of [asInstance(), bearer(sender.secret_key)]) {
      const res = await req('POST', `${tokens}/${unknownId}/revoke`, auth, {});
      expect(res.status).toBe(404);
      expect(codeOf(res)).toBe('token_not_found');
    }
  });

  it('POST /verify: the instance key verifies any token, a machine key only tokens scoped to it', async () => {
    const scopedToken = await mint(sender.secret_key);
    expect(scopedToken.scopes).toEqual([receiver.id]);
    const notFound: Want = { status: 404, codes: ['token_not_found'] };
    const responses = await runMatrix(
      [
        ...unidentifiedCases(rotatedOut.oldKey),
        ['instance key', asInstance(), { status: 200 }],
        ['scoped receiver ak_', bearer(receiver.secret_key), { status: 200 }],
        ['the sender itself', bearer(sender.secret_key), notFound],
        ['unscoped ak_', bearer(unscoped.secret_key), notFound],
      ],
      (auth) => verify(auth, scopedToken.token),
    );
    for (const name of ['instance key', 'scoped receiver ak_']) {
      const body = responses.get(name)!.body;
      expect(body, name).toMatchObject({ object: 'machine_to_machine_token', id: scopedToken.id, subject: sender.id });
      expect(body.token, name).toBeUndefined();
    }

    // A token with no scopes: the instance key still verifies it (no scope check); no machine does.
    const unscopedToken = await mint(unscoped.secret_key);
    expect(unscopedToken.scopes).toEqual([]);
    expect((await verify(asInstance(), unscopedToken.token)).status).toBe(200);
    for (const key of [receiver.secret_key, unscoped.secret_key]) {
      const res = await verify(bearer(key), unscopedToken.token);
      expect(res.status).toBe(404);
      expect(codeOf(res)).toBe('token_not_found');
    }

    // A made-up token value with the instance key: 404.
    const madeUp = await verify(asInstance(), mintOpaqueToken(newTokenId()));
    expect(madeUp.status).toBe(404);
    expect(codeOf(madeUp)).toBe('token_not_found');
  });

  it('a refused verify does not record a use; an admitted one does', async () => {
    const token = await mint(sender.secret_key);
    for (const [, auth] of unidentifiedCases(rotatedOut.oldKey)) {
      expect((await verify(auth, token.token)).status).toBe(401);
    }
    for (const key of [sender.secret_key, unscoped.secret_key]) {
      expect((await verify(bearer(key), token.token)).status).toBe(404);
    }
    const untouched = (await listAll(sender.id)).body.m2m_tokens.find((x: any) => x.id === token.id);
    expect(untouched).toMatchObject({ last_used_at: null, updated_at: token.updated_at });

    expect((await verify(bearer(receiver.secret_key), token.token)).status).toBe(200);
    const used = (await listAll(sender.id)).body.m2m_tokens.find((x: any) => x.id === token.id);
    expect(used.last_used_at).toBeGreaterThanOrEqual(token.created_at);
  });

  it('checks the credential before the request body', async () => {
    const problems = await expectAll401([
      [
        'create, instance key, seconds_until_expiration 0',
        () => req('POST', tokens, asInstance(), { seconds_until_expiration: 0 }),
        'machine_secret_key_invalid',
      ],
      ['create, no credential, unknown field', () => req('POST', tokens, null, { nope: 1 })],
      ['list, no credential, no subject', () => req('GET', tokens, null)],
      ['verify, no credential, unknown field', () => req('POST', `${tokens}/verify`, null, { bogus: 1 })],
      [
        'revoke, no credential, non-string reason',
        () => req('POST', `${tokens}/mt_${'0'.repeat(32)}/revoke`, null, { revocation_reason: 5 }),
      ],
    ]);
    expect(problems).toEqual([]);
  });

  describe('machine key rotation', () => {
    it('keeps the old key working for previous_token_ttl seconds, then only the new one', async () => {
      const r = await createMachine('rotation receiver');
      const k = await createMachine('rotating', [r.id]);
      const oldKey = k.secret_key as string;

      const rotated = await req('POST', `/v1/machines/${k.id}/secret_key/rotate`, asInstance(), { previous_token_ttl: 2 });
      const rotatedAt = Date.now();
      expect(rotated.status).toBe(200);
      expect(rotated.body.object).toBe('machine_secret_key');
      const newKey = rotated.body.secret as string;
      expect(newKey).not.toBe(oldKey);
      expect((await req('GET', `/v1/machines/${k.id}/secret_key`, asInstance())).body.secret).toBe(newKey);

      // During the grace: both keys mint tokens for the same machine, and both list.
      const byOld = await mint(oldKey);
      const byNew = await mint(newKey);
      expect(byOld.subject).toBe(k.id);
      expect(byNew.subject).toBe(k.id);
      expect((await req('GET', `${tokens}?subject=${k.id}`, bearer(oldKey))).status).toBe(200);
      expect((await verify(bearer(r.secret_key), byOld.token)).status).toBe(200);
      expect(Date.now() - rotatedAt).toBeLessThan(1500); // the checks above really ran inside the grace

      await sleep(Math.max(0, rotatedAt + 2200 - Date.now()));

      // After the grace: the old key is refused everywhere, the new one works.
      const refused = await req('POST', tokens, bearer(oldKey), {});
      expect(refused.status).toBe(401);
      expect(codeOf(refused)).toBe('machine_secret_key_invalid');
      expect((await req('GET', `${tokens}?subject=${k.id}`, bearer(oldKey))).status).toBe(401);
      expect((await req('POST', `${tokens}/${byOld.id}/revoke`, bearer(oldKey), {})).status).toBe(401);
      expect((await mint(newKey)).subject).toBe(k.id);

      // Tokens minted with the old key belong to the machine and stay valid.
      for (const auth of [bearer(r.secret_key), asInstance()]) {
        const res = await verify(auth, byOld.token);
        expect(res.status).toBe(200);
        expect(res.body.subject).toBe(k.id);
      }
      expect((await req('GET', `/v1/machines/${k.id}/secret_key`, asInstance())).body.secret).toBe(newKey);
    });

    it('refuses the old key at once with previous_token_ttl=0', async () => {
      const k = await createMachine('rotating now');
      const first = k.secret_key as string;
      const token = await mint(first);

      const second = (await req('POST', `/v1/machines/${k.id}/secret_key/rotate`, asInstance(), { previous_token_ttl: 0 })).body
        .secret as string;
      const refused = await req('POST', tokens, bearer(first), {});
      expect(refused.status).toBe(401);
      expect(codeOf(refused)).toBe('machine_secret_key_invalid');
      expect((await req('GET', `/v1/machines/${k.id}/secret_key`, asInstance())).body.secret).toBe(second);
      expect((await mint(second)).subject).toBe(k.id);

      const third = (await req('POST', `/v1/machines/${k.id}/secret_key/rotate`, asInstance(), { previous_token_ttl: 0 })).body
        .secret as string;
      expect(new Set([first, second, third]).size).toBe(3);
      expect((await req('POST', tokens, bearer(second), {})).status).toBe(401);
      expect((await req('GET', `/v1/machines/${k.id}/secret_key`, asInstance())).body.secret).toBe(third);
      expect((await mint(third)).subject).toBe(k.id);
      expect((await verify(asInstance(), token.token)).status).toBe(200);
    });
  });

  describe('machine deletion', () => {
    it("refuses the deleted machine's key, fails its tokens and removes its scopes both ways", async () => {
      const downstream = await createMachine('downstream');
      const doomed = await createMachine('doomed', [downstream.id]);
      const upstream = await createMachine('upstream', [doomed.id]);
      const doomedToken = await mint(doomed.secret_key);
      const upstreamToken = await mint(upstream.secret_key);
      expect(doomedToken.scopes).toEqual([downstream.id]);
      expect(upstreamToken.scopes).toEqual([doomed.id]);
      expect((await verify(bearer(downstream.secret_key), doomedToken.token)).status).toBe(200);
      expect((await verify(bearer(doomed.secret_key), upstreamToken.token)).status).toBe(200);
      const upstreamBefore = await req('GET', `/v1/machines/${upstream.id}`, asInstance());
      expect(upstreamBefore.body.scoped_machines.map((m: any) => m.id)).toEqual([doomed.id]);

      const deleted = await req('DELETE', `/v1/machines/${doomed.id}`, asInstance());
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ object: 'machine', id: doomed.id, deleted: true });

      // Its key is refused on every token route.
      const key = bearer(doomed.secret_key);
      const refusals = [
        await req('POST', tokens, key, {}),
        await req('GET', `${tokens}?subject=${doomed.id}`, key),
        await req('POST', `${tokens}/${doomedToken.id}/revoke`, key, {}),
        await verify(key, upstreamToken.token),
      ];
      expect(refusals.map((r) => [r.status, codeOf(r)])).toEqual(Array(4).fill([401, 'machine_secret_key_invalid']));

      // Its tokens no longer verify, not even for the instance key.
      for (const auth of [asInstance(), bearer(downstream.secret_key)]) {
        const res = await verify(auth, doomedToken.token);
        expect(res.status).toBe(404);
        expect(codeOf(res)).toBe('token_not_found');
      }
      expect((await req('POST', `${tokens}/${doomedToken.id}/revoke`, asInstance(), {})).status).toBe(404);
      expect((await req('GET', `${tokens}?subject=${doomed.id}`, asInstance())).status).toBe(404);

      // The machine is gone.
      for (const [method, path, body] of [
        ['GET', `/v1/machines/${doomed.id}`],
        ['GET', `/v1/machines/${doomed.id}/secret_key`],
        ['PATCH', `/v1/machines/${doomed.id}`, { name: 'zombie' }],
        ['POST', `/v1/machines/${doomed.id}/secret_key/rotate`, { previous_token_ttl: 0 }],
        ['DELETE', `/v1/machines/${doomed.id}/scopes/${downstream.id}`],
        ['DELETE', `/v1/machines/${doomed.id}`],
      ] as Array<[string, string, unknown?]>) {
        const res = await req(method, path, asInstance(), body);
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(codeOf(res), `${method} ${path}`).toBe('resource_not_found');
      }
      expect((await req('GET', `/v1/machines?query=${doomed.id}`, asInstance())).body.total_count).toBe(0);

      // Scopes to it are gone: the upstream machine no longer lists it, nor mints tokens for it.
      const upstreamAfter = await req('GET', `/v1/machines/${upstream.id}`, asInstance());
      expect(upstreamAfter.body.scoped_machines).toEqual([]);
      expect((await req('DELETE', `/v1/machines/${upstream.id}/scopes/${doomed.id}`, asInstance())).status).toBe(404);
      expect((await mint(upstream.secret_key)).scopes).toEqual([]);
      // Scopes from it are gone; the downstream machine itself is untouched.
      const downstreamAfter = await req('GET', `/v1/machines/${downstream.id}`, asInstance());
      expect(downstreamAfter.status).toBe(200);
      const all = await req('GET', '/v1/machines?limit=500', asInstance());
      expect(all.body.data.some((m: any) => m.scoped_machines.some((s: any) => s.id === doomed.id))).toBe(false);
    });
  });
});

describe('secrets in responses', () => {
  it('returns a machine key only from create, GET secret_key and rotate', async () => {
    const machine = await createMachine('secretive');
    const key = machine.secret_key as string;
    const readBack = [
      await req('GET', `/v1/machines/${machine.id}`, asInstance()),
      await req('GET', `/v1/machines?query=${machine.id}`, asInstance()),
      await req('PATCH', `/v1/machines/${machine.id}`, asInstance(), { name: 'still secretive' }),
      await req('POST', '/m2m_tokens', bearer(key), {}),
      await req('GET', `/m2m_tokens?subject=${machine.id}`, bearer(key)),
    ];
    for (const res of readBack) {
      expect(res.status).toBeLessThan(300);
      expect(res.text.includes(key)).toBe(false);
    }
    // A refused key is not echoed either.
    const wrongSk = mintSecret('sk_live_');
    const refused = await req('GET', '/v1/machines', bearer(wrongSk));
    expect(refused.status).toBe(401);
    expect(refused.text.includes(wrongSk)).toBe(false);
    const refusedAk = await req('GET', '/v1/machines', bearer(key));
    expect(refusedAk.text.includes(key)).toBe(false);

    // Every response of this file went through the leak check.
    expect(responsesChecked).toBeGreaterThan(400);
  });
});
