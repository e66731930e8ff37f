import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { CallRequest } from '../../../calls/call-request.js';
import type { Logger } from '../../../log.js';
import type { CallDesk } from '../../../services/call-desk.js';
import { requestOf } from '../../../services/stored-request.js';
import type { Store } from '../../../store/store.js';
import { ALREADY_PLACED_AGAIN, ONLY_THE_REQUESTER } from './place-again.js';

export interface ScheduleDeps {
  desk: CallDesk;
  store: Store;
  logger: Logger;
  newRequestId: () => string;
  now: () => Date;
}

/**
 * "Schedule for <time>" on a call refused for calling hours: the same call as a new request at the next allowed time,
 * checked again by every guard. Only the requester may press it, and it makes one request however often it is pressed.
 * Pressed after that time (the next day, say), the call is for now, and the calling-hours guard looks at now: a time
 * already gone would be placed at once by Iqra, whatever the hour where the callee is.
 */
export function scheduleAction(deps: ScheduleDeps) {
  return async ({
    ack,
    body,
    action,
    respond,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    const [previousId = '', atText = ''] = (action.value ?? '').split('|');
    const at = Number(atText);
    const previous = await deps.store.getCall(previousId).catch(() => undefined);
    const resolved = previous ? requestOf(previous) : undefined;
    const say = (text: string) =>
      typeof respond === 'function'
        ? respond({ response_type: 'ephemeral', replace_original: false, text })
        : Promise.resolve();
    if (!previous || !resolved || !Number.isFinite(at)) {
      await ack();
      await say(`I can't find the call \`${previousId}\` any more.`);
      return;
    }
    if (body.user.id !== previous.userId) {
      await ack();
      await say(ONLY_THE_REQUESTER(previous.userId));
      return;
    }
    const requestId = deps.newRequestId();
    const when: CallRequest['when'] =
      at > deps.now().getTime()
        ? {
            kind: 'scheduled',
            at: new Date(at),
            timeZone: resolved.request.requesterTimeZone,
            zoneSource: 'requester',
            phrase: 'the next time within calling hours',
          }
        : { kind: 'now' };
    const request = { ...resolved.request, requestId, when };
    const { created, requestId: existing } = await deps.desk.receiveResolved(
      `schedule:${previousId}`,
      request,
      resolved.zoneSource,
      {
        entryPoint: 'retry',
        retryOf: previousId,
        ...(previous.threadTs ? { threadTs: previous.threadTs } : {}),
        ...(body.response_url ? { responseUrl: body.response_url } : {}),
      },
    );
    // Started even when the ack cannot be sent (a Socket Mode connection closing meanwhile): the request is recorded.
    await ack().finally(() => {
      if (created) deps.desk.start(requestId);
    });
    if (!created) {
      await say(ALREADY_PLACED_AGAIN(existing ?? ''));
      return;
    }
    deps.logger.info('call transition', {
      requestId,
      from: null,
      to: 'received',
      entryPoint: 'schedule',
      retryOf: previousId,
    });
    if (typeof respond === 'function') {
      await respond({
        replace_original: true,
        text:
          when.kind === 'scheduled'
            ? `🗓️ Scheduled as request \`${requestId}\`: the confirmation follows.`
            : `📞 That time has passed, so this is a call for now, as request \`${requestId}\` (checked against ` +
              'calling hours again): the confirmation follows.',
      }).catch(() => {});
    }
  };
}
