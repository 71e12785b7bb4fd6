import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, resolveServeConfig } from './config.js';
import { publicKeyPem, type PublicJwk } from './crypto/signing.js';
import { SigningKeys } from './domain/signing-keys.js';
import { openInstance } from './instance.js';
import { SECRET_KEY_FILE } from './secrets-on-disk.js';

/**
 * `tessera keys rotate|public`. With `--url` it asks a running server (the SQLite store is
 * locked by the process that serves it); without, it opens the data dir or database itself.
 */
export async function keysCommand(action: 'rotate' | 'public', argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, 'data-dir': { type: 'string' }, 'database-url': { type: 'string' } },
    strict: true,
  });
  if (values.url) return viaServer(action, values.url, values['data-dir']);
  const rest = argv.filter((_, i) => argv[i] !== '--url' && argv[i - 1] !== '--url');
  const { store, keyring } = await openInstance(resolveServeConfig(rest, process.env));
  try {
    const signingKeys = new SigningKeys(store, keyring);
    await signingKeys.init();
    if (action === 'rotate') {
      const next = await signingKeys.rotate();
      process.stdout.write(`New signing key ${next.kid}; running servers pick it up within a second.\n`);
    } else {
      const current = (await store.listSigningKeys()).find((k) => k.retiredAt === null)!;
      printPem(JSON.parse(current.publicJwk) as PublicJwk);
    }
  } finally {
    await store.close();
  }
}

/** Only the PEM on stdout, so `tessera keys public > key.pem` (or $(…)) is usable as jwtKey. */
function printPem(jwk: PublicJwk): void {
  process.stderr.write(`# kid ${jwk.kid}\n`);
  process.stdout.write(publicKeyPem(jwk));
}

async function viaServer(action: 'rotate' | 'public', url: string, dataDir: string | undefined): Promise<void> {
  const base = url.replace(/\/+$/, '');
  if (action === 'public') {
    // The JWKS lists the newest key first: the one that signs new tokens.
    const jwks = (await request(`${base}/v1/jwks`, { method: 'GET' })) as { keys: PublicJwk[] };
    if (!jwks.keys[0]) throw new ConfigError('The server published no signing key');
    printPem(jwks.keys[0]);
    return;
  }
  const secretKey = process.env.TESSERA_SECRET_KEY || readSecretKey(dataDir ?? process.env.TESSERA_DATA_DIR ?? './.tessera');
  const rotated = (await request(`${base}/v1/jwks/rotate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secretKey}` },
  })) as { kid: string };
  process.stdout.write(`New signing key ${rotated.kid}.\n`);
}

function readSecretKey(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, SECRET_KEY_FILE), 'utf8').trim();
  } catch {
    throw new ConfigError(`No instance secret key: set TESSERA_SECRET_KEY or point --data-dir at the server's data dir`);
  }
}

async function request(url: string, init: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new ConfigError(`Could not reach ${url}: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as { errors?: Array<{ long_message?: string }> } | null;
  if (!response.ok) throw new ConfigError(`${url} answered ${response.status}: ${body?.errors?.[0]?.long_message ?? 'no details'}`);
  return body;
}
