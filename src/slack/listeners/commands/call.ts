import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { type CallCatalog, draftCallRequest } from '../../../calls/call-request.js';
import { parseCallCommand, USAGE } from '../../../calls/command.js';
import { CallRequestError } from '../../../calls/errors.js';
import type { Logger } from '../../../log.js';
import type { CallDesk } from '../../../services/call-desk.js';
import type { Store } from '../../../store/store.js';
import { commandErrorMessage, helpMessage, type SlackMessage } from '../../blocks/call-messages.js';
import { historyMessage, STATUS_NOT_FOUND, statusMessage } from '../../blocks/history.js';

export interface CallCommandDeps {
  catalog: CallCatalog;
  maxScheduleDays: number;
  desk: CallDesk;
  store: Store;
  logger: Logger;
  newRequestId: () => string;
}

export const NOT_RECORDED =
  "⚠️ I couldn't record your request (the app's database is not answering), so nothing was sent to Iqra. Please try again in a minute.";

function ephemeral(message: SlackMessage) {
  return { response_type: 'ephemeral' as const, ...message };
}

/**
 * `/call <number> [agent=..] [from=..] [campaign=..] [at ".."] [Key=Value ..] [meta.Key=Value ..]`, `/call help`,
 * `/call history` and `/call status <id>`. The request is checked and recorded before Slack is acked; mistakes that
 * need no lookup are answered in the ack itself; everything slow happens after it.
 */
export function callCommand(deps: CallCommandDeps) {
  return async ({ command, ack, context }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const requestId = deps.newRequestId();
    const log = deps.logger.child({ requestId, userId: command.user_id, channel: command.channel_id });
    let parsed: ReturnType<typeof parseCallCommand>;
    let draft: ReturnType<typeof draftCallRequest>;
    try {
      parsed = parseCallCommand(command.text ?? '');
      if (parsed.kind === 'help') {
        await ack(ephemeral(helpMessage(deps.catalog, USAGE, deps.maxScheduleDays)));
        return;
      }
      if (parsed.kind === 'history' || parsed.kind === 'status') {
        await ack(ephemeral(await lookUp(deps.store, command.team_id, command.user_id, parsed)));
        return;
      }
      draft = draftCallRequest(
        parsed,
        deps.catalog,
        { teamId: command.team_id, channelId: command.channel_id, userId: command.user_id },
        requestId,
      );
    } catch (err) {
      if (err instanceof CallRequestError) {
        log.info('command refused', { field: err.field, reason: err.userMessage });
        await ack(ephemeral(commandErrorMessage(err, USAGE)));
        return;
      }
      log.error('could not read the store for history or status', { error: err });
      await ack(ephemeral({ text: NOT_RECORDED, blocks: [] }));
      return;
    }

    // One call per command: Slack redelivers a command it thinks failed, with the same trigger_id.
    let created: boolean;
    try {
      ({ created } = await deps.desk.receive(`command:${command.trigger_id || command.response_url}`, draft, {
        entryPoint: 'command',
        responseUrl: command.response_url,
      }));
    } catch (err) {
      log.error('could not record the call request', { error: err });
      await ack(ephemeral({ text: NOT_RECORDED, blocks: [] }));
      return;
    }
    if (!created) {
      log.warn('redelivered command ignored: it was already handled', { retryNum: context.retryNum });
      await ack();
      return;
    }
    log.info('call transition', { from: null, to: 'received', entryPoint: 'command' });
    await ack();
    deps.desk.start(requestId);
  };
}

async function lookUp(
  store: Store,
  teamId: string,
  userId: string,
  parsed: { kind: 'history' } | { kind: 'status'; id: string },
): Promise<SlackMessage> {
  if (parsed.kind === 'history') return historyMessage(await store.recentCalls(teamId, userId, 10));
  const call = (await store.getCall(parsed.id)) ?? (await store.findCallByQueueId(parsed.id));
  if (!call || call.teamId !== teamId || call.userId !== userId) {
    const text = STATUS_NOT_FOUND(parsed.id);
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
  }
  return statusMessage(call, await store.transitions(call.id));
}
