import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { startFakeIqra } from './support/fake-iqra.js';
import { startFakeSlack } from './support/fake-slack.js';
import { freshPostgresSchema, TEST_DATABASE_URL } from './support/postgres.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// Two app instances (each with its own connection pool) on one PostgreSQL database, behind one Slack app: the
// situation several replicas behind a load balancer are in.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function twoReplicas(env: Record<string, string> = {}): Promise<[TestApp, TestApp]> {
  const schema = await freshPostgresSchema();
  cleanups.push(schema.drop);
  const slack = await startFakeSlack();
  const iqra = await startFakeIqra();
  cleanups.push(
    () => slack.close(),
    () => iqra.close(),
  );
  const stores: Store[] = [];
  for (let i = 0; i < 2; i += 1) {
    const store = await openStore({ kind: 'postgres', url: schema.url });
    await store.migrate();
    stores.push(store);
    cleanups.push(() => store.close());
  }
  const apps = await Promise.all(
    stores.map((store) =>
      startTestApp({ slack, fakeIqra: iqra, store, env: { DATABASE_URL: schema.url, ...env } }),
    ),
  );
  for (const app of apps) cleanups.push(() => app.close());
  return apps as [TestApp, TestApp];
}

const title = TEST_DATABASE_URL
  ? 'two replicas on one PostgreSQL database'
  : 'two replicas on one PostgreSQL database (set TEST_DATABASE_URL to run)';

describe.skipIf(!TEST_DATABASE_URL)(title, () => {
  it('place one call when both receive the same command at the same moment', async () => {
    const [a, b] = await twoReplicas();
    for (let round = 0; round < 5; round += 1) {
      const triggerId = `race.${round}.both`;
      const [first, second] = await Promise.all([
        a.command('+14155552671', { triggerId }),
        b.command('+14155552671', { triggerId, headers: { 'x-slack-retry-num': '1' } }),
      ]);
      expect([first.status, second.status]).toEqual([200, 200]);
    }
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts).length === 5 && true,
      'five confirmations',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(a.iqra.requests).toHaveLength(5);
    const ids = new Set(a.iqra.requests.map((r) => r.fields['Metadata[RequestId]']));
    expect(ids.size).toBe(5);
  });

  it('place a call again once when both handle the button press', async () => {
    const [a, b] = await twoReplicas();
    a.iqra.script({ status: 500, body: 'boom' });
    await a.command('+14155552671');
    const reply = await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts),
      'the unknown outcome',
    );
    const requestId = String(a.iqra.requests[0]?.fields['Metadata[RequestId]']);
    const press = (app: TestApp) =>
      app.interact(
        app.buttonPress({
          actionId: 'place_call_again',
          value: requestId,
          user: 'U0MARIA1',
          message: { ts: String(reply.args.thread_ts) },
        }),
      );
    await Promise.all([press(a), press(b), press(a), press(b)]);
    await a.slack.waitFor(() => a.iqra.requests.length >= 2 && true, 'the call placed again');
    await new Promise((r) => setTimeout(r, 500));
    expect(a.iqra.requests).toHaveLength(2);
  });

  it('place one call when two approvers, on two replicas, approve the same request at the same moment', async () => {
    const [a, b] = await twoReplicas({ CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001,U0BOSS002' });
    await a.command('+14155552671');
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').find((c) => !c.args.thread_ts),
      'the request',
    );
    const [pending] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    expect(pending?.state).toBe('pending_approval');
    const press = (app: TestApp, user: string) =>
      app.interact(
        app.buttonPress({
          actionId: 'approve_call',
          value: String(pending?.id),
          user,
          message: { ts: '1.2' },
        }),
      );
    await Promise.all([
      press(a, 'U0BOSS001'),
      press(b, 'U0BOSS002'),
      press(b, 'U0BOSS001'),
      press(a, 'U0BOSS002'),
    ]);
    await a.slack.waitFor(() => a.iqra.requests[0], 'the call');
    await new Promise((r) => setTimeout(r, 500));
    expect(a.iqra.requests).toHaveLength(1);
    const approvals = (await a.store.transitions(String(pending?.id))).filter((t) => t.to === 'approved');
    expect(approvals).toHaveLength(1);
  });

  it('count the hourly limit once across both replicas', async () => {
    const [a, b] = await twoReplicas({ CALL_LIMIT_PER_USER_PER_HOUR: '2' });
    await Promise.all([
      a.command('+14155552671'),
      b.command('+14155552671'),
      a.command('+14155552671'),
      b.command('+14155552671'),
    ]);
    await a.slack.waitFor(() => a.slack.responses.length === 2 && true, 'two refusals');
    await new Promise((r) => setTimeout(r, 500));
    expect(a.iqra.requests).toHaveLength(2);
    for (const r of a.slack.responses)
      expect(JSON.stringify(r.body)).toContain('CALL_LIMIT_PER_USER_PER_HOUR');
  });
});
