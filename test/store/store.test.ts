import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { LATEST_MIGRATION } from '../../src/store/migrations.js';
import { describeStore, openStore, type StoreOptions } from '../../src/store/open-store.js';
import { type NewCall, type Store, StoreError } from '../../src/store/store.js';
import { startFakePostgres } from '../support/fake-postgres.js';

const run = promisify(execFile);
const PG_URL = process.env.TEST_DATABASE_URL;
const CHILD = fileURLToPath(new URL('./support/open-sqlite-child.ts', import.meta.url));
/** A realistic epoch-ms time, above 2^31, so that a 32-bit column or an int8-as-string would show. */
const T0 = 1_760_000_000_000;

const tempDir = mkdtempSync(join(tmpdir(), 'iqra-store-test-'));
const pgSchemas: string[] = [];
const runId = randomBytes(4).toString('hex');
let dbCounter = 0;
const opened: Store[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  rmSync(tempDir, { recursive: true, force: true });
  if (PG_URL && pgSchemas.length > 0) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      for (const schema of pgSchemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  }
});

interface Backend {
  name: string;
  kind: 'sqlite' | 'postgres';
  skip: boolean;
  /** Options for a new, empty database. */
  freshOptions(): Promise<StoreOptions>;
}

const sqliteBackend: Backend = {
  name: 'SQLite',
  kind: 'sqlite',
  skip: false,
  async freshOptions() {
    dbCounter += 1;
    return { kind: 'sqlite', path: join(tempDir, `db-${dbCounter}`, 'store.db') };
  },
};

/** Each PostgreSQL database is a fresh schema of the test database, reached through the connection's search_path. */
const postgresBackend: Backend = {
  name: PG_URL ? 'PostgreSQL' : 'PostgreSQL (set TEST_DATABASE_URL to run)',
  kind: 'postgres',
  skip: !PG_URL,
  async freshOptions() {
    dbCounter += 1;
    const schema = `iqra_test_${runId}_${dbCounter}`;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
    } finally {
      await client.end();
    }
    pgSchemas.push(schema);
    const url = new URL(PG_URL ?? '');
    url.searchParams.set('options', `-c search_path=${schema}`);
    return { kind: 'postgres', url: url.toString() };
  },
};

async function open(options: StoreOptions, migrate = true): Promise<Store> {
  const store = await openStore(options);
  opened.push(store);
  if (migrate) await store.migrate();
  return store;
}

function newCall(id: string, overrides: Partial<NewCall> = {}): NewCall {
  return {
    id,
    entryPoint: 'command',
    teamId: 'T1',
    channelId: 'C1',
    userId: 'U1',
    request: { recipient: '+14155552671', agent: 'sales', variables: { name: 'Ada' } },
    recipient: '+14155552671',
    agentAlias: 'sales',
    owner: 'instance-a',
    ...overrides,
  };
}

type ChildResult = { ok: true } | { ok: false; name: string; message: string };

/** Opens the SQLite store at `path` from another process. */
async function openFromChild(path: string): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', CHILD, path], { timeout: 15_000 });
  return JSON.parse(stdout) as ChildResult;
}

