import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStore, type StoreOptions } from '../../src/store/open-store.js';
import type { NewBatch, NewCall, Store } from '../../src/store/store.js';
import { type FreshSchema, freshPostgresSchema, TEST_DATABASE_URL } from '../support/postgres.js';

const T0 = 1_760_000_000_000;
const tempDir = mkdtempSync(join(tmpdir(), 'iqra-batch-store-'));
const schemas: FreshSchema[] = [];
const opened: Store[] = [];
let counter = 0;

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  rmSync(tempDir, { recursive: true, force: true });
  await Promise.all(schemas.map((s) => s.drop()));
});

const backends = [
  {
    name: 'SQLite',
    skip: false,
    async options(): Promise<StoreOptions> {
      counter += 1;
      return { kind: 'sqlite', path: join(tempDir, `db-${counter}`, 'store.db') };
    },
  },
  {
    name: TEST_DATABASE_URL ? 'PostgreSQL' : 'PostgreSQL (set TEST_DATABASE_URL to run)',
    skip: !TEST_DATABASE_URL,
    async options(): Promise<StoreOptions> {
      const schema = await freshPostgresSchema();
      schemas.push(schema);
      return { kind: 'postgres', url: schema.url };
    },
  },
];

function batch(id: string, overrides: Partial<NewBatch> = {}): NewBatch {
  return {
    id,
    teamId: 'T1',
    channelId: 'C1',
    userId: 'U1',
    settings: { pacePerMinute: 10 },
    rows: { skipped: [{ line: 3, raw: '12', reason: 'too short' }] },
    total: 3,
    ...overrides,
  };
}

