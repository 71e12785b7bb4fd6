/** Wire shapes of the Backend API (snake_case), as the server sends them (spec section 1). */

export const ObjectType = {
  Machine: 'machine',
  MachineScope: 'machine_scope',
  MachineSecretKey: 'machine_secret_key',
  M2MToken: 'machine_to_machine_token',
} as const;

export interface MachineJSON {
  object: typeof ObjectType.Machine;
  id: string;
  name: string;
  instance_id: string;
  created_at: number;
  updated_at: number;
  default_token_ttl: number;
  scoped_machines?: MachineJSON[];
  secret_key?: string;
}

export interface MachineScopeJSON {
  object: typeof ObjectType.MachineScope;
  from_machine_id: string;
  to_machine_id: string;
  created_at?: number;
  deleted?: boolean;
}

export interface MachineSecretKeyJSON {
  object: typeof ObjectType.MachineSecretKey;
  secret: string;
}

export interface M2MTokenJSON {
  object: typeof ObjectType.M2MToken;
  id: string;
  subject: string;
  scopes?: string[];
  claims: Record<string, unknown> | null;
  revoked: boolean;
  revocation_reason: string | null;
  expired: boolean;
  expiration: number | null;
  last_used_at?: number | null;
  created_at: number;
  updated_at: number;
  /** Create response only. */
  token?: string;
  /** Seed-era name of `token`; Tessera sends both on create. */
  secret?: string;
}

export interface DeletedObjectJSON {
  object: string;
  id?: string;
  slug?: string;
  deleted: boolean;
}
