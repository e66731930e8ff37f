import type { KnownBlock, SectionBlock } from '@slack/types';
import type { CallCatalog, CallRequest } from '../../calls/call-request.js';
import type { CallRequestError } from '../../calls/errors.js';
import { type CallEnd, END_WORDS, type Progress } from '../../calls/progress.js';
import { describeInZone, slackDateToken } from '../../calls/when.js';
import type { CallOutcome } from '../../services/place-call.js';
import { clip, context, escapeMrkdwn, LIMITS, section } from './mrkdwn.js';

/** Block Kit ids this app listens for. */
export const PLACE_AGAIN_ACTION = 'place_call_again';
export const APPROVE_ACTION = 'approve_call';
export const SCHEDULE_ACTION = 'schedule_call';
export const APPROVE_NOW_ACTION = 'approve_call_now';
export const REJECT_ACTION = 'reject_call';
export const REJECT_MODAL = 'reject_call_modal';
export const REJECT_REASON_BLOCK = 'reject_reason';
export const REJECT_REASON_INPUT = 'reason';

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Where a call stands with its approval, when it needed one. */
export interface ApprovalView {
  state: 'pending' | 'approved' | 'rejected' | 'expired';
  /** Who may approve, as mentions. */
  approvers: string;
  /** The Approve / Reject buttons are on the parent message itself (the approval channel is the call's channel). */
  buttonsHere: boolean;
  expiresAt?: number;
  decidedBy?: string;
  decidedAt?: number;
  reason?: string;
  expiredBecause?: 'ttl' | 'time_passed';
  ttlHours: number;
}

/** How far a queued call has got, for the parent message. */
export interface ProgressView {
  progress: Progress;
  end?: CallEnd;
  durationSeconds?: number;
  /** Why the status is unknown (tracking stopped), in words. */
  note?: string;
}

export interface CallReport {
  request: CallRequest;
  progress?: ProgressView;
  /** What Iqra answered; absent while the call waits for approval, was rejected or expired, or is being placed. */
  outcome?: CallOutcome;
  /** Whether the time was read in the requester's own Slack zone or in DEFAULT_TIMEZONE. */
  zoneSource: 'slack' | 'default';
  approval?: ApprovalView;
  /** Why a guard stopped the call (it was not placed). */
  refused?: string;
}

function fieldsSection(fields: [label: string, value: string][]): SectionBlock {
  return {
    type: 'section',
    fields: fields
      .slice(0, LIMITS.fieldsPerSection)
      .map(([label, value]) => ({ type: 'mrkdwn', text: clip(`*${label}*\n${value}`, LIMITS.field) })),
  };
}

/** "now", or Slack's date token (each reader sees their own zone) and the requester's zone in words. */
export function describeWhen(report: CallReport): string {
  const { when } = report.request;
  if (when.kind === 'now') return 'now';
  return `${slackDateToken(when.at, when.timeZone)} · ${describeInZone(when.at, when.timeZone)}`;
}

function zoneNote(report: CallReport): string {
  const { when, requesterTimeZone } = report.request;
  if (when.kind === 'now') return '';
  if (when.zoneSource === 'phrase') return 'Read in the zone named in your time.';
  if (report.zoneSource === 'default') {
    return `Read in ${requesterTimeZone}: your Slack profile has no time zone, so the app's default was used.`;
  }
  return `Read in your Slack time zone (${requesterTimeZone}).`;
}

function who(report: CallReport): string {
  return `<@${report.request.origin.userId}>`;
}

function target(report: CallReport): string {
  return `*${report.request.recipient.display}* with *${escapeMrkdwn(report.request.agent.alias)}*`;
}

