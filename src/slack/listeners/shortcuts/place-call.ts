import type { AllMiddlewareArgs, GlobalShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import type { CallCatalog } from '../../../calls/call-request.js';
import type { Logger } from '../../../log.js';
import { callModal } from '../../blocks/call-modal.js';
import type { UserZones } from '../../user-zones.js';
import { MODAL_NOT_OPENED } from '../commands/call.js';
import { openCallModal, sayFormNotOpened } from '../views/open-call-modal.js';

/** The global shortcut's callback_id (manifest.yml: "Place a call"). */
export const PLACE_CALL = 'place_call';

export interface PlaceCallDeps {
  catalog: CallCatalog;
  zones: UserZones;
  logger: Logger;
}

/** "Place a call" from the shortcuts menu: the call modal, which asks for the channel to confirm the call in. */
export function placeCallShortcut(deps: PlaceCallDeps) {
  return async ({
    ack,
    shortcut,
    client,
  }: SlackShortcutMiddlewareArgs<GlobalShortcut> & AllMiddlewareArgs) => {
    await ack();
    const failed = await openCallModal(client, deps, {
      triggerId: shortcut.trigger_id,
      userId: shortcut.user.id,
      view: callModal(deps.catalog, { origin: { source: 'shortcut' } }),
    });
    if (failed) await sayFormNotOpened(client, deps.logger, shortcut.user.id, MODAL_NOT_OPENED(failed));
    else deps.logger.info('call modal opened', { source: 'shortcut', userId: shortcut.user.id });
  };
}
