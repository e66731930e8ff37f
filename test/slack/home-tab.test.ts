import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallCatalog, CallRequest } from '../../src/calls/call-request.js';
import { Directory } from '../../src/calls/directory.js';
import { createLogger } from '../../src/log.js';
import { storeRequest } from '../../src/services/stored-request.js';
import { Audiences } from '../../src/slack/audiences.js';
import { HomeTab, type HomeTabOptions } from '../../src/slack/home-tab.js';
import { openStore } from '../../src/store/open-store.js';
import type { CallRecord, Store } from '../../src/store/store.js';
import { type FakeSlack, type SlackApiCall, startFakeSlack } from '../support/fake-slack.js';
import type { SentView } from '../support/slack-payloads.js';

const NOW = Date.parse('2026-11-27T17:00:00.000Z');
const TEAM = 'T0001';

let store: Store | undefined;
let slack: FakeSlack | undefined;
let home: HomeTab | undefined;
afterEach(async () => {
  await home?.stop();
  await store?.close();
  await slack?.close();
  home = undefined;
  store = undefined;
  slack = undefined;
});

const sales = { alias: 'sales', id: 'agent_sales_01' };
const catalog: CallCatalog = {
  agents: new Directory('agent', [sales], sales),
  numbers: new Directory('number', [{ alias: 'main', id: 'num_main_01' }], {
    alias: 'main',
    id: 'num_main_01',
  }),
  campaigns: new Directory('campaign', [], undefined),
  campaignRequired: false,
  defaultRegion: 'US',
};

/** A real store, the fake Slack, and a HomeTab on them; the clock can be moved forward. */
async function setUp(o: Partial<HomeTabOptions> = {}) {
  store = await openStore({
    kind: 'sqlite',
    path: join(mkdtempSync(join(tmpdir(), 'iqra-home-')), 'calls.sqlite'),
  });
  await store.migrate();
  slack = await startFakeSlack();
  slack.handle('usergroups.users.list', (args) =>
    args.usergroup === 'S0MANAGER'
      ? { body: { ok: true, users: ['U0BOSS002'] } }
      : { body: { ok: true, users: [] } },
  );
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) });
  let offset = 0;
  const client = new webApi.WebClient('xoxb-test', {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
  });
  home = new HomeTab({
    store,
    client,
    audiences: new Audiences(logger),
    approvers: { users: ['U0BOSS001'], groups: ['S0MANAGER'] },
    approvalsOn: true,
    catalog,
    maxScheduleDays: 30,
    logger,
    now: () => new Date(NOW + offset),
    debounceMs: 150,
    ...o,
  });
  return { s: store, fake: slack, tab: home, logs, advance: (ms: number) => (offset += ms) };
}

let sequence = 0;
async function seed(s: Store, o: { user?: string; pending?: boolean } = {}): Promise<CallRecord> {
  sequence += 1;
  const id = `req_hometab${String(sequence).padStart(5, '0')}`;
  const request: CallRequest = {
    requestId: id,
    origin: { teamId: TEAM, channelId: 'C0SALES01', userId: o.user ?? 'U0MARIA1' },
    recipient: { e164: '+14155552671', display: '+1 415 555 2671', country: 'US' },
    agent: sales,
    number: { alias: 'main', id: 'num_main_01' },
    variables: {},
    metadata: {},
    when: { kind: 'now' },
    requesterTimeZone: 'America/Los_Angeles',
  };
  await s.recordCall(
    `command:${id}`,
    {
      id,
      entryPoint: 'command',
      teamId: TEAM,
      channelId: 'C0SALES01',
      userId: o.user ?? 'U0MARIA1',
      request: storeRequest(request, 'slack'),
      recipient: '+14155552671',
      agentAlias: 'sales',
      owner: 'test',
    },
    NOW - 1000,
  );
  const record = o.pending
    ? await s.transition(id, ['received'], 'pending_approval', { expiresAt: NOW + 3_600_000 }, NOW)
    : await s.transition(id, ['received'], 'sending', {}, NOW);
  if (!record) throw new Error('seeding failed');
  return record;
}

