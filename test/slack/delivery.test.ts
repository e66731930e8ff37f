import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { SlackDelivery } from '../../src/slack/delivery.js';
import { webApiFetch } from '../../src/slack/web-api-fetch.js';
import type { SlackApiCall } from '../support/fake-slack.js';
import { BOT_TOKEN, progressOf, startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const parents = (a: TestApp): SlackApiCall[] =>
  a.slack.callsOf('chat.postMessage').filter((c) => !c.args.thread_ts);
async function waitUntilTrue(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const waitForEmptyOutbox = (a: TestApp): Promise<void> =>
  waitUntilTrue(async () => (await a.store.pendingJobs()).length === 0, 'the outbox emptying');

const replies = (a: TestApp): SlackApiCall[] =>
  a.slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts);

describe('the Slack outbox', () => {
  it('waits out a rate limit (429 + Retry-After) and then posts, without placing the call twice', async () => {
    app = await startTestApp();
    let limited = 0;
    app.slack.handle('chat.postMessage', () => {
      if (limited > 0) return undefined;
      limited += 1;
      return { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } };
    });
    await app.command('+14155552671');
    const reply = await app.slack.waitFor(() => replies(app as TestApp)[0], 'the thread reply', 8000);
    expect(limited).toBe(1);
    expect(parents(app)).toHaveLength(2); // the refused attempt and the delivered one
    expect(reply.args.thread_ts).toBeDefined();
    expect(app.iqra.requests).toHaveLength(1);
    await waitForEmptyOutbox(app);
  });

  it('keeps confirming calls in other channels while one channel waits', async () => {
    app = await startTestApp();
    const a = app;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Slack keeps one channel waiting (as its pace would); 25 other channels must not wait for it.
    a.slack.handle('chat.postMessage', async (args) => {
      if (args.channel === 'C0SLOW001') await released;
      return undefined;
    });
    await a.command('+14155552671', { channel: 'C0SLOW001' });
    await a.slack.waitFor(() => a.iqra.requests.length === 1 && true, 'the slow channel’s call');
    const channels = Array.from({ length: 25 }, (_, i) => `C0FAST${String(i).padStart(3, '0')}`);
    for (const [i, channel] of channels.entries()) {
      await a.command(`+1415555${String(1000 + i)}`, { channel });
    }
    await a.slack.waitFor(
      () => channels.every((c) => replies(a).some((r) => r.args.channel === c)) || undefined,
      'every other channel’s confirmation',
      10_000,
    );
    expect(parents(a).filter((p) => p.args.channel === 'C0SLOW001')).toHaveLength(1); // asked, not yet answered
    release();
    await a.slack.waitFor(
      () => replies(a).some((r) => r.args.channel === 'C0SLOW001') || undefined,
      'the slow channel’s thread reply',
    );
    await waitForEmptyOutbox(a);
  });

  it('retries a Slack server error on the thread reply without posting the parent again', async () => {
    app = await startTestApp();
    let failed = false;
    app.slack.handle('chat.postMessage', (args) => {
      if (failed || !args.thread_ts) return undefined;
      failed = true;
      return { status: 200, body: { ok: false, error: 'internal_error' } };
    });
    await app.command('+14155552671');
    await app.slack.waitFor(
      () => replies(app as TestApp).length === 2 && true,
      'the retried thread reply',
      8000,
    );
    expect(parents(app)).toHaveLength(1);
    expect(app.iqra.requests).toHaveLength(1);
  });

  it('falls back to a direct message when the channel refuses and the response_url has expired', async () => {
    app = await startTestApp();
    app.slack.failNext('chat.postMessage', 'not_in_channel', 'C0PRIVATE');
    app.slack.responseUrlStatus = 404;
    const sent = await app.command('+14155552671', { channel: 'C0PRIVATE' });
    expect(sent.status).toBe(200);
    const dm = await app.slack.waitFor(
      () => app?.slack.callsOf('chat.postMessage').find((c) => c.args.channel === 'U0MARIA1'),
      'the direct message',
    );
    expect(String(dm.args.text)).toContain('queued a call');
    expect(String(dm.args.text)).toContain('/invite @Iqra Calls');
    expect(app.slack.responses).toHaveLength(0);
    expect(app.iqra.requests).toHaveLength(1);
  });

  it.each([
    ['is_archived', 'archived'],
    ['restricted_action', 'only some members may post'],
  ])(
    'tells the rep why when the channel refuses with %s, without advising to invite the bot',
    async (error, why) => {
      app = await startTestApp();
      app.slack.failNext('chat.postMessage', error, 'C0OLDTEAM1');
      await app.command('+14155552671', { channel: 'C0OLDTEAM1' });
      const told = await app.slack.waitFor(() => app?.slack.responses[0], 'the rep told alone');
      const said = JSON.stringify(told.body);
      expect(said).toContain('queued a call');
      expect(said).toContain(why);
      expect(said).not.toContain('/invite');
      expect(said).not.toContain('not a member');
      expect(app.iqra.requests).toHaveLength(1);
    },
  );

  it('posts a confirmation once when its delivery is still in hand after its lease ran out', async () => {
    let at = Date.parse('2026-11-27T17:00:00.000Z');
    app = await startTestApp({ now: () => new Date(at) });
    const a = app;
    // Slack is slow to answer the parent message: the delivery stays in hand past its 60 s lease.
    const release = a.slack.hold('chat.postMessage');
    await a.command('+14155552671');
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').length === 1 && true,
      'the parent asked for',
    );
    at += 61_000;
    // Something new in the outbox: the outbox looks for due jobs again, and finds this one's lease over.
    a.running.delivery.kick();
    // It is claimed again (its lease renewed from the new time) while the first delivery still waits for Slack.
    await waitUntilTrue(
      async () => (await a.store.pendingJobs()).some((j) => (j.leaseUntil ?? 0) > at),
      'the second claim',
    );
    release();
    await a.slack.waitFor(() => replies(a)[0], 'the thread reply');
    await waitForEmptyOutbox(a);
    expect(parents(a)).toHaveLength(1);
    expect(replies(a)).toHaveLength(1);
  });

  it('delivers what a previous run left in the outbox', async () => {
    app = await startTestApp();
    await app.command('+14155552671');
    await app.slack.waitFor(() => replies(app as TestApp)[0], 'the thread reply');
    const callId = String(app.iqra.requests[0]?.fields['Metadata[RequestId]']);
    // As if the process had died after recording the outcome and before announcing it a second time.
    await app.store.enqueueJob(
      { kind: 'announce', requestId: callId, channelId: 'C0SALES01', payload: { step: 'thread' } },
      Date.now(),
    );
    app.running.delivery.kick();
    await app.slack.waitFor(() => replies(app as TestApp).length === 2 && true, 'the second reply');
    expect(parents(app)).toHaveLength(1);
  });

  it('stops promptly while Slack never answers an edit, and makes the edit later, once, posting nothing new', async () => {
    let at = Date.parse('2026-11-27T17:00:00.000Z');
    app = await startTestApp({ now: () => new Date(at) });
    const a = app;
    await a.command('+14155552671');
    await a.slack.waitFor(() => replies(a)[0], 'the thread reply');
    await waitForEmptyOutbox(a);
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    if (!call?.parentTs) throw new Error('no parent message recorded');
    // The app's outbox steps aside for one built the same way, whose Web API client has a short deadline.
    await a.running.delivery.stop();
    const logs: Record<string, unknown>[] = [];
    const outbox = new SlackDelivery({
      store: a.store,
      client: new webApi.WebClient(BOT_TOKEN, {
        slackApiUrl: a.slack.apiUrl,
        fetch: webApiFetch({ timeoutMs: 200 }),
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
      }),
      logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) }),
      instanceId: 'outbox-under-test',
      now: () => new Date(at),
      pollMs: 50,
      minGapMs: 0,
    });
    const release = a.slack.hold('chat.update');
    try {
      // The call's parent message moves in place (what tracking asks for at each step).
      await a.store.enqueueJob(
        {
          kind: 'announce',
          requestId: call.id,
          channelId: 'C0SALES01',
          payload: { step: 'parent', parentOnly: true, progress: true },
        },
        at,
      );
      outbox.start();
      await a.slack.waitFor(() => a.slack.callsOf('chat.update').length === 1 && true, 'the edit asked for');
      const stopping = Date.now();
      await outbox.stop();
      expect(Date.now() - stopping).toBeLessThan(1500);
      // Nothing lost: the edit waits in the outbox for a later try, recorded as a timeout.
      const [waiting] = await a.store.pendingJobs();
      expect(waiting).toMatchObject({ kind: 'announce', attempts: 1, lastError: 'timeout' });
      expect(logs.some((l) => l.msg === 'Slack delivery will be retried' && l.slackError === 'timeout')).toBe(
        true,
      );
    } finally {
      release();
    }
    // Slack answers again; the retry is due a little later.
    at += 60_000;
    outbox.start();
    try {
      await waitForEmptyOutbox(a);
    } finally {
      await outbox.stop();
    }
    const edits = a.slack.callsOf('chat.update');
    expect(edits).toHaveLength(2);
    expect(edits.map((e) => e.args.ts)).toEqual([call.parentTs, call.parentTs]);
    expect(parents(a)).toHaveLength(1);
    expect(replies(a)).toHaveLength(1);
  });

  it("keeps to Slack's pace of about one message per second in a channel", async () => {
    app = await startTestApp({ appOptions: { slackMinGapMs: 1000 } });
    await Promise.all([
      app.command('+14155552671'),
      app.command('+14155552671'),
      app.command('+14155552671'),
    ]);
    await app.slack.waitFor(
      () => replies(app as TestApp).length === 3 && true,
      'three confirmations',
      15_000,
    );
    const times = app.slack
      .callsOf('chat.postMessage')
      .filter((c) => c.args.channel === 'C0SALES01')
      .map((c) => c.at);
    expect(times).toHaveLength(6);
    // A lower bound only: a busy machine can make the gaps longer, never shorter.
    for (let i = 1; i < times.length; i += 1)
      expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(950);
  }, 30_000);
});

