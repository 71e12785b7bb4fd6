import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ConfigError, type ServerConfig } from './config.js';
import { Keyring } from './crypto/keyring.js';
import { newInstanceId } from './domain/ids.js';
import { MachineService } from './domain/machines.js';
import { TokenUsageRecorder } from './domain/token-usage.js';
import { TokenService } from './domain/tokens.js';
import { buildApp } from './http/app.js';
import { Authenticator } from './http/auth.js';
import { Renderer } from './http/render.js';
import { ensureDataDir, loadInstanceSecretKey, loadMasterKey } from './secrets-on-disk.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

export const SQLITE_FILE = 'tessera.db';
const KEY_CHECK = 'tessera master key check';

export interface RunningServer {
  url: string;
  port: number;
  instanceId: string;
  /** The instance key and, when this start generated it, the file it was written to. */
  secretKey: string;
  generatedSecretKeyFile: string | null;
  /** Stops accepting, finishes in-flight requests, flushes usage times, closes the store. */
  close(): Promise<void>;
}

/**
 * Refuses to start with a master key that did not write this database: otherwise every
 * secret would silently fail to verify or decrypt.
 */
async function checkMasterKey(store: Store, keyring: Keyring): Promise<void> {
  const sealed = await store.getOrInitMeta('master_key_check', () => keyring.seal(KEY_CHECK, 'key_check'));
  try {
    if (keyring.open(sealed, 'key_check') === KEY_CHECK) return;
  } catch {
    // fall through
  }
  throw new ConfigError('The master key does not match this database (TESSERA_MASTER_KEY or master.key changed).');
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  ensureDataDir(config.dataDir);
  const keyring = new Keyring(loadMasterKey(config.dataDir, config.masterKey));
  const instanceKey = loadInstanceSecretKey(config.dataDir, config.secretKey);
  const store: Store = new SqliteStore(join(config.dataDir, SQLITE_FILE), { synchronous: config.sqliteSynchronous });
  try {
    await checkMasterKey(store, keyring);
  } catch (error) {
    await store.close();
    throw error;
  }
  const instanceId = await store.getOrInitMeta('instance_id', newInstanceId);

  let ready = false;
  const now = Date.now;
  const usage = new TokenUsageRecorder(store, 1000);
  const deps = {
    auth: new Authenticator(store, keyring, instanceKey.key, now),
    machines: new MachineService(store, keyring, now),
    tokens: new TokenService(store, keyring, usage, null, now),
    render: new Renderer(instanceId),
    now,
  };
  const app = buildApp({ deps, logLevel: config.logLevel, isReady: () => ready });
  usage.start();
  await app.listen({ host: config.host, port: config.port });
  ready = true;
  const port = (app.server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    instanceId,
    secretKey: instanceKey.key,
    generatedSecretKeyFile: instanceKey.generatedFile,
    close() {
      closing ??= (async () => {
        ready = false;
        await app.close();
        await usage.stop();
        await store.close();
      })();
      return closing;
    },
  };
}
