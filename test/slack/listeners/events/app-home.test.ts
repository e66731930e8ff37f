import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../../../support/fake-slack.js';
import {
  appHomeOpenedEvent,
  inEnterpriseGrid,
  inputBlock,
  openedViews,
  type SentView,
  sendEvent,
  viewBlockAction,
  viewSubmission,
} from '../../../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const posts = (a: TestApp): SlackApiCall[] => a.slack.callsOf('chat.postMessage');

/** Opens `user`'s Home tab; resolves with the view published for them in answer. */
async function publishedHome(a: TestApp, user = 'U0MARIA1') {
  const before = publishesFor(a, user).length;
  const res = await sendEvent(a, appHomeOpenedEvent({ user }));
  expect(res.status).toBe(200);
  const publish = await a.slack.waitFor(() => publishesFor(a, user)[before], `views.publish for ${user}`);
  return publish.args as { user_id: string; view: SentView };
}

const publishesFor = (a: TestApp, user: string): SlackApiCall[] =>
  a.slack.callsOf('views.publish').filter((c) => c.args.user_id === user);

/** Places a call as `user` and waits until it is posted (and, without approvals, queued: the thread reply). */
async function placeCall(a: TestApp, user = 'U0MARIA1', wait: 'thread' | 'parent' = 'thread') {
  const before = posts(a).length;
  await a.command('+14155552671', { user });
  await a.slack.waitFor(
    () =>
      posts(a)
        .slice(before)
        .find((c) => (wait === 'thread' ? c.args.thread_ts : !c.args.thread_ts)),
    `the ${wait} message`,
  );
  const call = (await a.store.recentCalls('T0001', user, 1))[0];
  if (!call) throw new Error('no call recorded');
  return call;
}

