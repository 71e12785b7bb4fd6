/**
 * The current published client (@clerk/backend 3.x), `machines` namespace, against a real
 * Tessera server: get, list, create, update, delete, getSecretKey, rotateSecretKey,
 * createScope, deleteScope, and the error objects the client builds from our envelope.
 */
import { createClerkClient, type Machine } from '@clerk/backend';
import { isClerkAPIResponseError } from '@clerk/backend/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/test/helpers/server.js';
import { rejectionOf } from './helpers/util.js';

type Client = ReturnType<typeof createClerkClient>;

let t: TestServer;
let admin: Client;
let R: Machine;

beforeAll(async () => {
  t = await startTestServer();
  admin = createClerkClient({ apiUrl: t.url, secretKey: t.sk });
  R = await admin.machines.create({ name: 'Primary API Server' });
});
afterAll(async () => {
  await t?.stop();
});

const machineClient = (secretKey: string) => createClerkClient({ apiUrl: t.url, machineSecretKey: secretKey });

describe('machines.create / get', () => {
  it('create({ name, scopedMachines, defaultTokenTtl }) returns a Machine with its secret key and nested scoped machines', async () => {
    const created = await admin.machines.create({ name: 'Billing Worker', scopedMachines: [R.id], defaultTokenTtl: 900 });
    expect(created.id).toMatch(/^mch_\w{27}$/);
    expect(created.name).toBe('Billing Worker');
    expect(created.instanceId).toMatch(/^ins_/);
    expect(created.defaultTokenTtl).toBe(900);
    expect(created.secretKey).toMatch(/^ak_\w+$/);
    expect(created.createdAt).toBeGreaterThan(1e12); // milliseconds
    expect(created.updatedAt).toBe(created.createdAt);
    expect(created.scopedMachines).toHaveLength(1);
    expect(created.scopedMachines[0]).toMatchObject({
      id: R.id,
      name: 'Primary API Server',
      instanceId: created.instanceId,
      createdAt: R.createdAt,
      defaultTokenTtl: 3600,
      scopedMachines: [],
    });
    expect(created.scopedMachines[0]!.secretKey).toBeUndefined();
  });

  it('get(id) returns the same machine without its secret key', async () => {
    const created = await admin.machines.create({ name: 'Getter', scopedMachines: [R.id] });
    const fetched = await admin.machines.get(created.id);
    expect(fetched).toMatchObject({ id: created.id, name: 'Getter', defaultTokenTtl: 3600, createdAt: created.createdAt });
    expect(fetched.scopedMachines.map((m) => m.id)).toEqual([R.id]);
    expect(fetched.secretKey).toBeUndefined();
  });

  it('get of an unknown machine: ClerkAPIResponseError 404 resource_not_found', async () => {
    const error = await rejectionOf(admin.machines.get('mch_000000000000000000000000000'));
    expect(isClerkAPIResponseError(error)).toBe(true);
    expect(error.status).toBe(404);
    expect(error.message).toBe('Not Found');
    expect(error.errors).toHaveLength(1);
    expect(error.errors[0].code).toBe('resource_not_found');
    expect(error.errors[0].message).toBe('not found');
    expect(error.errors[0].longMessage).toBe('No machine was found with id mch_000000000000000000000000000.');
    expect(error.clerkTraceId).toMatch(/\S/);
  });

  it('create with an invalid name: 422 naming the parameter; with an unknown scoped machine: 404', async () => {
    const invalid = await rejectionOf(admin.machines.create({ name: '' }));
    expect(invalid.status).toBe(422);
    expect(invalid.errors[0].meta.paramName).toBe('name');
    const unknown = await rejectionOf(admin.machines.create({ name: 'x', scopedMachines: ['mch_000000000000000000000000000'] }));
    expect(unknown.status).toBe(404);
    expect(unknown.errors[0].code).toBe('resource_not_found');
    expect(unknown.errors[0].meta.paramName).toBe('scoped_machines');
  });

  it('a machine key, a wrong instance key and no key are refused; the trace ID differs per request', async () => {
    const machineKey = await rejectionOf(createClerkClient({ apiUrl: t.url, secretKey: R.secretKey! }).machines.get(R.id));
    expect(machineKey.status).toBe(401);
    expect(machineKey.errors[0].code).toBe('clerk_key_invalid');
    const wrong = await rejectionOf(createClerkClient({ apiUrl: t.url, secretKey: 'sk_test_wrong' }).machines.get(R.id));
    expect(wrong.status).toBe(401);
    expect(wrong.errors[0].code).toBe('clerk_key_invalid');
    expect(wrong.errors[0].message).toBe('The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.');
    expect(wrong.clerkTraceId).not.toBe(machineKey.clerkTraceId);
    // Without a secret key the client refuses before sending anything.
    const local = await rejectionOf(createClerkClient({ apiUrl: t.url }).machines.get(R.id));
    expect(isClerkAPIResponseError(local)).toBe(false);
    expect(local.message).toMatch(/Missing Clerk Secret Key/);
  });
});

