import type { ActionsBlock, Button, InputBlock, KnownBlock, ModalView, SectionBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { countRows } from '../../../src/calls/batch-progress.js';
import type { CallCatalog } from '../../../src/calls/call-request.js';
import { Directory, type DirectoryEntry } from '../../../src/calls/directory.js';
import {
  BATCH_APPROVE_ACTION,
  BATCH_CAMPAIGN_BLOCK,
  BATCH_CHANNEL_BLOCK,
  BATCH_FILE_BLOCK,
  BATCH_MODAL,
  BATCH_NOTE_BLOCK,
  BATCH_OUTSIDE_BLOCK,
  BATCH_PACE_BLOCK,
  BATCH_PASTE_BLOCK,
  BATCH_PREVIEW_MODAL,
  BATCH_REJECT_ACTION,
  BATCH_STOP_ACTION,
  BATCH_WHEN_BLOCK,
  type BatchPreviewSummary,
  type BatchView,
  type BatchViewStateValues,
  batchApprovalMessage,
  batchCheckingView,
  batchModal,
  batchParentMessage,
  batchPreviewView,
  countsLine,
  decodeBatchFormContext,
  describeMinutes,
  readBatchForm,
  readOutsideChoice,
} from '../../../src/slack/blocks/batch.js';
import { AUTOMATIC_CAMPAIGN } from '../../../src/slack/blocks/call-modal.js';

const entries = (prefix: string, n: number): DirectoryEntry[] =>
  Array.from({ length: n }, (_, i) => ({
    alias: `${prefix}${String(i).padStart(3, '0')}`,
    id: `${prefix}_id_${i}`,
  }));

function catalog(o: { agents?: number; numbers?: number; campaigns?: number } = {}): CallCatalog {
  const agents = entries('agent', o.agents ?? 2);
  const numbers = entries('num', o.numbers ?? 1);
  const campaigns = entries('camp', o.campaigns ?? 1);
  return {
    agents: new Directory('agent', agents, agents.at(-1)),
    numbers: new Directory('number', numbers, numbers[0]),
    campaigns: new Directory('campaign', campaigns, undefined),
    campaignRequired: false,
    defaultRegion: 'US',
  };
}

const SMALL = catalog();
const HUGE = catalog({ agents: 150, numbers: 130, campaigns: 120 });

/** Every text, id and list checked against Slack's limits; `maxBlocks` is 100 for views, 50 for messages. */
function expectWithinSlackLimits(blocks: readonly KnownBlock[], maxBlocks: number) {
  expect(blocks.length).toBeLessThanOrEqual(maxBlocks);
  const ids = new Set<string>();
  const visit = (node: unknown, key = ''): void => {
    if (Array.isArray(node)) {
      if (key === 'options') expect(node.length, 'options').toBeLessThanOrEqual(100);
      if (key === 'fields') expect(node.length, 'fields').toBeLessThanOrEqual(10);
      for (const item of node) visit(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    if (typeof o.block_id === 'string') {
      expect(o.block_id.length).toBeLessThanOrEqual(255);
      expect(ids.has(o.block_id), `duplicate block_id ${o.block_id}`).toBe(false);
      ids.add(o.block_id);
    }
    if (key === 'placeholder') expect((o.text as string).length).toBeLessThanOrEqual(150);
    if (typeof o.value === 'string' && typeof o.text === 'object' && o.text !== null && o.type !== 'button') {
      expect((o.text as { text: string }).text.length, 'option text').toBeLessThanOrEqual(75);
      expect(o.value.length, 'option value').toBeLessThanOrEqual(150);
    }
    if (o.type === 'button') expect((o.text as { text: string }).text.length).toBeLessThanOrEqual(75);
    if (typeof o.initial_value === 'string') expect(o.initial_value.length).toBeLessThanOrEqual(3000);
    if (key === 'label' || key === 'hint') expect((o.text as string).length).toBeLessThanOrEqual(2000);
    if (o.type === 'section' && o.text)
      expect((o.text as { text: string }).text.length).toBeLessThanOrEqual(3000);
    if (o.type === 'mrkdwn' && typeof o.text === 'string') expect(o.text.length).toBeLessThanOrEqual(3000);
    for (const [k, v] of Object.entries(o)) visit(v, k);
  };
  visit(blocks);
}

function expectViewWithinLimits(view: ModalView) {
  expectWithinSlackLimits(view.blocks as KnownBlock[], 100);
  for (const t of [view.title, view.submit, view.close]) expect(t?.text.length ?? 0).toBeLessThanOrEqual(24);
  expect(view.private_metadata?.length ?? 0).toBeLessThanOrEqual(3000);
}

function input(view: ModalView, blockId: string): InputBlock | undefined {
  const block = view.blocks.find((b) => (b as KnownBlock).block_id === blockId) as KnownBlock | undefined;
  return block?.type === 'input' ? block : undefined;
}

/** All the mrkdwn and plain text of some blocks, to assert on what a reader sees. */
function textOf(blocks: readonly unknown[]): string {
  const out: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
    for (const v of Object.values(o)) visit(v);
  };
  visit(blocks);
  return out.join('\n');
}

function buttons(blocks: readonly KnownBlock[]): Button[] {
  return blocks
    .filter((b): b is ActionsBlock => b.type === 'actions')
    .flatMap((b) => b.elements.filter((e): e is Button => e.type === 'button'));
}

describe('batchModal', () => {
  it.each([
    ['a small catalog', SMALL],
    ['a huge catalog', HUGE],
  ])('stays within Slack’s limits with %s', (_name, c) => {
    const view = batchModal(
      c,
      { channelId: 'C1', note: 'The file could not be read: x'.repeat(200) },
      { pasted: '+14155552671\n'.repeat(200), agent: 'agent149', pace: '25', when: 'tomorrow 10am' },
    );
    expectViewWithinLimits(view);
  });

  it('asks for a file or pasted lines, the batch-wide choices, the pace and the channel', () => {
    const view = batchModal(SMALL, { channelId: 'C0SALES' });
    expect(view).toMatchObject({
      callback_id: BATCH_MODAL,
      title: { text: 'Call a list' },
      submit: { text: 'Preview' },
      close: { text: 'Cancel' },
    });
    expect(JSON.parse(view.private_metadata ?? '')).toEqual({ channelId: 'C0SALES' });
    expect(input(view, BATCH_FILE_BLOCK)).toMatchObject({
      optional: true,
      element: {
        type: 'file_input',
        action_id: 'batch_file_input',
        filetypes: ['csv', 'txt', 'tsv'],
        max_files: 1,
      },
    });
    expect(input(view, BATCH_PASTE_BLOCK)).toMatchObject({
      optional: true,
      hint: { text: 'One number per line, or CSV with a header row: phone,CustomerName,…' },
      element: { type: 'plain_text_input', multiline: true, max_length: 3000 },
    });
    expect(input(view, BATCH_WHEN_BLOCK)).toMatchObject({
      optional: true,
      element: { type: 'plain_text_input', placeholder: { text: 'now, or e.g. tomorrow 10am' } },
    });
    expect(input(view, BATCH_PACE_BLOCK)).toMatchObject({
      label: { text: 'Pace (calls per minute)' },
      element: {
        type: 'number_input',
        is_decimal_allowed: false,
        min_value: '1',
        max_value: '60',
        initial_value: '10',
      },
    });
    expect(input(view, BATCH_CHANNEL_BLOCK)?.element).toEqual(
      expect.objectContaining({
        type: 'conversations_select',
        default_to_current_conversation: true,
        initial_conversation: 'C0SALES',
        filter: { include: ['public', 'private'], exclude_bot_users: true },
        response_url_enabled: false,
      }),
    );
    expect(view.blocks.find((b) => b.block_id === BATCH_NOTE_BLOCK)).toBeUndefined();
  });

  it('marks and pre-selects the configured defaults; the campaign is automatic unless chosen', () => {
    const view = batchModal(SMALL, {});
    const agent = input(view, 'batch_agent');
    expect(agent?.optional).toBe(true);
    expect(agent?.element).toMatchObject({
      type: 'static_select',
      initial_option: { value: 'agent001', text: { text: 'agent001 (default)' } },
    });
    expect(agent?.hint?.text).toContain('The default is agent001');
    expect(input(view, BATCH_CAMPAIGN_BLOCK)?.element).toMatchObject({
      initial_option: { value: AUTOMATIC_CAMPAIGN },
    });
    expect(JSON.parse(view.private_metadata ?? '')).toEqual({});
  });

  it('keeps the chosen agent among the 100 options when more are configured', () => {
    const view = batchModal(HUGE, {}, { agent: 'agent149' });
    const element = input(view, 'batch_agent')?.element;
    expect(element?.type === 'static_select' && element.options?.map((o) => o.value)).toContain('agent149');
    expect(element).toMatchObject({ initial_option: { value: 'agent149' } });
  });

  it('leaves out a menu for what is not configured', () => {
    const view = batchModal(catalog({ campaigns: 0 }), {});
    expect(input(view, BATCH_CAMPAIGN_BLOCK)).toBeUndefined();
    expect(input(view, 'batch_agent')).toBeDefined();
  });

  it('shows a problem at the top and refills the form, with a chosen channel winning', () => {
    const view = batchModal(
      SMALL,
      { channelId: 'C1', note: 'The file could not be read: it is not text.' },
      { pasted: '+14155552671', when: 'friday 3pm', pace: '30', channelId: 'C2', campaign: 'camp000' },
    );
    expect(view.blocks[0]).toMatchObject({
      block_id: BATCH_NOTE_BLOCK,
      text: { text: '⚠️ The file could not be read: it is not text.' },
    });
    expect(input(view, BATCH_PASTE_BLOCK)?.element).toMatchObject({ initial_value: '+14155552671' });
    expect(input(view, BATCH_WHEN_BLOCK)?.element).toMatchObject({ initial_value: 'friday 3pm' });
    expect(input(view, BATCH_PACE_BLOCK)?.element).toMatchObject({ initial_value: '30' });
    expect(input(view, BATCH_CHANNEL_BLOCK)?.element).toMatchObject({ initial_conversation: 'C2' });
    expect(input(view, BATCH_CAMPAIGN_BLOCK)?.element).toMatchObject({
      initial_option: { value: 'camp000' },
    });
  });

  it('falls back to the default pace rather than show one Slack would refuse', () => {
    for (const pace of ['0', '61', '2.5', 'fast']) {
      expect(input(batchModal(SMALL, {}, { pace }), BATCH_PACE_BLOCK)?.element).toMatchObject({
        initial_value: '10',
      });
    }
  });
});

describe('reading the batch form', () => {
  it('reads every field, the uploaded file and the automatic campaign as none', () => {
    const state: BatchViewStateValues = {
      batch_file: { batch_file_input: { files: [{ id: 'F123' }] } },
      batch_paste: { batch_paste_input: { value: '  ' } },
      batch_agent: { batch_agent_input: { selected_option: { value: 'agent000' } } },
      batch_from: { batch_from_input: { selected_option: { value: 'num000' } } },
      batch_campaign: { batch_campaign_input: { selected_option: { value: AUTOMATIC_CAMPAIGN } } },
      batch_when: { batch_when_input: { value: ' tomorrow 10am ' } },
      batch_pace: { batch_pace_input: { value: '12' } },
      batch_channel: { batch_channel_input: { selected_conversation: 'C9' } },
    };
    expect(readBatchForm(state)).toEqual({
      fileIds: ['F123'],
      agent: 'agent000',
      from: 'num000',
      when: 'tomorrow 10am',
      pace: '12',
      channelId: 'C9',
    });
  });

  it('reads pasted lines as typed, with no file', () => {
    const values = readBatchForm({
      batch_paste: { batch_paste_input: { value: '+14155552671\n+442071838750' } },
      batch_file: { batch_file_input: { files: null } },
    });
    expect(values).toEqual({ fileIds: [], pasted: '+14155552671\n+442071838750' });
  });

  it('reads the private_metadata back, and ignores what is not the form’s', () => {
    expect(decodeBatchFormContext(batchModal(SMALL, { channelId: 'C7' }).private_metadata)).toEqual({
      channelId: 'C7',
    });
    expect(decodeBatchFormContext('not json')).toEqual({});
    expect(decodeBatchFormContext('null')).toEqual({});
    expect(decodeBatchFormContext(undefined)).toEqual({});
  });

  it('reads the choice for rows outside calling hours, scheduling them by default', () => {
    expect(readOutsideChoice({})).toBe('schedule');
    expect(
      readOutsideChoice({ batch_outside: { batch_outside_input: { selected_option: { value: 'skip' } } } }),
    ).toBe('skip');
  });
});

describe('batchCheckingView', () => {
  it('says the list is being checked, with no submit button', () => {
    const view = batchCheckingView(50);
    expect(view.submit).toBeUndefined();
    expect(textOf(view.blocks)).toContain('Checking your list of 50 rows…');
    expect(textOf(batchCheckingView().blocks)).toContain('Checking your list…');
    expectViewWithinLimits(view);
  });
});

const summary = (o: Partial<BatchPreviewSummary> = {}): BatchPreviewSummary => ({
  batchId: 'bat_abc123',
  given: 50,
  callable: 42,
  outsideHours: [],
  skipped: [
    { line: 7, raw: '555-0199', reason: 'The number `555-0199` is too short.' },
    { line: 9, raw: '', reason: 'The row has no phone number.' },
  ],
  duplicates: 2,
  sample: [
    {
      line: 2,
      number: '+1 415 555 2671',
      agent: 'sales',
      when: 'now',
      variables: { CustomerName: 'Jane <Doe>', Plan: 'Pro' },
    },
  ],
  pacePerMinute: 10,
  startLabel: 'now',
  placingMinutes: 4.2,
  approvalNeeded: false,
  channelId: 'C0SALES',
  notes: [],
  ...o,
});

describe('batchPreviewView', () => {
  it('sums up what will be called and lists what will not, with the reason per row', () => {
    const view = batchPreviewView(summary());
    expect(view).toMatchObject({
      callback_id: BATCH_PREVIEW_MODAL,
      title: { text: 'Check the list' },
      submit: { text: 'Place 42 calls' },
      close: { text: 'Cancel' },
      private_metadata: 'bat_abc123',
    });
    const text = textOf(view.blocks);
    expect(text).toContain('*42 of 50 rows will be called*\n2 skipped · 2 duplicates collapsed');
    expect(text).toContain('Line 7 · `555-0199` — The number `555-0199` is too short.');
    expect(text).toContain('Line 9 · _(no number)_ — The row has no phone number.');
    expect(text).toContain(
      'Line 2 · +1 415 555 2671 · *sales* · now · `CustomerName` Jane &lt;Doe&gt;, `Plan` Pro',
    );
    expect(text).toContain(
      'Pace: *10 calls a minute* · starts *now* · placing the calls takes about *5 minutes*',
    );
    expect(text).toContain('Posting progress in <#C0SALES>');
    expect(text).not.toContain('approval');
    expect(input(view, BATCH_OUTSIDE_BLOCK)).toBeUndefined();
  });

  it('stays within 100 blocks and 3000 characters a section with 500 long skipped rows', () => {
    const skipped = Array.from({ length: 500 }, (_, i) => ({
      line: i + 2,
      raw: `bad\`${'9'.repeat(200)}\n<x>`,
      reason: `This is not a phone number. ${'Explain it at length. '.repeat(60)}`,
    }));
    const outsideHours = Array.from({ length: 500 }, (_, i) => ({
      line: i + 600,
      number: '+1 415 555 2671',
      next: `Mon 30 Nov 09:00 in America/New_York ${'x'.repeat(500)}`,
    }));
    const view = batchPreviewView(
      summary({ skipped, outsideHours, notes: Array.from({ length: 200 }, () => 'A note. '.repeat(10)) }),
    );
    expectViewWithinLimits(view);
    const text = textOf(view.blocks);
    expect(text).toMatch(/…and \d+ more skipped rows\./);
    expect(text).toMatch(/…and \d+ more rows outside calling hours\./);
    // The raw cell can't break out of its inline code or inject markup.
    expect(text).not.toContain('<x>');
  });

  it('lists at most 30 skipped rows and counts the rest', () => {
    const skipped = Array.from({ length: 45 }, (_, i) => ({
      line: i + 2,
      raw: 'x',
      reason: 'Not a number.',
    }));
    const text = textOf(batchPreviewView(summary({ skipped })).blocks);
    expect(text).toContain('Line 31 ·');
    expect(text).not.toContain('Line 32 ·');
    expect(text).toContain('…and 15 more skipped rows.');
  });

  it('lists rows outside calling hours with their next window, and offers to schedule or skip them', () => {
    const view = batchPreviewView(
      summary({
        outsideHours: [
          { line: 12, number: '+44 20 7183 8750', next: 'Mon 30 Nov 09:00 in Europe/London' },
          { line: 13, number: '+61 2 9374 4000' },
        ],
      }),
    );
    const text = textOf(view.blocks);
    expect(text).toContain('Line 12 · +44 20 7183 8750 — next window *Mon 30 Nov 09:00 in Europe/London*');
    expect(text).toContain('Line 13 · +61 2 9374 4000 — no calling window in the next 2 weeks');
    expect(text).toContain(
      '*42 of 50 rows will be called*, and 1 more at their next calling window unless you skip them below\n2 skipped · 2 duplicates collapsed · 2 outside calling hours',
    );
    const radio = input(view, BATCH_OUTSIDE_BLOCK)?.element;
    expect(radio).toMatchObject({
      type: 'radio_buttons',
      action_id: 'batch_outside_input',
      initial_option: { value: 'schedule' },
    });
    expect(radio?.type === 'radio_buttons' && radio.options.map((o) => o.value)).toEqual([
      'schedule',
      'skip',
    ]);
    // How many are placed depends on the choice, so the button does not name a number.
    expect(view.submit?.text).toBe('Place the calls');
  });

  it('offers no choice when no row outside calling hours has a window to call in', () => {
    const view = batchPreviewView(summary({ outsideHours: [{ line: 13, number: '+61 2 9374 4000' }] }));
    expect(input(view, BATCH_OUTSIDE_BLOCK)).toBeUndefined();
  });

  it('says the batch waits for approval, and asks for it', () => {
    const view = batchPreviewView(summary({ approvalNeeded: true, approvers: '<@U1>, <!subteam^S1>' }));
    expect(view.submit?.text).toBe('Ask for approval');
    expect(textOf(view.blocks)).toContain('it waits for <@U1>, <!subteam^S1> before any call is placed');
  });

  it('says 1 call in the singular', () => {
    expect(batchPreviewView(summary({ callable: 1 })).submit?.text).toBe('Place 1 call');
  });

  it('refuses a list that is too long: no submit button, and says why', () => {
    const view = batchPreviewView(summary({ given: 1200, tooMany: { max: 500, given: 1200 } }));
    expect(view.submit).toBeUndefined();
    expect(view.close?.text).toBe('Close');
    const text = textOf(view.blocks);
    expect(text).toContain('This list has 1,200 rows; a batch can have at most 500.');
    expect(text).toContain(
      "Only the first 500 were checked (below), and the batch can't be placed until the list has at most 500 rows.",
    );
  });

  it('has no submit button when nothing can be called', () => {
    const view = batchPreviewView(summary({ callable: 0, sample: [] }));
    expect(view.submit).toBeUndefined();
    expect(view.close?.text).toBe('Close');
    expect(textOf(view.blocks)).toContain('*Nothing in this list can be called*');
  });

  it('shows the notes', () => {
    const text = textOf(
      batchPreviewView(summary({ notes: ['⚠️ At most 100 calls an hour: the batch will slow down.'] })).blocks,
    );
    expect(text).toContain('At most 100 calls an hour');
  });
});

describe('describeMinutes', () => {
  it('says short and long durations in words', () => {
    expect(describeMinutes(0.4)).toBe('under a minute');
    expect(describeMinutes(1)).toBe('1 minute');
    expect(describeMinutes(4.2)).toBe('5 minutes');
    expect(describeMinutes(60)).toBe('1 hour');
    expect(describeMinutes(125)).toBe('2 hours 5 minutes');
  });
});

const running: BatchView = {
  id: 'bat_abc123',
  userId: 'U1',
  state: 'running',
  total: 50,
  counts: { ...countRows([]), waiting: 25, queued: 3, dialling: 2, completed: 15, no_answer: 4, failed: 1 },
  channelId: 'C0SALES',
  agentLabel: 'Sales <team>',
  pacePerMinute: 10,
  eta: Date.parse('2026-11-30T14:02:24Z'),
};

function sections(blocks: readonly KnownBlock[]): string[] {
  return blocks.filter((b): b is SectionBlock => b.type === 'section').map((b) => b.text?.text ?? '');
}

describe('batchParentMessage', () => {
  it('shows who placed it, the bar, the counts, the last call’s time and a Stop button while running', () => {
    const message = batchParentMessage(running);
    expectWithinSlackLimits(message.blocks, 50);
    expect(sections(message.blocks)).toEqual([
      '📋 *Batch `bat_abc123`* by <@U1> · 50 calls · agent *Sales &lt;team&gt;* · 10/min',
      '▓▓▓▓▓▓▓▓░░░░░░░░░░░░ 40% · *20/50* done\n*25* waiting · *3* queued · *2* dialling · *15* completed · *4* no answer · *1* failed · *0* skipped',
      '▶️ Placing calls. Last call placed around <!date^1796047344^{date_short_pretty} at {time}|2026-11-30 14:02 UTC>.',
    ]);
    const [stop, ...others] = buttons(message.blocks);
    expect(others).toEqual([]);
    expect(stop).toMatchObject({
      action_id: BATCH_STOP_ACTION,
      style: 'danger',
      text: { text: 'Stop the rest' },
      value: 'bat_abc123',
      confirm: {
        text: { text: 'The 25 rows not sent yet will be cancelled. Calls already placed carry on.' },
      },
    });
    // The notification text carries the essentials.
    expect(message.text).toContain('50 calls');
    expect(message.text).toContain('20/50');
    expect(message.text).toContain('*25* waiting');
    expect(message.text).toContain('Last call placed around');
  });

  it('shows unknown and cancelled rows only when there are some', () => {
    expect(countsLine({ ...running.counts, unknown: 2 }, true)).toContain('*2* status unknown');
    expect(countsLine(running.counts, true)).not.toContain('status unknown');
    expect(countsLine(running.counts, true)).not.toContain('cancelled');
    expect(countsLine({ ...countRows([]), completed: 3, skipped: 1 }, false)).toBe(
      '*3* completed · *1* skipped',
    );
    expect(countsLine(countRows([]), false)).toBe('No rows.');
  });

  it('says when the first call goes while none has left', () => {
    const view: BatchView = {
      ...running,
      counts: { ...countRows([]), waiting: 50 },
      startAt: Date.parse('2026-12-01T15:00:00Z'),
      eta: Date.parse('2026-12-01T15:04:54Z'),
    };
    expect(batchParentMessage(view).text).toContain('First call at <!date^1796137200^');
  });

  it('says when Iqra asked to slow down, and when the next call goes', () => {
    const view: BatchView = {
      ...running,
      heldUntil: Date.parse('2026-11-30T14:10:00Z'),
      heldReason: 'rate <limit>',
    };
    const text = sections(batchParentMessage(view).blocks).join('\n');
    expect(text).toContain('⏸️ Iqra asked to slow down (rate &lt;limit&gt;); next call at <!date^1796047800^');
    expect(buttons(batchParentMessage(view).blocks).map((b) => b.action_id)).toEqual([BATCH_STOP_ACTION]);
  });

  it('waits for approval with Approve and Reject here only when this is the approval channel', () => {
    const pending: BatchView = {
      ...running,
      state: 'pending_approval',
      counts: { ...countRows([]), waiting: 50 },
      approval: { state: 'pending', approvers: '<!subteam^S1>', buttonsHere: true },
    };
    const here = batchParentMessage(pending);
    expect(sections(here.blocks)).toContain(
      '🕒 Waiting for approval by <!subteam^S1>. No call is placed before then.',
    );
    expect(sections(here.blocks).join()).not.toContain('%');
    expect(buttons(here.blocks).map((b) => [b.action_id, b.style, b.value])).toEqual([
      [BATCH_APPROVE_ACTION, 'primary', 'bat_abc123'],
      [BATCH_REJECT_ACTION, 'danger', 'bat_abc123'],
    ]);
    const elsewhere = batchParentMessage({
      ...pending,
      approval: { state: 'pending', approvers: '<!subteam^S1>', buttonsHere: false },
    });
    expect(buttons(elsewhere.blocks)).toEqual([]);
  });

  it('says who stopped it and how many rows were cancelled, without a Stop button', () => {
    const view: BatchView = {
      ...running,
      state: 'stopped',
      stoppedBy: 'U2',
      counts: { ...running.counts, waiting: 0, cancelled: 25 },
      eta: undefined,
    };
    const message = batchParentMessage(view);
    expect(message.text).toContain(
      '🛑 Stopped by <@U2>: 25 rows not sent were cancelled. Calls already placed carry on',
    );
    expect(message.text).toContain('*25* cancelled');
    expect(buttons(message.blocks)).toEqual([]);
    expect(batchParentMessage({ ...view, finished: true }).text).toContain(
      'The result file is in the thread.',
    );
  });

  it('says it is done, with a full bar and the result file in the thread', () => {
    const view: BatchView = {
      ...running,
      state: 'done',
      finished: true,
      counts: { ...countRows([]), completed: 40, no_answer: 6, failed: 2, skipped: 2 },
      eta: undefined,
      approval: { state: 'approved', approvers: '<@U9>', by: 'U9', buttonsHere: false },
      scheduledOutsideHours: 3,
      dryRun: true,
    };
    const message = batchParentMessage(view);
    const text = textOf(message.blocks);
    expect(text).toContain(`${'▓'.repeat(20)} 100% · *50/50* done`);
    expect(text).toContain('✅ Done. The result file is in the thread.');
    expect(text).toContain('Approved by <@U9>.');
    expect(text).toContain('3 calls are scheduled for the callee');
    expect(text).toContain('Dry run (IQRA_DRY_RUN)');
    expect(text).not.toContain('waiting');
    expect(buttons(message.blocks)).toEqual([]);
  });

  it('says it was rejected, with the reason escaped, or that it expired; no calls, no buttons', () => {
    const rejected = batchParentMessage({
      ...running,
      state: 'rejected',
      approval: { state: 'rejected', approvers: '<@U9>', by: 'U9', reason: 'not <today>', buttonsHere: true },
    });
    expect(rejected.text).toContain('🚫 Rejected by <@U9>: not &lt;today&gt; No calls were placed.');
    expect(buttons(rejected.blocks)).toEqual([]);
    const expired = batchParentMessage({ ...running, state: 'expired' });
    expect(expired.text).toContain('⌛ Expired: nobody approved it in time.');
    expect(buttons(expired.blocks)).toEqual([]);
  });

  it('escapes the file name and keeps the batch id as inline code', () => {
    const message = batchParentMessage({ ...running, fileName: 'leads `<q4>`.csv' });
    expect(message.text).toContain("from `leads '&lt;q4&gt;'.csv`");
  });

  it('stays within Slack’s limits with long user text', () => {
    const message = batchParentMessage({
      ...running,
      agentLabel: 'A'.repeat(5000),
      fileName: 'f'.repeat(5000),
      heldUntil: 0,
      heldReason: 'r'.repeat(5000),
    });
    expectWithinSlackLimits(message.blocks, 50);
    expect(message.text.length).toBeLessThanOrEqual(3000);
  });
});

describe('batchApprovalMessage', () => {
  const pending: BatchView = {
    ...running,
    state: 'pending_approval',
    counts: { ...countRows([]), waiting: 50 },
    startAt: Date.parse('2026-12-01T15:00:00Z'),
    fileName: 'leads.csv',
    approval: { state: 'pending', approvers: '<!subteam^S1>', buttonsHere: false },
  };

  it('says who asks for how many calls, with which agent, pace and start, and offers the decision', () => {
    const message = batchApprovalMessage(pending);
    expectWithinSlackLimits(message.blocks, 50);
    expect(message.text).toBe(
      '🕒 <@U1> in <#C0SALES> asks to call a list: *50 calls* with *Sales &lt;team&gt;*, 10 a minute, starting <!date^1796137200^{date_short_pretty} at {time}|2026-12-01 15:00 UTC>. Waiting for approval by <!subteam^S1>.',
    );
    const text = textOf(message.blocks);
    expect(text).toContain('*Pace*\n10 calls a minute');
    expect(text).toContain('*List*\n`leads.csv`');
    expect(buttons(message.blocks).map((b) => [b.action_id, b.value])).toEqual([
      [BATCH_APPROVE_ACTION, 'bat_abc123'],
      [BATCH_REJECT_ACTION, 'bat_abc123'],
    ]);
  });

  it('shows the decision in words, without buttons, once decided', () => {
    const approved = batchApprovalMessage({
      ...pending,
      state: 'running',
      approval: { state: 'approved', approvers: '<!subteam^S1>', by: 'U9', buttonsHere: false },
    });
    expect(approved.text).toMatch(/^✅ .* Approved by <@U9>\.$/);
    expect(buttons(approved.blocks)).toEqual([]);
    const rejected = batchApprovalMessage({
      ...pending,
      state: 'rejected',
      approval: {
        state: 'rejected',
        approvers: '<!subteam^S1>',
        by: 'U9',
        reason: 'too many',
        buttonsHere: false,
      },
    });
    expect(rejected.text).toMatch(/Rejected by <@U9>: too many$/);
    expect(buttons(rejected.blocks)).toEqual([]);
    const expired = batchApprovalMessage({
      ...pending,
      state: 'expired',
      approval: { state: 'expired', approvers: '<!subteam^S1>', buttonsHere: false },
    });
    expect(expired.text).toMatch(/^⌛ .*Expired: nobody approved it in time\.$/);
  });
});
