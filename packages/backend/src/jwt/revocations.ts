import {
  MachineTokenVerificationError,
  MachineTokenVerificationErrorCode,
  unexpectedError,
} from '../errors/machine-token-verification-error.js';
import { RemoteValuesByKey, type RemoteValueOptions } from './remote-value.js';

export interface RevocationOptions extends RemoteValueOptions {
  /** A list younger than this is used as is: the bound on how late a revocation takes effect. */
  ttlInMs: number;
  /** When the server cannot be reached, an older list serves up to this age; past it, JWTs are refused. */
  maxAgeInMs: number;
}

/** Checks the body of `GET /v1/jwt_revocations`. */
export function parseRevocationList(body: unknown): Set<string> {
  const ids = (body as { ids?: unknown } | null)?.ids;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
    throw unexpectedError('The JWT revocation list from the server is malformed.');
  }
  return new Set(ids);
}

/**
 * Revoked JWT ids, pulled from the server and cached for `ttlInMs`. Fails closed: with no
 * list younger than `maxAgeInMs`, `isRevoked` throws instead of answering "no".
 */
export class RevocationList {
  readonly #lists: RemoteValuesByKey<Set<string>>;

  constructor(
    load: (credential: string) => Promise<Set<string>>,
    private readonly options: RevocationOptions,
  ) {
    this.#lists = new RemoteValuesByKey(load, options);
  }

  /**
   * The answer of a list younger than the TTL (at `now`), without waiting: true or false;
   * undefined when there is no such list at hand and `isRevoked` has to fetch (or judge a
   * stale one).
   */
  peek(tokenId: string, credential: string, now: number): boolean | undefined {
    const list = this.#lists.peek(credential);
    if (list === undefined || list.age(now) >= this.options.ttlInMs) return undefined;
    return list.current!.value.has(tokenId);
  }

  async isRevoked(tokenId: string, credential: string): Promise<boolean> {
    const list = this.#lists.for(credential);
    try {
      return (await list.get(this.options.ttlInMs)).value.has(tokenId);
    } catch (error) {
      // A refused credential is a configuration fault, not an outage: no stale answers for it.
      if (error instanceof MachineTokenVerificationError && error.code === MachineTokenVerificationErrorCode.InvalidSecretKey) throw error;
      const stale = list.current;
      if (stale && list.age() <= this.options.maxAgeInMs) return stale.value.has(tokenId);
      throw unexpectedError(
        'The JWT revocation list could not be fetched from the Tessera server; JWTs are refused until it can be.',
        undefined,
        error,
      );
    }
  }
}