/** A moment as Slack renders it in each reader's own zone ("Nov 27 at 10:02 AM", "today at …"), UTC as fallback. */
export function dateToken(ms: number): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time}|${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC>`;
}

function timing(report: CallReport): string {
  return report.request.when.kind === 'now' ? 'now' : `at ${describeWhen(report)}`;
}

/** What the approval says, in one sentence (for the parent, the approval message and the thread). */
function approvalSentence(approval: ApprovalView): string {
  switch (approval.state) {
    case 'pending':
      return `Waiting for approval by ${approval.approvers}${approval.expiresAt ? ` until ${dateToken(approval.expiresAt)}` : ''}.`;
    case 'approved':
      return `Approved by <@${approval.decidedBy}>${approval.decidedAt ? ` ${dateToken(approval.decidedAt)}` : ''}.`;
    case 'rejected':
      return `Rejected by <@${approval.decidedBy}>${approval.decidedAt ? ` ${dateToken(approval.decidedAt)}` : ''}${approval.reason ? `: ${escapeMrkdwn(approval.reason)}` : '.'}`;
    case 'expired':
      return approval.expiredBecause === 'time_passed'
        ? 'Expired: its time passed before anyone approved it.'
        : `Expired: nobody approved it within ${approval.ttlHours} hour${approval.ttlHours === 1 ? '' : 's'}.`;
  }
}

/** "3m 24s", "45s", "1h 2m". */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
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

/** The parent's sentence for a queued call, following it live: scheduled → queued → dialling → talking → ended. */
function progressSentence(report: CallReport): string {
  const { request } = report;
  const progress = report.progress;
  switch (progress?.progress) {
    case 'dialling':
      return `☎️ Dialling ${target(report)} for ${who(report)}…`;
    case 'in_conversation':
      return `🗣️ ${who(report)}'s call to ${target(report)}: in conversation`;
    case 'ended': {
      const end = progress.end ?? 'completed';
      const duration =
        progress.durationSeconds !== undefined ? ` · ${formatDuration(progress.durationSeconds)}` : '';
      return `${END_ICONS[end]} ${who(report)}'s call to ${target(report)} ended: *${END_WORDS[end]}*${duration}`;
    }
    case 'status_unknown':
      return `❔ ${who(report)}'s call to ${target(report)}: status unknown. ${progress.note ?? ''}`.trim();
    case 'queued':
      // A scheduled call whose time has come: no longer 📅, it waits in Iqra's queue for a line.
      if (request.when.kind === 'scheduled')
        return `📞 ${who(report)} queued a call to ${target(report)}, for ${describeWhen(report)}: its time has come, waiting in Iqra's queue`;
      return `📞 ${who(report)} queued a call to ${target(report)}, now`;
    default:
      return request.when.kind === 'now'
        ? `📞 ${who(report)} queued a call to ${target(report)}, now`
        : `📅 ${who(report)} queued a call to ${target(report)}, at ${describeWhen(report)}`;
  }
}

/** The one message in the channel that says what happened to the call; its thread carries the details. */
export function callParentMessage(report: CallReport): SlackMessage {
  const { outcome, request, approval } = report;
  let text: string;
  if (outcome) {
    switch (outcome.state) {
      case 'queued':
        text = outcome.dryRun
          ? `🧪 Dry run: ${who(report)} would have queued a call to ${target(report)}, ${timing(report)}. Nothing was sent to Iqra (IQRA_DRY_RUN=true).`
          : progressSentence(report);
        break;
      case 'failed':
        text = `❌ ${who(report)}'s call to ${target(report)} was not placed: ${escapeMrkdwn(outcome.error.userMessage)}`;
        break;
      case 'unknown':
        text = `⚠️ ${who(report)}'s call to ${target(report)} may or may not have been placed: Iqra did not answer clearly. It was not retried, so that nobody is dialled twice. Details in the thread.`;
        break;
    }
  } else if (report.refused !== undefined) {
    text = `🚫 ${who(report)}'s call to ${target(report)} was not placed: ${report.refused}`;
  } else if (approval?.state === 'pending') {
    text = `🕒 ${who(report)} asks to call ${target(report)}, ${timing(report)}. ${approvalSentence(approval)}`;
  } else if (approval?.state === 'rejected') {
    text = `🚫 ${who(report)}'s call to ${target(report)} was not placed. ${approvalSentence(approval)}`;
  } else if (approval?.state === 'expired') {
    text = `⌛ ${who(report)}'s call to ${target(report)} was not placed. ${approvalSentence(approval)}`;
  } else {
    text = `⏳ ${who(report)} is placing a call to ${target(report)}, ${timing(report)}…`;
  }
  const blocks: KnownBlock[] = [section(text)];
  if (approval?.state === 'pending' && approval.buttonsHere) blocks.push(approvalActions(request.requestId));
  if (outcome && approval?.state === 'approved') {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: approvalSentence(approval) }] });
  }
  return { text: clip(text, LIMITS.fallbackText), blocks };
}

