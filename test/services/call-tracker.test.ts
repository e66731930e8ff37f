import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../support/fake-slack.js';
import { progressOf, startTestApp, type TestApp } from '../support/test-app.js';

// Calls walk through scripted lifecycles in the fake Iqra; the app's clock runs 20 times faster than the wall clock so
// that polling schedules of seconds pass in a few hundred milliseconds.
const NOW = new Date('2026-11-27T17:00:00.000Z');
const SPEED = 20;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(
  env: Record<string, string> = {},
  options: { frozen?: boolean; iqraMode?: 'reference' | 'server' } = {},
) {
  const t0 = Date.now();
  let offset = 0;
  app = await startTestApp({
    env,
    iqra: { mode: options.iqraMode ?? 'server' },
    now: () => new Date(NOW.getTime() + offset + (options.frozen ? 0 : (Date.now() - t0) * SPEED)),
  });
  return { a: app, advance: (ms: number) => (offset += ms) };
}

const updates = (a: TestApp): SlackApiCall[] => a.slack.callsOf('chat.update');
const updateTexts = (a: TestApp) => updates(a).map((c) => String(c.args.text));
const threadReplies = (a: TestApp) => a.slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts);

async function placed(a: TestApp, text = '+14155552671') {
  await a.command(text);
  await a.slack.waitFor(() => threadReplies(a)[0], 'the confirmation');
  const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
  if (!call) throw new Error('no call recorded');
  return call;
}

