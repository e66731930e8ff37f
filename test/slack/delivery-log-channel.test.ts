import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../support/fake-slack.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const LOG = 'C0CALLLOG1';
const postsIn = (a: TestApp, channel: string): SlackApiCall[] =>
  a.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === channel);

describe('the copies in CALL_LOG_CHANNEL', () => {
  it('wait out a rate limit of the log channel there, without holding up the call’s own channel', async () => {
    app = await startTestApp({ env: { CALL_LOG_CHANNEL: LOG } });
    const a = app;
    let limitedAt = 0;
    a.slack.handle('chat.postMessage', (args) => {
      if (args.channel !== LOG || limitedAt) return undefined;
      limitedAt = Date.now();
      return { status: 429, headers: { 'retry-after': '6' }, body: { ok: false, error: 'ratelimited' } };
    });
    await a.command('+14155552671');
    await a.slack.waitFor(() => limitedAt || undefined, 'the rate-limited log copy');
    // A second call, in another channel: its messages do not wait for the log channel's Retry-After (posted while it
    // runs, before any copy is sent again), and its own copy is not sent inside it.
    await a.command('+14155552672', { channel: 'C0EAST001' });
    await a.slack.waitFor(
      () => postsIn(a, 'C0EAST001').find((c) => c.args.thread_ts) || undefined,
      'the second call’s messages',
    );
    expect(postsIn(a, LOG)).toHaveLength(1);
    // Both copies reach the log channel once each, none of them before its Retry-After is over.
    await a.slack.waitFor(() => postsIn(a, LOG).length === 3 || undefined, 'both copies', 20_000);
    const after = postsIn(a, LOG).slice(1);
    for (const copy of after) expect(copy.at - limitedAt).toBeGreaterThanOrEqual(5900);
    expect(new Set(after.map((c) => String(c.args.text))).size).toBe(2);
  }, 40_000);

  it('include a call stopped at approval by a guard (refused), as they do a rejected one', async () => {
    app = await startTestApp({
      env: {
        CALL_LOG_CHANNEL: LOG,
        CALL_APPROVAL: 'always',
        CALL_APPROVERS: 'U0BOSS001',
        CALL_ADMINS: 'U0ADMIN01',
      },
    });
    const a = app;
    await a.command('+14155552671');
    await a.slack.waitFor(() => postsIn(a, 'C0SALES01')[0], 'the approval request');
    const [pending] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    // The number is listed while the call waits: approving it stops it.
    await a.command('dnc add +14155552671', { user: 'U0ADMIN01' });
    await a.interact(
      a.buttonPress({
        actionId: 'approve_call',
        value: String(pending?.id),
        user: 'U0BOSS001',
        message: { ts: '1.1' },
      }),
    );
    const copy = await a.slack.waitFor(() => postsIn(a, LOG)[0], 'the log copy');
    expect((await a.store.getCall(String(pending?.id)))?.state).toBe('refused');
    expect(String(copy.args.text)).toContain('was not placed');
    expect(String(copy.args.text)).toContain('do-not-call list');
    await new Promise((r) => setTimeout(r, 300));
    expect(postsIn(a, LOG)).toHaveLength(1);
  });

  it('get an approved call once, however its messages and its placing interleave', async () => {
    app = await startTestApp({
      env: { CALL_LOG_CHANNEL: LOG, CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001' },
    });
    const a = app;
    await a.command('+14155552671');
    await a.slack.waitFor(() => postsIn(a, 'C0SALES01')[1], 'the approval request and its details');
    const [pending] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    // The channel is busy (Slack slow to answer another rep's request there): the decision's messages wait their turn
    // behind it, and the approved call is queued meanwhile.
    const release = a.slack.hold('chat.postMessage');
    await a.command('+14155552672', { user: 'U0OTHER01' });
    await a.slack.waitFor(() => postsIn(a, 'C0SALES01')[2], 'the other request asked for');
    await a.interact(
      a.buttonPress({
        actionId: 'approve_call',
        value: String(pending?.id),
        user: 'U0BOSS001',
        message: { ts: '1.1' },
      }),
    );
    const deadline = Date.now() + 5000;
    while ((await a.store.getCall(String(pending?.id)))?.state !== 'queued') {
      if (Date.now() > deadline) throw new Error('the call was never queued');
      await new Promise((r) => setTimeout(r, 25));
    }
    release();
    await a.slack.waitFor(() => postsIn(a, LOG)[0], 'the log copy');
    const empty = Date.now() + 5000;
    while ((await a.store.pendingJobs()).length > 0) {
      if (Date.now() > empty) throw new Error('the outbox never emptied');
      await new Promise((r) => setTimeout(r, 25));
    }
    const copies = postsIn(a, LOG).filter((c) => JSON.stringify(c.args).includes(String(pending?.id)));
    expect(copies).toHaveLength(1);
    expect(String(copies[0]?.args.text)).toContain('queued a call');
  });
});
