import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolateSdkEnv, SDK_ENV } from './helpers/env.js';
import { startTessera, type Tessera } from './helpers/tessera.js';

isolateSdkEnv();

// The example programs as a person runs them: `node <file>`, configured by environment,
// importing the built `@tessera/backend` (npm test builds before it runs).
const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');

let t: Tessera;
beforeAll(async () => {
  t = await startTessera();
});
afterAll(async () => {
  await t?.stop();
});

/** The parent's environment without any SDK variable, plus `env`. */
function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const key of SDK_ENV) delete base[key];
  return { ...base, ...env };
}

async function run(file: string, env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [join(EXAMPLES, file), ...args], { env: environment(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout: stdout.trim(), stderr };
}

/** `export NAME=value  # comment` lines → { NAME: value }. */
const exportsOf = (text: string) =>
  Object.fromEntries([...text.matchAll(/^export (\w+)=(\S+)/gm)].map((m) => [m[1]!, m[2]!]));

describe('examples/seed', () => {
  it('setup, create, verify, revoke, and verify again (refused), configured only by environment', async () => {
    const base = { TESSERA_API_URL: t.url, CLERK_SECRET_KEY: t.sk };
    const setup = await run('seed/setup.mjs', base);
    expect(setup.code, setup.stderr).toBe(0);
    const keys = exportsOf(setup.stdout);
    expect(keys.CLERK_MACHINE_SECRET_KEY).toMatch(/^ak_/);
    const env = { ...base, CLERK_MACHINE_SECRET_KEY: keys.CLERK_MACHINE_SECRET_KEY! };

    const created = await run('seed/create-token.mjs', env);
    expect(created.code, created.stderr).toBe(0);
    const token = JSON.parse(created.stdout) as { id: string; secret: string };
    expect(token.secret).toMatch(/^mt_/);

    // The instance-key tool runs without the sender's machine key in its environment.
    const verified = await run('seed/verify-token.mjs', base, [token.secret]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ id: token.id });

    const revoked = await run('seed/revoke-token.mjs', env, [token.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ id: token.id, revoked: true, revocationReason: 'Revoked by user' });

    const again = await run('seed/verify-token.mjs', base, [token.secret]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('TesseraAPIResponseError');
    expect(again.stderr).toContain('token_revoked');
  });
});

describe('examples/hono-receiver', () => {
  let receiver: ChildProcess | undefined;
  afterAll(async () => {
    if (receiver && receiver.exitCode === null) {
      receiver.kill('SIGTERM');
      await once(receiver, 'exit');
    }
  });

  it('the receiver admits a scoped sender (opaque and JWT) and refuses an unscoped one', async () => {
    const setup = await run('seed/setup.mjs', { TESSERA_API_URL: t.url, CLERK_SECRET_KEY: t.sk });
    const keys = exportsOf(setup.stdout);
    const unscoped = await t.admin.machines.create({ name: 'outsider' });

    receiver = spawn(process.execPath, [join(EXAMPLES, 'hono-receiver/server.mjs')], {
      env: environment({ TESSERA_API_URL: t.url, CLERK_MACHINE_SECRET_KEY: keys.RECEIVER_MACHINE_SECRET_KEY!, PORT: '0' }),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const receiverUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      receiver!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      receiver!.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    });

    const send = (machineKey: string, tokenFormat = 'opaque') =>
      run('hono-receiver/sender.mjs', { TESSERA_API_URL: t.url, CLERK_MACHINE_SECRET_KEY: machineKey, RECEIVER_URL: receiverUrl, TOKEN_FORMAT: tokenFormat });

    for (const format of ['opaque', 'jwt']) {
      const ok = await send(keys.CLERK_MACHINE_SECRET_KEY!, format);
      expect(ok.code, ok.stderr).toBe(0);
      const [status, body] = [ok.stdout.slice(0, 3), JSON.parse(ok.stdout.slice(4))];
      expect(status).toBe('200');
      expect(body).toMatchObject({ tokenType: 'm2m_token', claims: { job: 'nightly-report' } });
      expect(body.subject).toMatch(/^mch_/);
    }

    const refused = await send(unscoped.secretKey!);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('401 {"error":"unauthorized","reason":"token-invalid"}');
  });
});
