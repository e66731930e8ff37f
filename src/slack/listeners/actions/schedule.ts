import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
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
}

/**
 * "Schedule for <time>" on a call refused for calling hours: the same call as a new request at the next allowed time,
 * checked again by every guard. Only the requester may press it, and it makes one request however often it is pressed.
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
    const request = {
      ...resolved.request,
      requestId,
      when: {
        kind: 'scheduled' as const,
        at: new Date(at),
        timeZone: resolved.request.requesterTimeZone,
        zoneSource: 'requester' as const,
        phrase: 'the next time within calling hours',
      },
    };
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
    await ack();
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
    deps.desk.start(requestId);
    if (typeof respond === 'function') {
      await respond({
        replace_original: true,
        text: `🗓️ Scheduled as request \`${requestId}\`: the confirmation follows.`,
      }).catch(() => {});
    }
  };
}