async function move(
  s: Store,
  call: CallRecord,
  to: 'queued' | 'approved',
  changes = {},
): Promise<CallRecord> {
  const record = await s.transition(call.id, [call.state], to, changes, NOW);
  if (!record) throw new Error(`could not move ${call.id} to ${to}`);
  return record;
}

const publishes = (fake: FakeSlack, user?: string): SlackApiCall[] =>
  fake.callsOf('views.publish').filter((c) => user === undefined || c.args.user_id === user);
const viewText = (call: SlackApiCall | undefined) =>
  JSON.stringify((call?.args.view as SentView | undefined) ?? {});

describe('HomeTab', () => {
  it('publishes when opened, with the user’s calls, and remembers the viewer', async () => {
    const { s, fake, tab } = await setUp();
    const call = await seed(s);
    await tab.opened('U0MARIA1', TEAM);
    expect(publishes(fake)).toHaveLength(1);
    const text = viewText(publishes(fake)[0]);
    expect(publishes(fake)[0]?.args.user_id).toBe('U0MARIA1');
    expect(text).toContain(call.id);
    expect(text).toContain('⏳ sending to Iqra');
    expect(text).not.toContain('Waiting for your approval');
    expect(tab.viewerCount()).toBe(1);
  });

  it('republishes a viewer’s tab when one of their calls changes, with its new state', async () => {
    const { s, fake, tab } = await setUp();
    const call = await seed(s);
    await tab.opened('U0MARIA1', TEAM);
    const queued = await move(s, call, 'queued', { queueIds: ['q_0001'], progress: 'dialling' });
    tab.changed(queued);
    await tab.idle();
    expect(publishes(fake)).toHaveLength(2);
    expect(viewText(publishes(fake)[1])).toContain('✅ queued → ☎️ dialling');
  });

  it('debounces: a burst of changes is one more publication, showing the latest state', async () => {
    // Long enough that the store's writes below all fall within one pause.
    const { s, fake, tab } = await setUp({ debounceMs: 600 });
    let call = await seed(s);
    await tab.opened('U0MARIA1', TEAM);
    call = await move(s, call, 'queued', { queueIds: ['q_0001'] });
    for (const progress of ['queued', 'dialling', 'in_conversation'] as const) {
      const next = await s.advanceProgress(call.id, [call.progress ?? null], { progress }, NOW);
      if (!next) throw new Error('no progress');
      call = next;
      tab.changed(call);
      tab.changed(call);
    }
    await tab.idle();
    expect(publishes(fake)).toHaveLength(2);
    expect(viewText(publishes(fake)[1])).toContain('✅ queued → 🗣️ in conversation');

    // Once the pause is over, the next change is published again.
    tab.changed(call);
    await tab.idle();
    expect(publishes(fake)).toHaveLength(3);
  });

  it('holds a change until the pause is over; opening the tab publishes at once and covers it', async () => {
    const { s, fake, tab } = await setUp({ debounceMs: 60 * 60 * 1000 });
    const call = await seed(s);
    await tab.opened('U0MARIA1', TEAM);
    await tab.changed(await move(s, call, 'queued', { progress: 'dialling' }));
    await tab.changed(call);
    expect(publishes(fake)).toHaveLength(1);
    await tab.opened('U0MARIA1', TEAM);
    await tab.idle();
    expect(publishes(fake)).toHaveLength(2);
    expect(viewText(publishes(fake)[1])).toContain('✅ queued → ☎️ dialling');
  });

  it('skips users who never opened the Home tab', async () => {
    const { s, fake, tab } = await setUp();
    const call = await seed(s, { user: 'U0REP0002' });
    await tab.opened('U0MARIA1', TEAM);
    tab.changed(await move(s, call, 'queued'));
    await tab.idle();
    expect(publishes(fake, 'U0REP0002')).toHaveLength(0);
    expect(publishes(fake, 'U0MARIA1')).toHaveLength(1);
  });

  it('forgets a viewer 24 hours after they opened the tab', async () => {
    const { s, fake, tab, advance } = await setUp();
    const call = await seed(s);
    await tab.opened('U0MARIA1', TEAM);
    advance(24 * 60 * 60 * 1000 + 1);
    tab.changed(await move(s, call, 'queued'));
    await tab.idle();
    expect(publishes(fake)).toHaveLength(1);
    expect(tab.viewerCount()).toBe(0);
  });

  it('shows approvers the pending approvals with buttons, and refreshes them when one is decided', async () => {
    const { s, fake, tab } = await setUp();
    const pending = await seed(s, { pending: true });
    await tab.opened('U0BOSS001', TEAM); // an approver by id
    await tab.opened('U0BOSS002', TEAM); // an approver through the user group
    await tab.opened('U0REP0002', TEAM); // not an approver
    for (const boss of ['U0BOSS001', 'U0BOSS002']) {
      const text = viewText(publishes(fake, boss)[0]);
      expect(text).toContain('Waiting for your approval');
      expect(text).toContain(`"action_id":"approve_call"`);
      expect(text).toContain(`"value":"${pending.id}"`);
    }
    expect(viewText(publishes(fake, 'U0REP0002')[0])).not.toContain('Waiting for your approval');

    const approved = await move(s, pending, 'approved', { decidedBy: 'U0BOSS001', decidedAt: NOW });
    tab.changed(approved);
    await tab.idle();
    for (const boss of ['U0BOSS001', 'U0BOSS002']) {
      expect(publishes(fake, boss)).toHaveLength(2);
      const text = viewText(publishes(fake, boss)[1]);
      expect(text).toContain('Nothing is waiting for approval.');
      expect(text).not.toContain('approve_call');
    }
    expect(publishes(fake, 'U0REP0002')).toHaveLength(1);
  });

  it('does not refresh approvers for calls that never needed approval', async () => {
    const { s, fake, tab } = await setUp();
    const call = await seed(s);
    await tab.opened('U0BOSS001', TEAM);
    tab.changed(await move(s, call, 'queued'));
    await tab.idle();
    expect(publishes(fake, 'U0BOSS001')).toHaveLength(1);
  });

  it('shows no approvals section when approvals are off, even to an approver', async () => {
    const { s, fake, tab } = await setUp({ approvalsOn: false });
    await seed(s, { pending: true });
    await tab.opened('U0BOSS001', TEAM);
    expect(viewText(publishes(fake)[0])).not.toContain('Waiting for your approval');
  });

  it('logs a failed publication and never throws', async () => {
    const { fake, tab, logs } = await setUp();
    fake.failNext('views.publish', 'not_enabled');
    await expect(tab.opened('U0MARIA1', TEAM)).resolves.toBeUndefined();
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'could not publish the Home tab',
        slackError: 'not_enabled',
      }),
    );
    // The next publication goes out as usual.
    await tab.publish('U0MARIA1', TEAM);
    expect(publishes(fake)).toHaveLength(2);
  });

  it('publishes a tab that says so when the store cannot be read', async () => {
    const { s, fake, tab, logs } = await setUp();
    await s.close();
    await tab.opened('U0MARIA1', TEAM);
    expect(viewText(publishes(fake)[0])).toContain('could not be read just now');
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'could not read the calls for the Home tab' }),
    );
    store = undefined;
  });

  it('publishes nothing once stopped', async () => {
    const { s, fake, tab } = await setUp();
    const call = await seed(s);
    await tab.opened('U0MARIA1', TEAM);
    tab.changed(await move(s, call, 'queued'));
    await tab.stop();
    tab.changed(call);
    await tab.opened('U0MARIA1', TEAM);
    await tab.idle();
    expect(publishes(fake)).toHaveLength(1);
  });
});
