/** The persisted shapes. Timestamps are Unix milliseconds. */

export interface MachineRecord {
  id: string;
  name: string;
  defaultTokenTtl: number;
  createdAt: number;
  updatedAt: number;
}

export interface MachineKeyRecord {
  id: string;
  machineId: string;
  /** Keyed hash of the `ak_` value; the lookup index. */
  secretHash: string;
  /** The `ak_` value sealed with AES-256-GCM, so GET /secret_key can return it. */
  secretSealed: string;
  createdAt: number;
  /** null for the current key; set when rotated out (end of its grace period). */
  expiresAt: number | null;
}

export interface ScopeRecord {
  fromMachineId: string;
  toMachineId: string;
  createdAt: number;
}

export type TokenFormat = 'opaque' | 'jwt';

export interface TokenRecord {
  id: string;
  machineId: string;
  format: TokenFormat;
  /** Keyed hash of the opaque value; null for JWTs (they are never looked up by value). */
  secretHash: string | null;
  /** The opaque value, sealed, for `min_remaining_ttl_seconds` reuse; null for JWTs. */
  secretSealed: string | null;
  /** Sorted machine IDs the token may be presented to (snapshot at mint time). */
  scopes: string[];
  /** Canonical JSON of the custom claims, or null. */
  claimsJson: string | null;
  revoked: boolean;
  revocationReason: string | null;
  expiration: number | null;
  lastUsedAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** The signing key of a JWT-format token; null for opaque tokens. */
  signingKid: string | null;
}

export interface SigningKeyRecord {
  kid: string;
  /** The public key as a JWK (JSON text), as served in the JWKS. */
  publicJwk: string;
  /** The PKCS#8 private key, sealed. */
  privateSealed: string;
  createdAt: number;
  /** When a newer key replaced it; null for the current key. */
  retiredAt: number | null;
  /** The latest `exp` (ms) of any token it signed: it stays published until then. */
  maxTokenExpiration: number | null;
}

/** Who is calling: the instance (sk_ key) or one machine (its ak_ key). */
export type Principal = { kind: 'instance' } | { kind: 'machine'; machineId: string };