describe('following a call live', () => {
  it('copies the call to CALL_LOG_CHANNEL once, not at every step of its progress', async () => {
    const { a } = await start({ CALL_LOG_CHANNEL: 'C0CALLLOG1' });
    a.iqra.lifecycle([
      { status: 0 },
      { status: 3 },
      { status: 4, sessionStatus: 3, sessionId: 'sess000000000000000000b7' },
      { status: 4, sessionStatus: 6, sessionEndType: 5 },
    ]);
    const call = await placed(a);
    await progressOf(a, call.id, 'ended');
    await a.slack.waitFor(
      () => updateTexts(a).some((t) => t.includes('ended: *completed*')) && true,
      'the final parent',
    );
    const copies = a.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === 'C0CALLLOG1');
    expect(copies).toHaveLength(1);
    expect(String(copies[0]?.args.text)).toContain('queued a call to *+1 415 555 2671*');
  });

  it('moves the parent message in place from queued to dialling, in conversation and ended, and posts the outcome once', async () => {
    const { a } = await start({ CALL_TRANSCRIPTS: 'outcome' });
    a.iqra.lifecycle([
      { status: 0 },
      { status: 3 },
      { status: 4, sessionStatus: 3, sessionId: 'sess000000000000000000a1' },
      { status: 4, sessionStatus: 6, sessionEndType: 5 },
    ]);
    const call = await placed(a);
    a.iqra.conversation('sess000000000000000000a1', {
      startTime: '2026-11-27T17:00:10.000Z',
      endTime: '2026-11-27T17:03:34.000Z',
      messages: [{ role: 2, content: 'Hello Ada' }],
    });
    const ended = await progressOf(a, call.id, 'ended');
    expect(ended.callEnd).toBe('completed');
    expect(ended.durationSeconds).toBe(204);
    await a.slack.waitFor(
      () => updateTexts(a).some((t) => t.includes('ended: *completed* · 3m 24s')) && true,
      'the final parent',
    );
    const texts = updateTexts(a);
    const at = (needle: string) => texts.findIndex((t) => t.includes(needle));
    expect(at('Dialling')).toBeGreaterThanOrEqual(0);
    expect(at('in conversation')).toBeGreaterThan(at('Dialling'));
    expect(at('ended: *completed*')).toBeGreaterThan(at('in conversation'));
    // Every update is of the one parent message.
    const parentTs = threadReplies(a)[0]?.args.thread_ts;
    expect(new Set(updates(a).map((u) => u.args.ts))).toEqual(new Set([parentTs]));
    const outcome = await a.slack.waitFor(
      () => threadReplies(a).find((c) => String(c.args.text).includes('The call ended')),
      'the outcome reply',
    );
    expect(String(outcome.args.text)).toContain('completed*, after 3m 24s');
    expect(JSON.stringify(outcome.args.blocks)).not.toContain('Hello Ada');
    const steps = (await a.store.transitions(call.id)).map((t) => t.to);
    expect(steps).toEqual(['received', 'sending', 'queued', 'dialling', 'in_conversation', 'ended']);
    await new Promise((r) => setTimeout(r, 300));
    expect(threadReplies(a).filter((c) => String(c.args.text).includes('The call ended'))).toHaveLength(1);
  });

  it.each([
    [{ status: 4, sessionStatus: 6, sessionEndType: 4 }, 'no answer'],
    [{ status: 4, sessionStatus: 6, sessionEndType: 3 }, 'busy or declined'],
    [{ status: 4, sessionStatus: 6, sessionEndType: 10 }, 'voicemail'],
    [{ status: 5 }, 'failed'],
    [{ status: 7 }, 'expired'],
    [{ status: 6 }, 'cancelled'],
  ])('says how it ended: %j → %s', async (step, words) => {
    const { a } = await start();
    a.iqra.lifecycle([{ status: 0 }, step]);
    const call = await placed(a);
    await progressOf(a, call.id, 'ended');
    await a.slack.waitFor(() => updateTexts(a).some((t) => t.includes(`ended: *${words}*`)) && true, words);
  });

  it('never moves a call backwards on a stale or out-of-order reading', async () => {
    const { a } = await start();
    a.iqra.lifecycle([
      { status: 4, sessionStatus: 3, sessionId: 'sess000000000000000000b2' },
      { status: 0 },
      { status: 3 },
      { status: 4, sessionStatus: 6, sessionEndType: 6 },
      { status: 3 },
    ]);
    const call = await placed(a);
    await progressOf(a, call.id, 'ended');
    await new Promise((r) => setTimeout(r, 400));
    const progress = (await a.store.transitions(call.id))
      .map((t) => t.to)
      .filter((s) => s !== 'received' && s !== 'sending');
    expect(progress).toEqual(['queued', 'in_conversation', 'ended']);
    expect((await a.store.getCall(call.id))?.progress).toBe('ended');
  });

  it('shows the conversation with CALL_TRANSCRIPTS=full, shortened to Slack limits with a note', async () => {
    const { a } = await start({ CALL_TRANSCRIPTS: 'full' });
    a.iqra.lifecycle([
      { status: 0 },
      { status: 4, sessionStatus: 6, sessionEndType: 5, sessionId: 'sess000000000000000000c3' },
    ]);
    const long = Array.from({ length: 1000 }, (_, i) => ({
      role: i % 2 === 0 ? 2 : 1,
      content: `Turn ${i} ${'words '.repeat(40)}`,
    }));
    a.iqra.conversation('sess000000000000000000c3', {
      messages: [{ role: 0, content: 'system prompt' }, ...long],
    });
    await placed(a);
    const outcome = await a.slack.waitFor(
      () => threadReplies(a).find((c) => String(c.args.text).includes('The call ended')),
      'the outcome reply',
    );
    const blocks = outcome.args.blocks as { type: string; text?: { text: string } }[];
    const body = JSON.stringify(blocks);
    expect(body).toContain('*Agent:* Turn 0');
    expect(body).toContain('*Customer:* Turn 1');
    expect(body).not.toContain('system prompt');
    expect(body).toMatch(/more turns \([\d,]+ characters\) left out/);
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const b of blocks) expect(b.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
  });

  it('posts no outcome reply with CALL_TRANSCRIPTS=off (the parent still says how it ended)', async () => {
    const { a } = await start({ CALL_TRANSCRIPTS: 'off' });
    a.iqra.lifecycle([{ status: 0 }, { status: 4, sessionStatus: 6, sessionEndType: 4 }]);
    const call = await placed(a);
    await progressOf(a, call.id, 'ended');
    await a.slack.waitFor(() => updateTexts(a).some((t) => t.includes('no answer')) && true, 'the parent');
    await new Promise((r) => setTimeout(r, 300));
    expect(threadReplies(a).filter((c) => String(c.args.text).includes('The call ended'))).toHaveLength(0);
    expect(a.iqra.trackingRequests.filter((r) => r.kind === 'conversation')).toHaveLength(0);
  });

  it('marks a call Iqra no longer knows as "status unknown", with a link-free explanation', async () => {
    const { a } = await start();
    a.iqra.lifecycle([{ status: 0 }, { code: 'NOT_FOUND' }]);
    const call = await placed(a);
    const unknown = await progressOf(a, call.id, 'status_unknown');
    expect(unknown.trackAt).toBeUndefined();
    const parent = await a.slack.waitFor(
      () => updates(a).find((u) => String(u.args.text).includes('status unknown')),
      'the parent',
    );
    expect(String(parent.args.text)).toContain('no longer knows');
    expect(String(parent.args.text)).not.toMatch(/https?:/);
  });

  it('reads a 404 in Iqra’s envelope with a NOT_FOUND code as Iqra no longer knowing the call', async () => {
    const { a } = await start();
    a.iqra.lifecycle([
      { status: 0 },
      {
        http: 404,
        body: { success: false, code: 'GetOutboundCallQueues:X:NOT_FOUND', message: 'not found', data: null },
      },
    ]);
    const call = await placed(a);
    await progressOf(a, call.id, 'status_unknown');
  });

  it('keeps following a call through bare 404s (a wrong route, not Iqra), and logs the likely misconfiguration', async () => {
    const { a } = await start();
    a.iqra.lifecycle([{ status: 0 }, { http: 404 }, { http: 404 }, { status: 3 }]);
    const call = await placed(a);
    // "Status unknown" is final: reaching "dialling" means tracking did not give up on the 404s.
    await progressOf(a, call.id, 'dialling');
    expect(a.iqra.trackingRequests.length).toBeGreaterThanOrEqual(4);
    expect(updateTexts(a).some((t) => t.includes('status unknown'))).toBe(false);
    const warning = a.logs.find((l) => String(l.msg).includes('HTTP 404 without an Iqra answer'));
    expect(warning).toMatchObject({
      level: 'warn',
      path: `/api/v1/business/${a.config.iqra.businessId}/queues/outbound/${call.queueIds[0]}`,
    });
    expect(String(warning?.msg)).toContain('IQRA_BASE_URL');
    expect(JSON.stringify(a.logs)).not.toContain(a.config.iqra.apiKey);
  });

  it('gives up on a call that never ends after CALL_TRACKING_LIMIT_HOURS', async () => {
    const { a, advance } = await start({ CALL_TRACKING_LIMIT_HOURS: '1' });
    a.iqra.lifecycle([{ status: 0 }, { status: 4, sessionStatus: 3, sessionId: 'sess000000000000000000d4' }]);
    const call = await placed(a);
    await progressOf(a, call.id, 'in_conversation');
    advance(2 * 3_600_000);
    await progressOf(a, call.id, 'status_unknown');
    await a.slack.waitFor(
      () => updates(a).find((u) => String(u.args.text).includes('had not ended 1 hour')),
      'the parent',
    );
  });

  it('waits out a 429 (Retry-After) and keeps going, and a 500 only delays the next look', async () => {
    const { a } = await start();
    a.iqra.lifecycle([
      { status: 0 },
      { http: 429, retryAfter: 3 },
      { http: 500 },
      { status: 4, sessionStatus: 6, sessionEndType: 5 },
    ]);
    const call = await placed(a);
    await progressOf(a, call.id, 'ended');
    const polls = a.iqra.trackingRequests.filter((r) => r.kind === 'queueEntry');
    expect(polls.length).toBeGreaterThanOrEqual(4);
    expect(
      a.logs.some((l) => l.msg === 'Iqra asked to slow down: tracking pauses' && l.retryAfterMs === 3000),
    ).toBe(true);
  });

  it('spends at most IQRA_MAX_REQUESTS_PER_MINUTE on tracking, for all calls together', async () => {
    const { a } = await start({ IQRA_MAX_REQUESTS_PER_MINUTE: '2' }, { frozen: true });
    for (let i = 0; i < 4; i += 1) {
      await a.command('+14155552671');
    }
    await a.slack.waitFor(() => threadReplies(a).length === 4 && true, 'four calls');
    // The frozen clock makes every call due at once and never refills the budget.
    const calls = await a.store.recentCalls('T0001', 'U0MARIA1', 10);
    for (const c of calls) await a.store.updateCall(c.id, { trackAt: NOW.getTime() - 1 }, NOW.getTime());
    await new Promise((r) => setTimeout(r, 800));
    expect(a.iqra.trackingRequests.filter((r) => r.kind === 'queueEntry')).toHaveLength(2);
  });

  it('resumes tracking after a restart, from the store', async () => {
    const first = await start();
    first.a.iqra.lifecycle([{ status: 0 }]);
    const call = await placed(first.a);
    await first.a.running.stop();
    const store = first.a.store;
    const slack = first.a.slack;
    const iqra = first.a.iqra;
    iqra.lifecycle([{ status: 4, sessionStatus: 6, sessionEndType: 5 }], { queueId: call.queueIds[0] });
    const t0 = Date.now();
    const second = await startTestApp({
      store,
      slack,
      fakeIqra: iqra,
      now: () => new Date(NOW.getTime() + (Date.now() - t0) * SPEED),
    });
    try {
      await progressOf(second, call.id, 'ended');
    } finally {
      await second.close();
    }
  });
});

