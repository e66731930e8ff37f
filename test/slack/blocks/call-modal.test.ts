import type { HomeView, KnownBlock, ModalView, View } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { CallCatalog } from '../../../src/calls/call-request.js';
import { Directory, type DirectoryEntry } from '../../../src/calls/directory.js';
import { resolveWhen } from '../../../src/calls/when.js';
import {
  AUTOMATIC_CAMPAIGN,
  blockForField,
  type CallModalContext,
  callModal,
  decodeModalContext,
  encodeModalContext,
  MAX_FOUND_NUMBERS,
  readCallModal,
  whenHintText,
} from '../../../src/slack/blocks/call-modal.js';
import { homeView } from '../../../src/slack/blocks/home.js';

const entries = (prefix: string, n: number): DirectoryEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    alias: `${prefix}${String(i).padStart(3, '0')}`,
    id: `${prefix}_id_${i}`,
  }));

function catalog(
  o: { agents?: number; numbers?: number; campaigns?: number; required?: boolean } = {},
): CallCatalog {
  const agents = entries('agent', o.agents ?? 2);
  const numbers = entries('num', o.numbers ?? 1);
  const campaigns = entries('camp', o.campaigns ?? 1);
  return {
    agents: new Directory('agent', agents, agents.at(-1)),
    numbers: new Directory('number', numbers, numbers[0]),
    campaigns: new Directory('campaign', campaigns, undefined),
    campaignRequired: o.required ?? false,
    defaultRegion: 'US',
  };
}

const SMALL = catalog();
const HUGE = catalog({ agents: 150, numbers: 130, campaigns: 120, required: true });
const MANY_NUMBERS = Array.from({ length: 40 }, (_, i) => ({
  e164: `+1415555${String(1000 + i)}`,
  display: `+1 415 555 ${1000 + i}`,
}));
const ORIGINS: CallModalContext[] = [
  {
    origin: {
      source: 'command',
      channelId: 'C0SALES01',
      responseUrl: `https://hooks.slack.com/commands/T1/${'9'.repeat(120)}`,
    },
  },
  { origin: { source: 'home' } },
  { origin: { source: 'shortcut' } },
  {
    origin: { source: 'message', channelId: 'C1', threadTs: '1764000100.000200' },
    note: { kind: 'no_number' },
  },
  { origin: { source: 'message', channelId: 'C1', threadTs: '1764000100.000200' }, numbers: MANY_NUMBERS },
  {
    origin: { source: 'command', channelId: 'C1' },
    note: { kind: 'open_choices', choices: ['agent', 'from', 'campaign'] },
  },
  // Every number of the message with a long extension: the menu, the note and private_metadata at their longest.
  {
    origin: { source: 'message', channelId: 'C1', threadTs: '1764000100.000200' },
    numbers: MANY_NUMBERS.slice(0, MAX_FOUND_NUMBERS).map((n) => ({ ...n, extension: '1234567890' })),
    note: {
      kind: 'extensions',
      numbers: MANY_NUMBERS.slice(0, MAX_FOUND_NUMBERS).map((n) => ({
        display: n.display,
        extension: '1234567890',
      })),
      filled: true,
    },
  },
  {
    origin: { source: 'message', channelId: 'C1', threadTs: '1764000100.000200' },
    note: { kind: 'extensions', numbers: [{ display: '+1 415 555 2671', extension: '204' }], filled: true },
  },
];

