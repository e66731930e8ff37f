import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../support/fake-slack.js';
import { progressOf, startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const postsIn = (a: TestApp, channel: string): SlackApiCall[] =>
  a.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === channel);
const said = (c: SlackApiCall | undefined): string => JSON.stringify(c?.args ?? {});
/** What the rep was told alone: through the command's response_url, or in a direct message. */
const privately = (a: TestApp): string[] => [
  ...a.slack.responses.map((r) => JSON.stringify(r.body)),
  ...postsIn(a, 'U0MARIA1').map((c) => said(c)),
];

async function waitUntilTrue(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 8000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 8 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const waitForEmptyOutbox = (a: TestApp): Promise<void> =>
  waitUntilTrue(async () => (await a.store.pendingJobs()).length === 0, 'the outbox emptying');

async function callOf(a: TestApp) {
  const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
  if (!call) throw new Error('no call recorded');
  return call;
}

describe('a message whose blocks Slack refuses for good', () => {
  const NOW = Date.parse('2026-11-27T17:00:00.000Z');

  it('is posted as its text alone, in the call’s thread: the outcome of a call followed to its end', async () => {
    const t0 = Date.now();
    app = await startTestApp({
      iqra: { mode: 'server' },
      // The app's clock runs 20 times faster than the wall clock, so that the call is followed to its end quickly.
      now: () => new Date(NOW + (Date.now() - t0) * 20),
    });
    const a = app;
    a.iqra.lifecycle([
      { status: 0 },
      { status: 3 },
      { status: 4, sessionStatus: 3, sessionId: 'sess000000000000000000f1' },
      { status: 4, sessionStatus: 6, sessionEndType: 5 },
    ]);
    // Slack refuses the outcome reply as built (as it would a block over its limits), whatever it is retried as.
    a.slack.handle('chat.postMessage', (args) =>
      args.thread_ts && args.blocks && String(args.text).includes('The call ended')
        ? { body: { ok: false, error: 'invalid_blocks' } }
        : undefined,
    );
    await a.command('+14155552671');
    const call = await progressOf(a, (await callOf(a)).id, 'ended');
    const outcome = await a.slack.waitFor(
      () =>
        postsIn(a, 'C0SALES01').find(
          (c) => c.args.thread_ts && !c.args.blocks && String(c.args.text).includes('The call ended'),
        ),
      'the outcome as text',
      8000,
    );
    await waitForEmptyOutbox(a);
    expect(outcome.args.thread_ts).toBe(call.parentTs);
    expect(String(outcome.args.text)).toContain('*The call ended: completed*');
    // Asked once as built, then as text: nothing was told to the rep alone instead.
    const asked = postsIn(a, 'C0SALES01').filter((c) => String(c.args.text).includes('The call ended'));
    expect(asked.map((c) => c.args.blocks !== undefined)).toEqual([true, false]);
    expect(privately(a).filter((t) => t.includes('The call ended'))).toEqual([]);
    expect(
      a.logs.some(
        (l) =>
          l.msg === 'Slack refused the message as built; sending its text alone' &&
          l.slackError === 'invalid_blocks' &&
          l.requestId === call.id,
      ),
    ).toBe(true);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/iqra_calls_slack_api_errors_total\{error="invalid_blocks"\} 1\b/);
  });

  it('is posted as its text alone for the call’s own message, which its thread then follows', async () => {
    app = await startTestApp();
    const a = app;
    a.slack.handle('chat.postMessage', (args) =>
      !args.thread_ts && args.channel === 'C0SALES01' && args.blocks
        ? { body: { ok: false, error: 'msg_blocks_too_long' } }
        : undefined,
    );
    await a.command('+14155552671');
    await a.slack.waitFor(
      () => postsIn(a, 'C0SALES01').find((c) => c.args.thread_ts),
      'the details in the thread',
    );
    await waitForEmptyOutbox(a);
    const parents = postsIn(a, 'C0SALES01').filter((c) => !c.args.thread_ts);
    expect(parents.map((c) => c.args.blocks !== undefined)).toEqual([true, false]);
    expect(String(parents[1]?.args.text)).toContain('queued');
    const call = await callOf(a);
    expect(call.parentTs).toBeDefined();
    expect(postsIn(a, 'C0SALES01').find((c) => c.args.thread_ts)?.args.thread_ts).toBe(call.parentTs);
    expect(privately(a)).toEqual([]);
  });
});

