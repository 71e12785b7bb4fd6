import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * A syntactically valid development publishable key. `authenticateRequest` needs one for
 * every `acceptsToken` other than exactly 'm2m_token' or 'api_key'; M2M flows never use
 * the Frontend API it names.
 */
export const PUBLISHABLE_KEY = `pk_test_${Buffer.from('example.clerk.accounts.dev$').toString('base64')}`;

/** The published SDK's own test for "this is a JWT" (three base64url segments). */
export const JWT_SHAPE = /^[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+$/;

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to be rejected, but it resolved');
}

/** Resolves once the wall clock is past `epochMs` (used to let a short-lived token expire). */
export async function waitUntilPast(epochMs: number): Promise<void> {
  while (Date.now() <= epochMs) await new Promise((resolve) => setTimeout(resolve, Math.min(250, epochMs - Date.now() + 10)));
}

const TESSERA_BIN = fileURLToPath(new URL('../../../server/bin/tessera.js', import.meta.url));

/** `tessera keys public --url <server>`: the CLI's standard output, verbatim. */
export async function cliPublicKey(serverUrl: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [TESSERA_BIN, 'keys', 'public', '--url', serverUrl], {
    env: { ...process.env, TESSERA_LOG_LEVEL: 'silent' },
  });
  return stdout;
}

/** Only the PEM block of a text (what a user pastes into CLERK_JWT_KEY). */
export function pemBlock(text: string): string {
  const match = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/.exec(text);
  if (!match) throw new Error(`no PEM block in: ${text}`);
  return match[0];
}
