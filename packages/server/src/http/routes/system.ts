import { TesseraError } from '../../domain/errors.js';
import { sendJson } from '../envelope.js';
import type { RouteDeps, RouteTable } from './route.js';

export function registerSystemRoutes(
  routes: RouteTable,
  deps: RouteDeps,
  isReady: () => boolean,
  ping?: () => Promise<void>,
): void {
  routes.add({
    method: 'GET',
    url: '/healthz',
    credential: 'none',
    validationStatus: 400,
    handler: async (_request, reply) => {
      if (!isReady()) throw new TesseraError('unavailable', 'not_ready', 'Not ready', 'The server is starting or stopping.');
      await ping?.(); // an unreachable database answers 503 database_unavailable
      return sendJson(reply, 200, { status: 'ok' });
    },
  });

  // Framework middleware with `acceptsToken: 'any'` sends every ak_/oat_ bearer value to
  // these routes. Tessera has no API keys or OAuth tokens: a credentialed caller learns
  // "not found", which the published SDK maps to a clean signed-out state.
  const notIssuedHere = [
    { path: '/api_keys/verify', code: 'api_key_not_found', what: 'API keys' },
    { path: '/oauth_applications/access_tokens/verify', code: 'oauth_token_not_found', what: 'OAuth access tokens' },
  ];
  for (const { path, code, what } of notIssuedHere) {
    for (const prefix of ['', '/v1']) {
      routes.add({
        method: 'POST',
        url: `${prefix}${path}`,
        credential: 'instance_or_machine',
        validationStatus: 400,
        handler: async () => {
          throw new TesseraError('not_found', code, 'not found', `This server does not issue ${what}.`);
        },
      });
    }
  }
}
