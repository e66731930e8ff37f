import type { HomeView } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { CallCatalog } from '../../../src/calls/call-request.js';
import { Directory, type DirectoryEntry } from '../../../src/calls/directory.js';
import type { CallEnd, Progress } from '../../../src/calls/progress.js';
import {
  type HomeData,
  homeView,
  liveStateInWords,
  progressInWords,
} from '../../../src/slack/blocks/home.js';
import type { CallRecord, CallState } from '../../../src/store/store.js';

const NOW = Date.parse('2026-11-27T17:00:00.000Z');

const entries = (prefix: string, n: number): DirectoryEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    alias: `${prefix}${String(i).padStart(3, '0')}`,
    id: `${prefix}_id_${i}`,
  }));

function catalog(n = 1): CallCatalog {
  const agents = n === 1 ? [{ alias: 'sales', id: 'agent_sales_01' }] : entries('agent', n);
  const numbers = n === 1 ? [{ alias: 'main', id: 'num_main_01' }] : entries('num', n);
  const campaigns = n === 1 ? [{ alias: 'sales', id: 'camp_sales_01' }] : entries('camp', n);
  return {
    agents: new Directory('agent', agents, agents[0]),
    numbers: new Directory('number', numbers, numbers[0]),
    campaigns: new Directory('campaign', campaigns, undefined),
    campaignRequired: false,
    defaultRegion: 'US',
  };
}

let sequence = 0;
function call(o: Partial<CallRecord> & { display?: string; scheduledAt?: string } = {}): CallRecord {
  sequence += 1;
  const { display, scheduledAt, ...rest } = o;
  return {
    id: `req_home${String(sequence).padStart(7, '0')}`,
    entryPoint: 'command',
    teamId: 'T0001',
    channelId: 'C0SALES01',
    userId: 'U0MARIA1',
    request: {
      recipient: { e164: '+14155552671', display: display ?? '+1 415 555 2671', country: 'US' },
      agent: { alias: 'sales', id: 'agent_sales_01' },
      number: { alias: 'main', id: 'num_main_01' },
      campaign: { alias: 'sales', id: 'camp_sales_01' },
      variables: { CustomerName: 'Ada' },
      metadata: {},
      when: scheduledAt
        ? {
            kind: 'scheduled',
            at: scheduledAt,
            timeZone: 'America/Los_Angeles',
            zoneSource: 'requester',
            phrase: 'tomorrow 10am',
          }
        : { kind: 'now' },
      requesterTimeZone: 'America/Los_Angeles',
      zoneSource: 'slack',
    },
    recipient: '+14155552671',
    agentAlias: 'sales',
    owner: 'test',
    state: 'queued',
    queueIds: [],
    createdAt: NOW - 60_000,
    updatedAt: NOW - 60_000,
    ...rest,
  };
}

function data(o: Partial<HomeData> = {}): HomeData {
  return { catalog: catalog(), maxScheduleDays: 30, userId: 'U0MARIA1', calls: [], now: NOW, ...o };
}

const json = (view: HomeView) => JSON.stringify(view);
type AnyBlock = {
  type: string;
  block_id?: string;
  text?: { text: string };
  elements?: Record<string, unknown>[];
};
const blocksOf = (view: HomeView) => view.blocks as unknown as AnyBlock[];
const buttons = (view: HomeView) =>
  blocksOf(view).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));

/** Slack's limits for a Home tab: 100 blocks, 3000 characters of section and context text, unique block ids. */
function expectWithinSlackLimits(view: HomeView) {
  expect(view.blocks.length).toBeLessThanOrEqual(100);
  const ids = new Set<string>();
  for (const block of blocksOf(view)) {
    if (block.block_id) {
      expect(block.block_id.length).toBeLessThanOrEqual(255);
      expect(ids.has(block.block_id), `duplicate block_id ${block.block_id}`).toBe(false);
      ids.add(block.block_id);
    }
    if (block.type === 'section') expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
    if (block.type === 'header') expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(150);
    if (block.type === 'context') {
      expect(block.elements?.length ?? 0).toBeLessThanOrEqual(10);
      for (const e of block.elements ?? []) expect(String(e.text).length).toBeLessThanOrEqual(3000);
    }
    if (block.type === 'actions') {
      expect(block.elements?.length ?? 0).toBeLessThanOrEqual(25);
      for (const e of block.elements ?? []) {
        expect(String(e.action_id).length).toBeLessThanOrEqual(255);
        expect(String(e.value ?? '').length).toBeLessThanOrEqual(2000);
      }
    }
  }
}

