import type { FastifyRequest } from 'fastify';
import { invalidParam } from '../../domain/errors.js';
import { LIMITS } from '../../domain/limits.js';
import type { TokenFormat } from '../../domain/records.js';
import { sendJson } from '../envelope.js';
import { param, type RouteDeps, type RouteTable } from './route.js';

const createBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    token_format: { type: ['string', 'null'], enum: ['opaque', 'jwt', null] },
    seconds_until_expiration: { type: ['integer', 'null'], minimum: 1, maximum: LIMITS.tokenTtlMax },
    claims: { type: ['object', 'null'] },
    min_remaining_ttl_seconds: { type: ['integer', 'null'], minimum: 0, maximum: LIMITS.tokenTtlMax },
  },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['subject'],
  properties: {
    subject: { type: 'string', maxLength: 64 },
    revoked: { type: 'boolean', default: false },
    expired: { type: 'boolean', default: false },
    limit: { type: 'integer', minimum: 1, maximum: LIMITS.tokensPageMax, default: LIMITS.pageDefault },
    offset: { type: 'integer', minimum: 0, maximum: LIMITS.offsetMax, default: 0 },
  },
} as const;

const revokeBody = {
  type: 'object',
  additionalProperties: false,
  properties: { revocation_reason: { type: ['string', 'null'], maxLength: LIMITS.revocationReasonMax } },
} as const;

// `secret` is what seed-era clients (@clerk/backend 2.0–2.8) send instead of `token`.
const verifyBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    token: { type: 'string', maxLength: 16384 },
    secret: { type: 'string', maxLength: 16384 },
  },
} as const;

type Body<T> = FastifyRequest<{ Body: T }>;

/** `/m2m_tokens…`, registered at the root (as @clerk/backend calls it) and under `/v1`. */
export function registerTokenRoutes(routes: RouteTable, deps: RouteDeps, prefix: '' | '/v1'): void {
  const { tokens, render, now } = deps;
  const base = `${prefix}/m2m_tokens`;

  routes.add({
    method: 'POST',
    url: base,
    credential: 'machine',
    validationStatus: 400,
    schema: { body: createBody },
    handler: async (request, reply) => {
      const { principal } = request;
      const body = (
        request as Body<{
          token_format?: TokenFormat | null;
          seconds_until_expiration?: number | null;
          claims?: Record<string, unknown> | null;
          min_remaining_ttl_seconds?: number | null;
        }>
      ).body;
      const issued = await tokens.create(principal, {
        format: body.token_format ?? 'opaque',
        secondsUntilExpiration: body.seconds_until_expiration ?? null,
        claims: body.claims ?? null,
        minRemainingTtlSeconds: body.min_remaining_ttl_seconds ?? null,
      });
      return sendJson(reply, 201, render.token(issued.record, now(), issued.token));
    },
  });

  routes.add({
    method: 'GET',
    url: base,
    credential: 'instance_or_machine',
    validationStatus: 400,
    schema: { querystring: listQuery },
    handler: async (request, reply) => {
      const { principal } = request;
      const q = request.query as { subject: string; revoked: boolean; expired: boolean; limit: number; offset: number };
      const page = await tokens.list(principal, {
        subject: q.subject,
        includeRevoked: q.revoked,
        includeExpired: q.expired,
        limit: q.limit,
        offset: q.offset,
      });
      const at = now();
      return sendJson(reply, 200, { m2m_tokens: page.rows.map((r) => render.token(r, at)), total_count: page.total });
    },
  });

  routes.add({
    method: 'POST',
    url: `${base}/:m2m_token_id/revoke`,
    credential: 'instance_or_machine',
    validationStatus: 400,
    schema: { body: revokeBody },
    handler: async (request, reply) => {
      const { principal } = request;
      const body = (request as Body<{ revocation_reason?: string | null }>).body;
      const record = await tokens.revoke(principal, param(request, 'm2m_token_id'), body.revocation_reason ?? null);
      return sendJson(reply, 200, render.token(record, now()));
    },
  });

  routes.add({
    method: 'POST',
    url: `${base}/verify`,
    credential: 'instance_or_machine',
    validationStatus: 400,
    schema: { body: verifyBody },
    handler: async (request, reply) => {
      const { principal } = request;
      const { token, secret } = (request as Body<{ token?: string; secret?: string }>).body;
      if (token !== undefined && secret !== undefined && token !== secret) {
        throw invalidParam('token', 'Send the token in `token` (or, for older clients, `secret`), not two different values.');
      }
      const value = token ?? secret;
      if (value === undefined) {
        throw invalidParam('token', 'The parameter `token` is required.', 'form_param_missing');
      }
      const record = await tokens.verify(principal, value);
      return sendJson(reply, 200, render.token(record, now()));
    },
  });
}
