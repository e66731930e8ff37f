import type { HomeView, KnownBlock } from '@slack/types';
import type { CallCatalog } from '../../calls/call-request.js';
import { type CallEnd, END_WORDS } from '../../calls/progress.js';
import type { CallRecord } from '../../store/store.js';
import { NEW_BATCH_ACTION } from './batch.js';
import { approvalActions, formatDuration } from './call-messages.js';
import { type BatchLine, batchLine, stateInWords } from './history.js';
import { clip, context, escapeMrkdwn, section } from './mrkdwn.js';

/** The Home tab's "Place a call" button: opens the call modal, which asks for the channel. */
export const HOME_ACTIONS_BLOCK = 'home_actions';
export const OPEN_CALL_MODAL_ACTION = 'open_call_modal';

/** How many of the user's calls, and of the workspace's pending approvals, the Home tab shows. */
export const HOME_RECENT_CALLS = 10;
export const HOME_PENDING_APPROVALS = 20;
/** Slack's limit for a Home tab (messages allow 50, views 100). */
export const HOME_MAX_BLOCKS = 100;

/** What the Home tab shows: plain data, read from the store by the caller (see HomeTab). */
export interface HomeData {
  catalog: CallCatalog;
  maxScheduleDays: number;
  /** Who the tab is for: their own requests among the approvals get no buttons (someone else must decide). */
  userId?: string;
  /** The user's latest calls, newest first (at most HOME_RECENT_CALLS are shown). */
  calls: readonly CallRecord[];
  /**
   * The workspace's calls waiting for approval, oldest first, for an approver; undefined for everyone else (and when
   * approvals are off): then there is no approvals section at all. More than HOME_PENDING_APPROVALS: the oldest are
   * shown, with a note that more are waiting.
   */
  approvals?: readonly CallRecord[];
  /** The user's latest batches (lists of calls), newest first. */
  batches?: readonly BatchLine[];
  /** The store could not be read: the tab says so instead of listing calls. */
  unavailable?: boolean;
  /** Epoch ms. */
  now: number;
}

/** Slack's date token: each reader sees the time in their own zone; the fallback is UTC. */
function at(ms: number): string {
  const fallback = `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time}|${fallback}>`;
}

function numberOf(call: CallRecord): string {
  const recipient = call.request.recipient as { display?: unknown } | undefined;
  return escapeMrkdwn(clip(typeof recipient?.display === 'string' ? recipient.display : call.recipient, 100));
}