describe('POST /iqra/events (pushed by Iqra campaign custom tools)', () => {
  const SECRET = 'a-very-long-shared-secret-0123456789';

  async function push(a: TestApp, body: unknown, auth?: string, query = '') {
    return fetch(`${a.url}/iqra/events${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
      body: JSON.stringify(body),
    });
  }

  it('refuses anything without the shared secret with 401, and changes nothing', async () => {
    const { a } = await start({ IQRA_WEBHOOK_SECRET: SECRET }, { frozen: true });
    const call = await placed(a);
    const queueId = call.queueIds[0];
    for (const auth of [undefined, 'Bearer wrong-secret', `Token ${SECRET}`, `Bearer ${SECRET}x`]) {
      const res = await push(
        a,
        { call_queue_id: queueId, call_queue_status: 'Failed' },
        auth,
        '?event=ended',
      );
      expect(res.status).toBe(401);
    }
    expect((await a.store.getCall(call.id))?.progress).toBe('queued');
  });

  it('feeds the same machine: events move the call forward, out-of-order ones are ignored', async () => {
    const { a } = await start({ IQRA_WEBHOOK_SECRET: SECRET }, { frozen: true });
    const call = await placed(a);
    const queueId = call.queueIds[0];
    const auth = `Bearer ${SECRET}`;
    const initiated = await push(
      a,
      { call_queue_id: queueId, call_queue_status: 'ProcessingBackend' },
      auth,
      '?event=initiated',
    );
    expect(await initiated.json()).toMatchObject({ ok: true, result: 'applied' });
    expect((await a.store.getCall(call.id))?.progress).toBe('dialling');
    const missed = await push(
      a,
      {
        call_queue_id: queueId,
        call_queue_status: 'ProcessedBackend',
        conversation_end_type: 'UserNoAnswer',
      },
      auth,
      '?event=missed',
    );
    expect(await missed.json()).toMatchObject({ ok: true, result: 'applied' });
    const late = await push(
      a,
      { call_queue_id: queueId, call_queue_status: 'ProcessingBackend' },
      auth,
      '?event=initiated',
    );
    expect(await late.json()).toMatchObject({ ok: true, result: 'ignored' });
    const ended = await a.store.getCall(call.id);
    expect(ended).toMatchObject({ progress: 'ended', callEnd: 'no_answer' });
    await a.slack.waitFor(
      () => updateTexts(a).some((t) => t.includes('ended: *no answer*')) && true,
      'the parent',
    );
    const unknown = await push(
      a,
      { call_queue_id: 'ffffffffffffffffffffffff', call_queue_status: 'Failed' },
      auth,
      '?event=ended',
    );
    expect(await unknown.json()).toMatchObject({ ok: true, result: 'unknown_call' });
  });

  it('is off without IQRA_WEBHOOK_SECRET', async () => {
    const { a } = await start({}, { frozen: true });
    const res = await push(a, { call_queue_id: 'x' }, 'Bearer anything');
    expect(res.status).toBe(404);
  });
});
