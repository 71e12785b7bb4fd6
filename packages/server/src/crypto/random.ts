import { randomFillSync } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
// 248 = 4 * 62: bytes at or above it are dropped so every character is equally likely.
const UNBIASED_LIMIT = 248;

/**
 * CSPRNG bytes drawn from a pool refilled 4 KiB at a time: one call into the system's
 * generator per few hundred secrets instead of one per secret (each call cost ~7 µs in
 * the create profile). Every byte is handed out once and the pool is overwritten on refill.
 */
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

function takeRandom(count: number): Buffer {
  if (count > POOL.length) return randomFillSync(Buffer.alloc(count));
  if (poolOffset + count > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const out = Buffer.from(POOL.subarray(poolOffset, poolOffset + count));
  POOL.fill(0, poolOffset, poolOffset + count);
  poolOffset += count;
  return out;
}

/** `count` random bytes from the CSPRNG. */
export const randomBytesPooled = (count: number): Buffer => takeRandom(count);

/** `length` characters of base62 from the CSPRNG, without modulo bias (~5.95 bits each). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = takeRandom(Math.ceil((length - out.length) * 1.1) + 4);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const b = bytes[i]!;
      if (b < UNBIASED_LIMIT) out += BASE62[b % 62];
    }
  }
  return out;
}

export function randomHex(bytes: number): string {
  return takeRandom(bytes).toString('hex');
}

/** Fixed-width base62 rendering of an unsigned 32-bit integer (6 characters). */
export function uint32ToBase62(value: number): string {
  let n = value >>> 0;
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}