for (const backend of [sqliteBackend, postgresBackend]) {
  describe.skipIf(backend.skip)(`store on ${backend.name}`, () => {
    let options: StoreOptions;
    /** The store under test, and a second one on the same database (another pool) where the back end allows it. */
    let store: Store;
    let other: Store;

    async function setUp(migrate = true): Promise<void> {
      options = await backend.freshOptions();
      store = await open(options, migrate);
      other = backend.kind === 'postgres' ? await open(options, false) : store;
    }

    it('reports its kind and whether it is single-process', async () => {
      await setUp();
      expect(store.kind).toBe(backend.kind);
      expect(store.singleProcess).toBe(backend.kind === 'sqlite');
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('applies the migrations once, and migrating again changes nothing', async () => {
      await setUp(false);
      expect(await store.schemaVersion()).toEqual({ applied: undefined, latest: LATEST_MIGRATION });
      // Two migrators at once (two pools on PostgreSQL), as when replicas start together.
      await Promise.all([store.migrate(), other.migrate()]);
      expect(await store.schemaVersion()).toEqual({ applied: LATEST_MIGRATION, latest: LATEST_MIGRATION });
      await store.migrate();
      expect((await store.schemaVersion()).applied).toBe(LATEST_MIGRATION);
      expect(LATEST_MIGRATION).toMatch(/^\d{4}_/);
      // The schema works after the second run.
      expect((await store.recordCall('k', newCall('r1'), T0)).created).toBe(true);
    });

    it('records a call once per intent and maps every field', async () => {
      await setUp();
      const call = newCall('r1', {
        threadTs: '1700000000.000100',
        responseUrl: 'https://hooks/x',
        retryOf: 'r0',
      });
      expect(await store.recordCall('trigger-1', call, T0)).toEqual({ created: true, requestId: 'r1' });
      expect(await store.recordCall('trigger-1', newCall('r2'), T0 + 5)).toEqual({
        created: false,
        requestId: 'r1',
      });
      expect(await store.getCall('r2')).toBeUndefined();

      const record = await store.getCall('r1');
      expect(record).toEqual({
        ...call,
        state: 'received',
        queueIds: [],
        createdAt: T0,
        updatedAt: T0,
      });
      expect(typeof record?.createdAt).toBe('number');
      expect(await store.transitions('r1')).toEqual([
        { requestId: 'r1', from: null, to: 'received', at: T0, detail: { by: 'command' } },
      ]);

      // Absent optional fields are absent, not null.
      await store.recordCall('trigger-2', newCall('r3'), T0);
      const bare = await store.getCall('r3');
      for (const key of ['threadTs', 'responseUrl', 'retryOf', 'parentTs', 'iqraCode', 'httpStatus']) {
        expect(bare && key in bare).toBe(false);
      }
      expect(await store.getCall('missing')).toBeUndefined();
    });

    it('claims intents exactly once, with or without a request id', async () => {
      await setUp();
      expect(await store.claimIntent('button-1', T0)).toBe(true);
      expect(await store.claimIntent('button-1', T0 + 1)).toBe(false);
      expect(await store.recordCall('button-1', newCall('r1'), T0 + 2)).toEqual({
        created: false,
        requestId: undefined,
      });
      expect(await store.claimIntent('button-2', T0, 'r9')).toBe(true);
      expect(await store.recordCall('button-2', newCall('r2'), T0)).toEqual({
        created: false,
        requestId: 'r9',
      });
      expect(await store.getCall('r1')).toBeUndefined();
    });

    it('lets exactly one of 20 concurrent callers record the call', async () => {
      await setUp();
      const racers = Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? store : other).recordCall(
          'same-trigger',
          newCall(`race-${i}`, { teamId: 'T-race' }),
          T0 + i,
        ),
      );
      // On SQLite, meanwhile another process tries the same file and must be refused.
      const intruder =
        backend.kind === 'sqlite' && options.kind === 'sqlite' ? openFromChild(options.path) : undefined;
      const results = await Promise.all(racers);

      const winners = results.filter((r) => r.created);
      expect(winners).toHaveLength(1);
      const winnerId = winners[0]?.requestId;
      expect(winnerId).toMatch(/^race-\d+$/);
      expect(results.every((r) => r.requestId === winnerId)).toBe(true);
      expect(await store.recentCalls('T-race', 'U1', 100)).toHaveLength(1);
      expect(await store.transitions(winnerId ?? '')).toHaveLength(1);

      if (intruder) {
        const result = await intruder;
        expect(result.ok).toBe(false);
        expect(result.ok === false && result.message).toMatch(/in use by another instance/);
      }
    });

    it('records calls that arrive together in one go, each answered as if alone, in order', async () => {
      await setUp();
      await store.recordCall('earlier', newCall('g-earlier', { teamId: 'T-group' }), T0);
      // 30 calls at once: new ones, a redelivery of one of them within the batch, and one of an earlier call.
      const keys = Array.from({ length: 30 }, (_, i) => (i === 7 ? 'k-3' : i === 12 ? 'earlier' : `k-${i}`));
      const results = await Promise.all(
        keys.map((key, i) => store.recordCall(key, newCall(`g-${i}`, { teamId: 'T-group' }), T0 + 1 + i)),
      );
      expect(results[3]).toEqual({ created: true, requestId: 'g-3' });
      expect(results[7]).toEqual({ created: false, requestId: 'g-3' });
      expect(results[12]).toEqual({ created: false, requestId: 'g-earlier' });
      const createdIds = results.filter((r) => r.created).map((r) => r.requestId);
      expect(createdIds).toEqual(keys.flatMap((_, i) => (i === 7 || i === 12 ? [] : [`g-${i}`])));
      // Each answer means committed: readable from another connection (PostgreSQL), with its one transition.
      for (const id of createdIds) {
        const call = await other.getCall(id ?? '');
        expect(call?.state).toBe('received');
        expect(await other.transitions(id ?? '')).toEqual([
          expect.objectContaining({ from: null, to: 'received', detail: { by: 'command' } }),
        ]);
      }
      expect(await other.getCall('g-7')).toBeUndefined();
      expect(await store.recentCalls('T-group', 'U1', 100)).toHaveLength(29);
    });

    it('fails only the call that cannot be recorded when calls arrive together', async () => {
      await setUp();
      await store.recordCall('first', newCall('dup-id'), T0);
      const [good, bad, alsoGood] = await Promise.allSettled([
        store.recordCall('k-a', newCall('ok-a'), T0 + 1),
        // A second call with the same request id under another key: the database refuses it.
        store.recordCall('k-b', newCall('dup-id'), T0 + 1),
        store.recordCall('k-c', newCall('ok-c'), T0 + 1),
      ]);
      expect(good).toEqual({ status: 'fulfilled', value: { created: true, requestId: 'ok-a' } });
      expect(bad.status).toBe('rejected');
      expect(alsoGood).toEqual({ status: 'fulfilled', value: { created: true, requestId: 'ok-c' } });
      expect(await other.claimIntent('k-b', T0 + 2)).toBe(true);
    });

    it('moves a call with compare-and-set: of concurrent transitions from one state, one wins', async () => {
      await setUp();
      for (let i = 0; i < 5; i += 1) {
        const id = `cas-${i}`;
        await store.recordCall(`k-${i}`, newCall(id), T0);
        const [a, b] = await Promise.all([
          store.transition(id, ['received'], 'sending', {}, T0 + 10, { by: 'command' }),
          other.transition(id, ['received'], 'failed', { outcomeReason: 'x' }, T0 + 10, { by: 'recovery' }),
        ]);
        expect([a, b].filter((r) => r !== undefined)).toHaveLength(1);
        const winner = a ?? b;
        const stored = await store.getCall(id);
        expect(stored?.state).toBe(winner?.state);
        expect(await store.transitions(id)).toEqual([
          { requestId: id, from: null, to: 'received', at: T0, detail: { by: 'command' } },
          {
            requestId: id,
            from: 'received',
            to: winner?.state,
            at: T0 + 10,
            detail: { by: a ? 'command' : 'recovery' },
          },
        ]);
      }
    });

    it('records the messages a transition is given with it, in its transaction, made from the moved record', async () => {
      await setUp();
      await store.recordCall('k', newCall('r1'), T0);
      const seen: string[] = [];
      const pending = await store.transition(
        'r1',
        ['received'],
        'pending_approval',
        { approvalChannel: 'C-APPROVALS' },
        T0 + 1,
        {},
        (record) => {
          seen.push(record.state);
          return [
            {
              kind: 'announce',
              requestId: record.id,
              channelId: record.channelId,
              payload: { step: 'parent' },
            },
            { kind: 'approval', requestId: record.id, channelId: record.approvalChannel ?? '', payload: {} },
          ];
        },
      );
      expect(pending?.state).toBe('pending_approval');
      expect(seen).toEqual(['pending_approval']);
      const jobs = await store.pendingJobs();
      expect(jobs.map((j) => [j.kind, j.channelId, j.payload])).toEqual([
        ['announce', 'C1', { step: 'parent' }],
        ['approval', 'C-APPROVALS', {}],
      ]);
      // Taken in that order, one after the other (the approval request once the call's message is out).
      for (const recorded of jobs) {
        expect((await store.claimDueJobs('w1', T0 + 10, 10, 30_000)).map((j) => j.id)).toEqual([recorded.id]);
        await store.completeJob(recorded.id, T0 + 10);
      }

      // A move that does not happen records no message.
      const refused = await store.transition('r1', ['received'], 'refused', {}, T0 + 2, {}, (record) => [
        { kind: 'refusal', requestId: record.id, channelId: record.channelId, payload: {} },
      ]);
      expect(refused).toBeUndefined();
      expect(await store.claimDueJobs('w1', T0 + 10, 10, 30_000)).toEqual([]);
    });

    it('records neither a move nor its messages when one of the messages cannot be recorded', async () => {
      await setUp();
      await store.recordCall('k', newCall('r1'), T0);
      // A payload JSON cannot hold: the second message fails after the move and the first message were written.
      const move = store.transition(
        'r1',
        ['received'],
        'queued',
        { queueIds: ['q-1'] },
        T0 + 1,
        {},
        (record) => [
          {
            kind: 'announce',
            requestId: record.id,
            channelId: record.channelId,
            payload: { step: 'parent' },
          },
          { kind: 'decision', requestId: record.id, channelId: record.channelId, payload: { n: 1n } },
        ],
      );
      await expect(move).rejects.toThrow(/BigInt/);
      const call = await store.getCall('r1');
      expect(call?.state).toBe('received');
      expect(call?.queueIds ?? []).toEqual([]);
      expect((await store.transitions('r1')).map((t) => t.to)).toEqual(['received']);
      expect(await store.claimDueJobs('w1', T0 + 10, 10, 30_000)).toEqual([]);
    });

    it('applies changes with a transition, refuses a transition from another state, records the real from', async () => {
      await setUp();
      await store.recordCall('k', newCall('r1'), T0);
      const sending = await store.transition('r1', ['received'], 'sending', { owner: 'instance-b' }, T0 + 1);
      expect(sending).toMatchObject({
        state: 'sending',
        owner: 'instance-b',
        updatedAt: T0 + 1,
        createdAt: T0,
      });

      expect(await store.transition('r1', ['received'], 'failed', { iqraCode: 'X' }, T0 + 2)).toBeUndefined();
      expect(await store.transition('missing', ['received'], 'failed', {}, T0 + 2)).toBeUndefined();
      const unchanged = await store.getCall('r1');
      expect(unchanged?.state).toBe('sending');
      expect(unchanged?.iqraCode).toBeUndefined();
      expect(unchanged?.updatedAt).toBe(T0 + 1);

      const failed = await store.transition(
        'r1',
        ['received', 'sending'],
        'failed',
        {
          iqraCode: 'AGENT_NOT_FOUND',
          iqraMessage: 'No such agent',
          outcomeReason: 'refused',
          userMessage: 'Iqra does not know this agent.',
          httpStatus: 404,
          request: { recipient: '+14155552671', agent: 'support' },
        },
        T0 + 3,
        { by: 'iqra', attempt: 1 },
      );
      expect(failed).toMatchObject({
        state: 'failed',
        iqraCode: 'AGENT_NOT_FOUND',
        iqraMessage: 'No such agent',
        outcomeReason: 'refused',
        userMessage: 'Iqra does not know this agent.',
        httpStatus: 404,
        request: { recipient: '+14155552671', agent: 'support' },
        owner: 'instance-b',
      });
      const history = await store.transitions('r1');
      expect(history.map((t) => [t.from, t.to])).toEqual([
        [null, 'received'],
        ['received', 'sending'],
        ['sending', 'failed'],
      ]);
      expect(history[1]?.detail).toEqual({});
      expect(history[2]).toEqual({
        requestId: 'r1',
        from: 'sending',
        to: 'failed',
        at: T0 + 3,
        detail: { by: 'iqra', attempt: 1 },
      });

      // null clears a field; undefined leaves it.
      const cleared = await store.transition(
        'r1',
        ['failed'],
        'unknown',
        { iqraCode: null, httpStatus: null },
        T0 + 4,
      );
      expect(cleared && 'iqraCode' in cleared).toBe(false);
      expect(cleared && 'httpStatus' in cleared).toBe(false);
      expect(cleared?.iqraMessage).toBe('No such agent');
    });

    it('finds a call by any of its queue ids, and updates fields without a transition', async () => {
      await setUp();
      await store.recordCall('k1', newCall('r1'), T0);
      await store.recordCall('k2', newCall('r2'), T0);
      await store.transition('r1', ['received'], 'sending', {}, T0 + 1);
      const queued = await store.transition(
        'r1',
        ['sending'],
        'queued',
        { queueIds: ['q-1', 'q-2'] },
        T0 + 2,
      );
      expect(queued?.queueIds).toEqual(['q-1', 'q-2']);
      expect((await store.findCallByQueueId('q-2'))?.id).toBe('r1');
      expect((await store.findCallByQueueId('q-1'))?.state).toBe('queued');
      expect(await store.findCallByQueueId('q-3')).toBeUndefined();

      await store.updateCall('r1', { parentTs: '1700000000.000200', queueIds: ['q-3'] }, T0 + 3);
      const updated = await store.getCall('r1');
      expect(updated).toMatchObject({ parentTs: '1700000000.000200', state: 'queued', updatedAt: T0 + 3 });
      expect(updated?.queueIds).toEqual(['q-3']);
      expect(await store.findCallByQueueId('q-1')).toBeUndefined();
      expect((await store.findCallByQueueId('q-3'))?.id).toBe('r1');
      expect(await store.transitions('r1')).toHaveLength(3);

      // Without queue ids (one statement on its own): the fields change, the queue ids stay.
      await store.updateCall('r1', { parentTs: '1700000000.000300', trackAt: T0 + 9 }, T0 + 5);
      const again = await store.getCall('r1');
      expect(again).toMatchObject({ parentTs: '1700000000.000300', trackAt: T0 + 9, updatedAt: T0 + 5 });
      expect(again?.queueIds).toEqual(['q-3']);
      expect((await store.findCallByQueueId('q-3'))?.id).toBe('r1');

      // Other calls are untouched, and updating a missing call does nothing.
      await store.updateCall('missing', { parentTs: '1' }, T0 + 4);
      expect((await store.getCall('r2'))?.parentTs).toBeUndefined();
    });

    it('lists the requester’s recent calls in a workspace, newest first, up to the limit', async () => {
      await setUp();
      for (let i = 0; i < 5; i += 1) await store.recordCall(`k${i}`, newCall(`mine-${i}`), T0 + i * 1000);
      await store.recordCall('o1', newCall('other-user', { userId: 'U2' }), T0 + 9000);
      await store.recordCall('o2', newCall('other-team', { teamId: 'T2' }), T0 + 9000);

      expect((await store.recentCalls('T1', 'U1', 3)).map((c) => c.id)).toEqual([
        'mine-4',
        'mine-3',
        'mine-2',
      ]);
      expect((await store.recentCalls('T1', 'U1', 50)).map((c) => c.id)).toEqual([
        'mine-4',
        'mine-3',
        'mine-2',
        'mine-1',
        'mine-0',
      ]);
      expect((await store.recentCalls('T1', 'U2', 50)).map((c) => c.id)).toEqual(['other-user']);
      expect((await store.recentCalls('T2', 'U1', 50)).map((c) => c.id)).toEqual(['other-team']);
      expect(await store.recentCalls('T3', 'U1', 50)).toEqual([]);
    });

    it('lists orphaned calls: in the given states, owned by no live instance, oldest first', async () => {
      await setUp();
      await store.recordCall('k1', newCall('live-sending', { owner: 'live' }), T0);
      await store.recordCall('k2', newCall('dead-sending', { owner: 'gone' }), T0 + 2);
      await store.recordCall('k3', newCall('dead-received', { owner: 'gone' }), T0 + 1);
      await store.recordCall('k4', newCall('dead-queued', { owner: 'other-gone' }), T0);
      await store.transition('live-sending', ['received'], 'sending', {}, T0 + 5);
      await store.transition('dead-sending', ['received'], 'sending', {}, T0 + 5);
      await store.transition('dead-queued', ['received'], 'queued', {}, T0 + 5);

      const ids = async (states: Parameters<Store['orphanedCalls']>[0], live: string[]) =>
        (await store.orphanedCalls(states, live)).map((c) => c.id);
      expect(await ids(['received', 'sending'], ['live'])).toEqual(['dead-received', 'dead-sending']);
      expect(await ids(['received', 'sending'], [])).toEqual([
        'live-sending',
        'dead-received',
        'dead-sending',
      ]);
      expect(await ids(['sending'], ['live', 'gone'])).toEqual([]);
      expect(await ids(['queued'], ['live'])).toEqual(['dead-queued']);
      expect(await ids([], [])).toEqual([]);
    });

    it('counts quota uses in the sliding window, and says when a place frees up', async () => {
      await setUp();
      const HOUR = 3_600_000;
      const scopes = [
        { key: 'user:T1:U1', limit: 3 },
        { key: 'team:T1', limit: 4 },
      ];
      for (const [i, at] of [T0, T0 + 10, T0 + 20].entries()) {
        expect(await store.claimQuota(scopes, HOUR, at, `q${i}`)).toEqual({ ok: true });
      }
      // The user's fourth call in the hour: refused until the oldest of the three leaves the window.
      expect(await store.claimQuota(scopes, HOUR, T0 + 30, 'q3')).toEqual({
        ok: false,
        key: 'user:T1:U1',
        limit: 3,
        retryAt: T0 + HOUR,
      });
      // Another rep takes the workspace's fourth place; the fifth call waits for the oldest to leave the window.
      expect(await store.claimQuota([{ key: 'team:T1', limit: 4 }], HOUR, T0 + 40, 'q4')).toEqual({
        ok: true,
      });
      expect(await store.claimQuota([{ key: 'team:T1', limit: 4 }], HOUR, T0 + 50, 'q5')).toEqual({
        ok: false,
        key: 'team:T1',
        limit: 4,
        retryAt: T0 + HOUR,
      });
      // With a limit of 2, a place frees up when the second-newest use leaves: T0 + 20 (uses at 0, 10, 20, 40).
      expect(await store.claimQuota([{ key: 'team:T1', limit: 2 }], HOUR, T0 + 60, 'q6')).toEqual({
        ok: false,
        key: 'team:T1',
        limit: 2,
        retryAt: T0 + 20 + HOUR,
      });
      // Once the first use is out of the window, the user may call again.
      expect(await store.claimQuota(scopes, HOUR, T0 + HOUR + 1, 'q7')).toEqual({ ok: true });
    });

    it('counts a request once, however often (and by however many processes) it is checked', async () => {
      await setUp();
      const HOUR = 3_600_000;
      const scopes = [
        { key: 'user:T1:U1', limit: 2 },
        { key: 'team:T1', limit: 10 },
      ];
      expect(await store.claimQuota(scopes, HOUR, T0, 'q1')).toEqual({ ok: true });
      // q1 again, at once from two connections: still one use, and the limit of 2 leaves a place for q2.
      const again = await Promise.all([
        store.claimQuota(scopes, HOUR, T0 + 1, 'q1'),
        other.claimQuota(scopes, HOUR, T0 + 1, 'q1'),
      ]);
      expect(again).toEqual([{ ok: true }, { ok: true }]);
      expect(await store.claimQuota(scopes, HOUR, T0 + 2, 'q2')).toEqual({ ok: true });
      expect(await store.claimQuota(scopes, HOUR, T0 + 3, 'q3')).toMatchObject({
        ok: false,
        key: 'user:T1:U1',
      });
      // Its use given back (the call ended without being placed), a request counts anew when checked again.
      await store.releaseQuota('q1');
      expect(await store.claimQuota(scopes, HOUR, T0 + 4, 'q3')).toEqual({ ok: true });
      expect(await store.claimQuota(scopes, HOUR, T0 + 5, 'q1')).toMatchObject({
        ok: false,
        key: 'user:T1:U1',
      });
    });

    it('tracks instances by heartbeat', async () => {
      await setUp();
      if (backend.kind === 'sqlite') {
        // One process: its own clock.
        await store.heartbeat('i-1', T0);
        await store.heartbeat('i-2', T0 + 2000);
        expect(await store.liveInstances(T0 + 2000, 1000)).toEqual(['i-2']);
        await store.heartbeat('i-1', T0 + 3000);
        expect(await store.liveInstances(T0 + 3500, 1000)).toEqual(['i-1']);
        expect(await store.liveInstances(T0 + 3000, 1000)).toEqual(['i-1', 'i-2']);
        await store.removeInstance('i-1');
        expect(await store.liveInstances(T0 + 3000, T0 + 3000)).toEqual(['i-2']);
        await store.removeInstance('never-there');
        expect(await store.liveInstances(T0 + 4001, 1000)).toEqual([]);
        return;
      }
      // Replicas: the database server's clock, whatever the callers' clocks say (here, one an hour behind, one at 0).
      await store.heartbeat('i-1', Date.now() - 3_600_000);
      await store.heartbeat('i-2', 0);
      expect(await store.liveInstances(Date.now() + 3_600_000, 5000)).toEqual(['i-1', 'i-2']);
      expect(await store.liveInstances(0, 5000)).toEqual(['i-1', 'i-2']);
      await new Promise((r) => setTimeout(r, 300));
      await store.heartbeat('i-1', 0);
      expect(await store.liveInstances(Date.now(), 200)).toEqual(['i-1']);
      await store.removeInstance('i-1');
      expect(await store.liveInstances(Date.now(), 5000)).toEqual(['i-2']);
    });

    it('leases due jobs, oldest first, once at a time, until the lease runs out', async () => {
      await setUp();
      const job = (n: number, runAt?: number) => ({
        kind: 'announce' as const,
        requestId: `r${n}`,
        channelId: 'C1',
        payload: { n },
        ...(runAt === undefined ? {} : { runAt }),
      });
      const first = await store.enqueueJob(job(1), T0);
      const later = await store.enqueueJob(job(2, T0 + 60_000), T0);
      const second = await store.enqueueJob(job(3), T0 + 1);
      expect(second).toBeGreaterThan(first);

      const claimed = await store.claimDueJobs('w1', T0 + 10, 10, 30_000);
      expect(claimed.map((j) => j.id)).toEqual([first, second]);
      expect(claimed[0]).toEqual({
        id: first,
        kind: 'announce',
        requestId: 'r1',
        channelId: 'C1',
        payload: { n: 1 },
        runAt: T0,
        state: 'pending',
        attempts: 0,
        leaseOwner: 'w1',
        leaseUntil: T0 + 30_010,
        createdAt: T0,
        updatedAt: T0 + 10,
      });

      // Leased: nobody else gets them until the lease ends; the later job is not due yet.
      expect(await other.claimDueJobs('w2', T0 + 20, 10, 30_000)).toEqual([]);
      const afterLease = await other.claimDueJobs('w2', T0 + 30_010, 1, 30_000);
      expect(afterLease.map((j) => [j.id, j.leaseOwner])).toEqual([[first, 'w2']]);
      // Oldest (first enqueued) first.
      expect((await store.claimDueJobs('w3', T0 + 60_000, 10, 1000)).map((j) => j.id)).toEqual([
        later,
        second,
      ]);

      expect((await store.pendingJobs()).map((j) => j.id)).toEqual([first, second, later]);
      expect(await store.claimDueJobs('w4', T0, 0, 1000)).toEqual([]);
    });

    it("takes a call's jobs in order: none while an earlier one of the same call is pending, due or not", async () => {
      await setUp();
      const job = (requestId: string, kind: 'announce' | 'outcome' | 'decision' = 'announce') => ({
        kind,
        requestId,
        channelId: 'C1',
        payload: {},
      });
      const ids = (jobs: { id: number }[]) => jobs.map((j) => j.id);
      const announce = await store.enqueueJob(job('r1'), T0);
      const unrelated = await store.enqueueJob(job('r2'), T0);
      const outcome = await store.enqueueJob(job('r1', 'outcome'), T0 + 1);
      // The call's first message is taken, not its reply behind it; another call's message goes alongside.
      expect(ids(await store.claimDueJobs('w1', T0 + 10, 10, 30_000))).toEqual([announce, unrelated]);
      // Slack was down: the first is pushed back a minute. Its reply is due, but waits for it, whoever asks.
      await store.retryJob(announce, T0 + 60_000, T0 + 20, 'service_unavailable');
      await store.completeJob(unrelated, T0 + 20);
      expect(await other.claimDueJobs('w2', T0 + 30, 10, 30_000)).toEqual([]);
      expect(await store.claimDueJobs('w1', T0 + 59_999, 10, 30_000)).toEqual([]);
      // Once due, the first goes out; the reply still waits while the first is in hand (leased, not yet done).
      expect(ids(await store.claimDueJobs('w1', T0 + 60_000, 10, 30_000))).toEqual([announce]);
      expect(await other.claimDueJobs('w2', T0 + 60_001, 10, 30_000)).toEqual([]);
      await store.completeJob(announce, T0 + 60_002);
      expect(ids(await other.claimDueJobs('w2', T0 + 60_003, 10, 30_000))).toEqual([outcome]);

      // A job given up (dead) holds nothing back: the next of its call goes out.
      const refused = await store.enqueueJob(job('r3'), T0 + 70_000);
      const decision = await store.enqueueJob(job('r3', 'decision'), T0 + 70_000);
      expect(ids(await store.claimDueJobs('w1', T0 + 70_001, 10, 30_000))).toEqual([refused]);
      await store.killJob(refused, T0 + 70_002, 'invalid_blocks');
      expect(ids(await store.claimDueJobs('w1', T0 + 70_003, 10, 30_000))).toEqual([decision]);
    });

    it('leaves the jobs of the channels it is told to skip', async () => {
      await setUp();
      const job = (channelId: string, n: number) => ({
        kind: 'announce' as const,
        requestId: `r${n}`,
        channelId,
        payload: {},
      });
      const a1 = await store.enqueueJob(job('C1', 1), T0);
      const b1 = await store.enqueueJob(job('C2', 2), T0);
      const a2 = await store.enqueueJob(job('C1', 3), T0);
      const c1 = await store.enqueueJob(job('C3', 4), T0);
      expect((await store.claimDueJobs('w1', T0, 10, 1000, ['C1', 'C3'])).map((j) => j.id)).toEqual([b1]);
      expect((await store.claimDueJobs('w1', T0, 10, 1000, [])).map((j) => j.id)).toEqual([a1, a2, c1]);
    });

    it('retries, completes and kills jobs', async () => {
      await setUp();
      const a = await store.enqueueJob(
        { kind: 'announce', requestId: 'r1', channelId: 'C1', payload: { step: 0 } },
        T0,
      );
      const b = await store.enqueueJob(
        { kind: 'refusal', requestId: 'r2', channelId: 'C2', payload: {} },
        T0,
      );
      const c = await store.enqueueJob(
        { kind: 'refusal', requestId: 'r3', channelId: 'C3', payload: {} },
        T0,
      );
      expect(await store.claimDueJobs('w1', T0, 10, 5000)).toHaveLength(3);

      await store.retryJob(a, T0 + 10_000, T0 + 100, 'slack 503', { step: 1 });
      await store.completeJob(b, T0 + 100);
      await store.killJob(c, T0 + 100, 'channel_not_found');

      const pending = await store.pendingJobs();
      expect(pending).toHaveLength(1);
      expect(pending[0]).toEqual({
        id: a,
        kind: 'announce',
        requestId: 'r1',
        channelId: 'C1',
        payload: { step: 1 },
        runAt: T0 + 10_000,
        state: 'pending',
        attempts: 1,
        lastError: 'slack 503',
        createdAt: T0,
        updatedAt: T0 + 100,
      });
      // The retry is not due before its time, its lease is gone, and done or dead jobs never come back.
      expect(await store.claimDueJobs('w2', T0 + 9_999, 10, 5000)).toEqual([]);
      const again = await store.claimDueJobs('w2', T0 + 10_000, 10, 5000);
      expect(again.map((j) => [j.id, j.attempts, j.leaseOwner])).toEqual([[a, 1, 'w2']]);
      await store.retryJob(a, T0 + 20_000, T0 + 10_001, 'slack 503 again');
      expect((await store.pendingJobs())[0]).toMatchObject({ attempts: 2, payload: { step: 1 } });
      await store.retryJob(b, T0, T0, 'late retry of a done job');
      expect(await store.claimDueJobs('w3', T0 + 100_000, 10, 5000)).toEqual([
        expect.objectContaining({ id: a, attempts: 2 }),
      ]);
    });

    it('leases each job to one claimant when claimants race', async () => {
      await setUp();
      const ids: number[] = [];
      for (let i = 0; i < 20; i += 1) {
        ids.push(
          await store.enqueueJob({ kind: 'announce', requestId: `r${i}`, channelId: 'C1', payload: {} }, T0),
        );
      }
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 === 0 ? store : other)
            .claimDueJobs(`w${i}`, T0 + 1, 3, 60_000)
            .then((jobs) => jobs.map((j) => ({ id: j.id, owner: j.leaseOwner, claimant: `w${i}` }))),
        ),
      );
      const leased = claims.flat();
      expect(leased.every((l) => l.owner === l.claimant)).toBe(true);
      const leasedIds = leased.map((l) => l.id);
      expect(new Set(leasedIds).size).toBe(leasedIds.length);
      // The rest are still there for a later claim, and nothing is leased twice.
      const rest = (await store.claimDueJobs('late', T0 + 2, 100, 60_000)).map((j) => j.id);
      expect([...leasedIds, ...rest].sort((x, y) => x - y)).toEqual(ids);
      expect(await other.claimDueJobs('later', T0 + 3, 100, 60_000)).toEqual([]);
    });

    it.skipIf(backend.kind !== 'postgres')(
      'leaves a live replica its jobs, and the other jobs of their calls, whatever the clocks say',
      async () => {
        await setUp();
        const job = (requestId: string) => ({
          kind: 'announce' as const,
          requestId,
          channelId: 'C1',
          payload: {},
        });
        const first = await store.enqueueJob(job('r1'), T0);
        await store.heartbeat('i-a', T0);
        expect((await store.claimDueJobs('i-a', T0, 10, 60_000)).map((j) => j.id)).toEqual([first]);
        // Another message of the same call, and one of another call.
        const second = await store.enqueueJob(job('r1'), T0 + 1);
        const unrelated = await store.enqueueJob(job('r2'), T0 + 1);
        // i-b, its clock far ahead: i-a's lease looks long over, but i-a is registered. Only r2's job is free.
        expect((await other.claimDueJobs('i-b', T0 + 3_600_000, 10, 60_000)).map((j) => j.id)).toEqual([
          unrelated,
        ]);
        // i-a itself takes the next message of its call once the first is done (a call's messages go in order).
        expect(await store.claimDueJobs('i-a', T0 + 2, 10, 60_000)).toEqual([]);
        await store.completeJob(first, T0 + 3);
        expect((await store.claimDueJobs('i-a', T0 + 4, 10, 60_000)).map((j) => j.id)).toEqual([second]);
        const third = await store.enqueueJob(job('r1'), T0 + 5);
        // i-a gone (stopped, or freed by recovery): its jobs are anyone's once their leases have run out, in order.
        await store.removeInstance('i-a');
        expect((await other.claimDueJobs('i-b', T0 + 3_600_000, 10, 60_000)).map((j) => j.id)).toEqual([
          second,
        ]);
        await other.completeJob(second, T0 + 3_600_001);
        expect((await other.claimDueJobs('i-b', T0 + 3_600_002, 10, 60_000)).map((j) => j.id)).toEqual([
          third,
        ]);
      },
    );
  });
}

