import type { AddressInfo } from 'node:net';
import type { ServerConfig } from './config.js';
import { openInstance } from './instance.js';
import { MachineService } from './domain/machines.js';
import { JwtTokens } from './domain/jwt-tokens.js';
import { SigningKeys } from './domain/signing-keys.js';
import { TokenUsageRecorder } from './domain/token-usage.js';
import { TokenService } from './domain/tokens.js';
import { buildApp } from './http/app.js';
import { Authenticator } from './http/auth.js';
import { Renderer } from './http/render.js';

export interface RunningServer {
  url: string;
  /** The URL tokens name as their issuer (`iss`). */
  publicUrl: string;
  port: number;
  instanceId: string;
  /** The instance key and, when this start generated it, the file it was written to. */
  secretKey: string;
  generatedSecretKeyFile: string | null;
  /** Stops accepting, finishes in-flight requests, flushes usage times, closes the store. */
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const { store, keyring, instanceId, instanceKey } = await openInstance(config);
  let ready = false;
  let publicUrl = config.publicUrl ?? '';
  const now = Date.now;
  const usage = new TokenUsageRecorder(store);
  const signingKeys = new SigningKeys(store, keyring, now);
  await signingKeys.init();
  const jwt = new JwtTokens(store, signingKeys, () => publicUrl);
  const deps = {
    auth: new Authenticator(store, keyring, instanceKey.key, now),
    machines: new MachineService(store, keyring, now),
    tokens: new TokenService(store, keyring, usage, jwt, now),
    render: new Renderer(instanceId),
    signingKeys,
    now,
  };
  const app = buildApp({ deps, logLevel: config.logLevel, isReady: () => ready, ping: () => store.ping() });
  usage.start();
  await app.listen({ host: config.host, port: config.port });
  ready = true;
  const port = (app.server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  publicUrl ||= `http://${host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    publicUrl,
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
