import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny HTTP server for failures a healthy Tessera never produces (5xx, 429, silence).
 * Not a stand-in for Tessera: it answers every request the same way and counts them.
 */
export interface FaultInjector {
  url: string;
  /** Requests received, as "METHOD /path". */
  requests: string[];
  stop(): Promise<void>;
}

export type Fault = 'never-answer' | { status: number; headers?: Record<string, string>; body?: unknown };

export async function startFaultInjector(fault: Fault): Promise<FaultInjector> {
  const requests: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests.push(`${request.method} ${request.url?.split('?')[0]}`);
    request.resume();
    if (fault === 'never-answer') return;
    response.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
    response.end(JSON.stringify(fault.body ?? { errors: [{ code: 'internal_error', message: 'Internal error', long_message: 'Injected.' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on which nothing listens: a port that was just freed. */
export async function deadUrl(): Promise<string> {
  const injector = await startFaultInjector({ status: 200 });
  await injector.stop();
  return injector.url;
}