describe('SQLite file lock', () => {
  it('creates the directory, and refuses a second process or connection while the store is open', async () => {
    const path = join(tempDir, 'lock', 'nested', 'store.db');
    expect(existsSync(join(tempDir, 'lock'))).toBe(false);
    const store = await open({ kind: 'sqlite', path });
    expect(existsSync(path)).toBe(true);

    const plain = `const D = require('better-sqlite3');
      try { new D(${JSON.stringify(path)}, { timeout: 100 }).prepare('select count(*) from call_requests').get();
        console.log('read'); } catch (e) { console.log(e.code); }`;
    const [child, reader] = await Promise.all([
      openFromChild(path),
      run(process.execPath, ['-e', plain], { timeout: 15_000 }),
    ]);
    expect(child.ok).toBe(false);
    expect(child.ok === false && child.name).toBe('StoreError');
    expect(child.ok === false && child.message).toMatch(/in use by another instance/);
    expect(child.ok === false && child.message).toMatch(/PostgreSQL.*DATABASE_URL/);
    expect(reader.stdout.trim()).toBe('SQLITE_BUSY');

    const second = openStore({ kind: 'sqlite', path, lockTimeoutMs: 50 });
    await expect(second).rejects.toBeInstanceOf(StoreError);
    await expect(second).rejects.toThrow(/in use by another instance of this app/);

    // The first store still works, and once it is closed the file can be used again.
    await store.recordCall('k', newCall('r1'), T0);
    await store.close();
    expect(await openFromChild(path)).toEqual({ ok: true });
    const reopened = await open({ kind: 'sqlite', path });
    expect((await reopened.getCall('r1'))?.id).toBe('r1');
  });
});

