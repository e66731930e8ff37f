import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../support/fake-slack.js';
import { progressOf, startTestApp, type TestApp } from '../support/test-app.js';

const NOW = new Date('2026-11-27T17:00:00.000Z');
const SPEED = 20;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(env: Record<string, string> = {}) {
  const t0 = Date.now();
  let offset = 0;
  app = await startTestApp({
    env,
    iqra: { mode: 'server' },
    now: () => new Date(NOW.getTime() + offset + (Date.now() - t0) * SPEED),
    appOptions: { approvalSweepMs: 100 },
  });
  return { a: app, advance: (ms: number) => (offset += ms) };
}

const updateTexts = (a: TestApp) => a.slack.callsOf('chat.update').map((c) => String(c.args.text));
const threadReplies = (a: TestApp): SlackApiCall[] =>
  a.slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts);

describe('tracking after a call is queued', () => {
  it('counts CALL_TRACKING_LIMIT_HOURS from when Iqra queued the call, not from when it was asked for (approvals)', async () => {
    const { a, advance } = await start({ CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001' });
    a.iqra.lifecycle([{ status: 0 }, { status: 3 }, { status: 4, sessionStatus: 6, sessionEndType: 5 }]);
    await a.command('+14155552671');
    await a.slack.waitFor(() => threadReplies(a)[0], 'the request in the thread');
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    if (!call) throw new Error('no call');
    // The approver decides seven hours later (the approval may wait 24 hours).
    advance(7 * 3_600_000);
    await a.interact(
      a.buttonPress({
        actionId: 'approve_call',
        value: call.id,
        user: 'U0BOSS001',
        message: { ts: '1764000001.000100' },
      }),
    );
    const ended = await progressOf(a, call.id, 'ended');
    expect(ended.callEnd).toBe('completed');
    const steps = (await a.store.transitions(call.id)).map((t) => t.to);
    expect(steps).not.toContain('status_unknown');
  });

  it('shows the conversation with CALL_TRANSCRIPTS=full even when the poll that saw the end used up the budget', async () => {
    const { a } = await start({ CALL_TRANSCRIPTS: 'full', IQRA_MAX_REQUESTS_PER_MINUTE: '1' });
    a.iqra.lifecycle([
      { status: 4, sessionStatus: 6, sessionEndType: 5, sessionId: 'sess0000000000000000e5e5' },
    ]);
    a.iqra.conversation('sess0000000000000000e5e5', {
      startTime: '2026-11-27T17:00:10.000Z',
      endTime: '2026-11-27T17:01:15.000Z',
      messages: [
        { role: 2, content: 'Hello Ada' },
        { role: 1, content: 'Hi there' },
      ],
    });
    await a.command('+14155552671');
    const outcome = await a.slack.waitFor(
      () => threadReplies(a).find((c) => String(c.args.text).includes('The call ended')),
      'the outcome reply',
      10_000,
    );
    expect(String(outcome.args.text)).toContain('completed*, after 1m 5s');
    expect(JSON.stringify(outcome.args.blocks)).toContain('*Agent:* Hello Ada');
    expect(a.iqra.trackingRequests.filter((r) => r.kind === 'conversation')).toHaveLength(1);
  });

  it('loses no message when the outbox cannot be written the moment a call ends (the end is recorded with its messages)', async () => {
    const { a } = await start({ CALL_TRANSCRIPTS: 'outcome' });
    const enqueue = a.store.enqueueJob.bind(a.store);
    let refused = 0;
    a.store.enqueueJob = async (job, now) => {
      if (job.kind === 'announce' && job.payload.progress === true && refused === 0) {
        refused += 1;
        throw new Error('SQLITE_BUSY: database is locked');
      }
      return enqueue(job, now);
    };
    a.iqra.lifecycle([{ status: 0 }, { status: 4, sessionStatus: 6, sessionEndType: 4 }]);
    await a.command('+14155552671');
    await a.slack.waitFor(
      () => updateTexts(a).find((t) => t.includes('ended: *no answer*')),
      'the parent saying how the call ended',
    );
    await a.slack.waitFor(
      () => threadReplies(a).find((c) => String(c.args.text).includes('The call ended: no answer')),
      'the outcome reply',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(threadReplies(a).filter((c) => String(c.args.text).includes('The call ended'))).toHaveLength(1);
  });
});

/** The characters a message's blocks carry in all (what Slack's `msg_blocks_too_long` counts). */
function blockCharacters(blocks: unknown): number {
  if (typeof blocks === 'string') return 0;
  if (Array.isArray(blocks)) return blocks.reduce((n: number, b) => n + blockCharacters(b), 0);
  if (!blocks || typeof blocks !== 'object') return 0;
  return Object.entries(blocks).reduce(
    (n, [key, value]) =>
      n + (key === 'text' && typeof value === 'string' ? value.length : blockCharacters(value)),
    0,
  );
}

describe('the outcome reply with CALL_TRANSCRIPTS=full', () => {
  it('fits a long conversation in non-Latin script into what Slack accepts in one message, saying what was left out', async () => {
    const { a } = await start({ CALL_TRANSCRIPTS: 'full' });
    // Slack refuses a message whose blocks carry more than about 12,000 characters together, whatever each block's own limit.
    a.slack.handle('chat.postMessage', (args) =>
      blockCharacters(args.blocks) > 12_000
        ? { body: { ok: false, error: 'msg_blocks_too_long' } }
        : undefined,
    );
    a.iqra.lifecycle([
      { status: 0 },
      { status: 4, sessionStatus: 6, sessionEndType: 5, sessionId: 'sess0000000000000000f1f1' },
    ]);
    // A twenty-minute call: 200 turns of about 200 characters each, in Arabic.
    a.iqra.conversation('sess0000000000000000f1f1', {
      messages: Array.from({ length: 200 }, (_, i) => ({
        role: i % 2 === 0 ? 2 : 1,
        content: `${i} ${'مرحبا، شكرا على وقتك اليوم. '.repeat(7)}`,
      })),
    });
    await a.command('+14155552671');
    const outcome = await a.slack.waitFor(
      () =>
        threadReplies(a).find(
          (c) => String(c.args.text).includes('The call ended') && blockCharacters(c.args.blocks) <= 12_000,
        ),
      'the outcome reply, accepted by Slack',
    );
    const body = JSON.stringify(outcome.args.blocks);
    expect(body).toContain('*Agent:* 0 مرحبا');
    expect(body).toContain('*Customer:* 1 مرحبا');
    expect(body).toMatch(/… \d+ more turns \([\d,]+ characters\) left out to fit Slack's limits/);
  });

  it('shows the conversation and duration of a call whose end was pushed before any poll saw its session', async () => {
    const SECRET = 'a-very-long-shared-secret-0123456789';
    const { a } = await start({ CALL_TRANSCRIPTS: 'full', IQRA_WEBHOOK_SECRET: SECRET });
    await a.command('+14155552671');
    await a.slack.waitFor(() => threadReplies(a)[0], 'the confirmation');
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    const queueId = call?.queueIds[0];
    if (!call || !queueId) throw new Error('no call');
    // The customer answers and hangs up at once, between two polls: Iqra's "ended" tool says so first.
    a.iqra.lifecycle(
      [{ status: 4, sessionStatus: 6, sessionEndType: 5, sessionId: 'sess0000000000000000f2f2' }],
      {
        queueId,
      },
    );
    a.iqra.conversation('sess0000000000000000f2f2', {
      startTime: '2026-11-27T17:00:10.000Z',
      endTime: '2026-11-27T17:00:14.000Z',
      messages: [
        { role: 2, content: 'Hello Ada, this is Sam from Acme.' },
        { role: 1, content: 'Not interested.' },
      ],
    });
    const res = await fetch(`${a.url}/iqra/events?event=ended`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
      body: JSON.stringify({
        call_queue_id: queueId,
        call_queue_status: 'ProcessedBackend',
        conversation_end_type: 'UserEndedCall',
      }),
    });
    expect(await res.json()).toMatchObject({ ok: true, result: 'applied' });
    const outcome = await a.slack.waitFor(
      () => threadReplies(a).find((c) => String(c.args.text).includes('The call ended')),
      'the outcome reply',
    );
    expect(String(outcome.args.text)).toContain('completed*, after 4s');
    expect(JSON.stringify(outcome.args.blocks)).toContain('*Customer:* Not interested.');
    expect(await a.store.getCall(call.id)).toMatchObject({ sessionId: 'sess0000000000000000f2f2' });
    // The end came from the pushed event, not from a poll that happened to see it first.
    expect((await a.store.transitions(call.id)).at(-1)).toMatchObject({
      to: 'ended',
      detail: { by: 'push' },
    });
  });
});

describe('the conversation in the outcome reply', () => {
  it('leaves out turns with no text (an agent turn that only ran a tool), and says nothing was said when none had any', async () => {
    const { a } = await start({ CALL_TRANSCRIPTS: 'full' });
    a.iqra.lifecycle([
      { status: 0 },
      { status: 4, sessionStatus: 6, sessionEndType: 5, sessionId: 'sess0000000000000000f3f3' },
    ]);
    a.iqra.lifecycle([
      { status: 0 },
      { status: 4, sessionStatus: 6, sessionEndType: 6, sessionId: 'sess0000000000000000f4f4' },
    ]);
    a.iqra.conversation('sess0000000000000000f3f3', {
      messages: [
        { role: 0, content: 'You are Sam from Acme.' },
        { role: 2, content: 'Hello Ada, this is Sam from Acme.' },
        { role: 1, content: 'Wrong number, sorry.' },
        { role: 2, content: '   ' },
      ],
    });
    a.iqra.conversation('sess0000000000000000f4f4', { messages: [{ role: 2, content: '' }] });
    await a.command('+14155552671');
    await a.command('+442071838750');
    const outcomes = await a.slack.waitFor(() => {
      const found = threadReplies(a).filter((c) => String(c.args.text).includes('The call ended'));
      return found.length === 2 && found;
    }, 'both outcome replies');
    const [first, second] = outcomes.map((c) => JSON.stringify(c.args.blocks));
    const withWords = first?.includes('Wrong number') ? first : second;
    const silent = first?.includes('Wrong number') ? second : first;
    expect(withWords).toContain('*Customer:* Wrong number, sorry.');
    expect(withWords).not.toMatch(/\*(Agent|Customer):\* *(\\n|")/);
    expect(silent).toContain('Nothing was said.');
    expect(silent).not.toContain('*Agent:*');
  });
});

describe('when the conversation cannot be read as a call ends', () => {
  it('tries the read again at the next polls, and posts the outcome with the conversation once Iqra answers', async () => {
    const { a } = await start({ CALL_TRANSCRIPTS: 'full' });
    a.iqra.lifecycle([
      { status: 0 },
      { status: 4, sessionStatus: 6, sessionEndType: 5, sessionId: 'sess0000000000000000f5f5' },
    ]);
    // Iqra fails the first reads of the conversation (a 503, then its own EXCEPTION), then answers.
    a.iqra.conversation('sess0000000000000000f5f5', { http: 503 });
    await a.command('+14155552671');
    const reads = () => a.iqra.trackingRequests.filter((r) => r.kind === 'conversation').length;
    await a.slack.waitFor(() => reads() >= 1, 'the first conversation read', 10_000);
    a.iqra.conversation('sess0000000000000000f5f5', { code: 'EXCEPTION' });
    await a.slack.waitFor(() => reads() >= 2, 'the second conversation read', 10_000);
    // Not ended yet in Slack: the outcome waits for the conversation.
    expect(threadReplies(a).filter((c) => String(c.args.text).includes('The call ended'))).toHaveLength(0);
    a.iqra.conversation('sess0000000000000000f5f5', {
      startTime: '2026-11-27T17:00:10.000Z',
      endTime: '2026-11-27T17:02:00.000Z',
      messages: [
        { role: 2, content: 'Hello Ada, this is Sam from Acme.' },
        { role: 1, content: 'Call me next week.' },
      ],
    });
    const outcome = await a.slack.waitFor(
      () => threadReplies(a).find((c) => String(c.args.text).includes('The call ended')),
      'the outcome reply',
      10_000,
    );
    expect(String(outcome.args.text)).toContain('after 1m 50s');
    expect(JSON.stringify(outcome.args.blocks)).toContain('*Customer:* Call me next week.');
    expect(reads()).toBe(3);
    expect(threadReplies(a).filter((c) => String(c.args.text).includes('The call ended'))).toHaveLength(1);
  });

  it('posts the outcome without it once the tries are used up, and without trying when Iqra says it has none', async () => {
    const { a } = await start({ CALL_TRANSCRIPTS: 'full' });
    a.iqra.lifecycle([
      { status: 0 },
      { status: 4, sessionStatus: 6, sessionEndType: 5, sessionId: 'sess0000000000000000f6f6' },
    ]);
    a.iqra.lifecycle([
      { status: 0 },
      { status: 4, sessionStatus: 6, sessionEndType: 5, sessionId: 'sess0000000000000000f7f7' },
    ]);
    a.iqra.conversation('sess0000000000000000f6f6', { http: 503 });
    // f7f7: no conversation set, so Iqra answers NOT_FOUND: nothing to wait for.
    await a.command('+14155552671');
    await a.command('+442071838750');
    const outcomes = await a.slack.waitFor(
      () => {
        const found = threadReplies(a).filter((c) => String(c.args.text).includes('The call ended'));
        return found.length === 2 && found;
      },
      'both outcome replies',
      20_000,
    );
    expect(outcomes).toHaveLength(2);
    const readsOf = (session: string) =>
      a.iqra.trackingRequests.filter((r) => r.kind === 'conversation' && r.path.includes(session)).length;
    expect(readsOf('f6f6')).toBe(4);
    expect(readsOf('f7f7')).toBe(1);
  });
});

describe('a call that ended while the app was stopped', () => {
  it('shows its outcome after a restart past CALL_TRACKING_LIMIT_HOURS, not "status unknown"', async () => {
    const first = await start({ CALL_TRACKING_LIMIT_HOURS: '1' });
    first.a.iqra.lifecycle([{ status: 0 }]);
    await first.a.command('+14155552671');
    await first.a.slack.waitFor(() => threadReplies(first.a)[0], 'the confirmation');
    const [call] = await first.a.store.recentCalls('T0001', 'U0MARIA1', 1);
    if (!call) throw new Error('no call');
    await first.a.running.stop();
    // Overnight, with the app down: the customer answered, talked, and hung up.
    first.a.iqra.lifecycle([{ status: 4, sessionStatus: 6, sessionEndType: 5 }], {
      queueId: call.queueIds[0] ?? '',
    });
    const t0 = Date.now();
    const second = await startTestApp({
      store: first.a.store,
      slack: first.a.slack,
      fakeIqra: first.a.iqra,
      env: { CALL_TRACKING_LIMIT_HOURS: '1' },
      now: () => new Date(NOW.getTime() + 10 * 3_600_000 + (Date.now() - t0) * SPEED),
    });
    try {
      const ended = await progressOf(second, call.id, 'ended');
      expect(ended.callEnd).toBe('completed');
      expect((await second.store.transitions(call.id)).map((t) => t.to)).not.toContain('status_unknown');
    } finally {
      await second.close();
    }
  });

  it('still gives up, after one last look, on a call Iqra says is going on past the limit', async () => {
    const { a, advance } = await start({ CALL_TRACKING_LIMIT_HOURS: '1' });
    a.iqra.lifecycle([{ status: 0 }, { status: 4, sessionStatus: 3, sessionId: 'sess0000000000000000a9a9' }]);
    await a.command('+14155552671');
    await a.slack.waitFor(() => threadReplies(a)[0], 'the confirmation');
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    if (!call) throw new Error('no call');
    await progressOf(a, call.id, 'in_conversation');
    advance(2 * 3_600_000);
    const unknown = await progressOf(a, call.id, 'status_unknown');
    expect(unknown.userMessage).toContain('had not ended 1 hour');
  });
});

describe('the duration of a call', () => {
  it('is not taken from the queue entry’s times (Iqra completes the entry when it dials, not when the call ends)', async () => {
    const { a } = await start({ CALL_TRANSCRIPTS: 'off' });
    // As Iqra's server writes them: processing started at 17:00:00, the entry completed at ProcessedBackend three
    // seconds later (dialled, a session made), however long the conversation then lasts.
    const times = {
      processingStartedAt: '2026-11-27T17:00:00.000Z',
      completedAt: '2026-11-27T17:00:03.000Z',
    };
    a.iqra.lifecycle([
      { status: 0 },
      { status: 4, sessionStatus: 3, sessionId: 'sess0000000000000000d1d1', ...times },
      { status: 4, sessionStatus: 6, sessionEndType: 5, ...times },
    ]);
    await a.command('+14155552671');
    await a.slack.waitFor(() => threadReplies(a)[0], 'the confirmation');
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    if (!call) throw new Error('no call');
    const ended = await progressOf(a, call.id, 'ended');
    expect(ended.durationSeconds).toBeUndefined();
    const parent = await a.slack.waitFor(
      () => updateTexts(a).find((t) => t.includes('ended: *completed*')),
      'the final parent',
    );
    expect(parent).not.toContain('· 3s');
  });
});
