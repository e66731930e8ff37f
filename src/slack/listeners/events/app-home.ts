import type {
  AllMiddlewareArgs,
  BlockButtonAction,
  SlackActionMiddlewareArgs,
  SlackEventMiddlewareArgs,
} from '@slack/bolt';
import type { CallCatalog } from '../../../calls/call-request.js';
import type { Logger } from '../../../log.js';
import { callModal } from '../../blocks/call-modal.js';
import type { HomeTab } from '../../home-tab.js';
import type { UserZones } from '../../user-zones.js';
import { MODAL_NOT_OPENED } from '../commands/call.js';
import { openCallModal, sayFormNotOpened } from '../views/open-call-modal.js';

export interface AppHomeDeps {
  catalog: CallCatalog;
  zones: UserZones;
  logger: Logger;
  /** Publishes the Home tab, and keeps it up to date while the user is a viewer. */
  homeTab: HomeTab;
}

/**
 * The Home tab is opened: publish it for that user, with their calls (and for an approver, the calls waiting for
 * approval), and keep it up to date as they change. The Messages tab needs nothing.
 */
export function appHomeOpened(deps: Pick<AppHomeDeps, 'homeTab'>) {
  return async ({
    event,
    body,
    context,
  }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs) => {
    if (event.tab !== 'home') return;
    // Publishing errors are logged by HomeTab, never thrown.
    await deps.homeTab.opened(event.user, context.teamId ?? body.team_id);
  };
}

/** The Home tab's "Place a call" button: the call modal, which asks for the channel to confirm the call in. */
export function homePlaceCallAction(deps: Pick<AppHomeDeps, 'catalog' | 'zones' | 'logger'>) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    await ack();
    const failed = await openCallModal(client, deps, {
      triggerId: body.trigger_id,
      userId: body.user.id,
      view: callModal(deps.catalog, { origin: { source: 'home' } }),
    });
    if (failed) await sayFormNotOpened(client, deps.logger, body.user.id, MODAL_NOT_OPENED(failed));
    else deps.logger.info('call modal opened', { source: 'home', userId: body.user.id });
  };
}