describe('the Home tab', () => {
  it('keeps the "Place a call" button and the other ways to place a call', () => {
    const view = homeView(data());
    expect(view.type).toBe('home');
    expect(buttons(view)).toContainEqual(
      expect.objectContaining({ type: 'button', action_id: 'open_call_modal' }),
    );
    expect(json(view)).toContain('`sales` (default)');
    expect(json(view)).toContain('up to 30 days ahead');
    expect(json(view)).toContain("You haven't placed any calls yet");
  });

  it('lists the user’s calls, newest first as given: number, agent, state, time token, request id', () => {
    const calls = [
      call({ state: 'queued', queueIds: ['q_0001'] }),
      call({ state: 'failed', userMessage: 'The number is blocked.' }),
    ];
    const view = homeView(data({ calls }));
    const text = json(view);
    const first = text.indexOf(calls[0]?.id ?? '?');
    const second = text.indexOf(calls[1]?.id ?? '?');
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(text).toContain('*+1 415 555 2671* with *sales* · ✅ queued');
    expect(text).toContain(
      `<!date^${Math.floor((NOW - 60_000) / 1000)}^{date_short_pretty} at {time}|2026-11-27 16:59 UTC>`,
    );
    expect(text).toContain('queue `q_0001`');
    expect(text).toContain('<#C0SALES01>');
    expect(text).toContain('❌ not placed');
    expect(text).toContain('The number is blocked.');
  });

  it('shows at most 10 calls', () => {
    const calls = Array.from({ length: 12 }, () => call());
    const text = json(homeView(data({ calls })));
    expect(calls.filter((c) => text.includes(c.id))).toHaveLength(10);
  });

  it.each<[CallState, string]>([
    ['received', '⏳ received'],
    ['pending_approval', '🕒 waiting for approval'],
    ['approved', '👍 approved'],
    ['rejected', '🚫 rejected'],
    ['expired', '⌛ expired'],
    ['sending', '⏳ sending to Iqra'],
    ['queued', '✅ queued'],
    ['failed', '❌ not placed'],
    ['unknown', '⚠️ outcome unknown'],
    ['refused', '🚫 refused'],
  ])('says the state %s in words', (state, words) => {
    const view = homeView(data({ calls: [call({ state })] }));
    expect(json(view)).toContain(`· ${words}`);
  });

  it.each<[Progress, string]>([
    ['scheduled', '✅ queued → 📅 scheduled'],
    ['queued', '✅ queued → ⏳ waiting in Iqra’s queue'],
    ['dialling', '✅ queued → ☎️ dialling'],
    ['in_conversation', '✅ queued → 🗣️ in conversation'],
    ['status_unknown', '✅ queued → ❔ status unknown'],
  ])('follows a queued call live: %s', (progress, words) => {
    const c = call({ state: 'queued', progress });
    expect(liveStateInWords(c)).toBe(words);
    expect(json(homeView(data({ calls: [c] })))).toContain(words);
  });

  it.each<[CallEnd, string]>([
    ['completed', '✅ ended: completed (3m 24s)'],
    ['no_answer', '📵 ended: no answer (3m 24s)'],
    ['busy_or_declined', '🚫 ended: busy or declined (3m 24s)'],
    ['voicemail', '📼 ended: voicemail (3m 24s)'],
    ['failed', '❌ ended: failed (3m 24s)'],
    ['expired', '⌛ ended: expired (3m 24s)'],
    ['cancelled', '🛑 ended: cancelled (3m 24s)'],
  ])('says how an ended call ended: %s, with its duration', (callEnd, words) => {
    const c = call({ state: 'queued', progress: 'ended', callEnd, durationSeconds: 204 });
    expect(progressInWords(c)).toBe(words);
    expect(json(homeView(data({ calls: [c] })))).toContain(`✅ queued → ${words}`);
  });

  it('says an ended call without a known duration or end plainly', () => {
    expect(progressInWords({ progress: 'ended' })).toBe('✅ ended: completed');
    expect(progressInWords({})).toBeUndefined();
    expect(liveStateInWords(call({ state: 'failed', progress: 'dialling' }))).toBe('❌ not placed');
  });

  it('shows when a scheduled call is for, and who rejected a call and why', () => {
    const scheduled = call({ scheduledAt: '2026-11-28T18:00:00.000Z' });
    const rejected = call({ state: 'rejected', decidedBy: 'U0BOSS001', decisionReason: 'Not <this> one' });
    const text = json(homeView(data({ calls: [scheduled, rejected] })));
    expect(text).toContain(`for <!date^${Date.parse('2026-11-28T18:00:00.000Z') / 1000}^`);
    expect(text).toContain('Rejected by <@U0BOSS001>: Not &lt;this&gt; one');
  });

  it('escapes what people and settings wrote', () => {
    const c = call({ agentAlias: 'a<b>&c', display: '<!channel>' });
    const text = json(homeView(data({ calls: [c] })));
    expect(text).toContain('*&lt;!channel&gt;* with *a&lt;b&gt;&amp;c*');
    expect(text).not.toContain('<!channel>');
  });

  it('says so when the calls could not be read', () => {
    expect(json(homeView(data({ unavailable: true })))).toContain('could not be read just now');
  });
});

