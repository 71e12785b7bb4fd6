import type { FastifyRequest } from 'fastify';
import type { Keyring } from '../crypto/keyring.js';
import { constantTimeEqual } from '../crypto/keyring.js';
import { TesseraError } from '../domain/errors.js';
import { machineForKey } from '../domain/machine-keys.js';
import type { Principal } from '../domain/records.js';
import type { Store } from '../store/store.js';

/** Which credential a route accepts. */
export type Credential = 'instance' | 'machine' | 'instance_or_machine';

const unauthenticated = (code: string, message: string, longMessage: string) =>
  new TesseraError('unauthenticated', code, message, longMessage);

const missingCredential = () =>
  unauthenticated(
    'authentication_invalid',
    'Unauthorized',
    'Send a secret key as `Authorization: Bearer <key>`: the instance key (sk_…) or a machine key (ak_…).',
  );
const badInstanceKey = () =>
  unauthenticated(
    'clerk_key_invalid',
    'The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.',
    'The instance secret key (sk_…) does not match this server.',
  );
const badMachineKey = () =>
  unauthenticated(
    'machine_secret_key_invalid',
    'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.',
    'The machine secret key (ak_…) is unknown, malformed, or was rotated out and its grace period has ended.',
  );
const machineKeyRequired = () =>
  unauthenticated(
    'machine_secret_key_invalid',
    'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.',
    'This endpoint requires a machine secret key (ak_…): tokens are minted by the machine that owns them, not by the instance key.',
  );
const instanceKeyRequired = () =>
  unauthenticated(
    'clerk_key_invalid',
    'The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.',
    'This endpoint requires the instance secret key (sk_…); a machine secret key is not accepted here.',
  );

/** Resolves the `Authorization` header to a principal, or throws a 401. */
export class Authenticator {
  readonly #instanceKeyHash: string;

  constructor(
    private readonly store: Store,
    private readonly keyring: Keyring,
    instanceSecretKey: string,
    private readonly now: () => number = Date.now,
  ) {
    this.#instanceKeyHash = keyring.lookupHash(instanceSecretKey);
  }

  async require(request: FastifyRequest, credential: Credential): Promise<Principal> {
    const principal = await this.#resolve(bearerOf(request.headers.authorization));
    if (credential === 'instance' && principal.kind !== 'instance') throw instanceKeyRequired();
    if (credential === 'machine' && principal.kind !== 'machine') throw machineKeyRequired();
    return principal;
  }

  async #resolve(key: string | null): Promise<Principal> {
    if (key === null) throw missingCredential();
    if (key.startsWith('sk_')) {
      // Compare keyed hashes: constant time, and independent of the presented length.
      if (constantTimeEqual(this.keyring.lookupHash(key), this.#instanceKeyHash)) return { kind: 'instance' };
      throw badInstanceKey();
    }
    if (key.startsWith('ak_')) {
      const machineId = await machineForKey(this.store, this.keyring, key, this.now());
      if (machineId === null) throw badMachineKey();
      return { kind: 'machine', machineId };
    }
    throw missingCredential();
  }
}

/** `Bearer <key>` (scheme case-insensitive) → key; anything else → null. */
export function bearerOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer +([^\s]+) *$/i.exec(header);
  return match ? match[1]! : null;
}
