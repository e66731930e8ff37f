import type { KnownBlock } from '@slack/types';
import type { Progress } from '../../calls/progress.js';
import type { BatchSummary } from '../../services/batch-desk.js';
import type { CallRecord, CallState, CallTransition } from '../../store/store.js';
import type { SlackMessage } from './call-messages.js';
import { liveStateInWords, progressInWords } from './home.js';
import { clip, escapeMrkdwn, LIMITS } from './mrkdwn.js';

const STATE_WORDS: Record<CallState, string> = {
  received: '⏳ received',
  pending_approval: '🕒 waiting for approval',
  approved: '👍 approved',
  rejected: '🚫 rejected',
  expired: '⌛ expired',
  sending: '⏳ sending to Iqra',
  queued: '✅ queued',
  failed: '❌ not placed',
  unknown: '⚠️ outcome unknown',
  refused: '🚫 refused',
  dry_run: '🧪 dry run (nothing sent)',
  waiting: '⏳ waiting its turn in a batch',
  cancelled: '✋ cancelled (batch stopped)',
};

export function stateInWords(state: string): string {
  return STATE_WORDS[state as CallState] ?? state;
}

function at(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC>`;
}

function numberOf(call: CallRecord): string {
  const recipient = call.request.recipient as { display?: string } | undefined;
  return recipient?.display ?? call.recipient;
}

function line(call: CallRecord): string {
  const ids = call.queueIds.length ? ` · queue \`${call.queueIds.map(escapeMrkdwn).join('`, `')}\`` : '';
  return `${at(call.createdAt)} · *${numberOf(call)}* · ${escapeMrkdwn(call.agentAlias)} · ${liveStateInWords(call)}${ids} · \`${call.id}\``;
}

/** A batch as `/call history` and the Home tab list it (BatchSummary). */
export type BatchLine = BatchSummary;

const BATCH_STATE_WORDS: Record<string, string> = {
  pending_approval: '🕒 waiting for approval',
  running: '▶️ running',
  stopped: '✋ stopped',
  done: '✅ done',
  rejected: '🚫 rejected',
  expired: '⌛ expired',
};

export function batchLine(batch: BatchLine): string {
  return `${at(batch.createdAt)} · *Batch* of ${batch.total} · ${BATCH_STATE_WORDS[batch.state] ?? batch.state} · ${batch.done}/${batch.total} over · \`${batch.id}\``;
}

/** `/call history`: the requester's latest calls, newest first, and their latest batches. */
export function historyMessage(
  calls: readonly CallRecord[],
  batches: readonly BatchLine[] = [],
): SlackMessage {
  if (calls.length === 0 && batches.length === 0) {
    const text = "You haven't placed any calls yet. Try `/call +14155552671` (`/call help` for more).";
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
  }
  const text = [
    ...(calls.length
      ? [`*Your last ${calls.length} call${calls.length === 1 ? '' : 's'}*`, ...calls.map(line)]
      : []),
    ...(batches.length
      ? [
          ...(calls.length ? [''] : []),
          `*Your last ${batches.length} batch${batches.length === 1 ? '' : 'es'}*`,
          ...batches.map(batchLine),
        ]
      : []),
  ].join('\n');
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: '`/call status <request id, queue id or batch id>` shows one call or batch.',
        },
      ],
    },
  ];
  return { text: clip(text, LIMITS.fallbackText), blocks };
}

/** A transition in words: a state change, or (tracking) a progress step, the last one with how the call ended. */
function stepInWords(t: CallTransition, call: CallRecord): string {
  if (t.detail.kind !== 'progress')
    return `${t.from ? `${stateInWords(t.from)} → ` : ''}${stateInWords(t.to)}`;
  const words = (progress: string) =>
    progressInWords({
      progress: progress as Progress,
      ...(progress === 'ended' && call.callEnd ? { callEnd: call.callEnd } : {}),
      ...(progress === 'ended' && call.durationSeconds !== undefined
        ? { durationSeconds: call.durationSeconds }
        : {}),
    }) ?? progress;
  return `${t.from ? `${words(t.from)} → ` : ''}${words(t.to)}`;
}

/**
 * Why the call was not placed or how it stands, in words: a failed or unknown call's quotes Iqra's own message, which
 * may echo what the rep typed, so it is shown as text (never a mention or a link); the others are the app's own words
 * (a guard's, with its channel links and dates).
 */
function userMessageOf(call: CallRecord, message: string): string {
  return call.state === 'failed' || call.state === 'unknown' ? escapeMrkdwn(message) : message;
}

/** `/call status <id>`: one call and what happened to it, step by step. */
export function statusMessage(call: CallRecord, transitions: readonly CallTransition[]): SlackMessage {
  const head = `*Call \`${call.id}\`* to *${numberOf(call)}* with *${escapeMrkdwn(call.agentAlias)}*: ${liveStateInWords(call)}`;
  const facts = [
    `Requested by <@${call.userId}> in <#${call.channelId}> on ${at(call.createdAt)}`,
    call.queueIds.length ? `Queue id: \`${call.queueIds.map(escapeMrkdwn).join('`, `')}\`` : undefined,
    call.iqraCode ? `Iqra code: \`${escapeMrkdwn(call.iqraCode)}\`` : undefined,
    call.userMessage ? userMessageOf(call, call.userMessage) : undefined,
    call.retryOf ? `Places again \`${call.retryOf}\`` : undefined,
  ].filter(Boolean);
  const steps = transitions.map((t) => `${at(t.at)} ${stepInWords(t, call)}`);
  const text = [head, ...facts, '', '*What happened*', ...steps].join('\n');
  return {
    text: clip(text, LIMITS.fallbackText),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } }],
  };
}

export const STATUS_NOT_FOUND = (id: string) =>
  `I found no call \`${escapeMrkdwn(clip(id, 100))}\` of yours. \`/call history\` lists your last 10 calls with their ids.`;
