import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/server.js';
import { apiClient, type Call } from './api.js';

export interface TestServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  /** The instance secret key (sk_…). */
  sk: string;
  call: Call;
  /** Creates a machine through the API; returns the create response body. */
  machine(name?: string, options?: { scopedMachines?: string[]; defaultTokenTtl?: number }): Promise<any>;
  /** Mints an opaque token with a machine key; returns the create response body. */
  token(machineKey: string, body?: Record<string, unknown>): Promise<any>;
  stop(): Promise<void>;
}

/** A real Tessera server on 127.0.0.1 with its own temporary data directory. */
export async function startTestServer(options: { dataDir?: string; keepDataDir?: boolean } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    secretKey: undefined,
    masterKey: undefined,
    logLevel: 'silent',
    sqliteSynchronous: 'NORMAL',
  });
  const call = apiClient(server.url);
  const sk = server.secretKey;
  return {
    server,
    url: server.url,
    dataDir,
    sk,
    call,
    async machine(name = 'machine', opts = {}) {
      const body: Record<string, unknown> = { name };
      if (opts.scopedMachines) body.scoped_machines = opts.scopedMachines;
      if (opts.defaultTokenTtl) body.default_token_ttl = opts.defaultTokenTtl;
      const res = await call('POST', '/v1/machines', { key: sk, body });
      if (res.status !== 200) throw new Error(`machine create failed: ${res.status} ${res.text}`);
      return res.body;
    },
    async token(machineKey, body = {}) {
      const res = await call('POST', '/m2m_tokens', { key: machineKey, body });
      if (res.status !== 201) throw new Error(`token create failed: ${res.status} ${res.text}`);
      return res.body;
    },
    async stop() {
      await server.close();
      if (!options.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Receiver R, scoped sender S (S → R) and unscoped sender U: the spec's "machine network". */
export async function machineNetwork(t: TestServer) {
  const receiver = await t.machine('receiver');
  const sender = await t.machine('scoped sender', { scopedMachines: [receiver.id] });
  const unscoped = await t.machine('unscoped sender');
  return { receiver, sender, unscoped };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
