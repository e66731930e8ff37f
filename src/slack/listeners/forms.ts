import type { App, BlockButtonAction, BlockPlainTextInputAction, ViewSubmitAction } from '@slack/bolt';
import { CALL_MODAL, WHEN_ACTION, WHEN_BLOCK } from '../blocks/call-modal.js';
import { OPEN_CALL_MODAL_ACTION } from '../blocks/home.js';
import type { HomeTab } from '../home-tab.js';
import { appHomeOpened, homePlaceCallAction } from './events/app-home.js';
import { CALL_THIS_NUMBER, callThisNumberShortcut } from './shortcuts/call-this-number.js';
import { PLACE_CALL, placeCallShortcut } from './shortcuts/place-call.js';
import { type CallModalDeps, callModalSubmission, whenHintAction } from './views/call-modal.js';

/** What the call modal, the shortcuts and the Home tab need; the listeners' deps (ListenerDeps) provide it. */
export type FormDeps = CallModalDeps & { homeTab: HomeTab };

/**
 * The interactive ways to place a call: the call modal (its submission, and the hint under its time field), the
 * "Call this number" message shortcut, the "Place a call" global shortcut, and the Home tab with its button.
 * (`/call` opens the same modal; it is registered with the command.)
 */
export function registerFormListeners(app: App, deps: FormDeps): void {
  app.view<ViewSubmitAction>({ callback_id: CALL_MODAL, type: 'view_submission' }, callModalSubmission(deps));
  app.action<BlockPlainTextInputAction>(
    { block_id: WHEN_BLOCK, action_id: WHEN_ACTION },
    whenHintAction(deps),
  );
  app.shortcut({ type: 'message_action', callback_id: CALL_THIS_NUMBER }, callThisNumberShortcut(deps));
  app.shortcut({ type: 'shortcut', callback_id: PLACE_CALL }, placeCallShortcut(deps));
  app.event('app_home_opened', appHomeOpened(deps));
  app.action<BlockButtonAction>(OPEN_CALL_MODAL_ACTION, homePlaceCallAction(deps));
}
