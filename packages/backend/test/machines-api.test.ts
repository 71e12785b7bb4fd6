import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeletedObject, Machine, MachineScope, MachineSecretKey, TesseraAPIResponseError } from '../src/index.js';
import { isolateSdkEnv } from './helpers/env.js';
import { recordingFetch, startTessera, type Tessera } from './helpers/tessera.js';

isolateSdkEnv();

let t: Tessera;
beforeAll(async () => {
  t = await startTessera();
});
afterAll(async () => {
  await t?.stop();
});

const recorded = () => {
  const recorder = recordingFetch();
  return { recorder, admin: t.client({ secretKey: t.sk, fetch: recorder.fetch }) };
};
const wire = (r: { method: string; url: URL; body: unknown; headers: Headers }) => [r.method, r.url.pathname + r.url.search, r.body];

describe('machines', () => {
  it('create: snake-cased body, Machine with secretKey and nested scoped machines', async () => {
    const { recorder, admin } = recorded();
    const target = await admin.machines.create({ name: 'ledger-api' });
    const machine = await admin.machines.create({ name: 'billing-worker', scopedMachines: [target.id], defaultTokenTtl: 600 });
    expect(wire(recorder.requests[1]!)).toEqual(['POST', '/v1/machines', { name: 'billing-worker', scoped_machines: [target.id], default_token_ttl: 600 }]);
    expect(recorder.requests[1]!.headers.get('authorization')).toBe(`Bearer ${t.sk}`);
    expect(machine).toBeInstanceOf(Machine);
    expect(machine).toMatchObject({ name: 'billing-worker', defaultTokenTtl: 600 });
    expect(machine.id).toMatch(/^mch_\w{27}$/);
    expect(machine.instanceId).toMatch(/^ins_/);
    expect(machine.secretKey).toMatch(/^ak_/);
    expect(machine.createdAt).toBe(machine.updatedAt);
    expect(machine.scopedMachines).toHaveLength(1);
    expect(machine.scopedMachines[0]).toBeInstanceOf(Machine);
    expect(machine.scopedMachines[0]).toMatchObject({ id: target.id, name: 'ledger-api', scopedMachines: [] });
  });

  it('get: no secret key in the answer', async () => {
    const { recorder, admin } = recorded();
    const created = await admin.machines.create({ name: 'getter' });
    const machine = await admin.machines.get(created.id);
    expect(wire(recorder.requests[1]!)).toEqual(['GET', `/v1/machines/${created.id}`, undefined]);
    expect(machine).toMatchObject({ id: created.id, name: 'getter', scopedMachines: [] });
    expect(machine.secretKey).toBeUndefined();
  });

  it('list: limit, offset, query and order_by in the query; { data, totalCount }', async () => {
    const { recorder, admin } = recorded();
    for (const name of ['list-a', 'list-b', 'list-c']) await admin.machines.create({ name });
    const page = await admin.machines.list({ limit: 2, offset: 1, query: 'list-', orderBy: '+name' });
    expect(wire(recorder.requests[3]!)).toEqual(['GET', '/v1/machines?limit=2&offset=1&query=list-&order_by=%2Bname', undefined]);
    expect(page.totalCount).toBe(3);
    expect(page.data.map((m) => m.name)).toEqual(['list-b', 'list-c']);
    expect(page.data[0]).toBeInstanceOf(Machine);
    // offset 0 is falsy: never sent, like @clerk/backend.
    await admin.machines.list({ offset: 0 });
    expect(recorder.requests[4]!.url.search).toBe('');
  });

  it('update: PATCH with only the fields given', async () => {
    const { recorder, admin } = recorded();
    const created = await admin.machines.create({ name: 'before', defaultTokenTtl: 100 });
    const renamed = await admin.machines.update({ machineId: created.id, name: 'after' });
    expect(wire(recorder.requests[1]!)).toEqual(['PATCH', `/v1/machines/${created.id}`, { name: 'after' }]);
    expect(renamed).toMatchObject({ id: created.id, name: 'after', defaultTokenTtl: 100 });
    const retimed = await admin.machines.update({ machineId: created.id, defaultTokenTtl: 200 });
    expect(recorder.requests[2]!.body).toEqual({ default_token_ttl: 200 });
    expect(retimed).toMatchObject({ name: 'after', defaultTokenTtl: 200 });
  });

  it('delete: a DeletedObject; the machine is gone', async () => {
    const { recorder, admin } = recorded();
    const created = await admin.machines.create({ name: 'doomed' });
    const deleted = await admin.machines.delete(created.id);
    expect(wire(recorder.requests[1]!)).toEqual(['DELETE', `/v1/machines/${created.id}`, undefined]);
    expect(deleted).toBeInstanceOf(DeletedObject);
    expect(deleted).toEqual(new DeletedObject('machine', created.id, null, true));
    const error = await admin.machines.get(created.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraAPIResponseError);
    expect((error as TesseraAPIResponseError).status).toBe(404);
  });

  it('getSecretKey returns the key given at creation; rotateSecretKey replaces it', async () => {
    const { recorder, admin } = recorded();
    const created = await admin.machines.create({ name: 'rotator' });
    const current = await admin.machines.getSecretKey(created.id);
    expect(current).toBeInstanceOf(MachineSecretKey);
    expect(current.secret).toBe(created.secretKey);
    const rotated = await admin.machines.rotateSecretKey({ machineId: created.id, previousTokenTtl: 0 });
    expect(wire(recorder.requests[2]!)).toEqual(['POST', `/v1/machines/${created.id}/secret_key/rotate`, { previous_token_ttl: 0 }]);
    expect(rotated.secret).toMatch(/^ak_/);
    expect(rotated.secret).not.toBe(created.secretKey);
    expect((await admin.machines.getSecretKey(created.id)).secret).toBe(rotated.secret);
    // With no grace period the old key stops working at once; the new one works.
    const oldKey = await t.client({ machineSecretKey: created.secretKey }).m2m.createToken().catch((e: unknown) => e);
    expect((oldKey as TesseraAPIResponseError).status).toBe(401);
    expect((await t.client({ machineSecretKey: rotated.secret }).m2m.createToken()).subject).toBe(created.id);
  });

  it('createScope and deleteScope: MachineScope both ways, deletion keeps both ids', async () => {
    const { recorder, admin } = recorded();
    const from = await admin.machines.create({ name: 'from' });
    const to = await admin.machines.create({ name: 'to' });
    const scope = await admin.machines.createScope(from.id, to.id);
    expect(wire(recorder.requests[2]!)).toEqual(['POST', `/v1/machines/${from.id}/scopes`, { to_machine_id: to.id }]);
    expect(scope).toBeInstanceOf(MachineScope);
    expect(scope).toMatchObject({ fromMachineId: from.id, toMachineId: to.id });
    expect(scope.createdAt).toEqual(expect.any(Number));
    const token = await t.client({ machineSecretKey: from.secretKey }).m2m.createToken();
    expect(token.scopes).toEqual([to.id]);

    const removed = await admin.machines.deleteScope(from.id, to.id);
    expect(wire(recorder.requests[3]!)).toEqual(['DELETE', `/v1/machines/${from.id}/scopes/${to.id}`, undefined]);
    expect(removed).toBeInstanceOf(MachineScope);
    expect(removed).toMatchObject({ fromMachineId: from.id, toMachineId: to.id, deleted: true });
    expect((await admin.machines.get(from.id)).scopedMachines).toEqual([]);
  });

  it('validation failures carry the parameter name (422 on machine routes)', async () => {
    const error = (await t.admin.machines.create({ name: '' }).catch((e: unknown) => e)) as TesseraAPIResponseError;
    expect(error).toBeInstanceOf(TesseraAPIResponseError);
    expect(error.status).toBe(422);
    expect(error.errors[0]!.meta).toEqual({ paramName: 'name' });
    expect(error.errors[0]!.longMessage).toEqual(expect.any(String));
  });

  it('needs the instance key: none configured throws before any request; a machine key gets 401', async () => {
    const recorder = recordingFetch();
    const keyless = t.client({ fetch: recorder.fetch });
    await expect(keyless.machines.list()).rejects.toThrow(/Missing secret key/);
    expect(recorder.requests).toEqual([]);
    const machine = await t.admin.machines.create({ name: 'not-admin' });
    const asMachine = (await t.client({ secretKey: machine.secretKey }).machines.list().catch((e: unknown) => e)) as TesseraAPIResponseError;
    expect(asMachine.status).toBe(401);
  });

  it('refuses path-escaping ids locally', async () => {
    const { recorder, admin } = recorded();
    for (const id of ['', '.', '..']) await expect(admin.machines.get(id)).rejects.toThrow('A valid resource ID is required.');
    // Anything else is percent-encoded into one segment: the server sees an unknown machine.
    const error = (await admin.machines.get('../machines').catch((e: unknown) => e)) as TesseraAPIResponseError;
    expect(error.status).toBe(404);
    expect(recorder.requests.map((r) => r.url.pathname)).toEqual(['/v1/machines/..%2Fmachines']);
  });
});
