import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { SlackAppOptions } from '../src/app.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { confirmBatch, stopBatch } from './support/batches.js';
import { startFakeIqra } from './support/fake-iqra.js';
import { type FakeSlack, startFakeSlack } from './support/fake-slack.js';
import { freshPostgresSchema, TEST_DATABASE_URL } from './support/postgres.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// Races between replicas (each with its own connection pool) on one PostgreSQL database, driven through their HTTP
// receivers, with one fake Slack and one fake Iqra that counts what reaches it.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Replica {
  env?: Record<string, string>;
  /** PostgreSQL settings for this replica's connections, e.g. `-c lock_timeout=500`. */
  pgOptions?: string;
  now?: () => Date;
  appOptions?: Partial<SlackAppOptions>;
}

/** The URL of the database the replicas of the running test share. */
let databaseUrl = '';

async function replicas(
  shared: Record<string, string>,
  each: Replica[],
  setup: (slack: FakeSlack) => void = () => {},
): Promise<TestApp[]> {
  const schema = await freshPostgresSchema();
  cleanups.push(schema.drop);
  databaseUrl = schema.url;
  const slack = await startFakeSlack();
  setup(slack);
  const iqra = await startFakeIqra();
  cleanups.push(
    () => slack.close(),
    () => iqra.close(),
  );
  const apps: TestApp[] = [];
  for (const replica of each) {
    const url = new URL(schema.url);
    if (replica.pgOptions)
      url.searchParams.set('options', `${url.searchParams.get('options')} ${replica.pgOptions}`);
    const store: Store = await openStore({ kind: 'postgres', url: url.toString() });
    await store.migrate();
    cleanups.push(() => store.close());
    const app = await startTestApp({
      slack,
      fakeIqra: iqra,
      store,
      env: { DATABASE_URL: schema.url, ...shared, ...replica.env },
      ...(replica.now ? { now: replica.now } : {}),
      ...(replica.appOptions ? { appOptions: replica.appOptions } : {}),
    });
    cleanups.push(() => app.close());
    apps.push(app);
  }
  return apps;
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `/call batch` on `app`, the list pasted, the preview confirmed there, the batch running: the batch's id. */
async function runningBatch(app: TestApp, numbers: string[]): Promise<string> {
  const batchId = await confirmBatch(app, { batch_paste: numbers.join('\n'), batch_pace: '60' });
  await until(async () => (await app.store.getBatch(batchId))?.state === 'running', 'the batch running');
  return batchId;
}

/** The first `users.info` (a rep's time zone) held until `answer()`: the request that needs it waits there. */
function firstZoneLookupHeld() {
  let first = true;
  let answer: () => void = () => {};
  return {
    hold: (slack: FakeSlack) =>
      slack.handle('users.info', async () => {
        if (first) {
          first = false;
          await new Promise<void>((resolve) => {
            answer = resolve;
          });
        }
        return undefined;
      }),
    answer: () => answer(),
  };
}

const title = TEST_DATABASE_URL
  ? 'replicas racing on one PostgreSQL database'
  : 'replicas racing on one PostgreSQL database (set TEST_DATABASE_URL to run)';

describe.skipIf(!TEST_DATABASE_URL)(title, () => {
  it('"Stop the rest" on one replica cancels a row another replica has taken but not yet sent', async () => {
    // Replica A reads the allowed user group from Slack when it sends the batch's first row; Slack is slow to answer
    // it, so the row has been taken (state `received`) but not sent when the rep presses Stop on replica B.
    let slowGroup: Promise<void> | undefined;
    let answerGroup: () => void = () => {};
    const [a, b] = (await replicas(
      { CALL_ALLOWED_USERS: 'S0REPS0001' },
      [{}, {}].map(() => ({ appOptions: { batchTickMs: 0, batchRefreshMs: 0 } })),
      (slack) =>
        slack.handle('usergroups.users.list', async () => {
          await slowGroup;
          return { body: { ok: true, users: ['U0MARIA1'] } };
        }),
    )) as [TestApp, TestApp];
    const batchId = await runningBatch(b, ['+14155551001', '+14155551002']);
    await b.running.delivery.flush();
    const parentTs = (await b.store.getBatch(batchId))?.parentTs ?? '';

    slowGroup = new Promise((resolve) => {
      answerGroup = resolve;
    });
    const groupReads = a.slack.callsOf('usergroups.users.list').length;
    const ticking = a.running.batches.tick();
    await a.slack.waitFor(
      () => a.slack.callsOf('usergroups.users.list').length > groupReads && true,
      'replica A checking the first row',
    );
    const taken = (await a.store.batchCalls(batchId)).find((call) => call.state === 'received');
    expect(taken).toBeDefined();

    await stopBatch(b, batchId, parentTs);
    answerGroup();
    await ticking;
    await new Promise((r) => setTimeout(r, 300));

    expect(a.iqra.requests).toHaveLength(0);
    const states = (await a.store.batchCalls(batchId)).map((call) => call.state);
    expect(states).toEqual(['cancelled', 'cancelled']);
  });

  it('does not take over a live replica’s call being sent when its own clock runs ahead of the other’s', async () => {
    // Replica B's clock is two minutes ahead of A's (a host whose time sync failed). A is alive and heartbeating, and
    // Iqra is slow to answer A: B must not judge A gone, mark the call "unknown" and offer to place it again.
    const ahead = 120_000;
    const [a, b] = (await replicas({ INSTANCE_TIMEOUT_SECONDS: '3' }, [
      { appOptions: { heartbeatMs: 100 } },
      { now: () => new Date(Date.now() + ahead), appOptions: { heartbeatMs: 100 } },
    ])) as [TestApp, TestApp];
    a.iqra.script({ delayMs: 1500 });
    expect((await a.command('+14155552671')).status).toBe(200);
    await a.slack.waitFor(() => a.iqra.requests[0], 'the request reaching Iqra');
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    await until(async () => (await a.store.getCall(String(call?.id)))?.state === 'queued', 'Iqra’s answer');
    await a.running.delivery.flush();
    await b.running.delivery.flush();

    const states = (await b.store.transitions(String(call?.id))).map((t) => t.to);
    expect(states).toEqual(['received', 'sending', 'queued']);
    const told = a.slack.calls.filter((c) =>
      JSON.stringify(c.args).includes('may or may not have been placed'),
    );
    expect(told).toEqual([]);
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('posts a call’s message once when another replica’s clock runs ahead while Slack is slow', async () => {
    // Replica A has the confirmation in hand, and Slack is slow to take it. Replica B's clock is two minutes ahead,
    // so A's lease on the message looks long over to it: it must not post the message a second time.
    const ahead = 120_000;
    const [a, b] = (await replicas({ INSTANCE_TIMEOUT_SECONDS: '3' }, [
      {},
      { now: () => new Date(Date.now() + ahead), appOptions: { deliveryPollMs: 50 } },
    ])) as [TestApp, TestApp];
    const releasePosts = a.slack.hold('chat.postMessage');
    expect((await a.command('+14155552671')).status).toBe(200);
    await a.slack.waitFor(() => a.slack.callsOf('chat.postMessage')[0], 'the confirmation being posted');
    // B's outbox looks for due messages every 50 ms meanwhile.
    await new Promise((r) => setTimeout(r, 500));
    releasePosts();
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts),
      'the thread reply',
    );
    await a.running.delivery.flush();
    await b.running.delivery.flush();
    await new Promise((r) => setTimeout(r, 300));
    const parents = a.slack.callsOf('chat.postMessage').filter((c) => !c.args.thread_ts);
    expect(parents).toHaveLength(1);
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('counts a call once against the hourly limit when a replica that looked gone goes on with it too', async () => {
    // Replica A records the command, then stalls (Slack slow to give the rep's time zone) and its heartbeats stop.
    // Replica B takes the request over and places it. When A wakes up, it must not count the same call a second
    // time: with a limit of 2 an hour, the rep's next call is still allowed.
    const zone = firstZoneLookupHeld();
    const [a, b] = (await replicas(
      { INSTANCE_TIMEOUT_SECONDS: '3', CALL_LIMIT_PER_USER_PER_HOUR: '2' },
      [{ appOptions: { heartbeatMs: 3_600_000 } }, { appOptions: { heartbeatMs: 100 } }],
      zone.hold,
    )) as [TestApp, TestApp];
    expect((await a.command('+14155552671')).status).toBe(200);
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    const id = String(call?.id);
    await until(async () => (await b.store.getCall(id))?.state === 'queued', 'replica B placing it', 10_000);
    expect(b.iqra.requests).toHaveLength(1);

    // A goes on with what it had in hand: it finds the call taken.
    zone.answer();
    await until(
      () => a.logs.some((l) => l.msg === 'call request already taken by another worker'),
      'replica A finding the call taken',
    );
    expect(b.iqra.requests).toHaveLength(1);

    expect((await b.command('+14155552672')).status).toBe(200);
    const refusals = () => b.slack.responses.filter((r) => JSON.stringify(r.body).includes('CALL_LIMIT'));
    await b.slack.waitFor(
      () => (b.iqra.requests[1] || refusals()[0]) && true,
      'the second call placed, or refused',
    );
    expect(refusals()).toEqual([]);
    expect(b.iqra.requests).toHaveLength(2);
  });

  it('posts a call’s message once when an Iqra event reaches another replica while the first is still posting it', async () => {
    // Replica A has Iqra's "queued" and is posting the call's message, Slack slow to take it. Iqra's "initiated" event
    // reaches replica B meanwhile: B must not post the call's message a second time, it rewrites the one A posts.
    const secret = 'a-very-long-shared-secret-0123456789';
    const [a, b] = (await replicas({ IQRA_WEBHOOK_SECRET: secret }, [{}, {}])) as [TestApp, TestApp];
    const releasePosts = a.slack.hold('chat.postMessage');
    expect((await a.command('+14155552671')).status).toBe(200);
    await a.slack.waitFor(() => a.slack.callsOf('chat.postMessage')[0], 'the call’s message being posted');
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    const pushed = await fetch(`${b.url}/iqra/events?event=initiated`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ call_queue_id: call?.queueIds[0], call_queue_status: 'ProcessingBackend' }),
    });
    expect(await pushed.json()).toMatchObject({ ok: true, result: 'applied' });
    // B's outbox has the "dialling" rewrite in hand meanwhile.
    await new Promise((r) => setTimeout(r, 500));
    releasePosts();
    await until(async () => (await a.store.pendingJobs()).length === 0, 'every message delivered');
    await new Promise((r) => setTimeout(r, 200));
    const parents = a.slack.callsOf('chat.postMessage').filter((c) => !c.args.thread_ts);
    expect(parents).toHaveLength(1);
    const parentTs = (await a.store.getCall(String(call?.id)))?.parentTs;
    expect(a.slack.callsOf('chat.update').some((c) => c.args.ts === parentTs)).toBe(true);
  });

  it('places a request its replica could not send because of a database error, once, while that replica lives', async () => {
    // Replica A records the command; when it moves the request to "sending", the database makes it wait for a lock
    // longer than A's lock_timeout, and the statement fails. A is alive (so no other replica takes the request over):
    // A itself must take it up again, not leave it "received" for as long as it runs.
    const zone = firstZoneLookupHeld();
    const [a] = (await replicas(
      { INSTANCE_TIMEOUT_SECONDS: '3' },
      [{ pgOptions: '-c lock_timeout=300' }, {}],
      zone.hold,
    )) as [TestApp, TestApp];
    expect((await a.command('+14155552671')).status).toBe(200);
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    const id = String(call?.id);
    await a.slack.waitFor(() => a.slack.callsOf('users.info')[0], 'the time zone look-up');

    // Someone holds the request's row (a long transaction, an operator's query) while A goes on.
    const holder = new pg.Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select id from call_requests where id = $1 for update', [id]);
      zone.answer();
      await until(() => a.logs.some((l) => l.msg === 'processing a call request failed'), 'the failure');
      await holder.query('commit');
    } finally {
      await holder.end();
    }
    expect(a.iqra.requests).toHaveLength(0);
    expect((await a.store.getCall(id))?.state).toBe('received');

    await until(async () => (await a.store.getCall(id))?.state === 'queued', 'the request placed', 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(a.iqra.requests).toHaveLength(1);
  });
});
