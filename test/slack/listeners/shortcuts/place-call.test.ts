import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../../../support/fake-slack.js';
import { globalShortcut, inputBlock, openedViews, viewSubmission } from '../../../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const posts = (a: TestApp): SlackApiCall[] => a.slack.callsOf('chat.postMessage');

async function openFromShortcut(a: TestApp) {
  const payload = globalShortcut({ callbackId: 'place_call' });
  const res = await a.interact(payload);
  expect(res.status).toBe(200);
  const opened = await a.slack.waitFor(
    () => openedViews(a).find((o) => o.triggerId === payload.trigger_id),
    'views.open',
  );
  return opened.view;
}

describe('the "Place a call" global shortcut', () => {
  it('tells the rep in a direct message when Slack refuses to open the form (a shortcut has no response_url)', async () => {
    app = await startTestApp();
    app.slack.failNext('views.open', 'expired_trigger_id');
    const payload = globalShortcut({ callbackId: 'place_call' });
    expect((await app.interact(payload)).status).toBe(200);
    const told = await app.slack.waitFor(
      () => posts(app as TestApp).find((c) => c.args.channel === (payload.user as { id: string }).id),
      'the direct message',
    );
    expect(String(told.args.text)).toContain("I couldn't open the call form");
    expect(String(told.args.text)).toContain('expired_trigger_id');
    expect(posts(app)).toHaveLength(1);
  });

  it('opens the modal asking for the channel, and refuses the form without one', async () => {
    app = await startTestApp();
    const view = await openFromShortcut(app);
    const channel = inputBlock(view, 'channel');
    expect(channel?.optional).toBeUndefined();
    expect(channel?.element).toMatchObject({
      type: 'conversations_select',
      default_to_current_conversation: true,
      response_url_enabled: true,
    });
    const res = await app.interact(viewSubmission(app, view, { input: { recipient: '+14155552671' } }));
    expect(JSON.parse(res.body)).toEqual({
      response_action: 'errors',
      errors: { channel: 'Choose the channel where the call is confirmed.' },
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(app.iqra.requests).toHaveLength(0);
  });

  it('posts the confirmation in the channel chosen, not in a thread', async () => {
    app = await startTestApp();
    const view = await openFromShortcut(app);
    const res = await app.interact(
      viewSubmission(app, view, { input: { recipient: '+14155552671', channel: 'C0OTHER01' } }),
    );
    expect(res.body).toBe('');
    const reply = await app.slack.waitFor(
      () => posts(app as TestApp).find((c) => c.args.thread_ts),
      'the reply',
    );
    const parent = posts(app).find((c) => !c.args.thread_ts);
    expect(parent?.args.channel).toBe('C0OTHER01');
    expect(reply.args.channel).toBe('C0OTHER01');
    expect(app.iqra.requests[0]?.fields['Metadata[SlackChannelId]']).toBe('C0OTHER01');
    const call = await app.store.getCall(String(app.iqra.requests[0]?.fields['Metadata[RequestId]']));
    expect(call?.entryPoint).toBe('shortcut');
  });

  it('tells the rep alone, through the channel’s response_url, when the bot cannot post there', async () => {
    app = await startTestApp();
    app.slack.failNext('chat.postMessage', 'not_in_channel', 'C0PRIVATE');
    const view = await openFromShortcut(app);
    await app.interact(
      viewSubmission(app, view, { input: { recipient: '+14155552671', channel: 'C0PRIVATE' } }),
    );
    const told = await app.slack.waitFor(() => app?.slack.responses[0], 'the response_url answer');
    expect(told.path).toMatch(/^\/respond\/view-/);
    expect(JSON.stringify(told.body)).toContain('/invite @Iqra Calls');
    expect(app.iqra.requests).toHaveLength(1);
  });
});
