import type { HomeView, KnownBlock } from '@slack/types';
import type { CallCatalog } from '../../calls/call-request.js';
import { clip, escapeMrkdwn, LIMITS } from './mrkdwn.js';

/** The Home tab's "Place a call" button: opens the call modal, which asks for the channel. */
export const HOME_ACTIONS_BLOCK = 'home_actions';
export const OPEN_CALL_MODAL_ACTION = 'open_call_modal';

function list(entries: readonly { alias: string }[], fallback?: { alias: string }): string {
  if (entries.length === 0) return 'none configured';
  return entries
    .map((e) => `\`${escapeMrkdwn(e.alias)}\`${e.alias === fallback?.alias ? ' (default)' : ''}`)
    .join(', ');
}

/** The App Home's Home tab: what the app does, a button to place a call, and the other ways to place one. */
export function homeView(catalog: CallCatalog, maxScheduleDays: number): HomeView {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Iqra Calls' } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text:
          'Have an Iqra AI agent phone a customer, now or later. Choose the number, the agent and the time; ' +
          'the call is confirmed in the channel you choose, with its details in a thread.',
      },
    },
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
      ],
    },
    { type: 'divider' },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(
          [
            '*Other ways to place a call*',
            '• In any channel: `/call +14155552671 agent=sales at "tomorrow 10am"` (`/call` alone opens the form, `/call help` explains it all).',
            '• On a message with a phone number: *More actions* (⋮) → *Call this number*. The confirmation goes in that message’s thread.',
            '• From anywhere: the shortcuts menu (⚡) → *Place a call*.',
            `Times are read in your Slack time zone; calls can be scheduled up to ${maxScheduleDays} days ahead. \`/call history\` lists your last calls.`,
          ].join('\n'),
          LIMITS.sectionText,
        ),
      },
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: clip(
            [
              `*Agents:* ${list(catalog.agents.entries, catalog.agents.fallback)}`,
              `*From numbers:* ${list(catalog.numbers.entries, catalog.numbers.fallback)}`,
              `*Campaigns:* ${list(catalog.campaigns.entries, catalog.campaigns.fallback)}`,
            ].join('  ·  '),
            LIMITS.sectionText,
          ),
        },
      ],
    },
  ];
  return { type: 'home', blocks };
}
