import type { MachineScopeJSON } from './json.js';

export class MachineScope {
  constructor(
    readonly fromMachineId: string,
    readonly toMachineId: string,
    readonly createdAt?: number,
    /** `true` on the result of `machines.deleteScope`. */
    readonly deleted?: boolean,
  ) {}

  static fromJSON(data: MachineScopeJSON): MachineScope {
    return new MachineScope(data.from_machine_id, data.to_machine_id, data.created_at, data.deleted);
  }
}