/**
 * Approve (with a confirmation, since it dials a customer) and Reject (which asks for an optional reason). Only
 * approvers may use them; the value is the request id.
 */
export function approvalActions(requestId: string): KnownBlock {
  return {
    type: 'actions',
    block_id: 'approval',
    elements: [
      {
        type: 'button',
        action_id: APPROVE_ACTION,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value: requestId,
        confirm: {
          title: { type: 'plain_text', text: 'Approve this call?' },
          text: { type: 'mrkdwn', text: 'The AI agent will phone the customer.' },
          confirm: { type: 'plain_text', text: 'Approve' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
      {
        type: 'button',
        action_id: REJECT_ACTION,
        style: 'danger',
        text: { type: 'plain_text', text: 'Reject' },
        value: requestId,
      },
    ],
  };
}

/** Offered to an approver who approves a scheduled call after its time: approve it to be placed now instead. */
export function callNowOffer(report: CallReport): SlackMessage {
  const text = `The time of this call (${describeWhen(report)}) has passed. Approve it to call ${report.request.recipient.display} now instead?`;
  return {
    text,
    blocks: [
      section(text),
      {
        type: 'actions',
        block_id: 'approval_now',
        elements: [
          {
            type: 'button',
            action_id: APPROVE_NOW_ACTION,
            style: 'primary',
            text: { type: 'plain_text', text: 'Call now' },
            value: report.request.requestId,
          },
        ],
      },
    ],
  };
}

/**
 * The approval request, in CALL_APPROVAL_CHANNEL: the request and its buttons, or once decided, the decision. With
 * `postedHere`, it goes to the call's own thread instead, because that channel refused it: the note says why.
 */
export function approvalRequestMessage(
  report: CallReport,
  postedHere?: { approvalChannel: string; slackError: string },
): SlackMessage {
  const { request, approval } = report;
  const state = approval?.state ?? 'pending';
  const icon = { pending: '🕒', approved: '✅', rejected: '🚫', expired: '⌛' }[state];
  const text = `${icon} ${who(report)} in <#${request.origin.channelId}> asks to call ${target(report)}, ${timing(report)}.${approval ? ` ${approvalSentence(approval)}` : ''}`;
  const blocks: KnownBlock[] = [section(text), fieldsSection(requestFields(report))];
  if (state === 'pending') blocks.push(approvalActions(request.requestId));
  if (postedHere) {
    blocks.push(
      context(
        `Posted here because I can't post in <#${postedHere.approvalChannel}> (\`${escapeMrkdwn(postedHere.slackError)}\`), the channel set as \`CALL_APPROVAL_CHANNEL\`. Invite me there (\`/invite @Iqra Calls\`), or ask an admin to change the setting.`,
      ),
    );
  }
  return { text: clip(text, LIMITS.fallbackText), blocks };
}

/**
 * To the requester alone: the approval request could be posted neither in CALL_APPROVAL_CHANNEL nor in the call's
 * channel, so no approver was told. It still waits, and approvers can find it on the app's Home tab.
 */
export function approversNotToldMessage(
  report: CallReport,
  approvalChannel: string,
  slackError: string,
): SlackMessage {
  const approvers = report.approval?.approvers ?? 'an approver';
  const text = `⚠️ Your call to ${target(report)} waits for approval, but no approver was told: I can't post in <#${approvalChannel}> (\`${escapeMrkdwn(slackError)}\`), the channel set as \`CALL_APPROVAL_CHANNEL\`, nor in this call's channel. Approvers can still approve it from my Home tab: let one of them know (${approvers}), and ask an admin to invite me to <#${approvalChannel}> or to change the setting.`;
  return { text: clip(text, LIMITS.fallbackText), blocks: [section(text)] };
}

/** The decision, as a reply in the call's thread. */
export function decisionMessage(report: CallReport): SlackMessage {
  const { approval } = report;
  const text = !approval
    ? 'The approval was decided.'
    : approval.state === 'approved'
      ? `✅ ${approvalSentence(approval)} Placing the call.`
      : approval.state === 'rejected'
        ? `🚫 ${approvalSentence(approval)}`
        : approval.state === 'expired'
          ? `⌛ ${approvalSentence(approval)}`
          : `🕒 ${approvalSentence(approval)}`;
  return { text: clip(text, LIMITS.fallbackText), blocks: [section(text)] };
}

/** A preformatted block that stays closed however long the text (shortened inside the fence). */
function codeBlock(text: string): string {
  return `\`\`\`${clip(escapeMrkdwn(text), LIMITS.sectionText - 20)}\`\`\``;
}

function names(values: Record<string, string>): string {
  const keys = Object.keys(values);
  return keys.length ? keys.map((k) => `\`${k}\``).join(', ') : 'none';
}

function requestFields(report: CallReport): [string, string][] {
  const { request } = report;
  const entry = (e: { alias: string; id: string }) => `${escapeMrkdwn(e.alias)} (\`${escapeMrkdwn(e.id)}\`)`;
  return [
    ['Agent', entry(request.agent)],
    ['From', entry(request.number)],
    ['Campaign', request.campaign ? entry(request.campaign) : 'none'],
    ['When', [describeWhen(report), zoneNote(report)].filter(Boolean).join('\n')],
    ['Dynamic variables', names(request.variables)],
    ['Metadata', names(request.metadata)],
    ['Request id', `\`${request.requestId}\``],
  ];
}

/** The thread reply under the parent: what exactly was asked of Iqra, and what Iqra said. */
export function callDetailsMessage(report: CallReport): SlackMessage {
  const { request, outcome } = report;
  const common = requestFields(report);
  const blocks: KnownBlock[] = [];
  if (!outcome) {
    blocks.push(
      section(report.approval ? `*The request* · ${approvalSentence(report.approval)}` : '*The request*'),
    );
    blocks.push(fieldsSection(common));
  } else if (outcome.state === 'queued' && outcome.dryRun) {
    blocks.push(section('*Dry run: what would have been sent to Iqra* (the API key is never shown)'));
    const fields = outcome.dryRun.parts.filter(([name]) => name !== 'config');
    const config = outcome.dryRun.parts.find(([name]) => name === 'config')?.[1];
    if (fields.length) {
      blocks.push(section(codeBlock(fields.map(([n, v]) => `${n}=${v}`).join('\n'))));
    }
    if (config) {
      let pretty = config;
      try {
        pretty = JSON.stringify(JSON.parse(config), null, 2);
      } catch {
        // shown as it is
      }
      blocks.push(section(`*config*\n${codeBlock(pretty)}`));
    }
    blocks.push(fieldsSection(common));
  } else if (outcome.state === 'queued') {
    const ids = outcome.queueIds.length
      ? outcome.queueIds.map((q) => `\`${escapeMrkdwn(q)}\``).join(', ')
      : 'none given';
    blocks.push(section(`Iqra queued the call to *${request.recipient.display}*.`));
    blocks.push(fieldsSection([[outcome.queueIds.length > 1 ? 'Queue ids' : 'Queue id', ids], ...common]));
  } else {
    const { error } = outcome;
    // The app's words, quoting Iqra's own message, which may echo what the rep typed (`<!channel>` must not ping).
    const heading =
      outcome.state === 'failed'
        ? `*Why it was not placed:* ${escapeMrkdwn(error.userMessage)}`
        : `*What happened:* ${escapeMrkdwn(error.userMessage)}`;
    blocks.push(section(heading));
    const iqra: [string, string][] = [];
    if (error.code) iqra.push(['Iqra code', `\`${escapeMrkdwn(error.code)}\``]);
    if (error.iqraMessage) iqra.push(['Iqra said', escapeMrkdwn(error.iqraMessage)]);
    if (error.httpStatus && !error.code) iqra.push(['HTTP status', String(error.httpStatus)]);
    blocks.push(fieldsSection([...iqra, ...common]));
    if (outcome.state === 'unknown') blocks.push(placeAgainActions(request.requestId));
  }
  const text = blocks
    .map((b) =>
      b.type === 'section' ? [b.text?.text, ...(b.fields ?? []).map((f) => f.text)].join('\n') : '',
    )
    .join('\n');
  return { text: clip(text, LIMITS.fallbackText), blocks };
}

/**
 * "Place the call again": a new, deliberate request for a call whose outcome is unknown. Only the requester may
 * press it; Slack asks for confirmation first, since Iqra may already have the call.
 */
export function placeAgainActions(requestId: string): KnownBlock {
  return {
    type: 'actions',
    block_id: 'place_again',
    elements: [
      {
        type: 'button',
        action_id: PLACE_AGAIN_ACTION,
        text: { type: 'plain_text', text: 'Place the call again' },
        value: requestId,
        confirm: {
          title: { type: 'plain_text', text: 'Place the call again?' },
          text: {
            type: 'mrkdwn',
            text: "Iqra may already have this call. Check Iqra's dashboard first: placing it again could dial the customer twice.",
          },
          confirm: { type: 'plain_text', text: 'Place it again' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
    ],
  };
}

/** The copy of the parent message for CALL_LOG_CHANNEL, saying which channel the call came from. */
export function callLogMessage(report: CallReport): SlackMessage {
  const parent = callParentMessage(report);
  return {
    text: parent.text,
    blocks: [
      ...parent.blocks,
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `From <#${report.request.origin.channelId}> · request \`${report.request.requestId}\``,
          },
        ],
      },
    ],
  };
}

export type UndeliverableReason =
  | 'not_in_channel'
  | 'archived'
  | 'restricted'
  | 'direct_message'
  | 'slack_error';

/**
 * Told to the requester alone (via response_url) when the bot could not post the confirmation in the channel: what
 * happened to the call, and how to let the bot post next time.
 */
export function undeliverableMessage(
  report: CallReport,
  reason: UndeliverableReason,
  slackError: string,
): SlackMessage {
  const how =
    reason === 'not_in_channel'
      ? "I couldn't post the confirmation in this channel because I'm not a member of it. Invite me with `/invite @Iqra Calls` (or mention me and choose *Invite*), and the next call will be confirmed here for everyone."
      : reason === 'archived'
        ? "I couldn't post the confirmation in this channel because it is archived, so only you see it. Use `/call` in a channel that is still in use (or in your DM with me) so that your team can follow the call."
        : reason === 'restricted'
          ? "I couldn't post the confirmation in this channel because only some members may post there, so only you see it. Use `/call` in a channel where I can post, or ask a workspace admin to let me post in this one."
          : reason === 'direct_message'
            ? "I can't post in a direct message between people. Use `/call` in a channel I'm in (or in your DM with me) so that your team can follow the call."
            : `Slack refused the confirmation message (\`${escapeMrkdwn(slackError)}\`), so only you see it.`;
  const parent = callParentMessage(report);
  const details = callDetailsMessage(report);
  const blocks: KnownBlock[] = [...parent.blocks, ...details.blocks, context(how)];
  return { text: clip(`${parent.text}\n${how}`, LIMITS.fallbackText), blocks };
}

/**
 * Why a guard stopped a call, to the requester alone; for calling hours, a one-click "Schedule for <next allowed
 * time>" that places the same call then (as a new request, checked again).
 */
export function refusalMessage(
  message: string,
  schedule?: { requestId: string; at: Date; label: string },
): SlackMessage {
  const text = `🚫 ${message}`;
  const blocks: KnownBlock[] = [section(text)];
  if (schedule) {
    blocks.push({
      type: 'actions',
      block_id: 'schedule',
      elements: [
        {
          type: 'button',
          action_id: SCHEDULE_ACTION,
          style: 'primary',
          text: { type: 'plain_text', text: clip(`Schedule for ${schedule.label}`, 75) },
          value: `${schedule.requestId}|${schedule.at.getTime()}`,
        },
      ],
    });
  }
  return { text: clip(text, LIMITS.fallbackText), blocks };
}

/** The answer to a mistake in the command: what is wrong and how to write it. */
export function commandErrorMessage(error: CallRequestError, usage: string): SlackMessage {
  const text = `⚠️ ${error.userMessage}`;
  return {
    text,
    blocks: [
      section(text),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Usage: \`${escapeMrkdwn(usage)}\` · \`/call help\` for more` }],
      },
    ],
  };
}

