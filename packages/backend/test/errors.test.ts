import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClerkAPIResponseError,
  createClerkClient,
  isClerkAPIResponseError,
  MachineTokenVerificationError,
  TesseraAPIResponseError,
} from '../src/index.js';
import { isolateSdkEnv } from './helpers/env.js';
import { deadUrl, startFaultInjector, type FaultInjector } from './helpers/fault-injector.js';
import { expectSignedOut } from './helpers/states.js';
import { bearer, machineNetwork, startTessera, type Tessera } from './helpers/tessera.js';

isolateSdkEnv();

let t: Tessera;
let net: Awaited<ReturnType<typeof machineNetwork>>;
beforeAll(async () => {
  t = await startTessera();
  net = await machineNetwork(t);
});
afterAll(async () => {
  await t?.stop();
});

async function apiError(promise: Promise<unknown>): Promise<TesseraAPIResponseError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TesseraAPIResponseError);
  return error as TesseraAPIResponseError;
}

const OPAQUE = 'mt_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

describe('Backend API errors from the real server', () => {
  it('401: status, envelope fields, trace id under both names, Clerk’s class name', async () => {
    const error = await apiError(t.client({ secretKey: t.sk }).m2m.createToken());
    expect(error).toBeInstanceOf(ClerkAPIResponseError);
    expect(isClerkAPIResponseError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'TesseraAPIResponseError', code: 'api_response_error', clerkError: true, status: 401, statusText: 'Unauthorized' });
    expect(error.errors).toEqual([
      {
        code: 'machine_secret_key_invalid',
        message: 'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.',
        longMessage: expect.any(String),
        meta: {},
      },
    ]);
    expect(error.traceId).toMatch(/\S/);
    expect(error.clerkTraceId).toBe(error.traceId);
    expect(error.retryAfter).toBeUndefined();
    expect(error.message).toContain('401');
  });

  it('404: revoking an unknown token', async () => {
    const error = await apiError(t.admin.m2m.revokeToken({ m2mTokenId: `mt_${'0'.repeat(32)}` }));
    expect(error.status).toBe(404);
    expect(error.errors[0]!.code).toBe('token_not_found');
  });

  it('400 with the parameter at fault', async () => {
    const error = await apiError(t.client({ machineSecretKey: net.sender.secretKey }).m2m.createToken({ secondsUntilExpiration: 0 }));
    expect(error.status).toBe(400);
    expect(error.errors[0]!.meta).toEqual({ paramName: 'seconds_until_expiration' });
  });

  it('authenticateRequest with a bad machine key: secret-key-invalid with the server’s message', async () => {
    const client = t.client({ machineSecretKey: `ak_${'x'.repeat(40)}` });
    const token = await t.client({ machineSecretKey: net.sender.secretKey }).m2m.createToken();
    await expectSignedOut(await client.authenticateRequest(bearer(token.token!), { acceptsToken: 'm2m_token' }), {
      tokenType: 'm2m_token',
      reason: 'secret-key-invalid',
      message: 'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct. (code=secret-key-invalid, status=401)',
    });
  });

  it('a JWT checked with a bad machine key fails as secret-key-invalid (the identity lookup is refused)', async () => {
    const jwt = await t.client({ machineSecretKey: net.sender.secretKey }).m2m.createToken({ tokenFormat: 'jwt' });
    const client = t.client({ machineSecretKey: `ak_${'x'.repeat(40)}` });
    const state = await client.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' });
    expect([state.reason, state.message]).toEqual([
      'secret-key-invalid',
      'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct. (code=secret-key-invalid, status=401)',
    ]);
  });
  it('a JWT checked with a bad instance key: the revocation list is refused, so is the token (secret-key-invalid)', async () => {
    const jwt = await t.client({ machineSecretKey: net.sender.secretKey }).m2m.createToken({ tokenFormat: 'jwt' });
    const client = t.client({ secretKey: `sk_test_${'x'.repeat(40)}` });
    const state = await client.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' });
    expect([state.reason, state.message]).toEqual([
      'secret-key-invalid',
      'The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct. (code=secret-key-invalid, status=401)',
    ]);
  });
});

