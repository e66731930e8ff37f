import { afterEach, describe, expect, it } from 'vitest';
import {
  ALREADY_APPROVED_BY_YOU,
  REJECT_FORM_NOT_OPENED,
} from '../../../../src/slack/listeners/actions/approval.js';
import type { SlackApiCall } from '../../../support/fake-slack.js';
import { openedViews, viewSubmission } from '../../../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

// Requests need a manager's approval: U0BOSS001 directly, and the members of the user group S0MANAGER (U0BOSS002).
const APPROVAL_ENV = { CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001,S0MANAGER' };
const NOW = new Date('2026-11-27T17:00:00.000Z');

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** An app whose clock can be moved forward by the test. */
async function start(env: Record<string, string> = {}, sweepMs = 100) {
  let offset = 0;
  const startedAt = Date.now();
  app = await startTestApp({
    env: { ...APPROVAL_ENV, ...env },
    now: () => new Date(NOW.getTime() + (Date.now() - startedAt) + offset),
    appOptions: { approvalSweepMs: sweepMs },
  });
  app.slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
  app.slack.handle('usergroups.users.list', (args) =>
    args.usergroup === 'S0MANAGER'
      ? { body: { ok: true, users: ['U0BOSS002'] } }
      : { body: { ok: true, users: [] } },
  );
  return { a: app, advance: (ms: number) => (offset += ms) };
}

const posts = (a: TestApp, channel = 'C0SALES01'): SlackApiCall[] =>
  a.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === channel);
const text = (call: SlackApiCall | undefined) => JSON.stringify(call?.args ?? {});

async function pendingCall(a: TestApp, command = '+14155552671 CustomerName=Ada', user?: string) {
  await a.command(command, user ? { user } : {});
  const parent = await a.slack.waitFor(() => posts(a).find((c) => !c.args.thread_ts), 'the parent message');
  const requestId = String((await a.store.recentCalls('T0001', user ?? 'U0MARIA1', 1))[0]?.id);
  return { parent, requestId };
}

function press(
  a: TestApp,
  actionId: string,
  requestId: string,
  user: string,
  ts = '1764000001.000100',
  channel = 'C0SALES01',
) {
  return a.interact(a.buttonPress({ actionId, value: requestId, user, message: { ts }, channel }));
}

