import { randomBase62, randomHex } from '../crypto/random.js';

// Shapes from the wire contract: `mch_` + 27 word chars, `mt_` + 32 hex.
export const MACHINE_ID = /^mch_\w{27}$/;
export const TOKEN_ID = /^mt_[0-9a-fA-F]{32}$/;
export const INSTANCE_ID = /^ins_\w{27}$/;

export const newMachineId = () => `mch_${randomBase62(27)}`;
export const newInstanceId = () => `ins_${randomBase62(27)}`;
/**
 * `mt_` + 32 hex: 12 hex of the creation time in ms, then 80 random bits (like UUIDv7).
 * Time-ordered IDs append to the ID index instead of landing on random pages, which
 * halves the pages each token insert writes. IDs are not secrets; the token value is.
 */
export const newTokenId = () => `mt_${Date.now().toString(16).padStart(12, '0').slice(-12)}${randomHex(10)}`;
export const newKeyRecordId = () => `mk_${randomHex(16)}`;

export const isMachineId = (value: unknown): value is string => typeof value === 'string' && MACHINE_ID.test(value);
export const isTokenId = (value: unknown): value is string => typeof value === 'string' && TOKEN_ID.test(value);
