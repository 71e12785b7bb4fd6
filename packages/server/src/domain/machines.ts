import type { Keyring } from '../crypto/keyring.js';
import type { MachineListQuery, Page, Store } from '../store/store.js';
import { invalidParam, machineNotFound, TesseraError } from './errors.js';
import { isMachineId, newMachineId } from './ids.js';
import { LIMITS } from './limits.js';
import { newMachineKey, openMachineKey } from './machine-keys.js';
import type { MachineRecord, ScopeRecord } from './records.js';

export interface MachineWithScopes {
  machine: MachineRecord;
  scopedMachines: MachineRecord[];
}

export interface CreateMachineInput {
  name: string;
  scopedMachines?: readonly string[] | undefined;
  defaultTokenTtl?: number | undefined;
}

export interface MachineScopeResult {
  fromMachineId: string;
  toMachineId: string;
}

/** Machines, their scopes and their secret keys. Only the instance manages these. */
export class MachineService {
  constructor(
    private readonly store: Store,
    private readonly keyring: Keyring,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: CreateMachineInput): Promise<MachineWithScopes & { secretKey: string }> {
    const targets = [...new Set(input.scopedMachines ?? [])];
    if (targets.length > LIMITS.scopesPerMachineMax) {
      throw invalidParam('scoped_machines', `A machine may have at most ${LIMITS.scopesPerMachineMax} scoped machines.`);
    }
    for (const id of targets) if (!isMachineId(id)) throw machineNotFound(id, 'scoped_machines');
    const now = this.now();
    const machine: MachineRecord = {
      id: newMachineId(),
      name: input.name,
      defaultTokenTtl: input.defaultTokenTtl ?? LIMITS.defaultTokenTtl,
      createdAt: now,
      updatedAt: now,
    };
    const key = newMachineKey(this.keyring, machine.id, now);
    const scopes: ScopeRecord[] = targets.map((to) => ({ fromMachineId: machine.id, toMachineId: to, createdAt: now }));
    const outcome = await this.store.createMachine(machine, key.record, scopes);
    if (outcome === 'scope_target_missing') {
      const missing = await this.#firstMissing(targets);
      throw machineNotFound(missing ?? targets[0]!, 'scoped_machines');
    }
    const scoped = (await this.store.scopedMachinesOf([machine.id])).get(machine.id) ?? [];
    return { machine, scopedMachines: scoped, secretKey: key.secret };
  }

  async #firstMissing(ids: readonly string[]): Promise<string | undefined> {
    for (const id of ids) if (!(await this.store.getMachine(id))) return id;
    return undefined;
  }

  async get(id: string): Promise<MachineWithScopes> {
    const machine = await this.#require(id);
    const scoped = (await this.store.scopedMachinesOf([id])).get(id) ?? [];
    return { machine, scopedMachines: scoped };
  }

  async list(query: MachineListQuery): Promise<Page<MachineWithScopes>> {
    const page = await this.store.listMachines(query);
    const scoped = await this.store.scopedMachinesOf(page.rows.map((m) => m.id));
    return {
      total: page.total,
      rows: page.rows.map((machine) => ({ machine, scopedMachines: scoped.get(machine.id) ?? [] })),
    };
  }

  async update(id: string, patch: { name?: string | undefined; defaultTokenTtl?: number | undefined }): Promise<MachineWithScopes> {
    await this.#require(id);
    if (patch.name !== undefined || patch.defaultTokenTtl !== undefined) {
      const updated = await this.store.updateMachine(id, patch, this.now());
      if (!updated) throw machineNotFound(id);
    }
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    if (!isMachineId(id) || !(await this.store.deleteMachine(id))) throw machineNotFound(id);
  }

  async secretKey(id: string): Promise<string> {
    await this.#require(id);
    const current = await this.store.currentMachineKey(id);
    if (!current) throw machineNotFound(id);
    return openMachineKey(this.keyring, current);
  }

  /** New current key; the old one keeps working for `previousTokenTtl` seconds (0 = not at all). */
  async rotateSecretKey(id: string, previousTokenTtl: number): Promise<string> {
    await this.#require(id);
    const now = this.now();
    const next = newMachineKey(this.keyring, id, now);
    if (!(await this.store.rotateMachineKey(id, next.record, now + previousTokenTtl * 1000))) throw machineNotFound(id);
    return next.secret;
  }

  async createScope(fromId: string, toId: string): Promise<ScopeRecord> {
    if (!isMachineId(fromId)) throw machineNotFound(fromId);
    if (!isMachineId(toId)) throw machineNotFound(toId, 'to_machine_id');
    const scope: ScopeRecord = { fromMachineId: fromId, toMachineId: toId, createdAt: this.now() };
    switch (await this.store.addScope(scope, LIMITS.scopesPerMachineMax)) {
      case 'created':
        return scope;
      case 'missing_from':
        throw machineNotFound(fromId);
      case 'missing_to':
        throw machineNotFound(toId, 'to_machine_id');
      case 'duplicate':
        throw new TesseraError(
          'conflict',
          'duplicate_record',
          'already exists',
          `Machine ${fromId} already has a scope for ${toId}.`,
          'to_machine_id',
        );
      case 'limit':
        throw invalidParam('to_machine_id', `A machine may have at most ${LIMITS.scopesPerMachineMax} scoped machines.`, 'scope_limit_reached');
    }
  }

  async deleteScope(fromId: string, toId: string): Promise<MachineScopeResult> {
    await this.#require(fromId);
    if (!isMachineId(toId) || !(await this.store.removeScope(fromId, toId))) {
      const target = isMachineId(toId) ? toId : 'the given machine';
      throw new TesseraError('not_found', 'resource_not_found', 'not found', `Machine ${fromId} has no scope for ${target}.`);
    }
    return { fromMachineId: fromId, toMachineId: toId };
  }

  async #require(id: string): Promise<MachineRecord> {
    const machine = isMachineId(id) ? await this.store.getMachine(id) : null;
    if (!machine) throw machineNotFound(id);
    return machine;
  }
}
