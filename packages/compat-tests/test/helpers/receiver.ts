/**
 * A receiving service the way a Clerk user writes one: a Hono app whose route calls the
 * published client's `authenticateRequest(c.req.raw, …)`, served on 127.0.0.1 with
 * @hono/node-server and called with fetch. The route answers 200 with what `toAuth()`
 * reports when the request is authenticated and 401 otherwise; both bodies also carry
 * the RequestState fields (status, reason, message, tokenType) so tests can assert them.
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';

/** The parts of a RequestState (2.7.0 and 3.x alike) the receiver reports. */
export interface RequestStateLike {
  status: string;
  isAuthenticated?: boolean;
  reason: string | null;
  message: string | null;
  tokenType: string | null;
  token?: string | null;
  headers?: Headers;
  toAuth(): unknown;
}

/** What a protected route answers. */
export interface ReceiverBody {
  status: string;
  isAuthenticated: boolean;
  reason: string | null;
  message: string | null;
  tokenType: string | null;
  /** The state's x-clerk-auth-* debug headers. */
  debugHeaders: Record<string, string>;
  auth: {
    tokenType: string | null;
    isAuthenticated: boolean;
    id?: string | null;
    subject?: string | null;
    machineId?: string | null;
    scopes?: string[] | null;
    claims?: Record<string, unknown> | null;
    token: string | null;
  } | null;
}

export type Authenticate = (request: Request) => Promise<RequestStateLike>;
/** Framework-style filtering after an `acceptsToken: 'any'` middleware (getAuthObjectForAcceptedToken). */
export type Filter = (authObject: unknown) => unknown;

export interface Receiver {
  url: string;
  /** GET `path` with an optional `Authorization: Bearer <token>`, a raw Authorization value, or a Cookie header. */
  get(path: string, auth?: { bearer?: string; header?: string; cookie?: string }): Promise<{ status: number; body: ReceiverBody }>;
  close(): Promise<void>;
}

async function describeAuth(authObject: unknown): Promise<ReceiverBody['auth']> {
  if (authObject === null || typeof authObject !== 'object') return null;
  const a = authObject as Record<string, unknown> & { getToken?: () => Promise<string | null> };
  const out: NonNullable<ReceiverBody['auth']> = {
    tokenType: (a.tokenType as string | null) ?? null,
    isAuthenticated: a.isAuthenticated === true,
    token: typeof a.getToken === 'function' ? await a.getToken() : null,
  };
  for (const key of ['id', 'subject', 'machineId', 'scopes', 'claims'] as const) {
    if (key in a) (out as Record<string, unknown>)[key] = a[key] ?? null;
  }
  return out;
}

/**
 * Routes:
 * - `/api/protected`: `authenticate(c.req.raw)`; 200 iff the request state is authenticated.
 * - `/api/filtered/:name`: same state passed through `filters[name]` (framework style):
 *   200 iff the filtered auth object is authenticated.
 */
export async function startReceiver(authenticate: Authenticate, filters: Record<string, Filter> = {}): Promise<Receiver> {
  const app = new Hono();

  app.get('/api/protected', async (c) => {
    const state = await authenticate(c.req.raw);
    const isAuthenticated = state.isAuthenticated === true;
    const body: ReceiverBody = {
      status: state.status,
      isAuthenticated,
      reason: state.reason,
      message: state.message,
      tokenType: state.tokenType,
      debugHeaders: Object.fromEntries(state.headers ?? []),
      auth: await describeAuth(state.toAuth()),
    };
    return c.json(body, isAuthenticated ? 200 : 401);
  });

  app.get('/api/filtered/:name', async (c) => {
    const filter = filters[c.req.param('name')];
    if (!filter) return c.json({ error: 'no such filter' }, 500);
    const state = await authenticate(c.req.raw);
    const auth = await describeAuth(filter(state.toAuth()));
    const body: ReceiverBody = {
      status: state.status,
      isAuthenticated: auth?.isAuthenticated === true,
      reason: state.reason,
      message: state.message,
      tokenType: state.tokenType,
      debugHeaders: Object.fromEntries(state.headers ?? []),
      auth,
    };
    return c.json(body, body.isAuthenticated ? 200 : 401);
  });

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    async get(path, auth = {}) {
      const headers: Record<string, string> = {};
      if (auth.bearer !== undefined) headers.authorization = `Bearer ${auth.bearer}`;
      if (auth.header !== undefined) headers.authorization = auth.header;
      if (auth.cookie !== undefined) headers.cookie = auth.cookie;
      const response = await fetch(`${url}${path}`, { headers });
      return { status: response.status, body: (await response.json()) as ReceiverBody };
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets from fetch would hold close() open.
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}
