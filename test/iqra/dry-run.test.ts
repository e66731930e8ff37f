import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallRequestDraft } from '../../src/calls/call-request.js';
import { storeDraft } from '../../src/services/stored-request.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { confirmBatch } from '../support/batches.js';
import { startFakeIqra } from '../support/fake-iqra.js';
import { startFakeSlack } from '../support/fake-slack.js';
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

/** The approver U0BOSS001 presses Approve on the request's message. */
const approve = (a: TestApp, requestId: string) =>
  a.interact(
    a.buttonPress({ actionId: 'approve_call', value: requestId, user: 'U0BOSS001', message: { ts: '1.1' } }),
  );

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
    await approve(a, String(pending?.id));
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.update').find((u) => String(u.args.text).includes('🧪 Dry run')),
      'the dry-run parent',
    );
    expect(a.iqra.requests).toHaveLength(0);
  });
});

describe('a request made during a dry run, processed after dry run was turned off', () => {
  // One database, one Slack and one Iqra stand-in across a restart: first with IQRA_DRY_RUN=true, then without.
  let store: Store | undefined;
  const closing: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
    await store?.close();
    store = undefined;
  });

  async function sharedParts() {
    store = await openStore({
      kind: 'sqlite',
      path: join(mkdtempSync(join(tmpdir(), 'iqra-dry-')), 'calls.sqlite'),
    });
    await store.migrate();
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra();
    closing.push(
      () => slack.close(),
      () => iqra.close(),
    );
    slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
    return { store, slack, iqra };
  }

  async function startWith(parts: Awaited<ReturnType<typeof sharedParts>>, env: Record<string, string>) {
    const a = await startTestApp({
      store: parts.store,
      slack: parts.slack,
      fakeIqra: parts.iqra,
      env,
      appOptions: { batchTickMs: 0, batchRefreshMs: 0 },
    });
    // Closed by the test at its restart, or after it.
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await a.close();
    };
    closing.push(close);
    return { ...a, close };
  }

  async function stateOf(s: Store, id: string, state: string) {
    const deadline = Date.now() + 5000;
    while ((await s.getCall(id))?.state !== state) {
      if (Date.now() > deadline) throw new Error(`never ${state}: ${(await s.getCall(id))?.state}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('approved after the restart: not sent to Iqra, ends as a dry run', async () => {
    const approval = { CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001' };
    const parts = await sharedParts();
    const before = await startWith(parts, { IQRA_DRY_RUN: 'true', ...approval });
    await before.command('+14155552671 CustomerName=Ada');
    await parts.slack.waitFor(() => parts.slack.callsOf('chat.postMessage')[0], 'the approval request');
    const [pending] = await parts.store.recentCalls('T0001', 'U0MARIA1', 1);
    expect(pending?.state).toBe('pending_approval');
    await before.close();

    const after = await startWith(parts, approval);
    expect(after.config.iqra.dryRun).toBe(false);
    await approve(after, String(pending?.id));
    await stateOf(parts.store, String(pending?.id), 'dry_run');
    await new Promise((r) => setTimeout(r, 200));
    expect(parts.iqra.requests).toHaveLength(0);
    expect(after.logs.some((l) => String(l.msg).includes('made during a dry run is not sent'))).toBe(true);
    const parent = await parts.slack.waitFor(
      () => parts.slack.callsOf('chat.update').find((u) => String(u.args.text).includes('🧪 Dry run')),
      'the dry-run parent',
    );
    expect(String(parent.args.text)).toContain('Nothing was sent to Iqra');
  });

  it('recovered at the next start: not sent to Iqra; a request made live is sent as before', async () => {
    const parts = await sharedParts();
    const draft = (id: string, e164: string, inDryRun: boolean): CallRequestDraft => ({
      requestId: id,
      origin: { teamId: 'T0001', channelId: 'C0SALES01', userId: 'U0MARIA1' },
      recipient: { e164, display: e164, country: 'US' },
      agent: { alias: 'sales', id: 'agent_sales_01' },
      number: { alias: 'main', id: 'num_main_01' },
      variables: {},
      metadata: {},
      ...(inDryRun ? { inDryRun: true as const } : {}),
    });
    // Recorded, not yet processed, by a process that stopped (one in a dry run, one live).
    for (const [id, e164, inDryRun] of [
      ['req_dryleft00001', '+14155552671', true],
      ['req_liveleft0001', '+14155552672', false],
    ] as const) {
      await parts.store.recordCall(
        `command:${id}`,
        {
          id,
          entryPoint: 'command',
          teamId: 'T0001',
          channelId: 'C0SALES01',
          userId: 'U0MARIA1',
          request: storeDraft(draft(id, e164, inDryRun)),
          recipient: e164,
          agentAlias: 'sales',
          owner: 'a-process-that-stopped',
        },
        Date.now() - 5000,
      );
    }
    await startWith(parts, {});
    await stateOf(parts.store, 'req_dryleft00001', 'dry_run');
    await stateOf(parts.store, 'req_liveleft0001', 'queued');
    expect(parts.iqra.requests.map((r) => r.fields.RecipientNumber)).toEqual(['+14155552672']);
  });

  it("a batch's rows whose turn comes after the restart: not sent to Iqra", async () => {
    const parts = await sharedParts();
    const before = await startWith(parts, { IQRA_DRY_RUN: 'true' });
    const batchId = await confirmBatch(before, {
      batch_paste: '+14155551001\n+14155551002',
      batch_pace: '60',
    });
    expect((await parts.store.getBatch(batchId))?.state).toBe('running');
    // No row has had its turn yet (the batch's clock is driven by hand).
    expect((await parts.store.batchCalls(batchId)).map((c) => c.state)).toEqual(['waiting', 'waiting']);
    await before.close();

    const after = await startWith(parts, {});
    const deadline = Date.now() + 10_000;
    while ((await parts.store.getBatch(batchId))?.state !== 'done') {
      if (Date.now() > deadline) throw new Error('the batch never finished');
      await after.running.batches.tick();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await parts.store.batchCalls(batchId)).map((c) => c.state)).toEqual(['dry_run', 'dry_run']);
    expect(parts.iqra.requests).toHaveLength(0);
  });
});
