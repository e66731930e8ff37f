import type { KnownBlock } from '@slack/types';
import {
  DOCTOR_SECTIONS,
  type DoctorCheck,
  doctorExitCode,
  doctorSummary,
  STATUS_ICON,
} from '../../services/doctor.js';
import type { SlackMessage } from './call-messages.js';
import { clip, escapeMrkdwn, LIMITS, section } from './mrkdwn.js';

/** The longest single line (a check and its fix), so that one long line cannot take a whole section. */
const MAX_LINE = 1200;

/**
 * The doctor's report for Slack (ephemeral): a header, a summary, then one section per part (Slack, Iqra, the
 * database, the guards), each line ✅ / ⚠️ / ❌ with its fix under it. Within Slack's limits: a section's text is at
 * most 3000 characters (a long part is split over several sections) and the message at most 50 blocks (the last
 * then says how much was left out; the fallback text lists every ❌ line).
 */
export function doctorMessage(checks: readonly DoctorCheck[]): SlackMessage {
  const summary = doctorSummary(checks);
  const ready = doctorExitCode(checks) === 0;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: '🩺 Iqra Calls doctor', emoji: true } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `${ready ? '✅ Nothing is broken' : '❌ Something needs fixing'}: ${summary}. Nothing was posted and no call was placed.`,
        },
      ],
    },
  ];
  // Room for the header, the summary and a closing note about anything left out.
  const room = LIMITS.blocksPerMessage - blocks.length - 1;
  const body: KnownBlock[] = [];
  let left = 0;
  for (const { id, title } of DOCTOR_SECTIONS) {
    const own = checks.filter((c) => c.section === id);
    if (own.length === 0) continue;
    let text = `*${title}*`;
    for (const check of own) {
      const line = clip(renderLine(check), MAX_LINE);
      if (text.length + 1 + line.length > LIMITS.sectionText) {
        body.push(section(text));
        text = line;
      } else {
        text = `${text}\n${line}`;
      }
    }
    body.push(section(text));
  }
  if (body.length > room) {
    left = body.length - room;
    body.length = room;
  }
  blocks.push(...body);
  if (left > 0) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `…and ${left} more part${left === 1 ? '' : 's'} of the report, left out to fit Slack's limits. \`npm start -- --check\` prints all of it.`,
        },
      ],
    });
  }
  const problems = checks.filter((c) => c.status === 'fail').map((c) => `❌ ${c.text}`);
  const text = clip([`Iqra Calls doctor: ${summary}.`, ...problems].join('\n'), LIMITS.fallbackText);
  return { text, blocks };
}

function renderLine(check: DoctorCheck): string {
  const line = `${STATUS_ICON[check.status]} ${escapeMrkdwn(check.text)}`;
  return check.fix ? `${line}\n        ↳ _Fix:_ ${escapeMrkdwn(check.fix)}` : line;
}
