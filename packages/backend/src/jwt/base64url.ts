/** Value of each base64url character (RFC 4648 §5), -1 for anything else. */
const VALUES = new Int8Array(128).fill(-1);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

const valueAt = (input: string, index: number): number => {
  const code = input.charCodeAt(index);
  return code < 128 ? VALUES[code]! : -1;
};

/** Bytes `input[start, end)` decodes to: unpadded base64url, as in a JWT. */
export const decodedLength = (start: number, end: number) => ((end - start) * 3) >> 2;

/**
 * Decodes the unpadded base64url `input[start, end)` into `out` (at least
 * `decodedLength(start, end)` bytes); false when it is not base64url. Like `atob`, trailing
 * bits are ignored. Writing into a given array lets callers avoid allocating one per
 * segment: an ArrayBuffer costs microseconds on Node, more than decoding the segment.
 */
export function decodeBase64urlInto(input: string, start: number, end: number, out: Uint8Array): boolean {
  const length = end - start;
  if (length % 4 === 1) return false;
  const whole = start + (length & ~3);
  let o = 0;
  let i = start;
  let bad = 0;
  for (; i < whole; i += 4) {
    const a = valueAt(input, i);
    const b = valueAt(input, i + 1);
    const c = valueAt(input, i + 2);
    const d = valueAt(input, i + 3);
    bad |= a | b | c | d;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  const rest = end - i;
  if (rest >= 2) {
    const a = valueAt(input, i);
    const b = valueAt(input, i + 1);
    const c = rest === 3 ? valueAt(input, i + 2) : 0;
    bad |= a | b | c;
    const n = (a << 18) | (b << 12) | (c << 6);
    out[o++] = n >> 16;
    if (rest === 3) out[o++] = (n >> 8) & 0xff;
  }
  return bad >= 0;
}

const SLAB_SIZE = 64 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * `size` fresh bytes, carved from a shared slab the way Node pools small Buffers: one
 * ArrayBuffer allocation per many verifications instead of two per verification. A region
 * is handed out once and never written again by this module, so what is given to
 * `crypto.subtle` cannot change under it, whenever that reads it.
 */
export function freshBytes(size: number): Uint8Array<ArrayBuffer> {
  if (size > SLAB_SIZE / 8) return new Uint8Array(size);
  if (slabUsed + size > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const bytes = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += (size + 7) & ~7;
  return bytes;
}
