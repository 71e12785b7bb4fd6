import type { FastifyRequest } from 'fastify';
import { LIMITS } from '../../domain/limits.js';
import { sendJson } from '../envelope.js';
import { param, type RouteDeps, type RouteTable } from './route.js';

const name = { type: 'string', minLength: 1, maxLength: LIMITS.machineNameMax, pattern: '\\S' } as const;
const tokenTtl = { type: ['integer', 'null'], minimum: LIMITS.tokenTtlMin, maximum: LIMITS.tokenTtlMax } as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: LIMITS.machinesPageMax, default: LIMITS.pageDefault },
    offset: { type: 'integer', minimum: 0, maximum: LIMITS.offsetMax, default: 0 },
    query: { type: 'string', maxLength: LIMITS.machineNameMax },
    order_by: { type: 'string', pattern: '^[+-]?(name|created_at)$', default: '-created_at' },
  },
} as const;

const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name,
    scoped_machines: {
      type: ['array', 'null'],
      maxItems: LIMITS.scopesPerMachineMax,
      items: { type: 'string', maxLength: 64 },
    },
    default_token_ttl: tokenTtl,
  },
} as const;

const updateBody = {
  type: 'object',
  additionalProperties: false,
  properties: { name, default_token_ttl: tokenTtl },
} as const;

const rotateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['previous_token_ttl'],
  properties: { previous_token_ttl: { type: 'integer', minimum: 0, maximum: LIMITS.previousKeyTtlMax } },
} as const;

const scopeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['to_machine_id'],
  properties: { to_machine_id: { type: 'string', maxLength: 64 } },
} as const;

type Body<T> = FastifyRequest<{ Body: T }>;

/** `/v1/machines…`: instance key only; malformed requests answer 422 (spec 2.2). */
export function registerMachineRoutes(routes: RouteTable, deps: RouteDeps): void {
  const { machines, render } = deps;
  const base = '/v1/machines';

  routes.add({
    method: 'GET',
    url: base,
    credential: 'instance',
    validationStatus: 422,
    schema: { querystring: listQuery },
    handler: async (request, reply) => {
      const q = request.query as { limit: number; offset: number; query?: string; order_by: string };
      const page = await machines.list({
        limit: q.limit,
        offset: q.offset,
        query: q.query === '' ? undefined : q.query,
        orderBy: q.order_by.replace(/^[+-]/, '') as 'name' | 'created_at',
        descending: q.order_by.startsWith('-'),
      });
      return sendJson(reply, 200, { data: page.rows.map((m) => render.machine(m)), total_count: page.total });
    },
  });

  routes.add({
    method: 'POST',
    url: base,
    credential: 'instance',
    validationStatus: 422,
    schema: { body: createBody },
    handler: async (request, reply) => {
      const body = (request as Body<{ name: string; scoped_machines?: string[] | null; default_token_ttl?: number | null }>).body;
      const created = await machines.create({
        name: body.name,
        scopedMachines: body.scoped_machines ?? undefined,
        defaultTokenTtl: body.default_token_ttl ?? undefined,
      });
      return sendJson(reply, 200, render.machine(created, created.secretKey));
    },
  });

  routes.add({
    method: 'GET',
    url: `${base}/:machine_id`,
    credential: 'instance',
    validationStatus: 422,
    handler: async (request, reply) => {
      return sendJson(reply, 200, render.machine(await machines.get(param(request, 'machine_id'))));
    },
  });

  routes.add({
    method: 'PATCH',
    url: `${base}/:machine_id`,
    credential: 'instance',
    validationStatus: 422,
    schema: { body: updateBody },
    handler: async (request, reply) => {
      const body = (request as Body<{ name?: string; default_token_ttl?: number | null }>).body;
      const updated = await machines.update(param(request, 'machine_id'), {
        name: body.name,
        defaultTokenTtl: body.default_token_ttl ?? undefined,
      });
      return sendJson(reply, 200, render.machine(updated));
    },
  });

  routes.add({
    method: 'DELETE',
    url: `${base}/:machine_id`,
    credential: 'instance',
    validationStatus: 422,
    handler: async (request, reply) => {
      const id = param(request, 'machine_id');
      await machines.delete(id);
      return sendJson(reply, 200, { object: 'machine', id, deleted: true });
    },
  });

  routes.add({
    method: 'GET',
    url: `${base}/:machine_id/secret_key`,
    credential: 'instance',
    validationStatus: 422,
    handler: async (request, reply) => {
      const secret = await machines.secretKey(param(request, 'machine_id'));
      return sendJson(reply, 200, { object: 'machine_secret_key', secret });
    },
  });

  routes.add({
    method: 'POST',
    url: `${base}/:machine_id/secret_key/rotate`,
    credential: 'instance',
    validationStatus: 422,
    schema: { body: rotateBody },
    handler: async (request, reply) => {
      const body = (request as Body<{ previous_token_ttl: number }>).body;
      const secret = await machines.rotateSecretKey(param(request, 'machine_id'), body.previous_token_ttl);
      return sendJson(reply, 200, { object: 'machine_secret_key', secret });
    },
  });

  routes.add({
    method: 'POST',
    url: `${base}/:machine_id/scopes`,
    credential: 'instance',
    validationStatus: 422,
    schema: { body: scopeBody },
    handler: async (request, reply) => {
      const body = (request as Body<{ to_machine_id: string }>).body;
      const scope = await machines.createScope(param(request, 'machine_id'), body.to_machine_id);
      return sendJson(reply, 200, {
        object: 'machine_scope',
        from_machine_id: scope.fromMachineId,
        to_machine_id: scope.toMachineId,
        created_at: scope.createdAt,
      });
    },
  });

  routes.add({
    method: 'DELETE',
    url: `${base}/:machine_id/scopes/:other_machine_id`,
    credential: 'instance',
    validationStatus: 422,
    handler: async (request, reply) => {
      const scope = await machines.deleteScope(param(request, 'machine_id'), param(request, 'other_machine_id'));
      return sendJson(reply, 200, {
        object: 'machine_scope',
        from_machine_id: scope.fromMachineId,
        to_machine_id: scope.toMachineId,
        deleted: true,
      });
    },
  });
}
