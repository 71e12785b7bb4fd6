import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClerkClient, SDK_VERSION } from '../src/index.js';
import { readEnv } from '../src/runtime/env.js';
import { isolateSdkEnv, setEnv } from './helpers/env.js';
import { machineNetwork, recordingFetch, startTessera, type Tessera } from './helpers/tessera.js';

isolateSdkEnv();

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Records the request and fails it: for options whose effect is only where a request goes. */
function addressRecorder() {
  const urls: string[] = [];
  const headers: Headers[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    urls.push(String(input));
    headers.push(new Headers(init?.headers));
    throw new TypeError('not sent');
  };
  return { urls, headers, fetch: fetchImpl };
}

let restore = () => {};
afterEach(() => {
  restore();
  restore = () => {};
});

describe('where requests go', () => {
  it('defaults to http://127.0.0.1:7600, v1 for versioned routes, none for token routes', async () => {
    const recorder = addressRecorder();
    const client = createClerkClient({ secretKey: 'sk_test_x', fetch: recorder.fetch, maxRetries: 0 });
    await client.machines.list().catch(() => {});
    await client.m2m.verify({ token: 'mt_x' }).catch(() => {});
    expect(recorder.urls).toEqual(['http://127.0.0.1:7600/v1/machines', 'http://127.0.0.1:7600/m2m_tokens/verify']);
  });

  it('TESSERA_API_URL wins over CLERK_API_URL; the option wins over both; apiVersion and trailing slashes', async () => {
    const recorder = addressRecorder();
    restore = setEnv({ TESSERA_API_URL: 'http://tessera.test', CLERK_API_URL: 'http://clerk.test' });
    const options = { secretKey: 'sk_test_x', fetch: recorder.fetch, maxRetries: 0 };
    await createClerkClient(options).machines.list().catch(() => {});
    restore();
    restore = setEnv({ CLERK_API_URL: 'http://clerk.test/' });
    await createClerkClient(options).machines.list().catch(() => {});
    await createClerkClient({ ...options, apiUrl: 'http://option.test/base/', apiVersion: 'v2' }).machines.list().catch(() => {});
    expect(recorder.urls).toEqual(['http://tessera.test/v1/machines', 'http://clerk.test/v1/machines', 'http://option.test/base/v2/machines']);
  });

  it('sends Clerk-API-Version, Content-Type and the User-Agent (default or given)', async () => {
    const recorder = addressRecorder();
    await createClerkClient({ secretKey: 'sk_test_x', fetch: recorder.fetch, maxRetries: 0 }).machines.list().catch(() => {});
    await createClerkClient({ secretKey: 'sk_test_x', fetch: recorder.fetch, maxRetries: 0, userAgent: 'billing/1.0' }).machines.list().catch(() => {});
    expect(recorder.headers.map((h) => [h.get('clerk-api-version'), h.get('content-type'), h.get('user-agent')])).toEqual([
      ['2026-05-12', 'application/json', `@tessera/backend@${SDK_VERSION}`],
      ['2026-05-12', 'application/json', 'billing/1.0'],
    ]);
  });

  it('SDK_VERSION is the package version', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as { version: string };
    expect(SDK_VERSION).toBe(pkg.version);
  });
});

describe('keys from options and environment, against the real server', () => {
  let t: Tessera;
  let net: Awaited<ReturnType<typeof machineNetwork>>;
  beforeAll(async () => {
    t = await startTessera();
    net = await machineNetwork(t);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('reads CLERK_SECRET_KEY, CLERK_MACHINE_SECRET_KEY and TESSERA_API_URL when options are absent', async () => {
    restore = setEnv({ TESSERA_API_URL: t.url, CLERK_SECRET_KEY: t.sk, CLERK_MACHINE_SECRET_KEY: net.sender.secretKey });
    const client = createClerkClient();
    expect((await client.machines.get(net.sender.id)).id).toBe(net.sender.id);
    expect((await client.m2m.createToken()).subject).toBe(net.sender.id);
  });

  it('an option given explicitly wins over the environment; null opts out of it', async () => {
    restore = setEnv({ TESSERA_API_URL: t.url, CLERK_SECRET_KEY: t.sk, CLERK_MACHINE_SECRET_KEY: net.sender.secretKey });
    const token = await createClerkClient({ machineSecretKey: net.unscoped.secretKey }).m2m.createToken();
    expect(token.subject).toBe(net.unscoped.id);
    // The sender may not verify a token of the unscoped machine; the instance key may.
    await expect(createClerkClient({ secretKey: t.sk }).m2m.verify({ token: token.token! })).rejects.toMatchObject({ status: 404 });
    expect((await createClerkClient({ secretKey: t.sk, machineSecretKey: null }).m2m.verify({ token: token.token! })).id).toBe(token.id);
  });

  it('reads CLERK_JWT_KEY for networkless JWT verification', async () => {
    const jwt = await t.client({ machineSecretKey: net.sender.secretKey }).m2m.createToken({ tokenFormat: 'jwt' });
    const { keys } = (await (await fetch(`${t.url}/v1/jwks`)).json()) as { keys: Array<Record<string, string>> };
    const { createPublicKey } = await import('node:crypto');
    const pem = createPublicKey({ key: keys[0]!, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    restore = setEnv({ CLERK_JWT_KEY: pem });
    const recorder = addressRecorder();
    const verified = await createClerkClient({ apiUrl: t.url, fetch: recorder.fetch }).m2m.verify({ token: jwt.token! });
    expect(verified.id).toBe(jwt.id);
    expect(recorder.urls).toEqual([]);
  });
});

describe('web-standard runtime', () => {
  it('reads no environment where there is no process object', () => {
    restore = setEnv({ CLERK_SECRET_KEY: 'sk_test_from_env' });
    expect(readEnv('CLERK_SECRET_KEY')).toBe('sk_test_from_env');
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'process')!;
    Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
    let fromEnv: string | undefined;
    let created = false;
    try {
      fromEnv = readEnv('CLERK_SECRET_KEY');
      created = typeof createClerkClient().m2m.verify === 'function';
    } finally {
      Object.defineProperty(globalThis, 'process', descriptor);
    }
    expect(fromEnv).toBeUndefined();
    expect(created).toBe(true);
  });

  it('src/ imports no node: modules and touches no Node globals except through globalThis', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    walk(join(PACKAGE, 'src'));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      expect(code, file).not.toMatch(/from ['"]node:|import\(['"]node:|require\(/);
      expect(code, file).not.toMatch(/(?<![.\w])(process|Buffer)\s*(\?\.|\.|\[)|(?<![.\w])(__dirname|__filename|setImmediate)\b/);
    }
    const pkg = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toEqual(['jose']);
  });
});
