import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import type { When } from '../../../calls/when.js';
import type { Logger } from '../../../log.js';
import type { CallDesk } from '../../../services/call-desk.js';
import { requestOf } from '../../../services/stored-request.js';
import type { Store } from '../../../store/store.js';

export interface PlaceAgainDeps {
  desk: CallDesk;
  store: Store;
  logger: Logger;
  newRequestId: () => string;
  now: () => Date;
}

export const ONLY_THE_REQUESTER = (userId: string) =>
  `Only <@${userId}>, who asked for this call, can place it again. They can press the button, or you can place your own call with \`/call\`.`;
export const ALREADY_PLACED_AGAIN = (requestId: string) =>
  `This call was already placed again, as request \`${requestId}\`. \`/call status ${requestId}\` shows how it went.`;

/**
 * "Place the call again" on a call whose outcome is unknown: a new, deliberate request with the same details, in the
 * same thread. Only the requester may press it, and each unknown call can be placed again once (double clicks,
 * two messages with the button, or two replicas handling the click all make one new request).
 */
export function placeAgainAction(deps: PlaceAgainDeps) {
  return async ({
    ack,
    body,
    action,
    respond,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    const previousId = action.value ?? '';
    const log = deps.logger.child({ previousRequestId: previousId, userId: body.user.id });
    const previous = await deps.store.getCall(previousId).catch(() => undefined);
    const resolved = previous ? requestOf(previous) : undefined;
    if (!previous || !resolved) {
      await ack();
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: `I can't find the call \`${previousId}\` any more.`,
      });
      return;
    }
    if (body.user.id !== previous.userId) {
      await ack();
      log.info('place again refused: not the requester');
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: ONLY_THE_REQUESTER(previous.userId),
      });
      return;
    }

    if (previous.state !== 'unknown') {
      // Only a call whose outcome is unknown is placed again. Another replica may have recorded Iqra's late answer
      // (queued) after the button was posted: pressing it then would dial the customer a second time.
      await ack();
      log.info('place again refused: the outcome is known now', { state: previous.state });
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: `The call \`${previousId}\` is not in doubt any more (it is *${previous.state}* now), so I did not place it again.`,
      });
      return;
    }

    const now = deps.now();
    const when: When =
      resolved.request.when.kind === 'scheduled' && resolved.request.when.at.getTime() > now.getTime()
        ? resolved.request.when
        : { kind: 'now' };
    const requestId = deps.newRequestId();
    const request = { ...resolved.request, requestId, when };
    const threadTs = previous.threadTs ?? previous.parentTs;
    const { created, requestId: existing } = await deps.desk.receiveResolved(
      `place_again:${previousId}`,
      request,
      resolved.zoneSource,
      {
        entryPoint: 'retry',
        retryOf: previousId,
        ...(threadTs ? { threadTs } : {}),
        ...(body.response_url ? { responseUrl: body.response_url } : {}),
      },
    );
    // Started even when the ack cannot be sent (a Socket Mode connection closing meanwhile): the request is recorded.
    await ack().finally(() => {
      if (created) deps.desk.start(requestId);
    });
    if (!created) {
      log.info('place again ignored: already done', { requestId: existing });
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: ALREADY_PLACED_AGAIN(existing ?? ''),
      });
      return;
    }
    log.info('call transition', { requestId, from: null, to: 'received', entryPoint: 'retry' });

    // The button has done its job: replace it with who pressed it, so nobody presses it again.
    const blocks = ((body.message?.blocks ?? []) as KnownBlock[]).filter((b) => b.type !== 'actions');
    await respond({
      replace_original: true,
      text: `Placed again by <@${body.user.id}> as request ${requestId}`,
      blocks: [
        ...blocks,
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: `🔁 <@${body.user.id}> placed the call again: request \`${requestId}\`` },
          ],
        },
      ],
    }).catch((err: unknown) => log.warn('could not update the message with the button', { error: err }));
  };
}