async function stateOf(a: TestApp, id: string, state: string) {
  const deadline = Date.now() + 5000;
  while ((await a.store.getCall(id))?.state !== state) {
    if (Date.now() > deadline)
      throw new Error(`the call never became ${state}: ${(await a.store.getCall(id))?.state}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a call that needs approval', () => {
  it('waits, recorded as pending_approval, posted with the details and Approve / Reject; nothing is sent to Iqra', async () => {
    const { a } = await start();
    const { parent, requestId } = await pendingCall(a);
    expect(String(parent.args.text)).toContain(
      '🕒 <@U0MARIA1> asks to call *+1 415 555 2671* with *sales*, now.',
    );
    expect(String(parent.args.text)).toContain('Waiting for approval by <@U0BOSS001>, <!subteam^S0MANAGER>');
    const blocks = JSON.stringify(parent.args.blocks);
    expect(blocks).toContain('"action_id":"approve_call"');
    expect(blocks).toContain('"action_id":"reject_call"');
    expect(blocks).toContain('"confirm"');
    await stateOf(a, requestId, 'pending_approval');
    const details = await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts), 'the details');
    expect(text(details)).toContain('agent_sales_01');
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('refuses anyone but an approver, with an ephemeral answer, and logs it', async () => {
    const { a } = await start();
    const { requestId } = await pendingCall(a);
    await press(a, 'approve_call', requestId, 'U0RANDOM1');
    const answer = await a.slack.waitFor(() => a.slack.responses[0], 'the refusal');
    expect(JSON.stringify(answer.body)).toContain('Only the approvers');
    expect(answer.body.response_type).toBe('ephemeral');
    expect(
      a.logs.some((l) => l.msg === 'approval refused: not an approver' && l.userId === 'U0RANDOM1'),
    ).toBe(true);
    expect((await a.store.getCall(requestId))?.state).toBe('pending_approval');
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('never lets an approver approve their own request', async () => {
    const { a } = await start();
    const { requestId } = await pendingCall(a, '+14155552671', 'U0BOSS001');
    await press(a, 'approve_call', requestId, 'U0BOSS001');
    const answer = await a.slack.waitFor(() => a.slack.responses[0], 'the refusal');
    expect(JSON.stringify(answer.body)).toContain('someone else must approve');
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('tells a requester who is the only approver at once that nobody could approve their call; nothing waits or is sent', async () => {
    // U0BOSS001 is the only approver: the user group S0LEADS has nobody else in it.
    const { a } = await start({ CALL_APPROVERS: 'U0BOSS001,S0LEADS' });
    a.slack.handle('usergroups.users.list', (args) =>
      args.usergroup === 'S0LEADS'
        ? { body: { ok: true, users: ['U0BOSS001'] } }
        : { body: { ok: true, users: [] } },
    );
    await a.command('+14155552671 CustomerName=Ada', { user: 'U0BOSS001' });
    const answer = await a.slack.waitFor(() => a.slack.responses[0], 'the refusal');
    const said = JSON.stringify(answer.body);
    expect(said).toContain('you are the only one who may approve calls');
    expect(said).toContain('I did not place it');
    const [call] = await a.store.recentCalls('T0001', 'U0BOSS001', 1);
    expect(call?.state).toBe('refused');
    expect(posts(a).filter((c) => String(c.args.text).includes('asks to call'))).toHaveLength(0);
    expect(a.iqra.requests).toHaveLength(0);
    // Another approver's call, and a rep's, wait for approval as before.
    await a.command('+14155552672', { user: 'U0MARIA1' });
    await a.slack.waitFor(
      () => posts(a).find((c) => String(c.args.text).includes('<@U0MARIA1> asks to call')),
      "the rep's request waiting",
    );
  });

  it('lets a call wait when a user group of approvers cannot be read (there may be another approver in it)', async () => {
    const { a } = await start({ CALL_APPROVERS: 'U0BOSS001,S0LEADS' });
    a.slack.handle('usergroups.users.list', () => ({ body: { ok: false, error: 'missing_scope' } }));
    await a.command('+14155552671', { user: 'U0BOSS001' });
    await a.slack.waitFor(
      () => posts(a).find((c) => String(c.args.text).includes('<@U0BOSS001> asks to call')),
      'the request waiting',
    );
    expect(a.slack.responses.map((r) => JSON.stringify(r.body)).join()).not.toContain(
      'only one who may approve',
    );
  });

  it('is placed through the same path once approved (by a user group member), and the messages say who approved', async () => {
    const { a } = await start();
    const { requestId } = await pendingCall(a);
    await press(a, 'approve_call', requestId, 'U0BOSS002');
    await a.slack.waitFor(() => a.iqra.requests[0], 'the Iqra request');
    expect(a.iqra.requests[0]?.fields).toMatchObject({
      RecipientNumber: '+14155552671',
      'DynamicVariables[CustomerName]': 'Ada',
      'Metadata[RequestId]': requestId,
    });
    const decision = await a.slack.waitFor(
      () => posts(a).find((c) => String(c.args.text).includes('Approved by <@U0BOSS002>')),
      'the decision in the thread',
    );
    expect(decision.args.thread_ts).toBeDefined();
    const finalParent = await a.slack.waitFor(
      () => a.slack.callsOf('chat.update').find((c) => String(c.args.text).includes('queued a call')),
      'the parent rewritten with the outcome',
    );
    expect(text(finalParent)).toContain('Approved by <@U0BOSS002>');
    expect(text(finalParent)).not.toContain('approve_call');
    await stateOf(a, requestId, 'queued');
    const steps = (await a.store.transitions(requestId)).map((t) => t.to);
    expect(steps).toEqual(['received', 'pending_approval', 'approved', 'sending', 'queued']);
  });

  it('places one call when two approvers press Approve at the same moment (one twice), and tells each where it stands', async () => {
    const { a } = await start();
    const { requestId } = await pendingCall(a);
    const presses = ['U0BOSS001', 'U0BOSS002', 'U0BOSS001'].map((user) =>
      a.buttonPress({
        actionId: 'approve_call',
        value: requestId,
        user,
        message: { ts: '1764000001.000100' },
      }),
    );
    await Promise.all(presses.map((p) => a.interact(p)));
    await a.slack.waitFor(() => a.iqra.requests[0], 'the Iqra request');
    await stateOf(a, requestId, 'queued');
    const winner = String((await a.store.getCall(requestId))?.decidedBy);
    // Every press but the winning one is answered: the other approver is told who was first, and the winner's own
    // second press is a repeat of their approval.
    await a.slack.waitFor(() => a.slack.responses.length === 2 || undefined, 'two answers');
    const answers = a.slack.responses.map((r) => {
      const press = presses.find((p) => String(p.response_url).endsWith(r.path));
      return { user: (press?.user as { id?: string } | undefined)?.id, text: String(r.body.text) };
    });
    for (const { user, text: said } of answers) {
      if (user === winner) expect(said).toContain('You already approved this call');
      else expect(said).toBe(`It was already approved by <@${winner}>.`);
    }
    expect(answers.map((x) => x.user).sort()).toEqual(
      winner === 'U0BOSS001' ? ['U0BOSS001', 'U0BOSS002'] : ['U0BOSS001', 'U0BOSS001'],
    );
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('answers the same approver pressing Approve again, or Slack redelivering it, as a repeat of their approval; nothing more is done', async () => {
    const { a } = await start();
    const { requestId } = await pendingCall(a);
    const first = a.buttonPress({
      actionId: 'approve_call',
      value: requestId,
      user: 'U0BOSS001',
      message: { ts: '1764000001.000100' },
    });
    await a.interact(first);
    await stateOf(a, requestId, 'queued');
    // Everything the approval does, done: the decision in the thread, the parent rewritten with the outcome.
    await a.slack.waitFor(
      () =>
        posts(a).find((c) => c.args.thread_ts && String(c.args.text).includes('Approved by <@U0BOSS001>')),
      'the decision in the thread',
    );
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.update').find((c) => String(c.args.text).includes('queued a call')),
      'the parent rewritten with the outcome',
    );
    await new Promise((r) => setTimeout(r, 300));
    const approved = await a.store.getCall(requestId);
    const before = {
      steps: (await a.store.transitions(requestId)).length,
      posts: a.slack.callsOf('chat.postMessage').length,
      updates: a.slack.callsOf('chat.update').length,
    };
    expect(a.slack.responses).toHaveLength(0);

    // A second click on the same message, then Slack delivering the first click again.
    await press(a, 'approve_call', requestId, 'U0BOSS001');
    const res = await a.interact(first, {
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    expect(res.status).toBe(200);
    await a.slack.waitFor(() => a.slack.responses.length === 2 || undefined, 'two answers');
    const expected = ALREADY_APPROVED_BY_YOU(approved?.decidedAt);
    expect(expected).toContain(`<!date^${Math.floor(Number(approved?.decidedAt) / 1000)}^`);
    for (const answer of a.slack.responses) {
      expect(answer.body).toMatchObject({
        response_type: 'ephemeral',
        replace_original: false,
        text: expected,
      });
    }
    expect(a.slack.responses.map((r) => r.path)).toContain(new URL(String(first.response_url)).pathname);

    // Someone else is still told who approved it.
    await press(a, 'approve_call', requestId, 'U0BOSS002');
    const other = await a.slack.waitFor(() => a.slack.responses[2], 'the other approver answered');
    expect(other.body.text).toBe('It was already approved by <@U0BOSS001>.');

    await new Promise((r) => setTimeout(r, 400));
    expect((await a.store.transitions(requestId)).length).toBe(before.steps);
    expect(a.slack.callsOf('chat.postMessage')).toHaveLength(before.posts);
    expect(a.slack.callsOf('chat.update')).toHaveLength(before.updates);
    expect(await a.store.pendingJobs()).toHaveLength(0);
    expect(await a.store.getCall(requestId)).toMatchObject({
      state: 'queued',
      decidedBy: 'U0BOSS001',
      decidedAt: approved?.decidedAt,
    });
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('is rejected with a reason from a small modal; nothing is sent, and everyone is told', async () => {
    const { a } = await start();
    const { requestId } = await pendingCall(a);
    await press(a, 'reject_call', requestId, 'U0BOSS001');
    const opened = await a.slack.waitFor(() => a.slack.callsOf('views.open')[0], 'the reject modal');
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('reject_call_modal');
    const submitted = await a.interact({
      type: 'view_submission',
      team: { id: 'T0001', domain: 'acme' },
      user: { id: 'U0BOSS001', team_id: 'T0001' },
      api_app_id: 'A0IQRA001',
      trigger_id: '3000.1.reject',
      view: {
        id: 'V0REJECT1',
        hash: 'h1',
        type: 'modal',
        callback_id: 'reject_call_modal',
        private_metadata: view.private_metadata,
        state: {
          values: {
            reject_reason: {
              reason: { type: 'plain_text_input', value: 'Asked us not to call before January' },
            },
          },
        },
      },
    });
    expect(submitted.status).toBe(200);
    await stateOf(a, requestId, 'rejected');
    const parent = await a.slack.waitFor(
      () =>
        a.slack.callsOf('chat.update').find((c) => String(c.args.text).includes('Rejected by <@U0BOSS001>')),
      'the rewritten parent',
    );
    expect(String(parent.args.text)).toContain('Asked us not to call before January');
    expect(text(parent)).not.toContain('approve_call');
    await a.slack.waitFor(
      () => posts(a).find((c) => c.args.thread_ts && String(c.args.text).includes('🚫 Rejected')),
      'the thread',
    );
    await press(a, 'approve_call', requestId, 'U0BOSS002');
    const late = await a.slack.waitFor(
      () => a.slack.responses.find((r) => JSON.stringify(r.body).includes('already rejected')),
      'the late answer',
    );
    expect(late).toBeDefined();
    // The approver who rejected it pressing Approve is a different decision: told it was rejected, not a repeat.
    await press(a, 'approve_call', requestId, 'U0BOSS001');
    const own = await a.slack.waitFor(
      () =>
        a.slack.responses.find((r) => JSON.stringify(r.body).includes('already rejected by <@U0BOSS001>')),
      'the answer to the approver who rejected it',
    );
    expect(own.body.text).toBe('It was already rejected by <@U0BOSS001>.');
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('tells the approver when Slack refuses to open the reject form, and nothing is decided', async () => {
    const { a } = await start();
    const { requestId } = await pendingCall(a);
    a.slack.failNext('views.open', 'expired_trigger_id');
    const res = await press(a, 'reject_call', requestId, 'U0BOSS001');
    expect(res.status).toBe(200);
    const answer = await a.slack.waitFor(() => a.slack.responses[0], 'the answer to the approver');
    expect(answer.body.response_type).toBe('ephemeral');
    expect(String(answer.body.text)).toBe(REJECT_FORM_NOT_OPENED('expired_trigger_id'));
    expect((await a.store.getCall(requestId))?.state).toBe('pending_approval');

    // Pressed again, the form opens, and the call can still be rejected.
    await press(a, 'reject_call', requestId, 'U0BOSS001');
    // The fake Slack records the refused views.open too: this form is the second one asked for.
    const form = await a.slack.waitFor(() => openedViews(a)[1]?.view, 'the reject modal');
    await a.interact(viewSubmission(a, form, { user: 'U0BOSS001' }));
    await stateOf(a, requestId, 'rejected');
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('answers on the reject form in plain words, without the mentions Slack would show raw there', async () => {
    const { a } = await start();
    const { requestId } = await pendingCall(a);
    await press(a, 'reject_call', requestId, 'U0BOSS001');
    const form = await a.slack.waitFor(() => openedViews(a)[0]?.view, 'the reject modal');
    const errorsOf = (res: { body: string }) => {
      const answer = JSON.parse(res.body) as { response_action?: string; errors?: Record<string, string> };
      expect(answer.response_action).toBe('errors');
      return Object.values(answer.errors ?? {}).join(' ');
    };

    // Someone who is not an approver (a forged submission): refused on the form, and nothing is rejected.
    const stranger = errorsOf(
      await a.interact(viewSubmission(a, form, { input: { reject_reason: 'No.' }, user: 'U0RANDOM1' })),
    );
    expect(stranger).toBe('Only the approvers can approve or reject calls. Ask one of them.');
    expect((await a.store.getCall(requestId))?.state).toBe('pending_approval');

    // The other approver approves meanwhile: the form says so, and rejects nothing.
    await press(a, 'approve_call', requestId, 'U0BOSS002');
    await stateOf(a, requestId, 'queued');
    const late = errorsOf(
      await a.interact(viewSubmission(a, form, { input: { reject_reason: 'Too late.' }, user: 'U0BOSS001' })),
    );
    expect(late).toBe('It was already approved by another approver.');
    expect(`${stranger} ${late}`).not.toMatch(/<[@#!]/);
    expect(await a.store.getCall(requestId)).toMatchObject({ state: 'queued', decidedBy: 'U0BOSS002' });
    expect(a.iqra.requests).toHaveLength(1);

    // The same answers given as messages (mrkdwn) still name people by mention.
    await press(a, 'approve_call', requestId, 'U0BOSS001');
    await a.slack.waitFor(
      () =>
        a.slack.responses.find((r) => JSON.stringify(r.body).includes('already approved by <@U0BOSS002>')),
      'the ephemeral answer, with its mention',
    );
  });

  it('posts the approval request in CALL_APPROVAL_CHANNEL, and rewrites it with the decision', async () => {
    const { a } = await start({ CALL_APPROVAL_CHANNEL: 'C0APPROVE1' });
    const { parent, requestId } = await pendingCall(a);
    expect(JSON.stringify(parent.args.blocks)).not.toContain('approve_call');
    const request = await a.slack.waitFor(() => posts(a, 'C0APPROVE1')[0], 'the approval request');
    expect(String(request.args.text)).toContain('in <#C0SALES01> asks to call');
    expect(JSON.stringify(request.args.blocks)).toContain('approve_call');
    const stored = await a.store.getCall(requestId);
    await press(a, 'approve_call', requestId, 'U0BOSS001', stored?.approvalTs, 'C0APPROVE1');
    const rewritten = await a.slack.waitFor(
      () => a.slack.callsOf('chat.update').find((c) => c.args.channel === 'C0APPROVE1'),
      'the approval message rewritten',
    );
    expect(String(rewritten.args.text)).toContain('Approved by <@U0BOSS001>');
    expect(JSON.stringify(rewritten.args.blocks)).not.toContain('approve_call');
    await stateOf(a, requestId, 'queued');
  });

  it('expires when nobody decides within CALL_APPROVAL_TTL_HOURS; the buttons go, and a late Approve places nothing', async () => {
    const { a, advance } = await start({ CALL_APPROVAL_TTL_HOURS: '1' });
    const { requestId } = await pendingCall(a);
    advance(61 * 60 * 1000);
    await stateOf(a, requestId, 'expired');
    const parent = await a.slack.waitFor(
      () =>
        a.slack
          .callsOf('chat.update')
          .find((c) => String(c.args.text).includes('nobody approved it within 1 hour')),
      'the expired parent',
    );
    expect(JSON.stringify(parent.args.blocks)).not.toContain('approve_call');
    await press(a, 'approve_call', requestId, 'U0BOSS001');
    await a.slack.waitFor(
      () => a.slack.responses.find((r) => JSON.stringify(r.body).includes('expired')),
      'the late answer',
    );
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('offers "call now" to an approver who approves a scheduled call after its time', async () => {
    const { a, advance } = await start({ CALL_APPROVAL: 'scheduled' }, 600_000);
    const { requestId } = await pendingCall(a, '+14155552671 at "in 30 minutes"');
    expect(a.iqra.requests).toHaveLength(0);
    advance(31 * 60 * 1000);
    await press(a, 'approve_call', requestId, 'U0BOSS001');
    const offer = await a.slack.waitFor(
      () => a.slack.responses.find((r) => JSON.stringify(r.body).includes('approve_call_now')),
      'the offer',
    );
    expect(JSON.stringify(offer.body)).toContain('has passed');
    expect((await a.store.getCall(requestId))?.state).toBe('pending_approval');
    await press(a, 'approve_call_now', requestId, 'U0BOSS001');
    await a.slack.waitFor(() => a.iqra.requests[0], 'the call placed now');
    expect(a.iqra.requests[0]?.fields.ScheduledTime).toBeUndefined();
  });

  it('is not needed for a call placed now when only scheduled calls need approval', async () => {
    const { a } = await start({ CALL_APPROVAL: 'scheduled' });
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests[0], 'the Iqra request');
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('is not needed for the exempt people in "unlisted" mode, and is for everyone else', async () => {
    const { a } = await start({ CALL_APPROVAL: 'unlisted', CALL_APPROVAL_EXEMPT: 'U0MARIA1' });
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests[0], 'the exempt call');
    await a.command('+14155552671', { user: 'U0OTHER01' });
    const other = await a.slack.waitFor(
      () => posts(a).find((c) => String(c.args.text).includes('<@U0OTHER01> asks to call')),
      'the other request waiting',
    );
    expect(other).toBeDefined();
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('answers a press on the Home tab (which has no response_url) by direct message', async () => {
    const { a } = await start();
    const { requestId } = await pendingCall(a);
    await press(a, 'approve_call', requestId, 'U0BOSS001');
    await a.slack.waitFor(() => a.iqra.requests[0], 'the call');
    const fromHome = a.buttonPress({
      actionId: 'approve_call',
      value: requestId,
      user: 'U0BOSS002',
      message: { ts: '1.1' },
    });
    delete fromHome.response_url;
    delete fromHome.message;
    delete fromHome.channel;
    fromHome.container = { type: 'view', view_id: 'V0HOME001' };
    fromHome.view = { id: 'V0HOME001', type: 'home', hash: 'h' };
    const res = await a.interact(fromHome);
    expect(res.status).toBe(200);
    const dm = await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').find((c) => c.args.channel === 'U0BOSS002'),
      'the direct message',
    );
    expect(String(dm.args.text)).toContain('already approved by <@U0BOSS001>');
    expect(a.iqra.requests).toHaveLength(1);
  });
});
