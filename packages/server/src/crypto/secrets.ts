import { crc32 } from 'node:zlib';
import { randomBase62, uint32ToBase62 } from './random.js';

/**
 * Opaque secrets: `<prefix><43 base62 chars = 256 bits><6 base62 chars of CRC32>`.
 * The checksum lets secret scanners recognise our values and lets the server refuse a
 * mistyped or invented value before it touches the database. It is not a MAC.
 */
export const SECRET_RANDOM_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const BODY = /^[0-9A-Za-z]+$/;

export const SECRET_PREFIX = {
  m2mToken: 'mt_',
  machineKey: 'ak_',
  instanceKeyLive: 'sk_live_',
  instanceKeyTest: 'sk_test_',
} as const;

function checksum(random: string): string {
  return uint32ToBase62(crc32(random));
}

export function mintSecret(prefix: string): string {
  const random = randomBase62(SECRET_RANDOM_LENGTH);
  return prefix + random + checksum(random);
}

/** Shape and checksum check: true only for values this server could have minted. */
export function isWellFormedSecret(prefix: string, value: string): boolean {
  if (value.length !== prefix.length + SECRET_RANDOM_LENGTH + CHECKSUM_LENGTH) return false;
  if (!value.startsWith(prefix)) return false;
  const body = value.slice(prefix.length);
  if (!BODY.test(body)) return false;
  const random = body.slice(0, SECRET_RANDOM_LENGTH);
  return body.slice(SECRET_RANDOM_LENGTH) === checksum(random);
}

/**
 * Opaque M2M tokens carry their token ID in the clear before the secret part:
 * `mt_<32 hex: the token ID><43 base62: 256 random bits><6: CRC32 of both>`. The server
 * finds the row by ID (an index that grows in order, so inserts stay cheap) and then
 * compares the keyed hash of the whole value in constant time. The ID is not secret.
 */
const TOKEN_ID_HEX = 32;
const OPAQUE_TOKEN = /^mt_([0-9a-f]{32})([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;

export function mintOpaqueToken(tokenId: string): string {
  const selector = tokenId.slice(SECRET_PREFIX.m2mToken.length);
  if (selector.length !== TOKEN_ID_HEX) throw new Error('A token ID is mt_ + 32 hex characters');
  const random = randomBase62(SECRET_RANDOM_LENGTH);
  return SECRET_PREFIX.m2mToken + selector + random + checksum(selector + random);
}

/** The token ID inside a well-formed opaque token (checksum included), or null. */
export function opaqueTokenId(value: string): string | null {
  const match = OPAQUE_TOKEN.exec(value);
  if (!match || checksum(match[1]! + match[2]!) !== match[3]) return null;
  return SECRET_PREFIX.m2mToken + match[1]!;
}

/** Instance keys may also be supplied by the operator, so only their shape is fixed. */
export const INSTANCE_KEY_PATTERN = /^sk_(test|live)_[A-Za-z0-9]{20,}$/;
