import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MachineKeyRecord, MachineRecord, SigningKeyRecord, TokenRecord } from '../../src/domain/records.js';
import type { Store } from '../../src/store/store.js';

/**
 * The behaviour every Store must have, written against the interface only. Each
 * implementation's test file calls this with a factory that yields a fresh, empty store.
 */
export function describeStoreContract(name: string, open: () => Promise<Store>, dispose: (store: Store) => Promise<void>) {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let seq = 0;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await dispose(store);
    });

    const id = (prefix: string, length: number) => `${prefix}${String(++seq).padStart(length, '0')}`;
    const machine = (overrides: Partial<MachineRecord> = {}): MachineRecord => ({
      id: id('mch_', 27),
      name: 'machine',
      defaultTokenTtl: 3600,
      createdAt: 1_000 + seq,
      updatedAt: 1_000 + seq,
      ...overrides,
    });
    const key = (machineId: string, overrides: Partial<MachineKeyRecord> = {}): MachineKeyRecord => ({
      id: id('mk_', 32),
      machineId,
      secretHash: id('hash', 20),
      secretSealed: 'sealed',
      createdAt: 1_000,
      expiresAt: null,
      ...overrides,
    });
    const token = (machineId: string, overrides: Partial<TokenRecord> = {}): TokenRecord => ({
      id: `mt_${String(++seq).padStart(32, '0')}`,
      machineId,
      format: 'opaque',
      secretHash: id('th', 20),
      secretSealed: 'sealed-token',
      scopes: [],
      claimsJson: null,
      revoked: false,
      revocationReason: null,
      expiration: 10_000,
      lastUsedAt: null,
      createdAt: 2_000 + seq,
      updatedAt: 2_000 + seq,
      signingKid: null,
      ...overrides,
    });
    const addMachine = async (overrides: Partial<MachineRecord> = {}, scopes: string[] = []) => {
      const m = machine(overrides);
      const k = key(m.id);
      const result = await store.createMachine(
        m,
        k,
        scopes.map((to) => ({ fromMachineId: m.id, toMachineId: to, createdAt: m.createdAt })),
      );
      return { machine: m, key: k, result };
    };

    it('keeps the first value of a meta key', async () => {
      expect(await store.getOrInitMeta('instance_id', () => 'ins_a')).toBe('ins_a');
      expect(await store.getOrInitMeta('instance_id', () => 'ins_b')).toBe('ins_a');
    });

    it('creates a machine with its key and scopes, and reads them back', async () => {
      const target = await addMachine({ name: 'target' });
      const { machine: m, key: k, result } = await addMachine({ name: 'caller' }, [target.machine.id]);
      expect(result).toBe('created');
      expect(await store.getMachine(m.id)).toEqual(m);
      expect(await store.findMachineKeyByHash(k.secretHash)).toEqual(k);
      expect(await store.currentMachineKey(m.id)).toEqual(k);
      const scoped = await store.scopedMachinesOf([m.id, target.machine.id]);
      expect(scoped.get(m.id)).toEqual([target.machine]);
      expect(scoped.get(target.machine.id)).toEqual([]);
    });

    it('creates nothing when a scope target does not exist', async () => {
      const { machine: m, key: k, result } = await addMachine({}, [`mch_${'9'.repeat(27)}`]);
      expect(result).toBe('scope_target_missing');
      expect(await store.getMachine(m.id)).toBeNull();
      expect(await store.findMachineKeyByHash(k.secretHash)).toBeNull();
    });

    it('lists machines with filter, order, pagination and a total', async () => {
      const a = (await addMachine({ name: 'alpha-api', createdAt: 10, updatedAt: 10 })).machine;
      const b = (await addMachine({ name: 'beta_worker', createdAt: 20, updatedAt: 20 })).machine;
      const c = (await addMachine({ name: 'Alpha-db', createdAt: 30, updatedAt: 30 })).machine;
      const base = { limit: 10, offset: 0, orderBy: 'created_at' as const, descending: true };
      expect((await store.listMachines(base)).rows.map((m) => m.id)).toEqual([c.id, b.id, a.id]);
      const byName = await store.listMachines({ ...base, orderBy: 'name', descending: false });
      expect(byName.rows.map((m) => m.name)).toEqual(['Alpha-db', 'alpha-api', 'beta_worker']);
      const filtered = await store.listMachines({ ...base, query: 'alpha' });
      expect(filtered.total).toBe(2);
      expect(filtered.rows.map((m) => m.id).sort()).toEqual([a.id, c.id].sort());
      expect((await store.listMachines({ ...base, query: b.id })).rows.map((m) => m.id)).toEqual([b.id]);
      // LIKE wildcards in the query match themselves only.
      expect((await store.listMachines({ ...base, query: '_' })).rows.map((m) => m.id)).toEqual([b.id]);
      expect((await store.listMachines({ ...base, query: '%' })).total).toBe(0);
      const page = await store.listMachines({ ...base, limit: 1, offset: 1 });
      expect(page.total).toBe(3);
      expect(page.rows.map((m) => m.id)).toEqual([b.id]);
    });

    it('updates only the given fields', async () => {
      const { machine: m } = await addMachine({ name: 'before', defaultTokenTtl: 60 });
      const renamed = await store.updateMachine(m.id, { name: 'after' }, 5_000);
      expect(renamed).toEqual({ ...m, name: 'after', updatedAt: 5_000 });
      const retimed = await store.updateMachine(m.id, { defaultTokenTtl: 120 }, 6_000);
      expect(retimed).toEqual({ ...m, name: 'after', defaultTokenTtl: 120, updatedAt: 6_000 });
      expect(await store.updateMachine(`mch_${'8'.repeat(27)}`, { name: 'x' }, 1)).toBeNull();
    });

    it('deletes a machine with its keys, tokens and scopes in both directions', async () => {
      const target = await addMachine();
      const { machine: m, key: k } = await addMachine({}, [target.machine.id]);
      const caller = await addMachine({}, [m.id]);
      const t = token(m.id);
      await store.insertToken(t);
      expect(await store.deleteMachine(m.id)).toBe(true);
      expect(await store.getMachine(m.id)).toBeNull();
      expect(await store.findMachineKeyByHash(k.secretHash)).toBeNull();
      expect(await store.getToken(t.id)).toBeNull();
      expect((await store.scopedMachinesOf([caller.machine.id])).get(caller.machine.id)).toEqual([]);
      expect(await store.deleteMachine(m.id)).toBe(false);
    });

    it('adds scopes up to a limit, refuses duplicates and unknown machines, and removes them', async () => {
      const from = (await addMachine()).machine;
      const targets = [(await addMachine()).machine, (await addMachine()).machine, (await addMachine()).machine];
      const scope = (to: string) => ({ fromMachineId: from.id, toMachineId: to, createdAt: 1 });
      expect(await store.addScope(scope(targets[0]!.id), 2)).toBe('created');
      expect(await store.addScope(scope(targets[0]!.id), 2)).toBe('duplicate');
      expect(await store.addScope(scope(targets[1]!.id), 2)).toBe('created');
      expect(await store.addScope(scope(targets[2]!.id), 2)).toBe('limit');
      expect(await store.addScope(scope(targets[1]!.id), 2)).toBe('duplicate');
      expect(await store.addScope(scope(`mch_${'7'.repeat(27)}`), 5)).toBe('missing_to');
      expect(await store.addScope({ ...scope(targets[0]!.id), fromMachineId: `mch_${'6'.repeat(27)}` }, 5)).toBe('missing_from');
      expect((await store.scopedMachinesOf([from.id])).get(from.id)!.map((m) => m.id)).toEqual(
        [targets[0]!.id, targets[1]!.id].sort(),
      );
      expect(await store.removeScope(from.id, targets[0]!.id)).toBe(true);
      expect(await store.removeScope(from.id, targets[0]!.id)).toBe(false);
      expect((await store.scopedMachinesOf([from.id])).get(from.id)!.map((m) => m.id)).toEqual([targets[1]!.id]);
    });

    it('rotates machine keys: the new key is current, older keys expire at the grace end at the latest', async () => {
      const { machine: m, key: first } = await addMachine();
      const second = key(m.id, { createdAt: 2_000 });
      expect(await store.rotateMachineKey(m.id, second, 50_000)).toBe(true);
      expect(await store.currentMachineKey(m.id)).toEqual(second);
      expect((await store.findMachineKeyByHash(first.secretHash))!.expiresAt).toBe(50_000);
      const third = key(m.id, { createdAt: 3_000 });
      expect(await store.rotateMachineKey(m.id, third, 40_000)).toBe(true);
      expect((await store.findMachineKeyByHash(first.secretHash))!.expiresAt).toBe(40_000);
      expect((await store.findMachineKeyByHash(second.secretHash))!.expiresAt).toBe(40_000);
      const fourth = key(m.id, { createdAt: 4_000 });
      expect(await store.rotateMachineKey(m.id, fourth, 90_000)).toBe(true);
      // A longer grace never extends a key that was already set to expire sooner.
      expect((await store.findMachineKeyByHash(first.secretHash))!.expiresAt).toBe(40_000);
      expect((await store.findMachineKeyByHash(third.secretHash))!.expiresAt).toBe(90_000);
      expect(await store.rotateMachineKey(`mch_${'5'.repeat(27)}`, key(`mch_${'5'.repeat(27)}`), 1)).toBe(false);
    });

    it('stores tokens and finds them by id', async () => {
      const { machine: m } = await addMachine();
      const t = token(m.id, { scopes: ['mch_b', 'mch_c'], claimsJson: '{"a":1}' });
      await store.insertToken(t);
      expect(await store.getToken(t.id)).toEqual(t);
      expect(await store.getToken(`mt_${'f'.repeat(32)}`)).toBeNull();
    });

    it('answers each of many concurrent inserts on its own, even when one of them clashes', async () => {
      const { machine: m } = await addMachine();
      const first = token(m.id);
      const clash = { ...token(m.id), id: first.id };
      const others = [token(m.id), token(m.id), token(m.id)];
      const outcomes = await Promise.allSettled([first, clash, ...others].map((t) => store.insertToken(t)));
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      for (const t of [first, ...others]) expect(await store.getToken(t.id)).toEqual(t);
      expect(await store.getToken(first.id)).toEqual(first);
    });

    it('inserts a batch of tokens all together, or none when one of them clashes', async () => {
      const { machine: m } = await addMachine();
      const batch = [token(m.id), token(m.id), token(m.id)];
      await store.insertTokens(batch);
      for (const t of batch) expect(await store.getToken(t.id)).toEqual(t);
      const fresh = token(m.id);
      const clash = { ...token(m.id), id: batch[0]!.id };
      await expect(store.insertTokens([fresh, clash])).rejects.toThrow();
      expect(await store.getToken(fresh.id)).toBeNull();
    });

    it('finds a reusable token only with equal scopes and claims, live and long enough', async () => {
      const { machine: m } = await addMachine();
      const live = token(m.id, { scopes: ['mch_x'], claimsJson: '{"a":1}', expiration: 50_000 });
      const longer = token(m.id, { scopes: ['mch_x'], claimsJson: '{"a":1}', expiration: 60_000 });
      const noClaims = token(m.id, { scopes: ['mch_x'], claimsJson: null, expiration: 70_000 });
      const revoked = token(m.id, { scopes: ['mch_x'], claimsJson: '{"a":1}', expiration: 90_000, revoked: true });
      const jwt = token(m.id, { format: 'jwt', secretHash: null, secretSealed: null, scopes: ['mch_x'], claimsJson: '{"a":1}', expiration: 95_000 });
      for (const t of [live, longer, noClaims, revoked, jwt]) await store.insertToken(t);
      const find = (claimsJson: string | null, minExpiration: number, scopes = ['mch_x']) =>
        store.findReusableToken({ machineId: m.id, scopes, claimsJson, minExpiration });
      expect((await find('{"a":1}', 40_000))!.id).toBe(longer.id);
      expect((await find('{"a":1}', 55_000))!.id).toBe(longer.id);
      expect(await find('{"a":1}', 65_000)).toBeNull();
      expect((await find(null, 1))!.id).toBe(noClaims.id);
      expect(await find('{"a":2}', 1)).toBeNull();
      expect(await find('{"a":1}', 1, ['mch_y'])).toBeNull();
    });

    it('revokes once, keeping the first reason', async () => {
      const { machine: m } = await addMachine();
      const t = token(m.id);
      await store.insertToken(t);
      const revoked = await store.revokeToken(t.id, 'leaked', 3_000);
      expect(revoked).toMatchObject({ id: t.id, revoked: true, revocationReason: 'leaked', updatedAt: 3_000 });
      const again = await store.revokeToken(t.id, 'other', 4_000);
      expect(again).toMatchObject({ revocationReason: 'leaked', updatedAt: 3_000 });
      expect(await store.revokeToken(`mt_${'e'.repeat(32)}`, null, 1)).toBeNull();
    });

    it('lists opaque tokens newest first with revoked and expired filters', async () => {
      const { machine: m } = await addMachine();
      const old = token(m.id, { createdAt: 100, expiration: 500 });
      const revoked = token(m.id, { createdAt: 200, expiration: 10_000, revoked: true });
      const fresh = token(m.id, { createdAt: 300, expiration: 10_000 });
      const sameMs = token(m.id, { createdAt: 300, expiration: 10_000 });
      const jwt = token(m.id, { createdAt: 400, format: 'jwt', secretHash: null, secretSealed: null });
      for (const t of [old, revoked, fresh, sameMs, jwt]) await store.insertToken(t);
      const list = (includeRevoked: boolean, includeExpired: boolean, limit = 10, offset = 0) =>
        store.listTokens({ machineId: m.id, includeRevoked, includeExpired, now: 1_000, limit, offset });
      const live = await list(false, false);
      expect(live.total).toBe(2);
      // Same millisecond: the one inserted later is newer.
      expect(live.rows.map((t) => t.id)).toEqual([sameMs.id, fresh.id]);
      expect((await list(true, false)).rows.map((t) => t.id)).toEqual([sameMs.id, fresh.id, revoked.id]);
      expect((await list(false, true)).rows.map((t) => t.id)).toEqual([sameMs.id, fresh.id, old.id]);
      const page = await list(true, true, 2, 1);
      expect(page.total).toBe(4);
      expect(page.rows.map((t) => t.id)).toEqual([fresh.id, revoked.id]);
    });

    it('records token use in a batch without moving times backwards', async () => {
      const { machine: m } = await addMachine();
      const a = token(m.id);
      const b = token(m.id, { lastUsedAt: 9_000, updatedAt: 9_000 });
      await store.insertToken(a);
      await store.insertToken(b);
      await store.recordTokenUse([
        { id: a.id, at: 5_000 },
        { id: b.id, at: 8_000 },
        { id: `mt_${'d'.repeat(32)}`, at: 1 },
      ]);
      expect(await store.getToken(a.id)).toMatchObject({ lastUsedAt: 5_000, updatedAt: 5_000 });
      expect(await store.getToken(b.id)).toMatchObject({ lastUsedAt: 9_000, updatedAt: 9_000 });
    });

    it('never answers a read with data older than the last write (whatever it keeps in memory)', async () => {
      const target = (await addMachine()).machine;
      const { machine: m, key: k } = await addMachine({ name: 'before' });
      const t = token(m.id);
      await store.insertToken(t);
      // Read everything once, so any cache holds it; then change it and read again.
      await store.getMachine(m.id);
      await store.scopedMachinesOf([m.id]);
      await store.findMachineKeyByHash(k.secretHash);
      await store.getToken(t.id);

      await store.updateMachine(m.id, { name: 'after' }, 9_000);
      expect((await store.getMachine(m.id))!.name).toBe('after');
      await store.addScope({ fromMachineId: m.id, toMachineId: target.id, createdAt: 1 }, 10);
      expect((await store.scopedMachinesOf([m.id])).get(m.id)!.map((x) => x.id)).toEqual([target.id]);
      await store.updateMachine(target.id, { name: 'renamed target' }, 9_500);
      expect((await store.scopedMachinesOf([m.id])).get(m.id)![0]!.name).toBe('renamed target');
      await store.removeScope(m.id, target.id);
      expect((await store.scopedMachinesOf([m.id])).get(m.id)).toEqual([]);
      await store.rotateMachineKey(m.id, key(m.id), 20_000);
      expect((await store.findMachineKeyByHash(k.secretHash))!.expiresAt).toBe(20_000);
      await store.recordTokenUse([{ id: t.id, at: 7_777 }]);
      expect((await store.getToken(t.id))!.lastUsedAt).toBe(7_777);
      await store.revokeToken(t.id, 'gone', 8_000);
      expect((await store.getToken(t.id))!.revoked).toBe(true);
      await store.deleteMachine(m.id);
      expect(await store.getMachine(m.id)).toBeNull();
      expect(await store.getToken(t.id)).toBeNull();
      expect(await store.findMachineKeyByHash(k.secretHash)).toBeNull();
    });

    it('lists revoked, unexpired JWTs with their scopes', async () => {
      const { machine: m } = await addMachine();
      const jwt = (overrides: Partial<TokenRecord>) =>
        token(m.id, { format: 'jwt', secretHash: null, secretSealed: null, ...overrides });
      const revoked = jwt({ revoked: true, expiration: 5_000, scopes: ['mch_r'] });
      const expired = jwt({ revoked: true, expiration: 500 });
      const live = jwt({ expiration: 5_000 });
      const opaque = token(m.id, { revoked: true, expiration: 5_000 });
      for (const t of [revoked, expired, live, opaque]) await store.insertToken(t);
      expect(await store.revokedJwts(1_000)).toEqual([{ id: revoked.id, scopes: ['mch_r'] }]);
    });

    it('keeps one current signing key, rotates, tracks token expiry per key, and prunes', async () => {
      const signingKey = (kid: string, createdAt: number): SigningKeyRecord => ({
        kid,
        publicJwk: `{"kid":"${kid}"}`,
        privateSealed: `sealed-${kid}`,
        createdAt,
        retiredAt: null,
        maxTokenExpiration: null,
      });
      const first = signingKey('key_first', 100);
      expect(await store.ensureSigningKey(first)).toEqual(first);
      expect(await store.ensureSigningKey(signingKey('key_loser', 101))).toEqual(first);
      const { machine: m } = await addMachine();
      await store.insertToken(token(m.id, { format: 'jwt', secretHash: null, secretSealed: null, signingKid: 'key_first', expiration: 7_000 }));
      await store.insertToken(token(m.id, { format: 'jwt', secretHash: null, secretSealed: null, signingKid: 'key_first', expiration: 6_000 }));
      await store.rotateSigningKey(signingKey('key_second', 200));
      const keys = await store.listSigningKeys();
      expect(keys.map((k) => [k.kid, k.retiredAt, k.maxTokenExpiration])).toEqual([
        ['key_second', null, null],
        ['key_first', 200, 7_000],
      ]);
      expect(await store.pruneSigningKeys(7_000)).toBe(0);
      expect(await store.pruneSigningKeys(7_001)).toBe(1);
      expect((await store.listSigningKeys()).map((k) => k.kid)).toEqual(['key_second']);
    });
  });
}
