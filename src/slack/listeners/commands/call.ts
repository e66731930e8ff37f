import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { type CallCatalog, type CallRequest, draftCallRequest } from '../../../calls/call-request.js';
import { parseCallCommand, USAGE } from '../../../calls/command.js';
import { CallRequestError } from '../../../calls/errors.js';
import { isValidTimeZone, resolveWhen } from '../../../calls/when.js';
import type { Logger } from '../../../log.js';
import type { IntentLedger } from '../../../services/intent-ledger.js';
import { type CallInitiator, placeCall } from '../../../services/place-call.js';
import { commandErrorMessage, helpMessage } from '../../blocks/call-messages.js';
import { announceCall } from '../../notify.js';
import type { UserZones } from '../../user-zones.js';

export interface CallCommandDeps {
  catalog: CallCatalog;
  maxScheduleDays: number;
  defaultTimeZone: string;
  logChannel?: string;
  iqra: CallInitiator;
  ledger: IntentLedger;
  zones: UserZones;
  logger: Logger;
  now: () => Date;
  newRequestId: () => string;
}

export const SOMETHING_WENT_WRONG =
  '⚠️ Something went wrong on my side while handling your call. If a request id is shown, check Iqra before trying again.';

/**
 * `/call <number> [agent=..] [from=..] [campaign=..] [at ".."] [Key=Value ..] [meta.Key=Value ..]` and `/call help`.
 * Mistakes that need no lookup are answered in the ack itself; everything slow happens after the ack.
 */
export function callCommand(deps: CallCommandDeps) {
  return async ({
    command,
    ack,
    respond,
    client,
    context,
  }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const requestId = deps.newRequestId();
    const log = deps.logger.child({ requestId, userId: command.user_id, channel: command.channel_id });
    let draft: ReturnType<typeof draftCallRequest>;
    try {
      const parsed = parseCallCommand(command.text ?? '');
      if (parsed.kind === 'help') {
        await ack({ response_type: 'ephemeral', ...helpMessage(deps.catalog, USAGE, deps.maxScheduleDays) });
        return;
      }
      draft = draftCallRequest(
        parsed,
        deps.catalog,
        { teamId: command.team_id, channelId: command.channel_id, userId: command.user_id },
        requestId,
      );
    } catch (err) {
      if (!(err instanceof CallRequestError)) throw err;
      log.info('command refused', { field: err.field, reason: err.userMessage });
      await ack({ response_type: 'ephemeral', ...commandErrorMessage(err, USAGE) });
      return;
    }

    // One call per command: Slack redelivers a command it thinks failed, with the same trigger_id.
    const intent = `command:${command.trigger_id || command.response_url}`;
    if (!(await deps.ledger.claim(intent))) {
      log.warn('redelivered command ignored: it was already handled', { retryNum: context.retryNum });
      await ack();
      return;
    }
    await ack();

    try {
      const zone = await deps.zones.zoneOf(client, command.user_id);
      const timeZone = isValidTimeZone(zone.timeZone) ? zone.timeZone : deps.defaultTimeZone;
      let request: CallRequest;
      try {
        const when = resolveWhen(draft.whenPhrase, {
          now: deps.now(),
          timeZone,
          maxScheduleDays: deps.maxScheduleDays,
        });
        request = { ...draft, when, requesterTimeZone: timeZone };
      } catch (err) {
        if (!(err instanceof CallRequestError)) throw err;
        log.info('command refused', { field: err.field, reason: err.userMessage });
        await respond({ response_type: 'ephemeral', ...commandErrorMessage(err, USAGE) });
        return;
      }
      const outcome = await placeCall(request, deps.iqra, log);
      await announceCall(
        { request, outcome, zoneSource: timeZone === zone.timeZone ? zone.source : 'default' },
        client,
        respond,
        log,
        deps.logChannel,
      );
    } catch (err) {
      log.error('call command failed after the ack', { error: err });
      await respond({
        response_type: 'ephemeral',
        text: `${SOMETHING_WENT_WRONG} (request id \`${requestId}\`)`,
      }).catch(() => {});
    }
  };
}