describe('faults: 5xx, 429, timeout, server down', () => {
  let injector: FaultInjector | undefined;
  afterAll(async () => {
    await injector?.stop();
  });
  const start = async (...args: Parameters<typeof startFaultInjector>) => {
    await injector?.stop();
    injector = await startFaultInjector(...args);
    return injector;
  };

  it('5xx: reads and verification are retried (bounded), create and revoke never', async () => {
    const fault = await start({ status: 500 });
    const client = createClerkClient({ apiUrl: fault.url, secretKey: 'sk_test_x', maxRetries: 2 });
    const list = await apiError(client.m2m.list({ subject: 'mch_x' }));
    expect([list.status, list.errors[0]!.code]).toEqual([500, 'internal_error']);
    expect(fault.requests).toEqual(Array(3).fill('GET /m2m_tokens'));

    fault.requests.length = 0;
    await apiError(client.m2m.verify({ token: OPAQUE }));
    expect(fault.requests).toEqual(Array(3).fill('POST /m2m_tokens/verify'));

    fault.requests.length = 0;
    expect((await apiError(client.m2m.createToken())).status).toBe(500);
    await apiError(client.m2m.revokeToken({ m2mTokenId: `mt_${'0'.repeat(32)}` }));
    await apiError(client.machines.create({ name: 'x' }));
    expect(fault.requests).toEqual(['POST /m2m_tokens', `POST /m2m_tokens/mt_${'0'.repeat(32)}/revoke`, 'POST /v1/machines']);
  });

  it('5xx in authenticateRequest: signed out, unexpected-error with the status', async () => {
    const fault = await start({ status: 503, body: {} });
    const client = createClerkClient({ apiUrl: fault.url, machineSecretKey: 'ak_x', maxRetries: 0 });
    await expectSignedOut(await client.authenticateRequest(bearer(OPAQUE), { acceptsToken: 'm2m_token' }), {
      tokenType: 'm2m_token',
      reason: 'unexpected-error',
      message: 'Machine token verification failed: the Tessera server answered 503 (code=unexpected-error, status=503)',
    });
  });

  it('429: retried when Retry-After fits the budget, which the error then reports', async () => {
    const fault = await start({ status: 429, headers: { 'retry-after': '0' } });
    const client = createClerkClient({ apiUrl: fault.url, secretKey: 'sk_test_x', maxRetries: 1 });
    const error = await apiError(client.machines.list());
    expect([error.status, error.retryAfter]).toEqual([429, 0]);
    expect(fault.requests).toHaveLength(2);

    const patient = await start({ status: 429, headers: { 'retry-after': '3600' } });
    const tooLong = await apiError(createClerkClient({ apiUrl: patient.url, secretKey: 'sk_test_x' }).machines.list());
    expect(tooLong.retryAfter).toBe(3600);
    // An hour does not fit a 5 s budget: no second attempt.
    expect(patient.requests).toHaveLength(1);
  });

  it('timeout: status 0, request_timeout; authenticateRequest fails closed', async () => {
    const fault = await start('never-answer');
    const client = createClerkClient({ apiUrl: fault.url, secretKey: 'sk_test_x', timeoutInMs: 300 });
    const error = await apiError(client.machines.list());
    expect(error.status).toBe(0);
    expect(error.errors).toEqual([{ code: 'request_timeout', message: 'No answer from the Tessera server within 300 ms.' }]);
    await expectSignedOut(await client.authenticateRequest(bearer(OPAQUE), { acceptsToken: 'm2m_token' }), {
      tokenType: 'm2m_token',
      reason: 'unexpected-error',
      message: 'Machine token verification failed: the Tessera server could not be reached (request_timeout) (code=unexpected-error, status=n/a)',
    });
  });

  it('server down: status 0, unexpected_error naming the cause; authenticateRequest fails closed', async () => {
    const client = createClerkClient({ apiUrl: await deadUrl(), machineSecretKey: 'ak_x', maxRetries: 1 });
    const error = await apiError(client.m2m.verify({ token: OPAQUE }));
    expect(error.status).toBe(0);
    expect(error.errors[0]!.code).toBe('unexpected_error');
    expect(error.errors[0]!.message).toContain('ECONNREFUSED');
    await expectSignedOut(await client.authenticateRequest(bearer(OPAQUE), { acceptsToken: 'm2m_token' }), {
      tokenType: 'm2m_token',
      reason: 'unexpected-error',
      message: 'Machine token verification failed: the Tessera server could not be reached (unexpected_error) (code=unexpected-error, status=n/a)',
    });
  });

  it('server down before any JWKS was loaded: a real JWT is refused, and concurrent checks share one load', async () => {
    const jwt = await t.client({ machineSecretKey: net.sender.secretKey }).m2m.createToken({ tokenFormat: 'jwt' });
    const attempts: string[] = [];
    const counting: typeof fetch = (input, init) => {
      attempts.push(String(input));
      return fetch(input, init);
    };
    const client = createClerkClient({ apiUrl: await deadUrl(), secretKey: t.sk, machineId: net.receiver.id, fetch: counting, maxRetries: 1 });
    const states = await Promise.all(
      Array.from({ length: 10 }, () => client.authenticateRequest(bearer(jwt.token!), { acceptsToken: 'm2m_token' })),
    );
    for (const state of states) {
      await expectSignedOut(state, {
        tokenType: 'm2m_token',
        reason: 'unexpected-error',
        message: 'Loading the JWKS failed: the Tessera server could not be reached (unexpected_error) (code=unexpected-error, status=n/a)',
      });
    }
    // One load (two attempts with maxRetries 1) for all ten: no fetch storm against a failing server.
    expect(attempts).toHaveLength(2);
    expect(attempts.every((url) => url.endsWith('/v1/jwks'))).toBe(true);
  });

  it('m2m.verify of a JWT throws MachineTokenVerificationError when the JWKS cannot be loaded', async () => {
    const jwt = await t.client({ machineSecretKey: net.sender.secretKey }).m2m.createToken({ tokenFormat: 'jwt' });
    const error = await createClerkClient({ apiUrl: await deadUrl(), secretKey: t.sk, maxRetries: 0 })
      .m2m.verify({ token: jwt.token! })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MachineTokenVerificationError);
    expect((error as MachineTokenVerificationError).code).toBe('unexpected-error');
    expect((error as MachineTokenVerificationError).getFullMessage()).toMatch(/^Loading the JWKS failed: .* \(code=unexpected-error, status=n\/a\)$/);
  });
});