describe('machines.list', () => {
  const names = ['zz-list-charlie', 'zz-list-alpha', 'zz-list-bravo'];
  const ids: string[] = []; // in creation order

  beforeAll(async () => {
    for (const name of names) ids.push((await admin.machines.create({ name })).id);
  });

  it('query does a partial match on the name; default order is newest first; { data, totalCount }', async () => {
    const page = await admin.machines.list({ query: 'zz-list' });
    expect(page.totalCount).toBe(3);
    expect(page.data.map((m) => m.id)).toEqual([...ids].reverse());
    for (const machine of page.data) {
      expect(Array.isArray(machine.scopedMachines)).toBe(true);
      expect(machine.secretKey).toBeUndefined();
    }
  });

  it('query with a machine ID matches exactly that machine', async () => {
    const page = await admin.machines.list({ query: ids[1]! });
    expect(page.data.map((m) => m.id)).toEqual([ids[1]]);
    expect(page.totalCount).toBe(1);
  });

  it('orderBy name, -name, +created_at', async () => {
    const byName = await admin.machines.list({ query: 'zz-list', orderBy: 'name' });
    expect(byName.data.map((m) => m.name)).toEqual(['zz-list-alpha', 'zz-list-bravo', 'zz-list-charlie']);
    const byNameDesc = await admin.machines.list({ query: 'zz-list', orderBy: '-name' });
    expect(byNameDesc.data.map((m) => m.name)).toEqual(['zz-list-charlie', 'zz-list-bravo', 'zz-list-alpha']);
    const oldestFirst = await admin.machines.list({ query: 'zz-list', orderBy: '+created_at' });
    expect(oldestFirst.data.map((m) => m.id)).toEqual(ids);
  });

  it('limit and offset page through; totalCount counts every match', async () => {
    const page = await admin.machines.list({ query: 'zz-list', orderBy: 'name', limit: 2, offset: 1 });
    expect(page.totalCount).toBe(3);
    expect(page.data.map((m) => m.name)).toEqual(['zz-list-bravo', 'zz-list-charlie']);
  });

  it('a malformed orderBy is a 422', async () => {
    const error = await rejectionOf(admin.machines.list({ orderBy: 'secret' as never }));
    expect(error.status).toBe(422);
    expect(error.errors[0].meta.paramName).toBe('order_by');
  });
});

describe('machines.update / delete', () => {
  it('update sends only the given fields', async () => {
    const created = await admin.machines.create({ name: 'Before', defaultTokenTtl: 600 });
    const renamed = await admin.machines.update({ machineId: created.id, name: 'After' });
    expect(renamed).toMatchObject({ id: created.id, name: 'After', defaultTokenTtl: 600 });
    expect(renamed.updatedAt).toBeGreaterThanOrEqual(created.updatedAt);
    const retimed = await admin.machines.update({ machineId: created.id, defaultTokenTtl: 60 });
    expect(retimed).toMatchObject({ name: 'After', defaultTokenTtl: 60 });
    const token = await machineClient(created.secretKey!).m2m.createToken();
    expect(token.expiration! - token.createdAt).toBe(60 * 1000);

    // Nothing to change: the client sends no body at all; the machine comes back as it is.
    expect(await admin.machines.update({ machineId: created.id })).toMatchObject({ name: 'After', defaultTokenTtl: 60 });

    const unknown = await rejectionOf(admin.machines.update({ machineId: 'mch_000000000000000000000000000', name: 'x' }));
    expect(unknown.status).toBe(404);
  });

  it('delete returns a DeletedObject; the machine, its scopes and its tokens are gone', async () => {
    const doomed = await admin.machines.create({ name: 'Doomed', scopedMachines: [R.id] });
    const caller = await admin.machines.create({ name: 'Caller of doomed', scopedMachines: [doomed.id] });
    const token = await machineClient(doomed.secretKey!).m2m.createToken({ secondsUntilExpiration: 600 });

    const deleted: any = await admin.machines.delete(doomed.id);
    expect(deleted).toEqual({ object: 'machine', id: doomed.id, slug: null, deleted: true });

    expect((await rejectionOf(admin.machines.get(doomed.id))).status).toBe(404);
    expect((await admin.machines.get(caller.id)).scopedMachines).toEqual([]);
    expect((await rejectionOf(admin.m2m.verify({ token: token.token! }))).status).toBe(404);
    expect((await rejectionOf(machineClient(doomed.secretKey!).m2m.createToken())).status).toBe(401);
    expect((await rejectionOf(admin.machines.delete(doomed.id))).status).toBe(404);
  });
});

