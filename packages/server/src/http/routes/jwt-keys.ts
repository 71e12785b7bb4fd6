import { sendJson } from '../envelope.js';
import type { RouteDeps, RouteTable } from './route.js';

// Receivers cache the JWKS; a new key after rotation is found through the unknown-`kid` refetch.
const JWKS_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=60';

/** Public keys, signing-key rotation, and what a verifying SDK needs to apply our rules locally. */
export function registerJwtRoutes(routes: RouteTable, deps: RouteDeps): void {
  const { signingKeys, tokens, now } = deps;

  // Public keys are public: any credential or none (DESIGN decision 4).
  for (const url of ['/v1/jwks', '/.well-known/jwks.json']) {
    routes.add({
      method: 'GET',
      url,
      credential: 'none',
      validationStatus: 400,
      handler: async (_request, reply) => {
        reply.header('cache-control', JWKS_CACHE_CONTROL);
        return sendJson(reply, 200, await signingKeys.jwks());
      },
    });
  }

  routes.add({
    method: 'POST',
    url: '/v1/jwks/rotate',
    credential: 'instance',
    validationStatus: 400,
    handler: async (_request, reply) => {
      const next = await signingKeys.rotate();
      return sendJson(reply, 200, { object: 'signing_key', kid: next.kid, created_at: next.createdAt });
    },
  });

  // Which machine a machine key belongs to, so an SDK can apply the scope rule (aud) to JWTs.
  routes.add({
    method: 'GET',
    url: '/v1/machine_identity',
    credential: 'machine',
    validationStatus: 400,
    handler: async (request, reply) => {
      const { principal } = request;
      if (principal.kind !== 'machine') throw new Error('unreachable: the route takes machine keys only');
      return sendJson(reply, 200, { object: 'machine_identity', machine_id: principal.machineId, instance_id: deps.render.instanceId });
    },
  });

  // Revoked JWTs not yet expired (for a machine key: those it could receive); SDKs pull and cache it.
  routes.add({
    method: 'GET',
    url: '/v1/jwt_revocations',
    credential: 'instance_or_machine',
    validationStatus: 400,
    handler: async (request, reply) => {
      const { principal } = request;
      const at = now();
      const ids = await tokens.revokedJwtIds(principal);
      return sendJson(reply, 200, { object: 'jwt_revocation_list', ids, generated_at: at });
    },
  });
}
