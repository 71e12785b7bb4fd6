import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { createTestDatabase, ensurePostgresRunning, type TestDatabase } from '../helpers/postgres.js';
import { describeStoreContract } from './store-contract.js';

const databases = new Map<Store, TestDatabase>();

beforeAll(async () => {
  await ensurePostgresRunning();
});

// A fresh database per test: the contract expects an empty store each time.
describeStoreContract(
  'postgres',
  async () => {
    const db = await createTestDatabase();
    const store = await PostgresStore.open(db.url, { poolSize: 4 });
    databases.set(store, db);
    return store;
  },
  async (store) => {
    await store.close();
    await databases.get(store)!.drop();
    databases.delete(store);
  },
);

describe('PostgresStore specifics', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('migrates once when several processes open the same database at once', async () => {
    const stores = await Promise.all(Array.from({ length: 5 }, () => PostgresStore.open(db.url, { poolSize: 2 })));
    try {
      const ids = await Promise.all(stores.map((s, i) => s.getOrInitMeta('instance_id', () => `ins_${i}`)));
      expect(new Set(ids).size).toBe(1);
      await Promise.all(stores.map((s) => s.ping()));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    const again = await PostgresStore.open(db.url);
    try {
      expect(await again.getOrInitMeta('instance_id', () => 'ins_other')).not.toBe('ins_other');
    } finally {
      await again.close();
    }
  });

  it('keeps one current signing key when processes race to create it', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open(db.url, { poolSize: 2 })));
    try {
      const key = (kid: string) => ({
        kid,
        publicJwk: '{}',
        privateSealed: 'sealed',
        createdAt: 1,
        retiredAt: null,
        maxTokenExpiration: null,
      });
      const winners = await Promise.all(stores.map((s, i) => s.ensureSigningKey(key(`key_race_${i}`))));
      expect(new Set(winners.map((w) => w.kid)).size).toBe(1);
      await Promise.all(stores.map((s, i) => s.rotateSigningKey({ ...key(`key_rot_${i}`), createdAt: 10 + i })));
      const keys = await stores[0]!.listSigningKeys();
      expect(keys.filter((k) => k.retiredAt === null)).toHaveLength(1);
      expect(keys).toHaveLength(5);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('returns timestamps and counts as numbers', async () => {
    const store = await PostgresStore.open(db.url);
    try {
      const at = 1_700_000_000_123;
      const m = { id: `mch_${'t'.repeat(27)}`, name: 'typed', defaultTokenTtl: 60, createdAt: at, updatedAt: at };
      const k = { id: `mk_${'t'.repeat(32)}`, machineId: m.id, secretHash: 'typed-hash', secretSealed: 's', createdAt: at, expiresAt: null };
      expect(await store.createMachine(m, k, [])).toBe('created');
      const read = await store.getMachine(m.id);
      expect(typeof read!.createdAt).toBe('number');
      expect(read).toEqual(m);
      const page = await store.listMachines({ limit: 10, offset: 0, orderBy: 'created_at', descending: true });
      expect(typeof page.total).toBe('number');
    } finally {
      await store.close();
    }
  });

  it('reports an unreachable server as StoreUnavailableError, without the URL in the message', async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const url = 'postgres://postgres:not-a-real-password@127.0.0.1:1/nothing';
    const error = await PostgresStore.open(url, { connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as StoreUnavailableError).reason).toBe('ECONNREFUSED');
    expect((error as Error).message).not.toContain('not-a-real-password');
  });
});