/** `a`, `b` and 3 more: as many items as fit in about `budget` characters (each whole, so the markup holds). */
function codeList(items: readonly string[], budget: number): string {
  const shown: string[] = [];
  let length = 0;
  for (const item of items) {
    const code = `\`${escapeMrkdwn(clip(item, 100))}\``;
    if (shown.length > 0 && length + code.length + 2 > budget) break;
    shown.push(code);
    length += code.length + 2;
  }
  const rest = items.length - shown.length;
  return `${shown.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
}

function agentOf(call: CallRecord): string {
  return escapeMrkdwn(clip(call.agentAlias, 100));
}

/** When the call was asked for, for a scheduled call (undefined for "now", or while its time is not resolved). */
function scheduledFor(call: CallRecord): number | undefined {
  const when = call.request.when as { kind?: unknown; at?: unknown } | undefined;
  if (when?.kind !== 'scheduled' || typeof when.at !== 'string') return undefined;
  const ms = Date.parse(when.at);
  return Number.isFinite(ms) ? ms : undefined;
}

function whenPhrase(call: CallRecord): string | undefined {
  const phrase = call.request.whenPhrase;
  return typeof phrase === 'string' && phrase.trim() ? phrase : undefined;
}

const END_ICONS: Record<CallEnd, string> = {
  completed: '✅',
  no_answer: '📵',
  busy_or_declined: '🚫',
  voicemail: '📼',
  failed: '❌',
  expired: '⌛',
  cancelled: '🛑',
};

/** How far a queued call has got (CallRecord.progress), in words; undefined while it is not tracked. */
export function progressInWords(
  call: Pick<CallRecord, 'progress' | 'callEnd' | 'durationSeconds'>,
): string | undefined {
  switch (call.progress) {
    case undefined:
      return undefined;
    case 'scheduled':
      return '📅 scheduled';
    case 'queued':
      return '⏳ waiting in Iqra’s queue';
    case 'dialling':
      return '☎️ dialling';
    case 'in_conversation':
      return '🗣️ in conversation';
    case 'ended': {
      const end = call.callEnd ?? 'completed';
      const duration = call.durationSeconds !== undefined ? ` (${formatDuration(call.durationSeconds)})` : '';
      return `${END_ICONS[end] ?? '🏁'} ended: ${END_WORDS[end] ?? end}${duration}`;
    }
    case 'status_unknown':
      return '❔ status unknown';
    default:
      return String(call.progress);
  }
}

/** The call's state, and for a queued call how far it has got: "✅ queued → ☎️ dialling". */
export function liveStateInWords(call: CallRecord): string {
  const progress = call.state === 'queued' ? progressInWords(call) : undefined;
  return progress ? `${stateInWords(call.state)} → ${progress}` : stateInWords(call.state);
}

/** Why a call was not placed, or who decided, in a few words (for the second line of a call). */
function why(call: CallRecord): string | undefined {
  switch (call.state) {
    case 'rejected':
      return `Rejected${call.decidedBy ? ` by <@${call.decidedBy}>` : ''}${call.decisionReason ? `: ${escapeMrkdwn(clip(call.decisionReason, 300))}` : ''}`;
    case 'failed':
    case 'unknown':
      // Quotes Iqra's own message, which may echo what the rep typed: shown as text, never as links or mentions.
      return call.userMessage ? escapeMrkdwn(clip(call.userMessage, 500)) : undefined;
    case 'refused':
      // The app's own words (a guard's, with its channel links and dates).
      return call.userMessage ? clip(call.userMessage, 500) : undefined;
    default:
      return undefined;
  }
}

/** One of the user's calls: number, agent, live state; then when, the request id, and why when it was not placed. */
function recentCallBlock(call: CallRecord): KnownBlock {
  const scheduled = scheduledFor(call);
  const phrase = whenPhrase(call);
  const timing =
    scheduled !== undefined
      ? ` · for ${at(scheduled)}`
      : phrase && call.state !== 'queued'
        ? ` · for “${escapeMrkdwn(clip(phrase, 80))}”`
        : '';
  const head = `*${numberOf(call)}* with *${agentOf(call)}* · ${liveStateInWords(call)}`;
  const facts = [
    `Asked ${at(call.createdAt)}${timing} in <#${call.channelId}>`,
    call.queueIds.length ? `queue ${codeList(call.queueIds, 300)}` : undefined,
    `request \`${call.id}\``,
  ].filter(Boolean);
  const reason = why(call);
  return section([head, facts.join(' · '), reason].filter(Boolean).join('\n'));
}

/** A pending approval: who asks, what, when; then its Approve / Reject buttons (each block id made unique). */
function approvalBlocks(call: CallRecord, viewerId: string | undefined): KnownBlock[] {
  const scheduled = scheduledFor(call);
  const phrase = whenPhrase(call);
  const timing =
    scheduled !== undefined ? `at ${at(scheduled)}` : phrase ? `“${escapeMrkdwn(clip(phrase, 80))}”` : 'now';
  const entry = (value: unknown): string | undefined => {
    const e = value as { alias?: unknown } | undefined;
    return typeof e?.alias === 'string' ? escapeMrkdwn(clip(e.alias, 100)) : undefined;
  };
  const names = (value: unknown): string => {
    const keys = value && typeof value === 'object' ? Object.keys(value) : [];
    return keys.length ? codeList(keys, 500) : 'none';
  };
  const from = entry(call.request.number);
  const campaign = entry(call.request.campaign);
  const lines = [
    `🕒 <@${call.userId}> in <#${call.channelId}> asks to call *${numberOf(call)}* with *${agentOf(call)}*, ${timing}`,
    [
      from ? `From ${from}` : undefined,
      `Campaign ${campaign ?? 'none'}`,
      `Variables ${names(call.request.variables)}`,
      `Metadata ${names(call.request.metadata)}`,
    ]
      .filter(Boolean)
      .join(' · '),
    [
      `Asked ${at(call.createdAt)}`,
      call.expiresAt !== undefined ? `expires ${at(call.expiresAt)}` : undefined,
      `request \`${call.id}\``,
    ]
      .filter(Boolean)
      .join(' · '),
  ];
  const blocks: KnownBlock[] = [section(lines.join('\n'))];
  if (call.userId === viewerId) {
    blocks.push(context('You asked for this call, so another approver must decide.'));
  } else {
    blocks.push({ ...approvalActions(call.id), block_id: `approval_${call.id}` } as KnownBlock);
  }
  return blocks;
}

