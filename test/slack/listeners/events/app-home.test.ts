import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../../../support/fake-slack.js';
import {
  appHomeOpenedEvent,
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

async function publishedHome(a: TestApp) {
  const res = await sendEvent(a, appHomeOpenedEvent({ user: 'U0MARIA1' }));
  expect(res.status).toBe(200);
  const publish = await a.slack.waitFor(() => a.slack.callsOf('views.publish')[0], 'views.publish');
  return publish.args as { user_id: string; view: SentView };
}

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

  it('publishes nothing for the Messages tab', async () => {
    app = await startTestApp();
    const res = await sendEvent(app, appHomeOpenedEvent({ tab: 'messages' }));
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(app.slack.callsOf('views.publish')).toHaveLength(0);
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