describe('a call whose channel cannot be used, followed to its end', () => {
  // The call walks through the fake Iqra's lifecycle; the app's clock runs 20 times faster than the wall clock.
  const NOW = Date.parse('2026-11-27T17:00:00.000Z');
  const LIFECYCLE = [
    { status: 0 },
    { status: 3 },
    { status: 4, sessionStatus: 3, sessionId: 'sess000000000000000000f1' },
    { status: 4, sessionStatus: 6, sessionEndType: 5 },
  ];

  async function start(env: Record<string, string> = {}): Promise<TestApp> {
    const t0 = Date.now();
    app = await startTestApp({
      env,
      iqra: { mode: 'server' },
      now: () => new Date(NOW + (Date.now() - t0) * 20),
    });
    app.iqra.lifecycle(LIFECYCLE);
    return app;
  }

  const privately = (a: TestApp): string[] => [
    ...a.slack.responses.map((r) => String(r.body.text)),
    ...a.slack
      .callsOf('chat.postMessage')
      .filter((c) => c.args.channel === 'U0MARIA1')
      .map((c) => String(c.args.text)),
  ];

  /** Follows the call to its end, its last message told, and the outbox empty; returns its steps. */
  async function followed(a: TestApp, lastWord: string): Promise<string[]> {
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    if (!call) throw new Error('no call recorded');
    await progressOf(a, call.id, 'ended');
    await a.slack.waitFor(() => privately(a).some((t) => t.includes(lastWord)) || undefined, lastWord, 8000);
    await waitForEmptyOutbox(a);
    await new Promise((r) => setTimeout(r, 300));
    return (await a.store.transitions(call.id)).map((t) => t.to);
  }

  it('tells the rep alone once, with why, and then only the outcome: not each step in between', async () => {
    const a = await start();
    a.slack.handle('chat.postMessage', (args) =>
      args.channel === 'C0PRIVATE' ? { body: { ok: false, error: 'not_in_channel' } } : undefined,
    );
    await a.command('+14155552671', { channel: 'C0PRIVATE' });
    const steps = await followed(a, 'The call ended: completed');
    expect(steps).toEqual(['received', 'sending', 'queued', 'dialling', 'in_conversation', 'ended']);
    // Each step (queued, dialling, in conversation, ended) tried the channel again: the bot may have been invited.
    expect(a.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === 'C0PRIVATE')).toHaveLength(4);
    const told = privately(a);
    expect(told).toHaveLength(2);
    expect(told[0]).toContain('queued a call');
    expect(told[0]).toContain('/invite @Iqra Calls');
    expect(told[1]).toContain('The call ended: completed');
    expect(a.slack.responses).toHaveLength(2); // within response_url's 5 posts
  });

  it('without an outcome reply (CALL_TRANSCRIPTS=off), tells the call’s final step instead', async () => {
    const a = await start({ CALL_TRANSCRIPTS: 'off' });
    a.slack.handle('chat.postMessage', (args) =>
      args.channel === 'C0PRIVATE' ? { body: { ok: false, error: 'not_in_channel' } } : undefined,
    );
    await a.command('+14155552671', { channel: 'C0PRIVATE' });
    await followed(a, 'ended: *completed*');
    const told = privately(a);
    expect(told).toHaveLength(2);
    expect(told[0]).toContain('/invite @Iqra Calls');
    expect(told[1]).toContain('ended: *completed*');
  });

  it('tells the rep alone once when the call’s message was deleted, and then only the outcome', async () => {
    const a = await start();
    // Someone deletes the parent message once it is posted: edits find no message, replies no thread.
    let deleted = false;
    a.slack.handle('chat.update', () => {
      deleted = true;
      return { body: { ok: false, error: 'message_not_found' } };
    });
    a.slack.handle('chat.postMessage', (args) =>
      deleted && args.thread_ts ? { body: { ok: false, error: 'thread_not_found' } } : undefined,
    );
    await a.command('+14155552671');
    await followed(a, 'The call ended: completed');
    expect(a.slack.callsOf('chat.update')).toHaveLength(3); // dialling, in conversation, ended
    const told = privately(a);
    expect(told).toHaveLength(2);
    expect(told[0]).toContain('message_not_found');
    expect(told[1]).toContain('The call ended: completed');
  });
});
