import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { CallRequest } from '../../../src/calls/call-request.js';
import { Directory } from '../../../src/calls/directory.js';
import { CallRequestError } from '../../../src/calls/errors.js';
import { IqraError } from '../../../src/iqra/errors.js';
import {
  approvalRequestMessage,
  type CallReport,
  callDetailsMessage,
  callLogMessage,
  callParentMessage,
  commandErrorMessage,
  decisionMessage,
  helpMessage,
  undeliverableMessage,
} from '../../../src/slack/blocks/call-messages.js';

const request: CallRequest = {
  requestId: 'req_abcdefghjkmn',
  origin: { teamId: 'T1', channelId: 'C1', userId: 'U1' },
  recipient: { e164: '+14155552671', display: '+1 415 555 2671', country: 'US' },
  agent: { alias: 'sales', id: 'agent_1' },
  number: { alias: 'main', id: 'num_1' },
  variables: { CustomerName: 'Jane <Doe>' },
  metadata: {},
  when: {
    kind: 'scheduled',
    at: new Date('2026-11-28T18:00:00Z'),
    timeZone: 'America/Los_Angeles',
    zoneSource: 'requester',
    phrase: 'tomorrow 10am',
  },
  requesterTimeZone: 'America/Los_Angeles',
};

const queued: CallReport = {
  request,
  outcome: { state: 'queued', queueIds: ['q1'], attempts: 1 },
  zoneSource: 'slack',
};

