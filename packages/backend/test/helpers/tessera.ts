import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../../server/src/index.js';
import { createClerkClient, type ClerkClient, type ClerkClientOptions, type Machine } from '../../src/index.js';

export interface Tessera {
  server: RunningServer;
  url: string;
  /** The instance secret key (sk_…). */
  sk: string;
  /** A client with the instance key. */
  admin: ClerkClient;
  /** A client for this server; env is ignored only for what is given here. */
  client(options?: ClerkClientOptions): ClerkClient;
  stop(): Promise<void>;
}

/** A real Tessera server on 127.0.0.1:0 with a temporary data directory (or the one given). */
export async function startTessera(dataDir = mkdtempSync(join(tmpdir(), 'tessera-sdk-test-'))): Promise<Tessera> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    secretKey: undefined,
    masterKey: undefined,
    logLevel: 'silent',
    sqliteSynchronous: 'NORMAL',
  });
  const client = (options: ClerkClientOptions = {}) => createClerkClient({ apiUrl: server.url, ...options });
  return {
    server,
    url: server.url,
    sk: server.secretKey,
    admin: client({ secretKey: server.secretKey }),
    client,
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type MachineWithKey = Machine & { secretKey: string };

/** Receiver R, scoped sender S (S → R) and unscoped sender U: the spec's "machine network" (section 5). */
export async function machineNetwork(t: Tessera) {
  const receiver = (await t.admin.machines.create({ name: 'Primary API Server' })) as MachineWithKey;
  const sender = (await t.admin.machines.create({ name: 'Scoped Sender', scopedMachines: [receiver.id] })) as MachineWithKey;
  const unscoped = (await t.admin.machines.create({ name: 'Unscoped Sender' })) as MachineWithKey;
  return { receiver, sender, unscoped };
}

/** A request as a framework would hand it to `authenticateRequest`. */
export function requestWith(authorization?: string, url = 'http://receiver.test/protected'): Request {
  const headers = new Headers();
  if (authorization !== undefined) headers.set('authorization', authorization);
  return new Request(url, { headers });
}

export const bearer = (token: string) => requestWith(`Bearer ${token}`);

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: unknown;
}

/**
 * A fetch that passes every request through to the real server and records what was
 * sent: for asserting the wire format the SDK produces.
 */
export function recordingFetch(): { fetch: typeof fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const recorder: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const text = init?.body === undefined || init.body === null ? '' : String(init.body);
    requests.push({
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: text === '' ? undefined : JSON.parse(text),
    });
    return fetch(input, init);
  };
  return { fetch: recorder, requests };
}