describe('an approval request that CALL_APPROVAL_CHANNEL refuses for good', () => {
  const APPROVAL_ENV = {
    CALL_APPROVAL: 'always',
    CALL_APPROVERS: 'U0BOSS001',
    CALL_APPROVAL_CHANNEL: 'C0APPROVE1',
  };

  it('is posted with its buttons in the call’s thread, and rewritten there with the decision', async () => {
    app = await startTestApp({ env: APPROVAL_ENV });
    const a = app;
    a.slack.handle('chat.postMessage', (args) =>
      args.channel === 'C0APPROVE1' ? { body: { ok: false, error: 'not_in_channel' } } : undefined,
    );
    await a.command('+14155552671');
    const request = await a.slack.waitFor(
      () => postsIn(a, 'C0SALES01').find((c) => c.args.thread_ts && said(c).includes('approve_call')),
      'the approval request in the call’s thread',
    );
    await waitForEmptyOutbox(a);
    const pending = await callOf(a);
    expect(pending.state).toBe('pending_approval');
    expect(request.args.thread_ts).toBe(pending.parentTs);
    // The approvers are mentioned (a new message notifies them), and the note says why it is here.
    expect(String(request.args.text)).toContain('Waiting for approval by <@U0BOSS001>');
    expect(said(request)).toContain('CALL_APPROVAL_CHANNEL');
    expect(said(request)).toContain('not_in_channel');
    expect(postsIn(a, 'C0APPROVE1')).toHaveLength(1);
    expect(privately(a)).toEqual([]);
    expect(
      a.logs.some(
        (l) =>
          l.level === 'warn' &&
          String(l.msg).includes('CALL_APPROVAL_CHANNEL') &&
          l.slackError === 'not_in_channel' &&
          l.approvalChannel === 'C0APPROVE1',
      ),
    ).toBe(true);

    const ts = String(pending.approvalTs);
    await a.interact(
      a.buttonPress({ actionId: 'approve_call', value: pending.id, user: 'U0BOSS001', message: { ts } }),
    );
    const rewritten = await a.slack.waitFor(
      () => a.slack.callsOf('chat.update').find((c) => c.args.ts === ts),
      'the approval request rewritten',
    );
    expect(rewritten.args.channel).toBe('C0SALES01');
    expect(String(rewritten.args.text)).toContain('Approved by <@U0BOSS001>');
    expect(said(rewritten)).not.toContain('approve_call');
    await a.slack.waitFor(() => a.iqra.requests[0], 'the call placed');
    await waitForEmptyOutbox(a);
    // Tried once in the approval channel; not again once it had moved to the call's thread.
    expect(postsIn(a, 'C0APPROVE1')).toHaveLength(1);
  });

  it('when the call’s channel refuses too, tells the requester alone that no approver was told', async () => {
    app = await startTestApp({ env: APPROVAL_ENV });
    const a = app;
    a.slack.handle('chat.postMessage', (args) =>
      args.channel === 'C0APPROVE1'
        ? { body: { ok: false, error: 'channel_not_found' } }
        : args.channel === 'C0PRIVATE'
          ? { body: { ok: false, error: 'not_in_channel' } }
          : undefined,
    );
    await a.command('+14155552671', { channel: 'C0PRIVATE' });
    await a.slack.waitFor(
      () => privately(a).find((t) => t.includes('no approver was told')),
      'the requester told that no approver was told',
    );
    await waitForEmptyOutbox(a);
    const told = privately(a);
    expect(told).toHaveLength(2);
    expect(told[0]).toContain('/invite @Iqra Calls');
    expect(told[1]).toContain('<#C0APPROVE1>');
    expect(told[1]).toContain('channel_not_found');
    expect(told[1]).toContain('Home tab');
    expect((await callOf(a)).state).toBe('pending_approval');
    expect(a.iqra.requests).toHaveLength(0);
  });
});

describe('the messages of one call', () => {
  it('go out in order: a decision waits for the call’s message that Slack failed to take, then goes in its thread', async () => {
    let offset = 0;
    const startedAt = Date.now();
    const NOW = Date.parse('2026-11-27T17:00:00.000Z');
    app = await startTestApp({
      env: { CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001' },
      now: () => new Date(NOW + (Date.now() - startedAt) + offset),
    });
    const a = app;
    // Slack fails the call's message in its channel (a passing failure: it is retried, later and later).
    let down = true;
    a.slack.handle('chat.postMessage', (args) =>
      down && !args.thread_ts && args.channel === 'C0SALES01'
        ? { body: { ok: false, error: 'internal_error' } }
        : undefined,
    );
    await a.command('+14155552671');
    await waitUntilTrue(
      async () => (await a.store.pendingJobs()).some((j) => j.attempts > 0),
      'the call’s message pushed back',
    );
    const waiting = await callOf(a);
    expect(waiting.state).toBe('pending_approval');
    expect(waiting.parentTs).toBeUndefined();
    // An approver approves (from the Home tab, say) meanwhile: the decision is recorded, and due at once.
    await a.interact(
      a.buttonPress({
        actionId: 'approve_call',
        value: waiting.id,
        user: 'U0BOSS001',
        message: { ts: '1764000001.000100' },
      }),
    );
    // Placed once approved: the decision's messages were recorded with the approval, before.
    await a.slack.waitFor(() => a.iqra.requests[0], 'the approved call placed');
    // Everything due now is delivered: not the decision, whose call has no message yet to reply to.
    await a.running.delivery.flush();
    expect(privately(a)).toEqual([]);
    expect((await a.store.pendingJobs()).map((j) => j.kind)).toContain('decision');

    // Slack is back, and the call's message is due again.
    down = false;
    offset += 10 * 60_000;
    const decision = await a.slack.waitFor(
      () => postsIn(a, 'C0SALES01').find((c) => String(c.args.text).includes('Approved by <@U0BOSS001>')),
      'the decision',
      8000,
    );
    await waitForEmptyOutbox(a);
    const call = await callOf(a);
    expect(call.parentTs).toBeDefined();
    // In the thread of the call's message, which therefore was posted first.
    expect(decision.args.thread_ts).toBe(call.parentTs);
    expect(privately(a)).toEqual([]);
  });
});