describe('machines.getSecretKey / rotateSecretKey', () => {
  it('getSecretKey returns the key given at creation', async () => {
    const created = await admin.machines.create({ name: 'Key holder' });
    const key = await admin.machines.getSecretKey(created.id);
    expect(key.secret).toBe(created.secretKey);
  });

  it('rotateSecretKey({ previousTokenTtl: 0 }): new key at once, old key refused, old tokens still valid', async () => {
    const created = await admin.machines.create({ name: 'Rotator', scopedMachines: [R.id] });
    const before = await machineClient(created.secretKey!).m2m.createToken({ secondsUntilExpiration: 600 });
    const rotated = await admin.machines.rotateSecretKey({ machineId: created.id, previousTokenTtl: 0 });
    expect(rotated.secret).toMatch(/^ak_/);
    expect(rotated.secret).not.toBe(created.secretKey);
    expect((await admin.machines.getSecretKey(created.id)).secret).toBe(rotated.secret);

    const old = await rejectionOf(machineClient(created.secretKey!).m2m.createToken());
    expect(old.status).toBe(401);
    expect(old.errors[0].code).toBe('machine_secret_key_invalid');
    expect((await machineClient(rotated.secret).m2m.createToken()).subject).toBe(created.id);
    expect((await machineClient(R.secretKey!).m2m.verify({ token: before.token! })).id).toBe(before.id);
  });

  it('rotateSecretKey({ previousTokenTtl: 3600 }): both keys work during the grace period', async () => {
    const created = await admin.machines.create({ name: 'Graceful' });
    const rotated = await admin.machines.rotateSecretKey({ machineId: created.id, previousTokenTtl: 3600 });
    expect((await machineClient(created.secretKey!).m2m.createToken()).subject).toBe(created.id);
    expect((await machineClient(rotated.secret).m2m.createToken()).subject).toBe(created.id);
  });

  it('rotateSecretKey with previousTokenTtl above 8 hours is a 422', async () => {
    const error = await rejectionOf(admin.machines.rotateSecretKey({ machineId: R.id, previousTokenTtl: 28801 }));
    expect(error.status).toBe(422);
    expect(error.errors[0].meta.paramName).toBe('previous_token_ttl');
  });
});

describe('machines.createScope / deleteScope', () => {
  it('createScope returns a MachineScope; the scope shows in scopedMachines and in new tokens', async () => {
    const from = await admin.machines.create({ name: 'Scope from' });
    const scope = await admin.machines.createScope(from.id, R.id);
    expect(scope.fromMachineId).toBe(from.id);
    expect(scope.toMachineId).toBe(R.id);
    expect(scope.createdAt).toBeGreaterThan(1e12);
    expect(scope.deleted).toBeUndefined();
    expect((await admin.machines.get(from.id)).scopedMachines.map((m) => m.id)).toEqual([R.id]);
    expect((await machineClient(from.secretKey!).m2m.createToken()).scopes).toEqual([R.id]);
  });

  it('a duplicate scope is a 409; an unknown target a 404', async () => {
    const from = await admin.machines.create({ name: 'Dup from', scopedMachines: [R.id] });
    const duplicate = await rejectionOf(admin.machines.createScope(from.id, R.id));
    expect(duplicate.status).toBe(409);
    expect(duplicate.errors[0].meta.paramName).toBe('to_machine_id');
    const unknown = await rejectionOf(admin.machines.createScope(from.id, 'mch_000000000000000000000000000'));
    expect(unknown.status).toBe(404);
    expect(unknown.errors[0].meta.paramName).toBe('to_machine_id');
  });

  it('deleteScope: the client returns a DeletedObject with id null (published-client quirk, spec 6.11)', async () => {
    const from = await admin.machines.create({ name: 'Unscope from', scopedMachines: [R.id] });
    const minted = await machineClient(from.secretKey!).m2m.createToken({ secondsUntilExpiration: 600 });
    const removed: any = await admin.machines.deleteScope(from.id, R.id);
    // The wire body is { object: 'machine_scope', from_machine_id, to_machine_id, deleted: true };
    // the client maps any object carrying `deleted` to DeletedObject, dropping both IDs.
    expect(removed).toEqual({ object: 'machine_scope', id: null, slug: null, deleted: true });
    expect(removed.fromMachineId).toBeUndefined();

    expect((await admin.machines.get(from.id)).scopedMachines).toEqual([]);
    expect((await machineClient(from.secretKey!).m2m.createToken()).scopes).toEqual([]);
    // Tokens keep the scopes they were minted with (spec 2.2).
    expect((await machineClient(R.secretKey!).m2m.verify({ token: minted.token! })).scopes).toEqual([R.id]);
    expect((await rejectionOf(admin.machines.deleteScope(from.id, R.id))).status).toBe(404);
  });
});

describe('outside machine auth', () => {
  it('other Backend API namespaces are not served: 404 resource_not_found', async () => {
    const error = await rejectionOf(admin.users.getUserList());
    expect(isClerkAPIResponseError(error)).toBe(true);
    expect(error.status).toBe(404);
    expect(error.errors[0].code).toBe('resource_not_found');
  });
});