/** Slack's limits for what a message may hold. */
function expectWithinSlackLimits(blocks: KnownBlock[]) {
  expect(blocks.length).toBeLessThanOrEqual(50);
  for (const block of blocks) {
    if (block.type !== 'section') continue;
    if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
    for (const f of block.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
  }
}

describe('call messages', () => {
  it('show a scheduled call with a date token readers see in their own zone, and the requester zone in words', () => {
    const parent = callParentMessage(queued);
    expect(parent.text).toBe(
      '📅 <@U1> queued a call to *+1 415 555 2671* with *sales*, at <!date^1795888800^{date_short_pretty} at {time}|Sat 28 Nov 2026, 10:00 PST (America/Los_Angeles)> · Sat 28 Nov 2026, 10:00 PST (America/Los_Angeles)',
    );
  });

  it("show a scheduled call whose time has come, waiting in Iqra's queue, as queued (📞), no longer as scheduled", () => {
    const scheduled = callParentMessage({ ...queued, progress: { progress: 'scheduled' } });
    expect(scheduled.text.startsWith('📅 <@U1> queued a call')).toBe(true);
    const due = callParentMessage({ ...queued, progress: { progress: 'queued' } });
    expect(due.text).toBe(
      "📞 <@U1> queued a call to *+1 415 555 2671* with *sales*, for <!date^1795888800^{date_short_pretty} at {time}|Sat 28 Nov 2026, 10:00 PST (America/Los_Angeles)> · Sat 28 Nov 2026, 10:00 PST (America/Los_Angeles): its time has come, waiting in Iqra's queue",
    );
  });

  it('name the variables but never show their values', () => {
    const details = JSON.stringify(callDetailsMessage(queued));
    expect(details).toContain('`CustomerName`');
    expect(details).not.toContain('Jane');
  });

  it('stay within Slack limits however many variables and however long a reason', () => {
    const variables = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`Variable_${i}`, 'x']));
    const error = new IqraError({
      outcome: 'failed',
      reason: 'X',
      userMessage: 'y'.repeat(5000),
      iqraMessage: 'z'.repeat(5000),
      code: 'A:B',
      attempts: 1,
      retryable: false,
    });
    const report: CallReport = {
      request: { ...request, variables },
      outcome: { state: 'failed', error },
      zoneSource: 'slack',
    };
    for (const message of [
      callParentMessage(report),
      callDetailsMessage(report),
      callLogMessage(report),
      undeliverableMessage(report, 'slack_error', 'fatal_error'),
    ]) {
      expectWithinSlackLimits(message.blocks);
      expect(message.text.length).toBeLessThanOrEqual(3000);
    }
    expect(JSON.stringify(callDetailsMessage(report))).toContain('(shortened)');
  });

  it('escape Slack markup in Iqra messages', () => {
    const error = new IqraError({
      outcome: 'failed',
      reason: 'X',
      userMessage: 'no',
      iqraMessage: '<!channel> & <b>',
      code: 'C',
      attempts: 1,
      retryable: false,
    });
    const details = JSON.stringify(callDetailsMessage({ ...queued, outcome: { state: 'failed', error } }));
    expect(details).toContain('&lt;!channel&gt; &amp; &lt;b&gt;');
    expect(details).not.toContain('<!channel>');
  });

  it('say when the default zone was used because the requester has none', () => {
    const details = JSON.stringify(
      callDetailsMessage({
        ...queued,
        zoneSource: 'default',
        request: { ...request, requesterTimeZone: 'UTC' },
      }),
    );
    expect(details).toContain(
      "Read in UTC: your Slack profile has no time zone, so the app's default was used.",
    );
  });

  it('answer a command mistake with the usage, its angle brackets escaped', () => {
    const message = commandErrorMessage(new CallRequestError('agent', 'Unknown agent.'), '/call <number>');
    expect(message.text).toBe('⚠️ Unknown agent.');
    expect(JSON.stringify(message.blocks)).toContain('/call &lt;number&gt;');
  });

  it('list the configured agents, numbers and campaigns in the help, marking the defaults', () => {
    const agents = new Directory(
      'agent',
      [
        { alias: 'sales', id: 'a1' },
        { alias: 'support', id: 'a2' },
      ],
      { alias: 'sales', id: 'a1' },
    );
    const numbers = new Directory('number', [{ alias: 'main', id: 'n1' }], { alias: 'main', id: 'n1' });
    const campaigns = new Directory('campaign', [], undefined);
    const help = helpMessage(
      { agents, numbers, campaigns, campaignRequired: false, defaultRegion: 'GB' },
      '/call <number>',
      30,
    );
    expect(help.text).toContain('*Agents:* `sales` (default), `support`');
    expect(help.text).toContain('*From numbers:* `main` (default)');
    expect(help.text).toContain('*Campaigns:* none configured');
    expect(help.text).toContain('read as GB numbers');
    expectWithinSlackLimits(help.blocks);
  });

  it('show a pending approval with its buttons only where approvers decide, and each decision without them', () => {
    const approval = {
      approvers: '<@U0BOSS001>',
      buttonsHere: true,
      ttlHours: 24,
      expiresAt: Date.UTC(2026, 10, 28),
    };
    const pending: CallReport = { request, zoneSource: 'slack', approval: { ...approval, state: 'pending' } };
    expect(JSON.stringify(callParentMessage(pending).blocks)).toContain('approve_call');
    expect(
      JSON.stringify(
        callParentMessage({ ...pending, approval: { ...approval, state: 'pending', buttonsHere: false } })
          .blocks,
      ),
    ).not.toContain('approve_call');
    expect(JSON.stringify(approvalRequestMessage(pending).blocks)).toContain('reject_call');
    const rejected: CallReport = {
      request,
      zoneSource: 'slack',
      approval: {
        ...approval,
        state: 'rejected',
        decidedBy: 'U0BOSS001',
        decidedAt: Date.UTC(2026, 10, 27),
        reason: 'x'.repeat(4000),
      },
    };
    for (const message of [
      callParentMessage(rejected),
      approvalRequestMessage(rejected),
      decisionMessage(rejected),
    ]) {
      expect(JSON.stringify(message.blocks)).not.toContain('approve_call');
      expectWithinSlackLimits(message.blocks);
      expect(message.text.length).toBeLessThanOrEqual(3000);
    }
    expect(decisionMessage(rejected).text).toContain('🚫 Rejected by <@U0BOSS001>');
    const expired: CallReport = {
      request,
      zoneSource: 'slack',
      approval: { ...approval, state: 'expired', expiredBecause: 'time_passed' },
    };
    expect(callParentMessage(expired).text).toContain('its time passed before anyone approved it');
  });
});
