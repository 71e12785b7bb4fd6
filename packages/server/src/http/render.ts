import type { MachineRecord, TokenRecord } from '../domain/records.js';
import { isExpired } from '../domain/tokens.js';
import type { MachineWithScopes } from '../domain/machines.js';

/** Domain records to the Backend API's snake_case JSON (spec section 1). */
export class Renderer {
  constructor(readonly instanceId: string) {}

  nestedMachine(m: MachineRecord) {
    return {
      object: 'machine' as const,
      id: m.id,
      name: m.name,
      instance_id: this.instanceId,
      created_at: m.createdAt,
      updated_at: m.updatedAt,
      default_token_ttl: m.defaultTokenTtl,
    };
  }

  /** A top-level machine always carries `scoped_machines` (the published SDK maps it unguarded). */
  machine({ machine, scopedMachines }: MachineWithScopes, secretKey?: string) {
    const json: Record<string, unknown> = {
      ...this.nestedMachine(machine),
      scoped_machines: scopedMachines.map((m) => this.nestedMachine(m)),
    };
    if (secretKey !== undefined) json.secret_key = secretKey;
    return json;
  }

  token(record: TokenRecord, now: number, token?: string) {
    const json: Record<string, unknown> = {
      object: 'machine_to_machine_token',
      id: record.id,
      subject: record.machineId,
      scopes: record.scopes,
      claims: record.claimsJson === null ? null : (JSON.parse(record.claimsJson) as unknown),
      revoked: record.revoked,
      revocation_reason: record.revocationReason,
      expired: isExpired(record, now),
      expiration: record.expiration,
      last_used_at: record.lastUsedAt,
      created_at: record.createdAt,
      updated_at: record.updatedAt,
    };
    if (token !== undefined) {
      json.token = token;
      json.secret = token; // seed-era clients (@clerk/backend 2.7–2.8) read `secret`
    }
    return json;
  }
}