/** `/call help`: usage, examples, and what is configured. */
export function helpMessage(catalog: CallCatalog, usage: string, maxScheduleDays: number): SlackMessage {
  const list = (kind: string, entries: readonly { alias: string }[], fallback?: { alias: string }) =>
    entries.length
      ? `*${kind}:* ${entries.map((e) => `\`${escapeMrkdwn(e.alias)}\`${e.alias === fallback?.alias ? ' (default)' : ''}`).join(', ')}`
      : `*${kind}:* none configured`;
  // Examples a rep can copy as they are: with an agent this app has (the default one).
  const agent = catalog.agents.fallback?.alias ?? catalog.agents.entries[0]?.alias;
  const agentWord = agent && /^[^\s"“”=`]+$/.test(agent) ? ` agent=${escapeMrkdwn(agent)}` : '';
  const examples = [
    '`/call +14155552671`: call now with the default agent',
    `\`/call +1 (415) 555-2671${agentWord} at "tomorrow 10am"\`: schedule it, in your own time zone`,
    '`/call +44 20 7183 8750 at friday 3pm Europe/London`: a time in another zone',
    `\`/call +14155552671${agentWord} CustomerName="Jane Doe" Plan=Pro meta.Source=webinar\`: dynamic variables and metadata`,
  ];
  const text = [
    '*Place an Iqra AI call*',
    `Usage: \`${escapeMrkdwn(usage)}\``,
    '',
    '*Examples*',
    ...examples.map((e) => `• ${e}`),
    '',
    list('Agents', catalog.agents.entries, catalog.agents.fallback),
    list('From numbers', catalog.numbers.entries, catalog.numbers.fallback),
    list('Campaigns', catalog.campaigns.entries, catalog.campaigns.fallback),
    '',
    '*Also:* `/call` alone opens a form · `/call batch` calls a list (CSV or pasted) · `/call history` · `/call status <id>` · admins: `/call dnc add|remove|check|list|import`, `/call audit`, `/call doctor`, `force`',
    '',
    `Numbers without \`+\` are read as ${catalog.defaultRegion} numbers. Times are read in your Slack time zone unless you name one; calls can be scheduled up to ${maxScheduleDays} days ahead. Any other \`Key=Value\` becomes a dynamic variable for the agent; \`meta.Key=Value\` is metadata. Quote values with spaces: \`Name="Jane Doe"\`.`,
  ].join('\n');
  return { text: clip(text, LIMITS.fallbackText), blocks: [section(text)] };
}
