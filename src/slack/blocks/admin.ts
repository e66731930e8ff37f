import type { KnownBlock, View } from '@slack/types';
import type { AuditEntry, DncEntry } from '../../store/store.js';
import type { SlackMessage } from './call-messages.js';
import { clip, escapeMrkdwn, LIMITS, section } from './mrkdwn.js';

export const DNC_IMPORT_MODAL = 'dnc_import_modal';
export const DNC_IMPORT_BLOCK = 'dnc_lines';
export const DNC_IMPORT_INPUT = 'lines';

function when(ms: number): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC>`;
}

export function plain(text: string): SlackMessage {
  const clipped = clip(text, LIMITS.sectionText);
  return {
    text: clip(text, LIMITS.fallbackText),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clipped } }],
  };
}

/**
 * A heading and its lines in as many sections as they need, each within Slack's 3000 characters and never cut in the
 * middle of a line (a date token or a mention cut in two shows as markup), within the blocks a message may have.
 */
function listMessage(head: string, lines: readonly string[]): SlackMessage {
  const fallback = clip([head, ...lines].join('\n'), LIMITS.fallbackText);
  const blocks: KnownBlock[] = [];
  let text = head;
  for (const [i, line] of lines.entries()) {
    if (text.length + 1 + line.length <= LIMITS.sectionText) {
      text = `${text}\n${line}`;
      continue;
    }
    if (blocks.length === LIMITS.blocksPerMessage - 2) {
      blocks.push(section(text), section(`…and ${lines.length - i} more lines not shown.`));
      return { text: fallback, blocks };
    }
    blocks.push(section(text));
    text = line;
  }
  blocks.push(section(text));
  return { text: fallback, blocks };
}

export function dncEntryLine(display: string, entry: DncEntry, withReason: boolean): string {
  const reason = withReason && entry.reason ? ` · ${escapeMrkdwn(clip(entry.reason, 300))}` : '';
  return `*${display}* · added by <@${entry.addedBy}> ${when(entry.addedAt)}${reason}`;
}

export function dncListMessage(lines: string[], total: number): SlackMessage {
  if (total === 0)
    return plain('The do-not-call list is empty. Add a number with `/call dnc add +14155552671 reason`.');
  const more = total > lines.length ? [`…and ${total - lines.length} more.`] : [];
  return listMessage(`*Do-not-call list* (${total} number${total === 1 ? '' : 's'})`, [...lines, ...more]);
}

export function auditMessage(entries: readonly AuditEntry[]): SlackMessage {
  if (entries.length === 0) return plain('The audit log is empty.');
  const lines = entries.map((e) => {
    const actor = e.actor === 'app' ? 'the app' : `<@${e.actor}>`;
    const detail = Object.entries(e.detail)
      .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
      .map(([k, v]) => `${escapeMrkdwn(clip(k, 50))}=${escapeMrkdwn(clip(String(v), 200))}`)
      .join(' ');
    return `${when(e.at)} · ${actor} · \`${e.action}\`${e.target ? ` · \`${escapeMrkdwn(e.target)}\`` : ''}${detail ? ` · ${detail}` : ''}`;
  });
  return listMessage(`*Audit log* (latest ${entries.length})`, lines);
}

/** The bulk import form: pasted lines or CSV, numbers in any column (all of a row's are listed), the rest as the reason. */
export function dncImportModal(): View {
  return {
    type: 'modal',
    callback_id: DNC_IMPORT_MODAL,
    title: { type: 'plain_text', text: 'Import do-not-call' },
    submit: { type: 'plain_text', text: 'Import' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: 'Paste one number per line, or CSV rows (any column may hold a number, and every number of a row is listed; the other columns become the reason). Numbers without `+` are read in the default region.',
        },
      },
      {
        type: 'input',
        block_id: DNC_IMPORT_BLOCK,
        label: { type: 'plain_text', text: 'Numbers' },
        element: {
          type: 'plain_text_input',
          action_id: DNC_IMPORT_INPUT,
          multiline: true,
          placeholder: { type: 'plain_text', text: '+14155552671, asked not to be called\n+44 20 7183 8750' },
        },
      },
    ],
  };
}

export function dncImportResult(added: number, duplicates: number, rejected: string[]): View {
  const shown = rejected.slice(0, 20).map((r) => `• ${escapeMrkdwn(r)}`);
  const text = [
    `*Added:* ${added}`,
    `*Skipped as duplicates:* ${duplicates}`,
    `*Rejected as invalid:* ${rejected.length}`,
    ...(shown.length
      ? ['', ...shown, ...(rejected.length > 20 ? [`…and ${rejected.length - 20} more`] : [])]
      : []),
  ].join('\n');
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'Import done' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } }],
  };
}
