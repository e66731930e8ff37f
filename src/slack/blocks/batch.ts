/**
 * Batches (issue 9): the form behind `/call batch` and the App Home's "New batch", the preview the rep checks before
 * anything is placed, the approval request for the batch as a whole, and the one message per batch that follows it
 * to the end. Pure functions of data; the listeners open, read and update them.
 */

import type { ActionsBlock, InputBlock, KnownBlock, ModalView } from '@slack/types';
import {
  BATCH_ROW_STATES,
  BATCH_ROW_WORDS,
  type BatchCounts,
  type BatchRowState,
  doneRows,
  progressBar,
} from '../../calls/batch-progress.js';
import type { CallCatalog } from '../../calls/call-request.js';
import type { Directory, DirectoryEntry } from '../../calls/directory.js';
import type { BatchPlan } from '../../services/batch-desk.js';
import type { BatchState } from '../../store/store.js';
import type { SlackMessage } from './call-messages.js';
import {
  AUTOMATIC_CAMPAIGN,
  campaignInput,
  capped,
  option,
  VIEW_LIMITS,
  type ViewStateValues,
} from './call-modal.js';
import { clip, context, escapeMrkdwn, LIMITS, section } from './mrkdwn.js';

/** Callback ids of the views. */
export const BATCH_MODAL = 'batch_modal';
export const BATCH_CHECKING_MODAL = 'batch_checking';
export const BATCH_PREVIEW_MODAL = 'batch_preview';

/** Action ids of the buttons: on the batch's message, the approval request and the App Home. */
export const BATCH_STOP_ACTION = 'batch_stop';
export const BATCH_APPROVE_ACTION = 'batch_approve';
export const BATCH_REJECT_ACTION = 'batch_reject';
export const NEW_BATCH_ACTION = 'batch_new';

/** Block ids of the form's fields, and the preview's choice for rows outside calling hours. */
export const BATCH_NOTE_BLOCK = 'batch_note';
export const BATCH_FILE_BLOCK = 'batch_file';
export const BATCH_PASTE_BLOCK = 'batch_paste';
export const BATCH_AGENT_BLOCK = 'batch_agent';
export const BATCH_FROM_BLOCK = 'batch_from';
export const BATCH_CAMPAIGN_BLOCK = 'batch_campaign';
export const BATCH_WHEN_BLOCK = 'batch_when';
export const BATCH_PACE_BLOCK = 'batch_pace';
export const BATCH_CHANNEL_BLOCK = 'batch_channel';
export const BATCH_OUTSIDE_BLOCK = 'batch_outside';

/** Action ids of the fields' elements. */
export const BATCH_FILE_ACTION = 'batch_file_input';
export const BATCH_PASTE_ACTION = 'batch_paste_input';
export const BATCH_AGENT_ACTION = 'batch_agent_input';
export const BATCH_FROM_ACTION = 'batch_from_input';
export const BATCH_CAMPAIGN_ACTION = 'batch_campaign_input';
export const BATCH_WHEN_ACTION = 'batch_when_input';
export const BATCH_PACE_ACTION = 'batch_pace_input';
export const BATCH_CHANNEL_ACTION = 'batch_channel_input';
export const BATCH_OUTSIDE_ACTION = 'batch_outside_input';

/** What to do with rows outside their callee's calling hours: call them at their next window, or leave them out. */
export type OutsideHoursChoice = 'schedule' | 'skip';
export const OUTSIDE_SCHEDULE: OutsideHoursChoice = 'schedule';
export const OUTSIDE_SKIP: OutsideHoursChoice = 'skip';

/** Calls per minute: the form's bounds and default. */
export const BATCH_PACE = { min: 1, max: 60, default: 10 } as const;

/** The file types the upload accepts (checked again when the file is read: Slack's check is a convenience). */
export const BATCH_FILE_TYPES = ['csv', 'txt', 'tsv'] as const;

/** Slack's limit for a plain_text_input's value: the most that can be pasted. */
export const MAX_PASTED_LENGTH = 3000;

/** The most rows of one kind (skipped, outside calling hours) the preview lists; the rest are counted. */
export const PREVIEW_LISTED_ROWS = 30;
/** The most sections one such list takes, whatever the length of its lines, so the view stays within 100 blocks. */
const PREVIEW_LIST_SECTIONS = 8;
/** The longest line of such a list (a reason can be long); longer ones are shortened. */
const PREVIEW_LINE_LENGTH = 600;
/** The first rows shown as a sample. */
export const PREVIEW_SAMPLE_ROWS = 5;

