import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateMasterKey, parseMasterKey } from './crypto/keyring.js';
import { INSTANCE_KEY_PATTERN, mintSecret, SECRET_PREFIX } from './crypto/secrets.js';
import { ConfigError } from './config.js';

export const MASTER_KEY_FILE = 'master.key';
export const SECRET_KEY_FILE = 'secret-key';

export function ensureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

/**
 * Reads `name` from the data dir, or creates it with `generate()` (mode 0600, exclusive
 * create so two processes starting together agree on one value).
 */
function readOrCreateSecretFile(dataDir: string, name: string, generate: () => string): { value: string; created: boolean } {
  const file = join(dataDir, name);
  try {
    writeFileSync(file, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
    return { value: readFileSync(file, 'utf8').trim(), created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600); // never leave a secret readable by others
  return { value: readFileSync(file, 'utf8').trim(), created: false };
}

export function loadMasterKey(dataDir: string, fromEnv: string | undefined): Buffer {
  const text = fromEnv ?? readOrCreateSecretFile(dataDir, MASTER_KEY_FILE, generateMasterKey).value;
  try {
    return parseMasterKey(text);
  } catch (error) {
    throw new ConfigError(`${fromEnv ? 'TESSERA_MASTER_KEY' : join(dataDir, MASTER_KEY_FILE)}: ${(error as Error).message}`);
  }
}

export function loadInstanceSecretKey(
  dataDir: string,
  fromEnv: string | undefined,
): { key: string; generatedFile: string | null } {
  if (fromEnv) return { key: fromEnv, generatedFile: null };
  const { value, created } = readOrCreateSecretFile(dataDir, SECRET_KEY_FILE, () => mintSecret(SECRET_PREFIX.instanceKeyLive));
  if (!INSTANCE_KEY_PATTERN.test(value)) {
    throw new ConfigError(`${join(dataDir, SECRET_KEY_FILE)} does not hold an instance secret key`);
  }
  return { key: value, generatedFile: created ? join(dataDir, SECRET_KEY_FILE) : null };
}
