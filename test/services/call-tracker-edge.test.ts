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
