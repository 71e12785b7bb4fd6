import type { Requester, ApiRequest } from '../http/requester.js';
import { resourceId } from '../http/url.js';
import type { DeletedObject } from '../resources/deleted-object.js';
import { deserialize, type PaginatedResourceResponse } from '../resources/deserializer.js';
import type { Machine } from '../resources/machine.js';
import type { MachineScope } from '../resources/machine-scope.js';
import type { MachineSecretKey } from '../resources/machine-secret-key.js';

export interface ListMachinesParams {
  limit?: number;
  offset?: number;
  /** Exact machine ID or part of a name. */
  query?: string;
  orderBy?: 'name' | '+name' | '-name' | 'created_at' | '+created_at' | '-created_at';
}

export interface CreateMachineParams {
  name: string;
  /** Machines the new machine may send tokens to. */
  scopedMachines?: string[];
  defaultTokenTtl?: number;
}

export interface UpdateMachineParams {
  machineId: string;
  name?: string;
  defaultTokenTtl?: number;
}

export interface RotateMachineSecretKeyParams {
  machineId: string;
  /** Seconds the old key keeps working (0–28800). */
  previousTokenTtl: number;
}

/** Machines, scopes and machine secret keys (spec 2.2, 4.4): `/v1/machines…` with the instance key. */
export class MachineApi {
  constructor(
    private readonly requester: Requester,
    private readonly secretKey: string | undefined,
  ) {}

  async get(machineId: string): Promise<Machine> {
    return this.#send({ method: 'GET', path: `/machines/${resourceId(machineId)}` }) as Promise<Machine>;
  }

  async list(params: ListMachinesParams = {}): Promise<PaginatedResourceResponse<Machine[]>> {
    return this.#send({ method: 'GET', path: '/machines', query: { ...params } }) as Promise<PaginatedResourceResponse<Machine[]>>;
  }

  async create(params: CreateMachineParams): Promise<Machine> {
    return this.#send({ method: 'POST', path: '/machines', body: { ...params } }) as Promise<Machine>;
  }

  /** Only the fields given change. */
  async update(params: UpdateMachineParams): Promise<Machine> {
    const { machineId, ...body } = params;
    return this.#send({ method: 'PATCH', path: `/machines/${resourceId(machineId)}`, body }) as Promise<Machine>;
  }

  async delete(machineId: string): Promise<DeletedObject> {
    return this.#send({ method: 'DELETE', path: `/machines/${resourceId(machineId)}` }) as Promise<DeletedObject>;
  }

  async getSecretKey(machineId: string): Promise<MachineSecretKey> {
    return this.#send({ method: 'GET', path: `/machines/${resourceId(machineId)}/secret_key` }) as Promise<MachineSecretKey>;
  }

  async rotateSecretKey(params: RotateMachineSecretKeyParams): Promise<MachineSecretKey> {
    const { machineId, previousTokenTtl } = params;
    return this.#send({
      method: 'POST',
      path: `/machines/${resourceId(machineId)}/secret_key/rotate`,
      body: { previousTokenTtl },
    }) as Promise<MachineSecretKey>;
  }

  /** Lets `machineId` send tokens to `toMachineId`. */
  async createScope(machineId: string, toMachineId: string): Promise<MachineScope> {
    return this.#send({ method: 'POST', path: `/machines/${resourceId(machineId)}/scopes`, body: { toMachineId } }) as Promise<MachineScope>;
  }

  /** Returns the removed scope with `deleted: true` (not a `DeletedObject`, which would lose both IDs). */
  async deleteScope(machineId: string, otherMachineId: string): Promise<MachineScope> {
    return this.#send({
      method: 'DELETE',
      path: `/machines/${resourceId(machineId)}/scopes/${resourceId(otherMachineId)}`,
    }) as Promise<MachineScope>;
  }

  async #send(request: Omit<ApiRequest, 'versioned' | 'bearer' | 'retry'>): Promise<unknown> {
    if (!this.secretKey) {
      throw new Error('Missing secret key: the machines API needs the instance secret key (sk_...). Set CLERK_SECRET_KEY or pass secretKey.');
    }
    const retry = request.method === 'GET';
    return deserialize(await this.requester.send({ ...request, versioned: true, bearer: this.secretKey, retry }));
  }
}