describe('SQLite durability of the move to sending', () => {
  /** Every fsync through a `FileHandle` (the store flushes its WAL with one), held until `release` is called. */
  async function holdFsyncs() {
    const probe = await openFile(join(tempDir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const real = proto.sync;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const spy = vi.spyOn(proto, 'sync').mockImplementation(async function (this: unknown) {
      await released;
      return real.call(this);
    });
    return { spy, release };
  }

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('does not answer the move to sending before the WAL is flushed; other moves are not flushed', async () => {
    const store = await open({ kind: 'sqlite', path: join(tempDir, 'durable', 'store.db') });
    await store.recordCall('k1', newCall('r1'), T0);
    const { spy, release } = await holdFsyncs();

    let answered = false;
    const sending = store.transition('r1', ['received'], 'sending', { owner: 'a' }, T0 + 1).then((r) => {
      answered = true;
      return r;
    });
    await vi.waitFor(() => expect(spy).toHaveBeenCalled());
    // Committed (visible to reads), but the caller may not send it to Iqra yet.
    expect((await store.getCall('r1'))?.state).toBe('sending');
    expect(answered).toBe(false);
    release();
    expect((await sending)?.state).toBe('sending');

    const calls = spy.mock.calls.length;
    expect((await store.transition('r1', ['sending'], 'queued', {}, T0 + 2))?.state).toBe('queued');
    expect(spy.mock.calls.length).toBe(calls);
  });

  it('flushes many moves to sending that arrive together with one or two fsyncs, and answers each', async () => {
    const store = await open({ kind: 'sqlite', path: join(tempDir, 'group', 'store.db') });
    const ids = Array.from({ length: 20 }, (_, i) => `g${i}`);
    for (const id of ids) await store.recordCall(`k-${id}`, newCall(id), T0);
    // The WAL file is opened (and its directory flushed) on the first flush: do that before counting.
    await store.transition('g0', ['received'], 'sending', {}, T0 + 1);
    const { spy, release } = await holdFsyncs();

    const moves = ids.slice(1).map((id) => store.transition(id, ['received'], 'sending', {}, T0 + 2));
    await vi.waitFor(async () => expect((await store.callsInStates(['received'], 100)).length).toBe(0));
    release();
    const moved = await Promise.all(moves);
    expect(moved.map((r) => r?.state)).toEqual(ids.slice(1).map(() => 'sending'));
    // The first flush (begun after the first commit), then one more for every commit that came while it ran.
    expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
  });
});

describe('PostgreSQL connection errors', () => {
  it('names the host and database but never the password', async () => {
    const options: StoreOptions = { kind: 'postgres', url: 'postgres://app:s3cr3t-pw@127.0.0.1:1/calls_db' };
    const failure = openStore(options);
    await expect(failure).rejects.toBeInstanceOf(StoreError);
    const message = await failure.then(
      () => '',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    expect(message).toContain('127.0.0.1:1/calls_db');
    expect(message).not.toContain('s3cr3t-pw');
  });

  it('refuses a URL that is not a PostgreSQL URL', async () => {
    await expect(openStore({ kind: 'postgres', url: 'not a url :s3cr3t' })).rejects.toThrow(
      /DATABASE_URL is not a PostgreSQL URL/,
    );
    await expect(openStore({ kind: 'postgres', url: 'mysql://u:s3cr3t@h/db' })).rejects.toBeInstanceOf(
      StoreError,
    );
  });

  it('says DATABASE_URL needs a password when the server asks for one (SCRAM) and the URL has none', async () => {
    // A stand-in server that asks for the password as PostgreSQL 14+ does; the real pg driver answers it.
    const server = await startFakePostgres();
    vi.stubEnv('PGPASSWORD', undefined);
    try {
      const failure = openStore({ kind: 'postgres', url: `postgres://app@${server.host}/calls_db` });
      await expect(failure).rejects.toBeInstanceOf(StoreError);
      await expect(failure).rejects.toThrow(
        `PostgreSQL at ${server.host}/calls_db as app asks for a password and DATABASE_URL has none: add it as postgres://user:password@host/db`,
      );
      await expect(failure).rejects.not.toThrow(/SASL|SCRAM/);
      expect(server.startups).toEqual([expect.objectContaining({ user: 'app', database: 'calls_db' })]);
    } finally {
      vi.unstubAllEnvs();
      await server.close();
    }
  });

  it.skipIf(!PG_URL)('reports a missing database on a reachable server without the password', async () => {
    const url = new URL(PG_URL ?? '');
    url.password = 'pw-not-to-show';
    url.pathname = `/missing_${runId}`;
    const failure = openStore({ kind: 'postgres', url: url.toString() });
    await expect(failure).rejects.toThrow(new RegExp(`missing_${runId}`));
    await expect(failure).rejects.not.toThrow(/pw-not-to-show/);
  });
});

describe('describeStore', () => {
  it('shows the SQLite path, and a PostgreSQL URL without its password', () => {
    expect(describeStore({ kind: 'sqlite', path: '/data/iqra.db' })).toBe('/data/iqra.db');
    const described = describeStore({
      kind: 'postgres',
      url: 'postgres://app:p%40ss@db.internal:6543/calls',
    });
    expect(described).toBe('postgres://app:***@db.internal:6543/calls');
    expect(describeStore({ kind: 'postgres', url: 'postgres://db/calls?password=zz&sslmode=require' })).toBe(
      'postgres://db/calls?password=***&sslmode=require',
    );
    expect(describeStore({ kind: 'postgres', url: 'postgres://db.internal/calls' })).toBe(
      'postgres://db.internal/calls',
    );
  });
});
