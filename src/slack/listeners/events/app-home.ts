import type {
  AllMiddlewareArgs,
  BlockButtonAction,
  SlackActionMiddlewareArgs,
  SlackEventMiddlewareArgs,
} from '@slack/bolt';
import type { CallCatalog } from '../../../calls/call-request.js';
import type { Logger } from '../../../log.js';
import { callModal } from '../../blocks/call-modal.js';
import { homeView } from '../../blocks/home.js';
import type { UserZones } from '../../user-zones.js';
import { openCallModal } from '../views/open-call-modal.js';

export interface AppHomeDeps {
  catalog: CallCatalog;
  maxScheduleDays: number;
  zones: UserZones;
  logger: Logger;
}

/** The Home tab is opened: publish it for that user (the Messages tab needs nothing). */
export function appHomeOpened(deps: AppHomeDeps) {
  return async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs) => {
    if (event.tab !== 'home') return;
    try {
      await client.views.publish({ user_id: event.user, view: homeView(deps.catalog, deps.maxScheduleDays) });
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
      deps.logger.warn('could not publish the Home tab', { userId: event.user, slackError: code });
    }
  };
}

/** The Home tab's "Place a call" button: the call modal, which asks for the channel to confirm the call in. */
export function homePlaceCallAction(deps: AppHomeDeps) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    await ack();
    const failed = await openCallModal(client, deps, {
      triggerId: body.trigger_id,
      userId: body.user.id,
      view: callModal(deps.catalog, { origin: { source: 'home' } }),
    });
    if (!failed) deps.logger.info('call modal opened', { source: 'home', userId: body.user.id });
  };
}