describe('the approvals section', () => {
  it('is absent when no approvals are given (not an approver, or approvals off)', () => {
    const view = homeView(data({ calls: [call({ state: 'pending_approval' })] }));
    expect(json(view)).not.toContain('Waiting for your approval');
    expect(buttons(view).map((b) => b.action_id)).toEqual(['open_call_modal', 'batch_new']);
  });

  it('says nothing is waiting when an approver has none', () => {
    const text = json(homeView(data({ userId: 'U0BOSS001', approvals: [] })));
    expect(text).toContain('Waiting for your approval');
    expect(text).toContain('Nothing is waiting for approval.');
  });

  it('lists each pending call with its details and its own Approve / Reject buttons', () => {
    const a = call({ state: 'pending_approval', expiresAt: NOW + 3_600_000, userId: 'U0REP0001' });
    const b = call({
      state: 'pending_approval',
      userId: 'U0REP0002',
      channelId: 'C0SUPPORT',
      scheduledAt: '2026-11-28T18:00:00.000Z',
    });
    const view = homeView(data({ userId: 'U0BOSS001', approvals: [a, b] }));
    const text = json(view);
    expect(text).toContain(
      '🕒 <@U0REP0001> in <#C0SALES01> asks to call *+1 415 555 2671* with *sales*, now',
    );
    expect(text).toContain(
      '🕒 <@U0REP0002> in <#C0SUPPORT> asks to call *+1 415 555 2671* with *sales*, at <!date^',
    );
    expect(text).toContain('From main · Campaign sales · Variables `CustomerName` · Metadata none');
    expect(text).toContain(`expires <!date^${Math.floor((NOW + 3_600_000) / 1000)}^`);
    const approve = buttons(view).filter((e) => e.action_id === 'approve_call');
    const reject = buttons(view).filter((e) => e.action_id === 'reject_call');
    expect(approve.map((e) => e.value)).toEqual([a.id, b.id]);
    expect(reject.map((e) => e.value)).toEqual([a.id, b.id]);
    expect(approve[0]).toHaveProperty('confirm');
    // Each actions block has its own id (Slack refuses a view with two equal block ids).
    const ids = blocksOf(view)
      .filter((x) => x.type === 'actions')
      .map((x) => x.block_id);
    expect(ids).toEqual(['home_actions', `approval_${a.id}`, `approval_${b.id}`]);
    expectWithinSlackLimits(view);
  });

  it('offers no buttons on the approver’s own request', () => {
    const own = call({ state: 'pending_approval', userId: 'U0BOSS001' });
    const view = homeView(data({ userId: 'U0BOSS001', approvals: [own] }));
    expect(buttons(view).map((b) => b.action_id)).toEqual(['open_call_modal', 'batch_new']);
    expect(json(view)).toContain('another approver must decide');
  });

  it('shows the oldest 20 and says when more are waiting', () => {
    const approvals = Array.from({ length: 21 }, () =>
      call({ state: 'pending_approval', userId: 'U0REP0001' }),
    );
    const view = homeView(data({ userId: 'U0BOSS001', approvals }));
    expect(buttons(view).filter((e) => e.action_id === 'approve_call')).toHaveLength(20);
    expect(json(view)).toContain('More are waiting: the oldest 20 are shown.');
  });
});

describe('Slack’s limits', () => {
  it('holds 10 calls and 20 approvals with very long fields, and a huge catalog', () => {
    const long = 'x'.repeat(5000);
    const many = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`Variable_${i}_${'v'.repeat(40)}`, long]),
    );
    const huge = (o: Partial<CallRecord>) => {
      const c = call({
        display: `+1 ${'9'.repeat(3000)}`,
        agentAlias: long,
        userMessage: long,
        decisionReason: long,
        ...o,
      });
      c.request = {
        ...c.request,
        agent: { alias: long, id: long },
        number: { alias: long, id: long },
        campaign: { alias: long, id: long },
        variables: many,
        metadata: many,
        whenPhrase: long,
      };
      c.queueIds = Array.from({ length: 100 }, (_, i) => `queue_${i}_${'q'.repeat(40)}`);
      return c;
    };
    const states: CallState[] = ['failed', 'rejected', 'unknown', 'refused', 'queued'];
    const calls = Array.from({ length: 10 }, (_, i) =>
      huge({ state: states[i % states.length] ?? 'queued', progress: 'ended' }),
    );
    const approvals = Array.from({ length: 20 }, () =>
      huge({ state: 'pending_approval', userId: 'U0REP0001', expiresAt: NOW }),
    );
    const view = homeView({
      catalog: catalog(150),
      maxScheduleDays: 30,
      userId: 'U0BOSS001',
      calls,
      approvals,
      now: NOW,
    });
    expectWithinSlackLimits(view);
    expect(buttons(view).filter((e) => e.action_id === 'approve_call')).toHaveLength(20);
    // Long fields are shortened, never what tells the calls apart.
    for (const c of [...calls, ...approvals]) expect(json(view)).toContain(`request \`${c.id}\``);
  });

  it('stays within limits with a huge catalog and nothing else', () => {
    const view = homeView(data({ catalog: catalog(150) }));
    expectWithinSlackLimits(view);
    expect(json(view)).toContain('"action_id":"open_call_modal"');
  });
});
