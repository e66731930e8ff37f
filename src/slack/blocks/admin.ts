import type { View } from '@slack/types';
import type { AuditEntry, DncEntry } from '../../store/store.js';
import type { SlackMessage } from './call-messages.js';
import { clip, escapeMrkdwn, LIMITS } from './mrkdwn.js';

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

export function dncEntryLine(display: string, entry: DncEntry, withReason: boolean): string {
  const reason = withReason && entry.reason ? ` · ${escapeMrkdwn(entry.reason)}` : '';
  return `*${display}* · added by <@${entry.addedBy}> ${when(entry.addedAt)}${reason}`;
}

export function dncListMessage(lines: string[], total: number): SlackMessage {
  if (total === 0)
    return plain('The do-not-call list is empty. Add a number with `/call dnc add +14155552671 reason`.');
  const more = total > lines.length ? `\n…and ${total - lines.length} more.` : '';
  return plain(`*Do-not-call list* (${total} number${total === 1 ? '' : 's'})\n${lines.join('\n')}${more}`);
}

export function auditMessage(entries: readonly AuditEntry[]): SlackMessage {
  if (entries.length === 0) return plain('The audit log is empty.');
  const lines = entries.map((e) => {
    const actor = e.actor === 'app' ? 'the app' : `<@${e.actor}>`;
    const detail = Object.entries(e.detail)
      .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
      .map(([k, v]) => `${k}=${escapeMrkdwn(String(v))}`)
      .join(' ');
    return `${when(e.at)} · ${actor} · \`${e.action}\`${e.target ? ` · \`${escapeMrkdwn(e.target)}\`` : ''}${detail ? ` · ${detail}` : ''}`;
  });
  return plain(`*Audit log* (latest ${entries.length})\n${lines.join('\n')}`);
}

/** The bulk import form: pasted lines or CSV, the number in any column, the rest as the reason. */
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
          text: 'Paste one number per line, or CSV rows (any column may hold the number; the other columns become the reason). Numbers without `+` are read in the default region.',
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
