import type { MachineJSON } from './json.js';

export class Machine {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly instanceId: string,
    readonly createdAt: number,
    readonly updatedAt: number,
    readonly scopedMachines: Machine[],
    readonly defaultTokenTtl: number,
    /** Only on the create response. */
    readonly secretKey?: string,
  ) {}

  static fromJSON(data: MachineJSON): Machine {
    return new Machine(
      data.id,
      data.name,
      data.instance_id,
      data.created_at,
      data.updated_at,
      // Guarded, unlike @clerk/backend: a nested machine carries no `scoped_machines`.
      (data.scoped_machines ?? []).map((m) => Machine.fromJSON(m)),
      data.default_token_ttl,
      data.secret_key,
    );
  }
}
