import { afterEach, describe, expect, it } from 'vitest';
import { messageShortcut, openedViews, viewSubmission } from '../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// IQRA_DRY_RUN=true: every path runs in full, guards included, and nothing reaches Iqra.

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(env: Record<string, string> = {}) {
  app = await startTestApp({ env: { IQRA_DRY_RUN: 'true', ...env } });
  app.slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
  return app;
}

const replies = (a: TestApp) => a.slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts);

async function dryRunThread(a: TestApp) {
  const reply = await a.slack.waitFor(
    () => replies(a).find((c) => JSON.stringify(c.args.blocks).includes('what would have been sent')),
    'the dry-run details',
  );
  return JSON.stringify(reply.args.blocks);
}

describe('dry run', () => {
  it('runs the command in full and shows exactly what would have been sent, sending nothing', async () => {
    const a = await start();
    await a.command('+14155552671 CustomerName=Ada at "tomorrow 10am"');
    const details = await dryRunThread(a);
    expect(details).toContain('RecipientNumber=+14155552671');
    expect(details).toContain('AgentId=agent_sales_01');
    expect(details).toContain('DynamicVariables[CustomerName]=Ada');
    expect(details).toContain('ScheduledTime=');
    expect(details).toContain('\\"campaignId\\": \\"camp_sales_01\\"');
    expect(details).not.toContain(a.iqra.apiKey);
    const parent = a.slack.callsOf('chat.postMessage').find((c) => !c.args.thread_ts);
    expect(String(parent?.args.text)).toContain('🧪 Dry run');
    expect(String(parent?.args.text)).toContain('Nothing was sent to Iqra');
    await new Promise((r) => setTimeout(r, 300));
    expect(a.iqra.requests).toHaveLength(0);
    expect(a.iqra.trackingRequests).toHaveLength(0);
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    expect(call?.state).toBe('dry_run');
    expect(call?.trackAt).toBeUndefined();
  });

  it('keeps the guards: a listed number is still refused', async () => {
    const a = await start({ CALL_ADMINS: 'U0ADMIN01' });
    await a.command('dnc add +14155552671', { user: 'U0ADMIN01' });
    await a.command('+14155552671');
    const reply = await a.slack.waitFor(() => a.slack.responses[0], 'the refusal');
    expect(JSON.stringify(reply.body)).toContain('do-not-call list');
  });

  it('covers the modal', async () => {
    const a = await start();
    const sent = await a.command('');
    const opened = await a.slack.waitFor(
      () => openedViews(a).find((o) => o.triggerId === sent.triggerId),
      'the modal',
    );
    await a.interact(viewSubmission(a, opened.view, { input: { recipient: '+1 415 555 2671' } }));
    expect(await dryRunThread(a)).toContain('RecipientNumber=+14155552671');
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('covers "Call this number"', async () => {
    const a = await start();
    await a.interact(
      messageShortcut(a, {
        callbackId: 'call_this_number',
        message: { ts: '1764000000.000200', text: 'Lead: +44 20 7183 8750' },
      }),
    );
    const opened = await a.slack.waitFor(() => openedViews(a)[0], 'the modal');
    await a.interact(viewSubmission(a, opened.view));
    expect(await dryRunThread(a)).toContain('RecipientNumber=+442071838750');
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('covers approvals', async () => {
    const a = await start({ CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001' });
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.slack.callsOf('chat.postMessage')[0], 'the approval request');
    const [pending] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    await a.interact(
      a.buttonPress({
        actionId: 'approve_call',
        value: String(pending?.id),
        user: 'U0BOSS001',
        message: { ts: '1.1' },
      }),
    );
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.update').find((u) => String(u.args.text).includes('🧪 Dry run')),
      'the dry-run parent',
    );
    expect(a.iqra.requests).toHaveLength(0);
  });
});
