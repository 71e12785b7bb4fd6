import type { Keyring } from '../crypto/keyring.js';
import { constantTimeEqual } from '../crypto/keyring.js';
import { mintOpaqueToken, opaqueTokenId } from '../crypto/secrets.js';
import type { Page, Store } from '../store/store.js';
import { canonicalJson, jsonDepth } from './canonical-json.js';
import { invalidParam, machineNotFound, notFound, TesseraError, tokenNotFound } from './errors.js';
import { isMachineId, isTokenId, newTokenId } from './ids.js';
import { LIMITS } from './limits.js';
import type { Principal, TokenFormat, TokenRecord } from './records.js';
import type { TokenUsageRecorder } from './token-usage.js';

export interface CreateTokenInput {
  format: TokenFormat;
  secondsUntilExpiration: number | null;
  claims: Record<string, unknown> | null;
  minRemainingTtlSeconds: number | null;
}

export interface IssuedToken {
  record: TokenRecord;
  /** The bearer value: `mt_…` or a JWT. */
  token: string;
}

export interface ListTokensInput {
  subject: string;
  includeRevoked: boolean;
  includeExpired: boolean;
  limit: number;
  offset: number;
}

/** JWT-format tokens: signing, and verification back to the stored record. */
export interface JwtCodec {
  sign(record: TokenRecord, claims: Record<string, unknown> | null): Promise<string>;
  verify(value: string): Promise<TokenRecord>;
}

/** Three base64url segments: the compact JWS shape the SDKs use to tell JWTs apart. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const sealContext = (tokenId: string) => `m2m_token:${tokenId}`;
const machineKeyRequired = () =>
  new TesseraError(
    'unauthenticated',
    'machine_secret_key_invalid',
    'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.',
    'Creating an M2M token requires the secret key (ak_…) of the machine that will own the token.',
  );

/** Claims the server sets in a JWT; custom claims may not use them (DESIGN decision 3). */
export const RESERVED_JWT_CLAIMS: ReadonlySet<string> = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scopes', 'azp', 'sid', 'act', 'cat',
]);

function checkCustomClaims(claims: Record<string, unknown> | null): void {
  for (const name of Object.keys(claims ?? {})) {
    if (RESERVED_JWT_CLAIMS.has(name)) {
      throw invalidParam('claims', `The claim \`${name}\` is reserved and set by the server; choose another name.`);
    }
  }
}

export const isExpired = (record: TokenRecord, now: number) => record.expiration !== null && record.expiration <= now;

/**
 * M2M tokens: minting, verification, revocation and listing, with the credential rules of
 * the Backend API: a machine manages and verifies only what its scopes allow; the
 * instance manages everything.
 */
export class TokenService {
  constructor(
    private readonly store: Store,
    private readonly keyring: Keyring,
    private readonly usage: TokenUsageRecorder,
    private readonly jwt: JwtCodec | null = null,
    private readonly now: () => number = Date.now,
  ) {}

  async create(principal: Principal, input: CreateTokenInput): Promise<IssuedToken> {
    const mint = await this.#prepareMint(principal, input);
    const minRemaining = input.format === 'opaque' ? input.minRemainingTtlSeconds : null;
    if (minRemaining !== null) {
      const reusable = await this.store.findReusableToken({
        machineId: mint.machineId,
        scopes: mint.scopes,
        claimsJson: mint.claimsJson,
        minExpiration: mint.now + minRemaining * 1000,
      });
      if (reusable && reusable.expiration !== null && reusable.expiration > mint.now && reusable.secretSealed) {
        return { record: reusable, token: this.keyring.open(reusable.secretSealed, sealContext(reusable.id)) };
      }
    }
    const record = this.#newRecord(mint, input.format);
    if (input.format === 'jwt') {
      if (!this.jwt) throw invalidParam('token_format', 'This server does not issue JWT-format tokens.');
      checkCustomClaims(input.claims);
      const token = await this.jwt.sign(record, input.claims);
      await this.store.insertToken(record);
      return { record, token };
    }
    const token = this.#sealOpaque(record);
    await this.store.insertToken(record);
    return { record, token };
  }

  /**
   * Mints `count` opaque tokens alike, written in one transaction (bulk imports and load
   * tests: the per-commit cost dominates single creates). No reuse lookup.
   */
  async createMany(principal: Principal, input: Omit<CreateTokenInput, 'format'>, count: number): Promise<IssuedToken[]> {
    const mint = await this.#prepareMint(principal, { ...input, format: 'opaque' });
    const issued = Array.from({ length: count }, () => {
      const record = this.#newRecord(mint, 'opaque');
      return { record, token: this.#sealOpaque(record) };
    });
    await this.store.insertTokens(issued.map((i) => i.record));
    return issued;
  }

  /** The checks and the snapshot (scopes, canonical claims, lifetime) every new token starts from. */
  async #prepareMint(principal: Principal, input: CreateTokenInput) {
    if (principal.kind !== 'machine') throw machineKeyRequired();
    const machine = await this.store.getMachine(principal.machineId);
    if (!machine) throw machineKeyRequired();
    const lifetime = input.secondsUntilExpiration ?? machine.defaultTokenTtl;
    const minRemaining = input.format === 'opaque' ? input.minRemainingTtlSeconds : null;
    if (minRemaining !== null && minRemaining >= lifetime) {
      throw invalidParam(
        'min_remaining_ttl_seconds',
        `min_remaining_ttl_seconds must be less than the token's lifetime (${lifetime} seconds).`,
      );
    }
    if (input.claims !== null && jsonDepth(input.claims) > LIMITS.claimsDepthMax) {
      throw invalidParam('claims', `Claims may nest at most ${LIMITS.claimsDepthMax} levels deep.`);
    }
    const scopes = ((await this.store.scopedMachinesOf([machine.id])).get(machine.id) ?? []).map((m) => m.id).sort();
    const claimsJson = input.claims === null ? null : canonicalJson(input.claims);
    return { machineId: machine.id, lifetime, scopes, claimsJson, now: this.now() };
  }