// ---------------------------------------------------------------------------------------------------------------
// Small builders

const plain = (text: string) => ({ type: 'plain_text' as const, text });

/** `text` as inline code: escaped, on one line, without backticks (which would end it), shortened if long. */
function inlineCode(text: string, max = 80): string {
  const flat = text.replace(/`/g, "'").replace(/[\r\n]+/g, ' ');
  return `\`${escapeMrkdwn(flat.length > max ? `${flat.slice(0, max - 1)}…` : flat)}\``;
}

/** Slack's date token: each reader sees the time in their own zone; the fallback is UTC. */
function dateToken(ms: number): string {
  const fallback = `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time}|${fallback}>`;
}

/** "1,250". */
const count = (n: number) => n.toLocaleString('en-US');

/** "1 row", "3 rows". */
function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** "under a minute", "6 minutes", "1 hour 5 minutes". */
export function describeMinutes(minutes: number): string {
  if (!(minutes >= 1)) return 'under a minute';
  const whole = Math.ceil(minutes);
  const hours = Math.floor(whole / 60);
  const rest = whole % 60;
  if (hours === 0) return plural(rest, 'minute');
  return rest === 0 ? plural(hours, 'hour') : `${plural(hours, 'hour')} ${plural(rest, 'minute')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The form

export interface BatchFormContext {
  /** The conversation the form was opened from, pre-selected as the channel to post progress in. */
  channelId?: string;
  /**
   * A problem shown at the top, in Slack mrkdwn (e.g. "The file could not be read: …"): the form is shown again,
   * filled in, for the rep to fix the list.
   */
  note?: string;
}

/** What the form holds: filled in when it is shown again, read back on submission. */
export interface BatchFormValues {
  pasted?: string;
  /** Agent, number and campaign by alias; campaign undefined means automatic (as for a single call). */
  agent?: string;
  from?: string;
  campaign?: string;
  when?: string;
  /** Calls per minute, as the number input gives it (text). */
  pace?: string;
  channelId?: string;
}

/** A menu of the configured agents or numbers, the default marked and pre-selected; none when none is configured. */
function directoryInput(
  directory: Directory,
  ids: { block: string; action: string },
  label: string,
  column: string,
  wanted: string | undefined,
): InputBlock | undefined {
  if (directory.entries.length === 0) return undefined;
  const selected = (wanted !== undefined ? directory.find(wanted) : undefined) ?? directory.fallback;
  const name = (e: DirectoryEntry) => (e === directory.fallback ? `${e.alias} (default)` : e.alias);
  const options = capped(directory.entries, selected).map((e) => option(name(e), e.alias));
  const initial = selected ? options.find((o) => o.value === selected.alias) : undefined;
  const fallback = directory.fallback ? ` The default is ${directory.fallback.alias}.` : '';
  return {
    type: 'input',
    block_id: ids.block,
    optional: true,
    label: plain(label),
    hint: plain(`For every row, unless the list has a "${column}" column that names another.${fallback}`),
    element: {
      type: 'static_select',
      action_id: ids.action,
      placeholder: plain(`Choose ${label.toLowerCase()}`),
      options,
      ...(initial ? { initial_option: initial } : {}),
    },
  };
}

/** The pace to show: what the form held when it is valid, else the default (Slack refuses an initial value out of range). */
function initialPace(pace: string | undefined): string {
  const n = Number(pace);
  return pace !== undefined && Number.isInteger(n) && n >= BATCH_PACE.min && n <= BATCH_PACE.max
    ? String(n)
    : String(BATCH_PACE.default);
}

/**
 * The form: a list (an uploaded file or pasted lines), the batch-wide agent, number, campaign and start time, the
 * pace, and the channel the batch's message goes in. Nothing is placed on submission: the rep sees a preview first.
 * `values` fills the fields in when the form is shown again (an uploaded file can't be: Slack does not allow it).
 */
export function batchModal(
  catalog: CallCatalog,
  context_: BatchFormContext,
  values: BatchFormValues = {},
): ModalView {
  const blocks: KnownBlock[] = [];
  if (context_.note) blocks.push(section(`⚠️ ${context_.note}`, BATCH_NOTE_BLOCK));
  blocks.push(
    context(
      'Upload a CSV file or paste the numbers. You will see what will be called, and what will be skipped and why, before any call is placed.',
    ),
    {
      type: 'input',
      block_id: BATCH_FILE_BLOCK,
      optional: true,
      label: plain('Upload a list'),
      hint: plain(
        'A CSV file (.csv, .tsv or .txt) with a header row: the phone number column (phone, number, mobile…), then any dynamic variables for the agent (CustomerName, Plan…). Optional columns agent, from, campaign and when set those per row.',
      ),
      element: {
        type: 'file_input',
        action_id: BATCH_FILE_ACTION,
        filetypes: [...BATCH_FILE_TYPES],
        max_files: 1,
      },
    },
    {
      type: 'input',
      block_id: BATCH_PASTE_BLOCK,
      optional: true,
      label: plain('Or paste the list'),
      hint: plain('One number per line, or CSV with a header row: phone,CustomerName,…'),
      element: {
        type: 'plain_text_input',
        action_id: BATCH_PASTE_ACTION,
        multiline: true,
        max_length: MAX_PASTED_LENGTH,
        placeholder: plain('+14155552671\n+442071838750'),
        ...(values.pasted && values.pasted.length <= MAX_PASTED_LENGTH
          ? { initial_value: values.pasted }
          : {}),
      },
    },
  );
  const optional = [
    directoryInput(
      catalog.agents,
      { block: BATCH_AGENT_BLOCK, action: BATCH_AGENT_ACTION },
      'Agent',
      'agent',
      values.agent,
    ),
    directoryInput(
      catalog.numbers,
      { block: BATCH_FROM_BLOCK, action: BATCH_FROM_ACTION },
      'Call from',
      'from',
      values.from,
    ),
    campaignInput(catalog, values.campaign, {
      blockId: BATCH_CAMPAIGN_BLOCK,
      actionId: BATCH_CAMPAIGN_ACTION,
      hintSuffix: ' A "campaign" column in the list wins.',
    }),
  ];
  for (const block of optional) if (block) blocks.push(block);
  const channelId = values.channelId ?? context_.channelId;
  blocks.push(
    {
      type: 'input',
      block_id: BATCH_WHEN_BLOCK,
      optional: true,
      label: plain('Start'),
      hint: plain(
        'When the first call is placed, read in your Slack time zone unless you name one. Empty: now. A "when" column in the list sets a row\'s own time.',
      ),
      element: {
        type: 'plain_text_input',
        action_id: BATCH_WHEN_ACTION,
        placeholder: plain('now, or e.g. tomorrow 10am'),
        ...(values.when ? { initial_value: clip(values.when, MAX_PASTED_LENGTH) } : {}),
      },
    },
    {
      type: 'input',
      block_id: BATCH_PACE_BLOCK,
      label: plain('Pace (calls per minute)'),
      hint: plain(
        `How many calls are started each minute, ${BATCH_PACE.min} to ${BATCH_PACE.max}. Iqra may ask the batch to slow down when it is busy.`,
      ),
      element: {
        type: 'number_input',
        action_id: BATCH_PACE_ACTION,
        is_decimal_allowed: false,
        min_value: String(BATCH_PACE.min),
        max_value: String(BATCH_PACE.max),
        initial_value: initialPace(values.pace),
      },
    },
    {
      type: 'input',
      block_id: BATCH_CHANNEL_BLOCK,
      label: plain('Post progress in'),
      hint: plain(
        'One message there follows the whole batch, and the result file goes in its thread. In a private channel, invite @Iqra Calls first.',
      ),
      element: {
        type: 'conversations_select',
        action_id: BATCH_CHANNEL_ACTION,
        placeholder: plain('Choose a channel'),
        default_to_current_conversation: true,
        ...(channelId ? { initial_conversation: channelId } : {}),
        filter: { include: ['public', 'private'], exclude_bot_users: true },
        response_url_enabled: false,
      },
    },
  );
  return {
    type: 'modal',
    callback_id: BATCH_MODAL,
    title: plain('Call a list'),
    submit: plain('Preview'),
    close: plain('Cancel'),
    private_metadata: encodeBatchFormContext(context_),
    blocks,
  };
}

/** The form's private_metadata: the conversation it was opened from (the note is not kept: it is shown once). */
export function encodeBatchFormContext(context_: BatchFormContext): string {
  return JSON.stringify(context_.channelId ? { channelId: context_.channelId } : {});
}

/** The context the form was opened with; empty when private_metadata is not this form's. */
export function decodeBatchFormContext(text: string | undefined): BatchFormContext {
  try {
    const raw: unknown = JSON.parse(text ?? '');
    const channelId = (raw as { channelId?: unknown } | null)?.channelId;
    return typeof channelId === 'string' && channelId !== '' ? { channelId } : {};
  } catch {
    return {};
  }
}

/** `view.state.values` as the batch views need it: the call modal's shape, plus the files of a file_input. */
export type BatchViewStateValues = Record<
  string,
  Record<string, ViewStateValues[string][string] & { files?: readonly { id: string }[] | null }>
>;

/** What the form holds, from a view_submission's `view.state.values`; `fileIds` are the uploaded files (0 or 1). */
export function readBatchForm(state: BatchViewStateValues): BatchFormValues & { fileIds: string[] } {
  const at = (block: string, action: string) => state[block]?.[action];
  const text = (block: string, action: string): string | undefined => {
    const v = at(block, action);
    const value = v?.value ?? v?.selected_option?.value ?? undefined;
    return value === undefined || value === null || value.trim() === '' ? undefined : value;
  };
  const values: BatchFormValues & { fileIds: string[] } = {
    fileIds: (at(BATCH_FILE_BLOCK, BATCH_FILE_ACTION)?.files ?? []).map((f) => f.id).filter(Boolean),
  };
  const set = <K extends keyof BatchFormValues>(key: K, value: string | undefined) => {
    if (value !== undefined) values[key] = value;
  };
  set('pasted', text(BATCH_PASTE_BLOCK, BATCH_PASTE_ACTION));
  set('agent', text(BATCH_AGENT_BLOCK, BATCH_AGENT_ACTION));
  set('from', text(BATCH_FROM_BLOCK, BATCH_FROM_ACTION));
  const campaign = text(BATCH_CAMPAIGN_BLOCK, BATCH_CAMPAIGN_ACTION);
  set('campaign', campaign === AUTOMATIC_CAMPAIGN ? undefined : campaign);
  set('when', text(BATCH_WHEN_BLOCK, BATCH_WHEN_ACTION)?.trim());
  set('pace', text(BATCH_PACE_BLOCK, BATCH_PACE_ACTION)?.trim());
  set('channelId', at(BATCH_CHANNEL_BLOCK, BATCH_CHANNEL_ACTION)?.selected_conversation ?? undefined);
  return values;
}

/** The preview's choice for rows outside calling hours (scheduling them when nothing was chosen, as the default). */
export function readOutsideChoice(state: BatchViewStateValues): OutsideHoursChoice {
  return state[BATCH_OUTSIDE_BLOCK]?.[BATCH_OUTSIDE_ACTION]?.selected_option?.value === OUTSIDE_SKIP
    ? OUTSIDE_SKIP
    : OUTSIDE_SCHEDULE;
}

/** Shown while the list is read and checked (a file has to be downloaded first): no submit button yet. */
export function batchCheckingView(rows?: number): ModalView {
  const what = rows === undefined ? 'your list' : `your list of ${plural(rows, 'row')}`;
  return {
    type: 'modal',
    callback_id: BATCH_CHECKING_MODAL,
    title: plain('Check the list'),
    close: plain('Cancel'),
    blocks: [
      section(`⏳ Checking ${what}…`),
      context(
        'Every row gets the same checks as a single call: the number, the agent, the variables, the do-not-call list and calling hours. Nothing is placed until you confirm.',
      ),
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The preview

/** What the preview shows: the service's plan, and who approves (mentions) when the batch needs approval. */
export type BatchPreviewSummary = BatchPlan & { approvers?: string };

/**
 * Lines of a list packed into sections within Slack's 3000 characters, at most PREVIEW_LISTED_ROWS lines in at most
 * PREVIEW_LIST_SECTIONS sections; what does not fit is counted in a last line ("…and 470 more skipped rows").
 */
function listBlocks(heading: string, lines: readonly string[], more: (n: number) => string): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  let text = heading;
  let shown = 0;
  for (const raw of lines.slice(0, PREVIEW_LISTED_ROWS)) {
    const line = clip(raw, PREVIEW_LINE_LENGTH);
    if (text.length + 1 + line.length > LIMITS.sectionText) {
      if (blocks.length + 1 >= PREVIEW_LIST_SECTIONS) break;
      blocks.push(section(text));
      text = line;
    } else {
      text = `${text}\n${line}`;
    }
    shown++;
  }
  blocks.push(section(text));
  if (lines.length > shown) blocks.push(context(more(lines.length - shown)));
  return blocks;
}

/** The rows a rep can let through: callable now or at their time, plus those that have a next calling window. */
function schedulable(summary: BatchPreviewSummary): number {
  return summary.outsideHours.filter((row) => row.next !== undefined).length;
}

/**
 * What the batch would do, for the rep to confirm: how many rows will be called, which are skipped and why, which fall
 * outside calling hours (with the choice to call them at their next window or skip them), a sample of the first rows,
 * the pace and how long placing takes, where progress is posted, and whether it waits for approval. A list that is
 * too long, or with nothing to call, has no submit button: the rep closes it and fixes the list.
 */
export function batchPreviewView(summary: BatchPreviewSummary): ModalView {
  const { callable, given, skipped, outsideHours, duplicates, tooMany } = summary;
  const later = schedulable(summary);
  const placeable = !tooMany && callable + later > 0;
  const blocks: KnownBlock[] = [];

  if (tooMany) {
    blocks.push(
      section(
        `⚠️ *This list has ${plural(tooMany.given, 'row')}; a batch can have at most ${count(tooMany.max)}.* ` +
          `Only the first ${count(tooMany.max)} were checked (below), and the batch can't be placed until the list has at most ${count(tooMany.max)} rows. ` +
          'Split it into smaller lists, or remove rows, and start again.',
      ),
    );
  }
  const breakdown = [
    skipped.length ? `${count(skipped.length)} skipped` : '',
    duplicates ? `${plural(duplicates, 'duplicate')} collapsed` : '',
    outsideHours.length ? `${count(outsideHours.length)} outside calling hours` : '',
  ].filter(Boolean);
  const checked = tooMany ? Math.min(tooMany.max, given) : given;
  const headline = placeable
    ? `*${count(callable)} of ${plural(checked, 'row')} will be called*${later ? `, and ${count(later)} more at their next calling window unless you skip them below` : ''}`
    : tooMany
      ? `*${count(callable)} of the first ${plural(checked, 'row')} could be called*`
      : `*Nothing in this list can be called* (${plural(checked, 'row')} checked). Fix the rows below and start again.`;
  blocks.push(section([headline, breakdown.join(' · ')].filter(Boolean).join('\n')));

  if (skipped.length) {
    blocks.push(
      ...listBlocks(
        '*Skipped* (not called)',
        skipped.map(
          (row) =>
            `Line ${row.line} · ${row.raw.trim() ? inlineCode(row.raw) : '_(no number)_'} — ${row.reason}`,
        ),
        (n) => `…and ${plural(n, 'more skipped row')}.`,
      ),
    );
  }

  if (outsideHours.length) {
    blocks.push(
      ...listBlocks(
        '*Outside calling hours* at their time',
        outsideHours.map(
          (row) =>
            `Line ${row.line} · ${escapeMrkdwn(row.number)} — ${
              row.next
                ? `next window *${escapeMrkdwn(row.next)}*`
                : 'no calling window in the next 2 weeks, so it will be skipped'
            }`,
        ),
        (n) => `…and ${plural(n, 'more row')} outside calling hours.`,
      ),
    );
    if (later > 0) {
      const schedule = option('Call each at its next calling window', OUTSIDE_SCHEDULE);
      blocks.push({
        type: 'input',
        block_id: BATCH_OUTSIDE_BLOCK,
        label: plain('Rows outside calling hours'),
        element: {
          type: 'radio_buttons',
          action_id: BATCH_OUTSIDE_ACTION,
          options: [schedule, option('Skip them', OUTSIDE_SKIP)],
          initial_option: schedule,
        },
      });
    }
  }

  const sample = summary.sample.slice(0, PREVIEW_SAMPLE_ROWS);
  if (sample.length) {
    const lines = sample.map((row) => {
      const variables = Object.entries(row.variables)
        .map(([name, value]) => `${inlineCode(name, 40)} ${escapeMrkdwn(clip(value, 60))}`)
        .join(', ');
      return clip(
        [
          `Line ${row.line}`,
          escapeMrkdwn(row.number),
          `*${escapeMrkdwn(row.agent)}*`,
          escapeMrkdwn(row.when),
          variables,
        ]
          .filter(Boolean)
          .join(' · '),
        PREVIEW_LINE_LENGTH - 100,
      );
    });
    blocks.push(section(`*The first ${sample.length === 1 ? 'row' : 'rows'}*\n${lines.join('\n')}`));
  }

  blocks.push(
    section(
      [
        `Pace: *${plural(summary.pacePerMinute, 'call')} a minute* · starts *${escapeMrkdwn(summary.startLabel)}* · placing the calls takes about *${describeMinutes(summary.placingMinutes)}*`,
        `Posting progress in <#${summary.channelId}>, in one message that follows the whole batch.`,
        summary.approvalNeeded
          ? `🕒 The batch needs approval: it waits for ${summary.approvers || 'an approver'} before any call is placed.`
          : '',
      ]
        .filter(Boolean)
        .join('\n'),
    ),
  );
  if (summary.notes.length) blocks.push(section(summary.notes.join('\n')));

  const calls = callable + later;
  const submit = summary.approvalNeeded
    ? 'Ask for approval'
    : outsideHours.length
      ? 'Place the calls'
      : `Place ${plural(calls, 'call')}`;
  return {
    type: 'modal',
    callback_id: BATCH_PREVIEW_MODAL,
    title: plain('Check the list'),
    ...(placeable ? { submit: plain(clip(submit, VIEW_LIMITS.button)) } : {}),
    close: plain(placeable ? 'Cancel' : 'Close'),
    private_metadata: summary.batchId,
    blocks,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The batch's message and its approval request

export type { BatchState };

export interface BatchView {
  id: string;
  /** The rep who placed the batch. */
  userId: string;
  state: BatchState;
  total: number;
  /** Of those, the rows the batch places (the rest were skipped at its preview); `total` when not given. */
  calls?: number;
  counts: BatchCounts;
  channelId: string;
  /** The batch-wide agent; absent when the rows name their own. */
  agentLabel?: string;
  pacePerMinute: number;
  /** Epoch ms: when the first call goes, and (an estimate) when the last one does. */
  startAt?: number;
  eta?: number;
  approval?: {
    state: 'pending' | 'approved' | 'rejected' | 'expired';
    /** Who may approve, as mentions. */
    approvers: string;
    /** Who decided (a user id). */
    by?: string;
    reason?: string;
    /** The Approve / Reject buttons are on the batch's message itself (the approval channel is its channel). */
    buttonsHere: boolean;
  };
  /** Who pressed "Stop the rest" (a user id). */
  stoppedBy?: string;
  /** The result file has been posted in the thread. */
  finished?: boolean;
  /** IQRA_DRY_RUN: nothing is sent to Iqra. */
  dryRun?: boolean;
  fileName?: string;
  /** Rows scheduled for their callee's next calling window. */
  scheduledOutsideHours?: number;
  /** When the batch is paused: until when it waits, and why. */
  heldUntil?: number;
  heldReason?: string;
  /**
   * What holds it: Iqra asking to slow down (the default), or one of the app's own hourly call limits, which the
   * message must not blame on Iqra.
   */
  heldBy?: 'iqra' | 'limit';
}

/** The states the counts line always shows while the batch runs, even at 0, so the line keeps its shape. */
const RUNNING_STATES: readonly BatchRowState[] = [
  'waiting',
  'queued',
  'dialling',
  'completed',
  'no_answer',
  'failed',
  'skipped',
];

/** "*12* waiting · *3* queued · …": while running, the main states always; otherwise only those with rows. */
export function countsLine(counts: BatchCounts, running: boolean): string {
  const shown = BATCH_ROW_STATES.filter(
    (state) => counts[state] > 0 || (running && RUNNING_STATES.includes(state)),
  );
  if (shown.length === 0) return 'No rows.';
  return shown.map((state) => `*${count(counts[state])}* ${BATCH_ROW_WORDS[state]}`).join(' · ');
}

/** "📋 *Batch `bat_…`* by <@U> · 50 calls · agent *Sales* · 10/min". */
function batchHeadline(view: BatchView): string {
  return [
    `📋 *Batch ${inlineCode(view.id)}* by <@${view.userId}>`,
    plural(view.calls ?? view.total, 'call'),
    view.agentLabel ? `agent *${escapeMrkdwn(view.agentLabel)}*` : '',
    `${count(view.pacePerMinute)}/min`,
    view.fileName ? `from ${inlineCode(view.fileName, 60)}` : '',
    view.dryRun ? '🧪 dry run' : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** Whether any row has left "waiting" (been sent to Iqra). */
function started(counts: BatchCounts): boolean {
  return (
    counts.queued + counts.dialling + counts.completed + counts.no_answer + counts.failed + counts.unknown > 0
  );
}

/** Where the batch stands, in one sentence. */
function stateSentence(view: BatchView): string {
  const { approval, counts } = view;
  switch (view.state) {
    case 'draft':
      return '📝 Being prepared: no call has been placed yet.';
    case 'pending_approval':
      return `🕒 Waiting for approval by ${approval?.approvers || 'an approver'}. No call is placed before then.`;
    case 'running': {
      if (view.heldUntil !== undefined) {
        const why = view.heldReason ? ` (${escapeMrkdwn(clip(view.heldReason, 300))})` : '';
        if (view.heldBy === 'limit') {
          return `⏸️ Paused at an hourly call limit${why}; next call at ${dateToken(view.heldUntil)}.`;
        }
        return `⏸️ Iqra asked to slow down${why}; next call at ${dateToken(view.heldUntil)}.`;
      }
      const first =
        view.startAt !== undefined && !started(counts) ? ` First call at ${dateToken(view.startAt)}.` : '';
      if (view.eta !== undefined)
        return `▶️ Placing calls.${first} Last call placed around ${dateToken(view.eta)}.`;
      if (counts.waiting > 0) return `▶️ Placing calls.${first}`;
      return '▶️ Every call has been placed; waiting for the last ones to end.';
    }
    case 'stopped':
      return stoppedSentence(view);
    case 'done':
      // A stopped batch is done once its calls already placed have ended: it still says it was stopped, and by whom.
      if (view.stoppedBy) return stoppedSentence(view);
      return view.finished
        ? '✅ Done. The result file is in the thread.'
        : '✅ Done. The result file follows in the thread.';
    case 'rejected': {
      const by = approval?.by ? ` by <@${approval.by}>` : '';
      const reason = approval?.reason ? `: ${escapeMrkdwn(clip(approval.reason, 500))}` : '.';
      return `🚫 Rejected${by}${reason} No calls were placed.`;
    }
    case 'expired':
      return '⌛ Expired: nobody approved it in time. No calls were placed.';
  }
}

/** "🛑 Stopped by @rep: 7 rows not sent were cancelled.", and where the result file is. */
function stoppedSentence(view: BatchView): string {
  const { counts } = view;
  const who = view.stoppedBy ? `Stopped by <@${view.stoppedBy}>` : 'Stopped';
  const rest = view.finished
    ? ' The result file is in the thread.'
    : ' Calls already placed carry on; the result file follows in the thread when they end.';
  return `🛑 ${who}: ${plural(counts.cancelled, 'row')} not sent ${counts.cancelled === 1 ? 'was' : 'were'} cancelled.${rest}`;
}

/** Whether calls have been (or are being) placed, so the progress bar and counts mean something. */
function showsProgress(state: BatchState): boolean {
  return state === 'running' || state === 'stopped' || state === 'done';
}

function approvalButtons(view: BatchView): ActionsBlock {
  return {
    type: 'actions',
    block_id: 'batch_approval',
    elements: [
      {
        type: 'button',
        action_id: BATCH_APPROVE_ACTION,
        style: 'primary',
        text: plain('Approve'),
        value: view.id,
        confirm: {
          title: plain('Approve this batch?'),
          text: {
            type: 'mrkdwn',
            text: `The AI agent will phone up to ${plural(view.calls ?? view.total, 'person', 'people')}, ${count(view.pacePerMinute)} a minute.`,
          },
          confirm: plain('Approve'),
          deny: plain('Cancel'),
        },
      },
      {
        type: 'button',
        action_id: BATCH_REJECT_ACTION,
        style: 'danger',
        text: plain('Reject'),
        value: view.id,
      },
    ],
  };
}

function stopButton(view: BatchView): ActionsBlock {
  const waiting = view.counts.waiting;
  return {
    type: 'actions',
    block_id: 'batch_stop',
    elements: [
      {
        type: 'button',
        action_id: BATCH_STOP_ACTION,
        style: 'danger',
        text: plain('Stop the rest'),
        value: view.id,
        confirm: {
          title: plain('Stop the rest?'),
          text: {
            type: 'mrkdwn',
            text: `The ${plural(waiting, 'row')} not sent yet will be cancelled. Calls already placed carry on.`,
          },
          confirm: plain('Stop'),
          deny: plain('Keep going'),
          style: 'danger',
        },
      },
    ],
  };
}

/** Lines under the message: the approval once given, rows scheduled for later, a dry run. */
function footnotes(view: BatchView): string[] {
  const notes: string[] = [];
  if (view.approval?.state === 'approved' && showsProgress(view.state)) {
    notes.push(view.approval.by ? `Approved by <@${view.approval.by}>.` : 'Approved.');
  }
  if (view.scheduledOutsideHours) {
    notes.push(
      `${plural(view.scheduledOutsideHours, 'call')} ${view.scheduledOutsideHours === 1 ? 'is' : 'are'} scheduled for the callee's next calling window.`,
    );
  }
  if (view.dryRun) notes.push('🧪 Dry run (IQRA_DRY_RUN): nothing is sent to Iqra.');
  return notes;
}

/**
 * The one message per batch, updated in place: who placed it and how, the progress bar, the rows by state, where it
 * stands (the last call's estimated time while running), and the buttons that apply: Approve / Reject while it waits
 * for approval (when the approval channel is this one), "Stop the rest" while it runs.
 */
export function batchParentMessage(view: BatchView): SlackMessage {
  const headline = batchHeadline(view);
  const sentence = stateSentence(view);
  const blocks: KnownBlock[] = [section(headline)];
  let progress = '';
  if (showsProgress(view.state)) {
    const done = doneRows(view.counts);
    progress = `${progressBar(done, view.total)} · *${count(Math.min(done, view.total))}/${count(view.total)}* done\n${countsLine(view.counts, view.state === 'running')}`;
    blocks.push(section(progress));
  }
  blocks.push(section(sentence));
  if (view.state === 'pending_approval' && view.approval?.buttonsHere) blocks.push(approvalButtons(view));
  if (view.state === 'running') blocks.push(stopButton(view));
  const notes = footnotes(view);
  if (notes.length) blocks.push(context(notes.join('\n')));
  const text = [headline, progress.replace(/\n/g, ' · '), sentence].filter(Boolean).join('\n');
  return { text: clip(text, LIMITS.fallbackText), blocks };
}

/**
 * The approval request for a batch, in the approval channel: who asks, how many calls, the agent, the pace and the
 * start, with Approve / Reject while it is pending; once decided, the decision in words and no buttons.
 */
export function batchApprovalMessage(view: BatchView): SlackMessage {
  const approval = view.approval;
  const state = approval?.state ?? 'pending';
  const icon = { pending: '🕒', approved: '✅', rejected: '🚫', expired: '⌛' }[state];
  const start = view.startAt !== undefined ? `starting ${dateToken(view.startAt)}` : 'starting now';
  const agent = view.agentLabel ? ` with *${escapeMrkdwn(view.agentLabel)}*` : '';
  const asks = `${icon} <@${view.userId}> in <#${view.channelId}> asks to call a list: *${plural(view.calls ?? view.total, 'call')}*${agent}, ${count(view.pacePerMinute)} a minute, ${start}.`;
  const decision =
    state === 'pending'
      ? `Waiting for approval by ${approval?.approvers || 'an approver'}.`
      : state === 'approved'
        ? `Approved${approval?.by ? ` by <@${approval.by}>` : ''}.`
        : state === 'rejected'
          ? `Rejected${approval?.by ? ` by <@${approval.by}>` : ''}${approval?.reason ? `: ${escapeMrkdwn(clip(approval.reason, 500))}` : '.'}`
          : 'Expired: nobody approved it in time.';
  const text = `${asks} ${decision}`;
  const fields: [string, string][] = [
    ['Calls', count(view.calls ?? view.total)],
    ['Agent', view.agentLabel ? escapeMrkdwn(view.agentLabel) : 'per row'],
    ['Pace', `${plural(view.pacePerMinute, 'call')} a minute`],
    ['Start', view.startAt !== undefined ? dateToken(view.startAt) : 'now'],
  ];
  if (view.fileName) fields.push(['List', inlineCode(view.fileName, 60)]);
  if (view.scheduledOutsideHours) {
    fields.push([
      'Outside calling hours',
      `${count(view.scheduledOutsideHours)} scheduled for their next window`,
    ]);
  }
  fields.push(['Batch', inlineCode(view.id)]);
  if (view.dryRun) fields.push(['Dry run', 'nothing is sent to Iqra']);
  const blocks: KnownBlock[] = [
    section(text),
    {
      type: 'section',
      fields: fields.slice(0, LIMITS.fieldsPerSection).map(([label, value]) => ({
        type: 'mrkdwn' as const,
        text: clip(`*${label}*\n${value}`, LIMITS.field),
      })),
    },
  ];
  if (state === 'pending') blocks.push(approvalButtons(view));
  return { text: clip(text, LIMITS.fallbackText), blocks };
}
