import type { M2MTokenJSON } from './json.js';

export interface M2MTokenFields {
  id: string;
  subject: string;
  scopes: string[];
  claims: Record<string, unknown> | null;
  revoked: boolean;
  revocationReason: string | null;
  expired: boolean;
  /** Unix milliseconds; null for a token that never expires. */
  expiration: number | null;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
  /** The bearer value; only on the create response. */
  token?: string | undefined;
}

export class M2MToken implements M2MTokenFields {
  readonly id: string;
  readonly subject: string;
  readonly scopes: string[];
  readonly claims: Record<string, unknown> | null;
  readonly revoked: boolean;
  readonly revocationReason: string | null;
  readonly expired: boolean;
  readonly expiration: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastUsedAt: number | null;
  readonly token?: string;
  /** Seed-era (@clerk/backend 2.7–2.8) name of `token`: the same value. */
  readonly secret?: string;

  constructor(fields: M2MTokenFields) {
    this.id = fields.id;
    this.subject = fields.subject;
    this.scopes = fields.scopes;
    this.claims = fields.claims;
    this.revoked = fields.revoked;
    this.revocationReason = fields.revocationReason;
    this.expired = fields.expired;
    this.expiration = fields.expiration;
    this.createdAt = fields.createdAt;
    this.updatedAt = fields.updatedAt;
    this.lastUsedAt = fields.lastUsedAt;
    if (fields.token !== undefined) {
      this.token = fields.token;
      this.secret = fields.token;
    }
  }

  static fromJSON(data: M2MTokenJSON): M2MToken {
    return new M2MToken({
      id: data.id,
      subject: data.subject,
      scopes: data.scopes ?? [],
      claims: data.claims ?? null,
      revoked: data.revoked,
      revocationReason: data.revocation_reason ?? null,
      expired: data.expired,
      expiration: data.expiration ?? null,
      createdAt: data.created_at,
      updatedAt: data.updated_at,
      lastUsedAt: data.last_used_at ?? null,
      token: data.token ?? data.secret,
    });
  }
}
