import type { KnownBlock } from '@slack/types';
import { END_WORDS } from '../../calls/progress.js';
import { type CallReport, formatDuration, type SlackMessage } from './call-messages.js';
import { clip, escapeMrkdwn, LIMITS } from './mrkdwn.js';

export interface Turn {
  role: number;
  content: string;
}

/** How many blocks the conversation may use: Slack allows 50 per message, and the outcome needs a few. */
const MAX_TURN_BLOCKS = 44;

/**
 * How many characters the conversation may use in all. Besides 3,000 per section, Slack refuses a message whose blocks
 * carry more than about 12,000 characters together (`msg_blocks_too_long`; undocumented, seen from about 11,300), and
 * a refused outcome reply would show nothing at all. The heading and the note of what was left out keep the rest.
 */
export const MAX_CONVERSATION_CHARS = 9_000;

/**
 * The reply in the call's thread when it ended: the outcome and duration, and with CALL_TRANSCRIPTS=full the
 * conversation (Agent / Customer turns), shortened to Slack's limits with a note of how much was left out.
 */
export function callOutcomeMessage(report: CallReport, turns?: readonly Turn[]): SlackMessage {
  const progress = report.progress;
  const end = progress?.end ?? 'completed';
  const duration =
    progress?.durationSeconds !== undefined ? `, after ${formatDuration(progress.durationSeconds)}` : '';
  const heading = `*The call ended: ${END_WORDS[end]}*${duration}.`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: heading } }];
  if (turns && turns.length > 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '*Conversation*' } });
    const max = LIMITS.sectionText - 10;
    const lines = turns.map((turn) =>
      clip(`*${turn.role === 2 ? 'Agent' : 'Customer'}:* ${escapeMrkdwn(turn.content.trim())}`, max),
    );
    let turnBlocks = 0;
    let shown = 0;
    let used = 0;
    let current = '';
    for (const line of lines) {
      used += line.length + 1;
      if (used > MAX_CONVERSATION_CHARS) break;
      if (current && current.length + 1 + line.length > max) {
        blocks.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
        turnBlocks += 1;
        current = '';
        if (turnBlocks >= MAX_TURN_BLOCKS) break;
      }
      current = current ? `${current}\n${line}` : line;
      shown += 1;
    }
    if (current) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: current } });
    const left = turns.length - shown;
    if (left > 0) {
      const leftChars = turns.slice(shown).reduce((n, t) => n + t.content.length, 0);
      blocks.push({
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `… ${left} more turn${left === 1 ? '' : 's'} (${leftChars.toLocaleString('en-US')} characters) left out to fit Slack's limits. Iqra's dashboard has the whole conversation.`,
          },
        ],
      });
    }
  } else if (turns) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Nothing was said.' }] });
  }
  const text = clip(`${heading}`, LIMITS.fallbackText);
  return { text, blocks: blocks.slice(0, LIMITS.blocksPerMessage) };
}