function row(batchId: string, line: number): NewCall {
  return {
    id: `${batchId}_r${line}`,
    entryPoint: 'batch',
    teamId: 'T1',
    channelId: 'C1',
    userId: 'U1',
    request: { line },
    recipient: `+1415555${String(2600 + line)}`,
    agentAlias: 'sales',
    owner: 'a',
    batchLine: line,
  };
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`batches on ${backend.name}`, () => {
    async function open(): Promise<{ store: Store; other: Store }> {
      const options = await backend.options();
      const store = await openStore(options);
      opened.push(store);
      await store.migrate();
      let other = store;
      if (options.kind === 'postgres') {
        other = await openStore(options);
        opened.push(other);
      }
      return { store, other };
    }

    it('keeps a batch and its JSON, and moves its state only from the expected one', async () => {
      const { store, other } = await open();
      await store.createBatch(batch('bat_1'), T0);
      const draft = await store.getBatch('bat_1');
      expect(draft).toMatchObject({
        state: 'draft',
        total: 3,
        settings: { pacePerMinute: 10 },
        createdAt: T0,
      });
      expect(draft?.rows).toEqual({ skipped: [{ line: 3, raw: '12', reason: 'too short' }] });

      const both = await Promise.all([
        store.transitionBatch('bat_1', ['draft'], 'running', { nextAt: T0 + 5 }, T0 + 1),
        other.transitionBatch('bat_1', ['draft'], 'pending_approval', {}, T0 + 1),
      ]);
      expect(both.filter(Boolean)).toHaveLength(1);
      expect(await store.transitionBatch('bat_1', ['draft'], 'running', {}, T0 + 2)).toBeUndefined();

      await store.updateBatch('bat_1', { parentTs: '1.2', heldReason: 'iqra' }, T0 + 3);
      expect(await store.getBatch('bat_1')).toMatchObject({
        parentTs: '1.2',
        heldReason: 'iqra',
        updatedAt: T0 + 3,
      });
    });

    it('records rows once, hands them out by line, and cancels the rows not yet sent', async () => {
      const { store } = await open();
      await store.createBatch(batch('bat_2'), T0);
      const rows = [row('bat_2', 9), row('bat_2', 2), row('bat_2', 5)];
      expect(await store.addBatchCalls('bat_2', rows, T0)).toBe(3);
      // A retried confirmation records nothing more.
      expect(await store.addBatchCalls('bat_2', rows, T0 + 1)).toBe(0);

      const first = await store.nextWaitingCall('bat_2');
      expect(first).toMatchObject({ id: 'bat_2_r2', state: 'waiting', batchId: 'bat_2', batchLine: 2 });
      expect(await store.transition('bat_2_r2', ['waiting'], 'received', {}, T0 + 2)).toBeDefined();
      expect((await store.nextWaitingCall('bat_2'))?.id).toBe('bat_2_r5');

      // Waiting rows are not orphans for recovery to send; a row taken for its slot is.
      expect((await store.orphanedCalls(['received'], [])).map((c) => c.id)).toEqual(['bat_2_r2']);
      // Line 5 is being sent: left alone. Line 2, taken but not sent yet, is cancelled with the waiting line 9.
      await store.transition('bat_2_r5', ['waiting'], 'received', {}, T0 + 2);
      await store.transition('bat_2_r5', ['received'], 'sending', {}, T0 + 2);
      expect(await store.cancelWaitingCalls('bat_2', T0 + 3, { by: 'U1' })).toBe(2);
      expect(await store.nextWaitingCall('bat_2')).toBeUndefined();
      const all = await store.batchCalls('bat_2');
      expect(all.map((c) => [c.batchLine, c.state])).toEqual([
        [2, 'cancelled'],
        [5, 'sending'],
        [9, 'cancelled'],
      ]);
      expect((await store.transitions('bat_2_r9')).map((t) => t.to)).toEqual(['waiting', 'cancelled']);
      expect((await store.transitions('bat_2_r2')).map((t) => [t.from, t.to])).toEqual([
        [null, 'waiting'],
        ['waiting', 'received'],
        ['received', 'cancelled'],
      ]);
      // The cancelled row can no longer be sent.
      expect(await store.transition('bat_2_r2', ['received'], 'sending', {}, T0 + 4)).toBeUndefined();
      expect(await store.orphanedCalls(['received'], [])).toEqual([]);
    });

    it('gives each sending slot to exactly one of several claimers', async () => {
      const { store, other } = await open();
      await store.createBatch(batch('bat_3'), T0);
      const claims = await Promise.all([
        store.claimBatchSlot('bat_3', null, T0 + 6000, T0),
        other.claimBatchSlot('bat_3', null, T0 + 6000, T0),
        store.claimBatchSlot('bat_3', null, T0 + 6000, T0),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await store.claimBatchSlot('bat_3', T0, T0 + 12_000, T0)).toBe(false);
      await store.updateBatch('bat_3', { heldReason: 'limit' }, T0);
      expect(await store.claimBatchSlot('bat_3', T0 + 6000, T0 + 12_000, T0 + 6000)).toBe(true);
      expect(await store.getBatch('bat_3')).toMatchObject({ nextAt: T0 + 12_000 });
      expect((await store.getBatch('bat_3'))?.heldReason).toBeUndefined();
    });

    it('gives back what a request counted against a limit', async () => {
      const { store } = await open();
      const scopes = [{ key: 'user:T1:U1', limit: 1 }];
      expect(await store.claimQuota(scopes, 3_600_000, T0, 'req_a')).toEqual({ ok: true });
      expect((await store.claimQuota(scopes, 3_600_000, T0 + 1, 'req_b')).ok).toBe(false);
      await store.releaseQuota('req_a');
      expect(await store.claimQuota(scopes, 3_600_000, T0 + 2, 'req_b')).toEqual({ ok: true });
    });

    it('forgets old drafts only', async () => {
      const { store } = await open();
      await store.createBatch(batch('bat_old'), T0);
      await store.createBatch(batch('bat_new'), T0 + 10);
      await store.createBatch(batch('bat_run'), T0);
      await store.transitionBatch('bat_run', ['draft'], 'running', {}, T0);
      expect(await store.deleteDrafts(T0 + 5)).toBe(1);
      expect(await store.getBatch('bat_old')).toBeUndefined();
      expect(await store.getBatch('bat_new')).toBeDefined();
      expect(await store.getBatch('bat_run')).toBeDefined();
    });

    it('lists batches by state and a requester’s latest, drafts left out', async () => {
      const { store } = await open();
      await store.createBatch(batch('bat_a'), T0);
      await store.createBatch(batch('bat_b'), T0 + 1);
      await store.createBatch(batch('bat_c', { userId: 'U2' }), T0 + 2);
      await store.transitionBatch('bat_b', ['draft'], 'running', {}, T0 + 3);
      await store.transitionBatch('bat_c', ['draft'], 'running', {}, T0 + 3);
      expect((await store.batchesInStates(['running'], 10)).map((b) => b.id)).toEqual(['bat_b', 'bat_c']);
      expect((await store.batchesInStates(['running'], 10, 'T9')).map((b) => b.id)).toEqual([]);
      expect((await store.recentBatches('T1', 'U1', 10)).map((b) => b.id)).toEqual(['bat_b']);
    });
  });
}