function catalogList(entries: readonly { alias: string }[], fallback?: { alias: string }): string {
  if (entries.length === 0) return 'none configured';
  return entries
    .map((e) => `\`${escapeMrkdwn(e.alias)}\`${e.alias === fallback?.alias ? ' (default)' : ''}`)
    .join(', ');
}

/**
 * The App Home's Home tab: a button to place a call, the user's latest calls with their live state, for an approver
 * the calls waiting for approval with Approve / Reject, and the other ways to place a call. Pure: built from `data`.
 * Stays within Slack's limits (100 blocks, 3000 characters a section) whatever the data.
 */
export function homeView(data: HomeData): HomeView {
  const { catalog, maxScheduleDays } = data;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Iqra Calls' } },
    section(
      'Have an Iqra AI agent phone a customer, now or later. Choose the number, the agent and the time; ' +
        'the call is confirmed in the channel you choose, with its details in a thread.',
    ),
    {
      type: 'actions',
      block_id: HOME_ACTIONS_BLOCK,
      elements: [
        {
          type: 'button',
          action_id: OPEN_CALL_MODAL_ACTION,
          style: 'primary',
          text: { type: 'plain_text', text: 'Place a call' },
        },
        {
          type: 'button',
          action_id: NEW_BATCH_ACTION,
          text: { type: 'plain_text', text: 'New batch' },
        },
      ],
    },
    { type: 'divider' },
  ];

  const tail: KnownBlock[] = [
    { type: 'divider' },
    section(
      [
        '*Other ways to place a call*',
        '• In any channel: `/call +14155552671 agent=sales at "tomorrow 10am"` (`/call` alone opens the form, `/call help` explains it all).',
        '• On a message with a phone number: *More actions* (⋮) → *Call this number*. The confirmation goes in that message’s thread.',
        '• From anywhere: the shortcuts menu (⚡) → *Place a call*.',
        '• A list (a CSV file or pasted numbers): *New batch* above, or `/call batch`. You see what will and will not be called before anything is placed.',
        `Times are read in your Slack time zone; calls can be scheduled up to ${maxScheduleDays} days ahead. \`/call status <request id>\` shows one call step by step.`,
      ].join('\n'),
    ),
    context(
      [
        `*Agents:* ${catalogList(catalog.agents.entries, catalog.agents.fallback)}`,
        `*From numbers:* ${catalogList(catalog.numbers.entries, catalog.numbers.fallback)}`,
        `*Campaigns:* ${catalogList(catalog.campaigns.entries, catalog.campaigns.fallback)}`,
      ].join('  ·  '),
    ),
    context(`Updated ${at(data.now)}. This tab follows your calls as they change.`),
  ];

  // The approvals come first: they are what an approver has to act on.
  if (data.approvals !== undefined) {
    const shown = data.approvals.slice(0, HOME_PENDING_APPROVALS);
    blocks.push({ type: 'header', text: { type: 'plain_text', text: 'Waiting for your approval' } });
    if (shown.length === 0) {
      blocks.push(section('Nothing is waiting for approval.'));
    } else {
      const more =
        data.approvals.length > shown.length
          ? ` More are waiting: the oldest ${shown.length} are shown.`
          : '';
      blocks.push(
        context(
          `${shown.length} call${shown.length === 1 ? '' : 's'} in this workspace, oldest first. Approving one dials the customer.${more}`,
        ),
      );
      for (const call of shown) blocks.push(...approvalBlocks(call, data.userId));
    }
    blocks.push({ type: 'divider' });
  }

  blocks.push({ type: 'header', text: { type: 'plain_text', text: 'Your recent calls' } });
  if (data.unavailable) {
    blocks.push(section('⚠️ Your calls could not be read just now. Open this tab again in a moment.'));
  } else if (data.calls.length === 0) {
    blocks.push(
      section("You haven't placed any calls yet. Press *Place a call*, or type `/call +14155552671`."),
    );
  } else {
    for (const call of data.calls.slice(0, HOME_RECENT_CALLS)) blocks.push(recentCallBlock(call));
  }

  if (data.batches?.length) {
    blocks.push({ type: 'header', text: { type: 'plain_text', text: 'Your batches' } });
    blocks.push(
      section(
        `${data.batches.map(batchLine).join('\n')}\n\`/call status <batch id>\` shows one; its message in the channel follows it live.`,
      ),
    );
  }

  // At most 4 + (3 + 2 × 20) + (1 + 10) + 2 + 4 = 64 blocks: within Slack's 100 (HOME_MAX_BLOCKS), as the tests check.
  return { type: 'home', blocks: [...blocks, ...tail] };
}