  #newRecord(mint: { machineId: string; lifetime: number; scopes: string[]; claimsJson: string | null; now: number }, format: TokenFormat): TokenRecord {
    return {
      id: newTokenId(),
      machineId: mint.machineId,
      format,
      secretHash: null,
      secretSealed: null,
      scopes: mint.scopes,
      claimsJson: mint.claimsJson,
      revoked: false,
      revocationReason: null,
      expiration: mint.now + mint.lifetime * 1000,
      lastUsedAt: null,
      createdAt: mint.now,
      updatedAt: mint.now,
      signingKid: null,
    };
  }

  /** Mints the opaque value and stores only its keyed hash and its sealed form on the record. */
  #sealOpaque(record: TokenRecord): string {
    const token = mintOpaqueToken(record.id);
    record.secretHash = this.keyring.lookupHash(token);
    record.secretSealed = this.keyring.seal(token, sealContext(record.id));
    return token;
  }

  /** Verifies a bearer value of either format for `principal`. */
  async verify(principal: Principal, value: string): Promise<TokenRecord> {
    if (this.jwt && JWT_SHAPE.test(value)) return this.#admit(principal, await this.jwt.verify(value));
    return this.verifyOpaque(principal, value);
  }

  /**
   * Verifies an opaque token for `principal`. Unknown, malformed and out-of-scope tokens
   * all fail as not found, so a caller learns nothing about tokens it may not see.
   */
  async verifyOpaque(principal: Principal, value: string): Promise<TokenRecord> {
    const id = opaqueTokenId(value);
    if (id === null) throw tokenNotFound();
    const record = await this.store.getToken(id);
    if (!record || record.secretHash === null || !constantTimeEqual(record.secretHash, this.keyring.lookupHash(value))) {
      throw tokenNotFound();
    }
    return this.#admit(principal, record);
  }

  /** The checks that follow a successful lookup, shared by both token formats. */
  #admit(principal: Principal, record: TokenRecord): TokenRecord {
    if (principal.kind === 'machine' && !record.scopes.includes(principal.machineId)) throw tokenNotFound();
    if (record.revoked) throw notFound('token_revoked', 'The M2M token has been revoked.');
    const now = this.now();
    if (isExpired(record, now)) throw notFound('token_expired', 'The M2M token has expired.');
    this.usage.record(record.id, now);
    return { ...record, lastUsedAt: now, updatedAt: Math.max(record.updatedAt, now) };
  }

  async revoke(principal: Principal, tokenId: string, reason: string | null): Promise<TokenRecord> {
    const record = isTokenId(tokenId) ? await this.store.getToken(tokenId.toLowerCase()) : null;
    if (!record || !this.#manages(principal, record)) throw tokenNotFound();
    const revoked = await this.store.revokeToken(record.id, reason, this.now());
    if (!revoked) throw tokenNotFound();
    return this.withPendingUse(revoked);
  }

  async list(principal: Principal, input: ListTokensInput): Promise<Page<TokenRecord>> {
    if (!isMachineId(input.subject)) throw machineNotFound(input.subject, 'subject');
    if (principal.kind === 'machine' && principal.machineId !== input.subject) {
      throw new TesseraError(
        'forbidden',
        'authorization_invalid',
        'Forbidden',
        'A machine secret key may only list the tokens of its own machine.',
        'subject',
      );
    }
    if (!(await this.store.getMachine(input.subject))) throw machineNotFound(input.subject, 'subject');
    const page = await this.store.listTokens({
      machineId: input.subject,
      includeRevoked: input.includeRevoked,
      includeExpired: input.includeExpired,
      now: this.now(),
      limit: input.limit,
      offset: input.offset,
    });
    return { total: page.total, rows: page.rows.map((r) => this.withPendingUse(r)) };
  }

  /** IDs of revoked, unexpired JWTs; a machine sees only those it could have received. */
  async revokedJwtIds(principal: Principal): Promise<string[]> {
    const revoked = await this.store.revokedJwts(this.now());
    return revoked
      .filter((t) => principal.kind === 'instance' || t.scopes.includes(principal.machineId))
      .map((t) => t.id);
  }

  /** The record as callers should see it, including a last use not yet written. */
  withPendingUse(record: TokenRecord): TokenRecord {
    const at = this.usage.pending(record.id);
    if (at === undefined || (record.lastUsedAt !== null && record.lastUsedAt >= at)) return record;
    return { ...record, lastUsedAt: at, updatedAt: Math.max(record.updatedAt, at) };
  }

  #manages(principal: Principal, record: TokenRecord): boolean {
    return principal.kind === 'instance' || record.machineId === principal.machineId;
  }
}

