import type { Keyring } from '../crypto/keyring.js';
import { isWellFormedSecret, mintSecret, SECRET_PREFIX } from '../crypto/secrets.js';
import { newKeyRecordId } from './ids.js';
import type { MachineKeyRecord } from './records.js';
import type { Store } from '../store/store.js';

/** The sealed-value context binds a sealed key to its machine (AES-GCM associated data). */
const sealContext = (machineId: string) => `machine_key:${machineId}`;

export function newMachineKey(keyring: Keyring, machineId: string, now: number): { record: MachineKeyRecord; secret: string } {
  const secret = mintSecret(SECRET_PREFIX.machineKey);
  return {
    secret,
    record: {
      id: newKeyRecordId(),
      machineId,
      secretHash: keyring.lookupHash(secret),
      secretSealed: keyring.seal(secret, sealContext(machineId)),
      createdAt: now,
      expiresAt: null,
    },
  };
}

export function openMachineKey(keyring: Keyring, record: MachineKeyRecord): string {
  return keyring.open(record.secretSealed, sealContext(record.machineId));
}

/**
 * The machine a presented `ak_` value belongs to, or null when the value is malformed,
 * unknown, or a rotated-out key past its grace period.
 */
export async function machineForKey(store: Store, keyring: Keyring, secret: string, now: number): Promise<string | null> {
  if (!isWellFormedSecret(SECRET_PREFIX.machineKey, secret)) return null;
  const record = await store.findMachineKeyByHash(keyring.lookupHash(secret));
  if (!record) return null;
  if (record.expiresAt !== null && record.expiresAt <= now) return null;
  return record.machineId;
}
