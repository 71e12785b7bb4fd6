import type { MachineKeyRecord, MachineRecord, SigningKeyRecord, TokenRecord } from '../domain/records.js';

/**
 * Rows as both SQL stores read them (snake_case columns, millisecond integers, scopes as
 * JSON text), and their mapping to domain records. The only dialect difference is how a
 * boolean arrives: 0/1 from SQLite, true/false from PostgreSQL.
 */
export interface MachineRow {
  id: string;
  name: string;
  default_token_ttl: number;
  created_at: number;
  updated_at: number;
}
export interface KeyRow {
  id: string;
  machine_id: string;
  secret_hash: string;
  secret_sealed: string;
  created_at: number;
  expires_at: number | null;
}
export interface TokenRow {
  id: string;
  machine_id: string;
  format: string;
  secret_hash: string | null;
  secret_sealed: string | null;
  scopes: string;
  claims: string | null;
  revoked: boolean | number;
  revocation_reason: string | null;
  expiration: number | null;
  last_used_at: number | null;
  created_at: number;
  updated_at: number;
  signing_kid: string | null;
}
export interface SigningKeyRow {
  kid: string;
  public_jwk: string;
  private_sealed: string;
  created_at: number;
  retired_at: number | null;
  max_token_expiration: number | null;
}

export const toMachine = (r: MachineRow): MachineRecord => ({
  id: r.id,
  name: r.name,
  defaultTokenTtl: r.default_token_ttl,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toKey = (r: KeyRow): MachineKeyRecord => ({
  id: r.id,
  machineId: r.machine_id,
  secretHash: r.secret_hash,
  secretSealed: r.secret_sealed,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

export const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id,
  machineId: r.machine_id,
  format: r.format === 'jwt' ? 'jwt' : 'opaque',
  secretHash: r.secret_hash,
  secretSealed: r.secret_sealed,
  scopes: JSON.parse(r.scopes) as string[],
  claimsJson: r.claims,
  revoked: r.revoked === true || r.revoked === 1,
  revocationReason: r.revocation_reason,
  expiration: r.expiration,
  lastUsedAt: r.last_used_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  signingKid: r.signing_kid,
});

export const toSigningKey = (r: SigningKeyRow): SigningKeyRecord => ({
  kid: r.kid,
  publicJwk: r.public_jwk,
  privateSealed: r.private_sealed,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
  maxTokenExpiration: r.max_token_expiration,
});

/** Escapes LIKE wildcards so a user's `%` or `_` matches itself. */
export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