/** Waits until the call is in `state` in the store. */
async function stateOf(a: TestApp, id: string, state: string) {
  const deadline = Date.now() + 5000;
  while ((await a.store.getCall(id))?.state !== state) {
    if (Date.now() > deadline)
      throw new Error(`the call never became ${state}: ${(await a.store.getCall(id))?.state}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const buttonsOf = (view: SentView) =>
  view.blocks.flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));

// Calls need approval by U0BOSS001.
const APPROVALS = { CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001' };

describe('the App Home', () => {
  it('publishes the Home tab with a "Place a call" button when the rep opens it', async () => {
    app = await startTestApp();
    const { user_id, view } = await publishedHome(app);
    expect(user_id).toBe('U0MARIA1');
    expect(view.type).toBe('home');
    const buttons = view.blocks.flatMap((b) => b.elements ?? []);
    expect(buttons).toContainEqual(expect.objectContaining({ type: 'button', action_id: 'open_call_modal' }));
    expect(JSON.stringify(view)).toContain('`sales` (default)');
  });

  it('shows the rep’s calls with their state, and no approvals section', async () => {
    app = await startTestApp();
    const call = await placeCall(app);
    await stateOf(app, call.id, 'queued');
    const { view } = await publishedHome(app);
    const text = JSON.stringify(view);
    expect(text).toContain('Your recent calls');
    expect(text).toContain('*+1 415 555 2671* with *sales* · ✅ queued');
    expect(text).toContain(`request \`${call.id}\``);
    expect(text).toContain('<!date^');
    expect(text).not.toContain('Waiting for your approval');
    expect(buttonsOf(view).map((b) => b.action_id)).toEqual(['open_call_modal', 'batch_new']);
  });

  it('shows an approver the pending approvals with Approve / Reject, which work from the Home tab', async () => {
    app = await startTestApp({ env: APPROVALS });
    const call = await placeCall(app, 'U0MARIA1', 'parent');
    await stateOf(app, call.id, 'pending_approval');

    const { view } = await publishedHome(app, 'U0BOSS001');
    const text = JSON.stringify(view);
    expect(text).toContain('Waiting for your approval');
    expect(text).toContain('🕒 <@U0MARIA1> in <#C0SALES01> asks to call *+1 415 555 2671* with *sales*, now');
    const buttons = buttonsOf(view) as { action_id?: string; value?: string }[];
    expect(buttons).toContainEqual(expect.objectContaining({ action_id: 'approve_call', value: call.id }));
    expect(buttons).toContainEqual(expect.objectContaining({ action_id: 'reject_call', value: call.id }));

    // The rep (not an approver) sees their call waiting, and no approvals.
    const { view: rep } = await publishedHome(app, 'U0MARIA1');
    expect(JSON.stringify(rep)).toContain('🕒 waiting for approval');
    expect(JSON.stringify(rep)).not.toContain('Waiting for your approval');
    expect(buttonsOf(rep).map((b) => b.action_id)).toEqual(['open_call_modal', 'batch_new']);

    // Approve, on the Home tab: the app-wide handler places the call.
    const res = await app.interact(
      viewBlockAction(view, {
        blockId: `approval_${call.id}`,
        actionId: 'approve_call',
        action: { type: 'button', value: call.id, text: { type: 'plain_text', text: 'Approve' } },
        user: 'U0BOSS001',
      }),
    );
    expect(res.status).toBe(200);
    await stateOf(app, call.id, 'queued');
    expect(app.iqra.requests).toHaveLength(1);
    const { view: after } = await publishedHome(app, 'U0BOSS001');
    expect(JSON.stringify(after)).toContain('Nothing is waiting for approval.');
  });

  it('follows the calls live: open Home tabs are republished as a call waits, is approved and is queued', async () => {
    app = await startTestApp({ env: APPROVALS });
    const a = app;
    expect(JSON.stringify((await publishedHome(a, 'U0MARIA1')).view)).toContain(
      "You haven't placed any calls yet",
    );
    expect(JSON.stringify((await publishedHome(a, 'U0BOSS001')).view)).toContain(
      'Nothing is waiting for approval.',
    );
    // Someone who never opened the Home tab is not published to.
    await a.command('+14155552671', { user: 'U0REP0002' });
    const call = await placeCall(a, 'U0MARIA1', 'parent');

    // Republished (at most every 2 s per user) once the messages about the call went out.
    const published = (user: string, has: (view: string) => boolean, what: string, from = 0) =>
      a.slack.waitFor(
        () =>
          publishesFor(a, user)
            .slice(from)
            .find((c) => has(JSON.stringify(c.args.view))),
        `${user}'s Home tab ${what}`,
        8000,
      );
    await published('U0MARIA1', (v) => v.includes('🕒 waiting for approval'), 'with the call waiting');
    const boss = await published('U0BOSS001', (v) => v.includes(`"value":"${call.id}"`), 'with the approval');
    expect(JSON.stringify(boss.args.view)).toContain('<@U0REP0002>'); // the other rep's request is there too

    const from = publishesFor(a, 'U0BOSS001').length;
    await a.interact(
      viewBlockAction(boss.args.view as SentView, {
        blockId: `approval_${call.id}`,
        actionId: 'approve_call',
        action: { type: 'button', value: call.id, text: { type: 'plain_text', text: 'Approve' } },
        user: 'U0BOSS001',
      }),
    );
    await published(
      'U0MARIA1',
      (v) => v.includes('*+1 415 555 2671* with *sales* · ✅ queued'),
      'with the call queued',
    );
    const decided = await published(
      'U0BOSS001',
      (v) => !v.includes(call.id),
      'without the approved call',
      from,
    );
    expect(JSON.stringify(decided.args.view)).toContain('<@U0REP0002>');
    expect(publishesFor(a, 'U0REP0002')).toHaveLength(0);
  });

  it('in an Enterprise Grid organisation, refreshes an approver’s tab after a press with the workspace’s approvals', async () => {
    app = await startTestApp({ env: { CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001,U0BOSS002' } });
    const a = app;
    const first = await placeCall(a, 'U0MARIA1', 'parent');
    const second = await placeCall(a, 'U0REP0002', 'parent');
    await stateOf(a, second.id, 'pending_approval');
    const { view } = await publishedHome(a, 'U0BOSS002');
    expect(JSON.stringify(view)).toContain(`"value":"${second.id}"`);
    // U0BOSS001 approves the first call in the channel; U0BOSS002, whose home workspace is another of the
    // organisation's, then presses Approve on it on their Home tab: told by direct message, the tab is refreshed.
    await a.interact(
      a.buttonPress({ actionId: 'approve_call', value: first.id, user: 'U0BOSS001', message: { ts: '1.1' } }),
    );
    await stateOf(a, first.id, 'queued');
    const from = publishesFor(a, 'U0BOSS002').length;
    const press = viewBlockAction(view, {
      blockId: `approval_${first.id}`,
      actionId: 'approve_call',
      action: { type: 'button', value: first.id, text: { type: 'plain_text', text: 'Approve' } },
      user: 'U0BOSS002',
    });
    expect((await a.interact(inEnterpriseGrid(press, { userTeamId: 'T0HOME01' }))).status).toBe(200);
    const told = await a.slack.waitFor(
      () => posts(a).find((c) => c.args.channel === 'U0BOSS002'),
      'the direct message',
    );
    expect(String(told.args.text)).toContain('already approved by <@U0BOSS001>');
    const refreshed = await a.slack.waitFor(() => publishesFor(a, 'U0BOSS002')[from], 'the refreshed tab');
    const text = JSON.stringify(refreshed.args.view);
    expect(text).toContain(`"value":"${second.id}"`);
    expect(text).not.toContain('Nothing is waiting for approval.');
  });

  it('publishes nothing for the Messages tab', async () => {
    app = await startTestApp();
    const res = await sendEvent(app, appHomeOpenedEvent({ tab: 'messages' }));
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(app.slack.callsOf('views.publish')).toHaveLength(0);
  });

  it("tells the rep in a direct message when Slack refuses to open the form from the Home tab's button", async () => {
    app = await startTestApp();
    const { view: home } = await publishedHome(app);
    app.slack.failNext('views.open', 'expired_trigger_id');
    const press = viewBlockAction(home, {
      blockId: 'home_actions',
      actionId: 'open_call_modal',
      action: { type: 'button', text: { type: 'plain_text', text: 'Place a call' } },
    });
    expect((await app.interact(press)).status).toBe(200);
    const told = await app.slack.waitFor(
      () => posts(app as TestApp).find((c) => c.args.channel === (press.user as { id: string }).id),
      'the direct message',
    );
    expect(String(told.args.text)).toContain("I couldn't open the call form");
    expect(String(told.args.text)).toContain('expired_trigger_id');
  });

  it('opens the modal from the button, asks for the channel, and confirms the call there', async () => {
    app = await startTestApp();
    const { view: home } = await publishedHome(app);
    const press = viewBlockAction(home, {
      blockId: 'home_actions',
      actionId: 'open_call_modal',
      action: { type: 'button', text: { type: 'plain_text', text: 'Place a call' } },
    });
    const res = await app.interact(press);
    expect(res.status).toBe(200);
    const opened = await app.slack.waitFor(() => openedViews(app as TestApp)[0], 'views.open');
    expect(opened.triggerId).toBe(press.trigger_id);
    expect(inputBlock(opened.view, 'channel')?.element?.type).toBe('conversations_select');
    expect(JSON.parse(opened.view.private_metadata ?? '{}')).toEqual({ v: 1, s: 'home' });

    await app.interact(
      viewSubmission(app, opened.view, { input: { recipient: '+1 415 555 2671', channel: 'C0HOMEPICK' } }),
    );
    await app.slack.waitFor(() => posts(app as TestApp).find((c) => c.args.thread_ts), 'the thread reply');
    expect(posts(app).map((c) => c.args.channel)).toEqual(['C0HOMEPICK', 'C0HOMEPICK']);
    const call = await app.store.getCall(String(app.iqra.requests[0]?.fields['Metadata[RequestId]']));
    expect(call?.entryPoint).toBe('modal');
  });
});