/** Every text, id and list in `view` checked against Slack's limits for modals and Home tabs. */
function expectWithinSlackLimits(view: View) {
  expect(view.blocks.length).toBeLessThanOrEqual(100);
  if (view.type === 'modal') {
    for (const t of [view.title, view.submit, view.close])
      expect(t?.text.length ?? 0).toBeLessThanOrEqual(24);
  }
  expect(view.private_metadata?.length ?? 0).toBeLessThanOrEqual(3000);
  expect(view.callback_id?.length ?? 0).toBeLessThanOrEqual(255);
  const ids = new Set<string>();
  const visit = (node: unknown, key = ''): void => {
    if (Array.isArray(node)) {
      if (key === 'options') expect(node.length, 'options').toBeLessThanOrEqual(100);
      for (const item of node) visit(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    for (const idKey of ['block_id', 'action_id']) {
      const id = o[idKey];
      if (typeof id === 'string') {
        expect(id.length, idKey).toBeLessThanOrEqual(255);
        if (idKey === 'block_id') {
          expect(ids.has(id), `duplicate block_id ${id}`).toBe(false);
          ids.add(id);
        }
      }
    }
    if (key === 'placeholder') expect((o.text as string).length).toBeLessThanOrEqual(150);
    if (typeof o.value === 'string' && typeof o.text === 'object' && o.text !== null) {
      expect((o.text as { text: string }).text.length, 'option text').toBeLessThanOrEqual(75);
      expect(o.value.length, 'option value').toBeLessThanOrEqual(150);
    }
    if (key === 'label' || key === 'hint') expect((o.text as string).length).toBeLessThanOrEqual(2000);
    if (o.type === 'section' && o.text)
      expect((o.text as { text: string }).text.length).toBeLessThanOrEqual(3000);
    for (const [k, v] of Object.entries(o)) visit(v, k);
  };
  visit(view.blocks);
}

function input(view: ModalView, blockId: string) {
  const block = view.blocks.find((b) => (b as KnownBlock).block_id === blockId) as KnownBlock | undefined;
  return block?.type === 'input' ? block : undefined;
}

describe('callModal', () => {
  it.each(
    ORIGINS.flatMap((context) => [SMALL, HUGE].map((c) => [context.origin.source, context, c] as const)),
  )('stays within Slack’s limits (%s)', (_source, context, c) => {
    const view = callModal(c, context, {
      recipient: '+1 415 555 2671',
      agent: c.agents.entries.at(-1)?.alias ?? '',
      when: 'tomorrow 10am',
      variables: 'A=1\nB=2',
    });
    expectWithinSlackLimits(view);
  });

  it('keeps the chosen agent among the 100 options when more are configured', () => {
    const view = callModal(HUGE, ORIGINS[0] as CallModalContext, { agent: 'agent149' });
    const agent = input(view, 'agent');
    const element = agent?.element.type === 'static_select' ? agent.element : undefined;
    expect(element?.options).toHaveLength(100);
    expect(element?.initial_option?.value).toBe('agent149');
    expect(element?.options?.map((o) => o.value)).toContain('agent149');
  });

  it('marks the defaults, pre-selects them, and offers the automatic campaign first', () => {
    const view = callModal(SMALL, ORIGINS[0] as CallModalContext);
    const agent = input(view, 'agent');
    const campaign = input(view, 'campaign');
    expect(agent?.element).toMatchObject({
      type: 'static_select',
      initial_option: { text: { text: 'agent001 (default)' }, value: 'agent001' },
    });
    expect(campaign?.optional).toBe(true);
    expect(campaign?.element).toMatchObject({ initial_option: { value: AUTOMATIC_CAMPAIGN } });
  });

  it('asks for a channel only when it does not know one', () => {
    expect(input(callModal(SMALL, { origin: { source: 'home' } }), 'channel')).toBeDefined();
    expect(
      input(callModal(SMALL, { origin: { source: 'command', channelId: 'C1' } }), 'channel'),
    ).toBeUndefined();
  });

  it('offers at most 20 numbers found in a message', () => {
    const view = callModal(SMALL, ORIGINS[4] as CallModalContext);
    const recipient = input(view, 'recipient');
    expect(recipient?.element.type === 'static_select' && recipient.element.options).toHaveLength(
      MAX_FOUND_NUMBERS,
    );
  });
});

describe('the modal’s private_metadata', () => {
  it.each(ORIGINS)('reads back what it was written with (%#)', (context) => {
    const text = encodeModalContext(context);
    expect(text.length).toBeLessThanOrEqual(3000);
    const back = decodeModalContext(text);
    expect(back?.origin).toEqual(context.origin);
    expect(back?.note).toEqual(context.note);
    expect(back?.numbers).toEqual(context.numbers?.slice(0, MAX_FOUND_NUMBERS));
  });

  it('is not read from anything else', () => {
    expect(decodeModalContext('')).toBeUndefined();
    expect(decodeModalContext('{"v":2,"s":"home"}')).toBeUndefined();
    expect(decodeModalContext('{"v":1,"s":"elsewhere"}')).toBeUndefined();
    expect(decodeModalContext('[1]')).toBeUndefined();
  });
});

describe('reading the form back', () => {
  it('reads typed text, chosen options and the channel, and automatic as no campaign', () => {
    expect(
      readCallModal({
        recipient: { recipient_input: { value: ' +1 415 555 2671 ' } },
        agent: { agent_input: { selected_option: { value: 'support' } } },
        from: { from_input: { selected_option: null } },
        campaign: { campaign_input: { selected_option: { value: AUTOMATIC_CAMPAIGN } } },
        when: { when_input: { value: '  tomorrow 10am ' } },
        variables: { variables_input: { value: '' } },
        channel: { channel_input: { selected_conversation: 'C0PICKED1' } },
      }),
    ).toEqual({
      recipient: ' +1 415 555 2671 ',
      agent: 'support',
      when: 'tomorrow 10am',
      channelId: 'C0PICKED1',
    });
  });

  it('shows an error next to its field, or on the first field when there is none for it', () => {
    const blocks = callModal(SMALL, { origin: { source: 'home' } }).blocks as KnownBlock[];
    expect(blockForField('agent', blocks)).toBe('agent');
    expect(blockForField('command', blocks)).toBe('channel');
    const noCampaigns = callModal(
      { ...SMALL, campaigns: new Directory('campaign', [], undefined) },
      ORIGINS[0] as CallModalContext,
    );
    expect(blockForField('campaign', noCampaigns.blocks as KnownBlock[])).toBe('recipient');
  });
});

describe('whenHintText', () => {
  const now = new Date('2026-11-27T17:00:00.000Z');
  it('gives the time in the rep’s zone', () => {
    const when = resolveWhen('tomorrow 10am', { now, timeZone: 'America/Los_Angeles', maxScheduleDays: 30 });
    expect(whenHintText({ when, timeZone: 'America/Los_Angeles', zoneSource: 'slack' })).toBe(
      'Understood as: *Sat 28 Nov 2026, 10:00 PST (America/Los_Angeles)*',
    );
  });
  it('names the zone written in the phrase too, and says when the default zone was used', () => {
    const when = resolveWhen('tomorrow 9:00 Europe/London', { now, timeZone: 'UTC', maxScheduleDays: 30 });
    expect(whenHintText({ when, timeZone: 'UTC', zoneSource: 'default' })).toBe(
      'Understood as: *Sat 28 Nov 2026, 09:00 UTC (UTC)* (Sat 28 Nov 2026, 09:00 GMT (Europe/London)) Your Slack profile has no time zone, so UTC is used.',
    );
  });
  it('says now, or what is wrong', () => {
    expect(whenHintText({ when: { kind: 'now' }, timeZone: 'UTC', zoneSource: 'slack' })).toContain('*now*');
    expect(whenHintText({ error: 'no good' })).toBe('⚠️ no good');
  });
});

describe('homeView', () => {
  it.each([SMALL, HUGE])('stays within Slack’s limits', (c) => {
    const view: HomeView = homeView({ catalog: c, maxScheduleDays: 30, calls: [], now: 0 });
    expectWithinSlackLimits(view);
    expect(JSON.stringify(view)).toContain('"action_id":"open_call_modal"');
  });
});
