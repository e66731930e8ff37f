import type { webApi } from '@slack/bolt';
import type { Logger } from '../log.js';
import {
  type CallReport,
  callDetailsMessage,
  callLogMessage,
  callParentMessage,
  type SlackMessage,
  type UndeliverableReason,
  undeliverableMessage,
} from './blocks/call-messages.js';

/** Posts a message to the requester alone: Bolt's `respond` (the command's response_url). */
export type RespondToRequester = (message: SlackMessage & { response_type: 'ephemeral' }) => Promise<unknown>;

export interface Announcement {
  /** Where the requester learned the outcome. */
  deliveredTo: 'channel' | 'requester' | 'nobody';
  parentTs?: string;
}

/** Slack's error code from a Web API failure (`not_in_channel`, `ratelimited`, ...), or the client's own code. */
export function slackErrorCode(err: unknown): string {
  const e = err as { data?: { error?: unknown }; code?: unknown };
  if (typeof e?.data?.error === 'string') return e.data.error;
  if (typeof e?.code === 'string') return e.code;
  return 'unknown_error';
}

function undeliverableReason(channelId: string, code: string): UndeliverableReason {
  if (channelId.startsWith('D')) return 'direct_message';
  if (['not_in_channel', 'channel_not_found', 'is_archived', 'restricted_action'].includes(code))
    return 'not_in_channel';
  return 'slack_error';
}

/**
 * Tells the channel what happened to a call: one parent message, the details in its thread, and a copy of the parent
 * in the log channel. When the bot cannot post in the channel, the requester is told alone, with how to fix it.
 */
export async function announceCall(
  report: CallReport,
  client: webApi.WebClient,
  respond: RespondToRequester,
  logger: Logger,
  logChannel?: string,
): Promise<Announcement> {
  const channel = report.request.origin.channelId;
  const log = logger.child({ requestId: report.request.requestId, channel });
  let announcement: Announcement;
  try {
    const parent = callParentMessage(report);
    const posted = await client.chat.postMessage({
      channel,
      text: parent.text,
      blocks: parent.blocks,
      unfurl_links: false,
    });
    const parentTs = posted.ts;
    announcement = { deliveredTo: 'channel', ...(parentTs ? { parentTs } : {}) };
    if (parentTs) {
      const details = callDetailsMessage(report);
      await client.chat
        .postMessage({
          channel,
          thread_ts: parentTs,
          text: details.text,
          blocks: details.blocks,
          unfurl_links: false,
        })
        .catch((err: unknown) =>
          log.warn('could not post the call details in the thread', { slackError: slackErrorCode(err) }),
        );
    }
  } catch (err) {
    const code = slackErrorCode(err);
    log.warn('could not post the call in its channel; telling the requester alone', { slackError: code });
    const notice = undeliverableMessage(report, undeliverableReason(channel, code), code);
    try {
      await respond({ response_type: 'ephemeral', ...notice });
      announcement = { deliveredTo: 'requester' };
    } catch (respondErr) {
      log.error('could not tell the requester either', { error: respondErr });
      announcement = { deliveredTo: 'nobody' };
    }
  }
  if (logChannel && logChannel !== channel) {
    const copy = callLogMessage(report);
    await client.chat
      .postMessage({ channel: logChannel, text: copy.text, blocks: copy.blocks, unfurl_links: false })
      .catch((err: unknown) =>
        log.warn('could not copy the call to CALL_LOG_CHANNEL', { slackError: slackErrorCode(err) }),
      );
  }
  return announcement;
}
