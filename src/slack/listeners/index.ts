import type { App, BlockButtonAction } from '@slack/bolt';
import { DNC_IMPORT_MODAL } from '../blocks/admin.js';
import {
  APPROVE_ACTION,
  APPROVE_NOW_ACTION,
  PLACE_AGAIN_ACTION,
  REJECT_ACTION,
  REJECT_MODAL,
  SCHEDULE_ACTION,
} from '../blocks/call-messages.js';
import type { UserZones } from '../user-zones.js';
import { type ApprovalDeps, approveAction, rejectAction, rejectSubmission } from './actions/approval.js';
import { type PlaceAgainDeps, placeAgainAction } from './actions/place-again.js';
import { scheduleAction } from './actions/schedule.js';
import { type BatchListenerDeps, registerBatchListeners } from './batch.js';
import { dncImportSubmission } from './commands/admin.js';
import { type CallCommandDeps, callCommand } from './commands/call.js';
import { type FormDeps, registerFormListeners } from './forms.js';

export type ListenerDeps = CallCommandDeps &
  BatchListenerDeps &
  PlaceAgainDeps &
  ApprovalDeps &
  FormDeps & {
    defaultTimeZone: string;
    /** The requesters' Slack time zones (cached users.info). */
    zones: UserZones;
  };

/** Every Slack entry point of the app, registered on one Bolt App. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  app.command('/call', callCommand(deps));
  app.action<BlockButtonAction>(PLACE_AGAIN_ACTION, placeAgainAction(deps));
  app.action<BlockButtonAction>(APPROVE_ACTION, approveAction(deps));
  app.action<BlockButtonAction>(APPROVE_NOW_ACTION, approveAction(deps));
  app.action<BlockButtonAction>(REJECT_ACTION, rejectAction(deps));
  app.view(REJECT_MODAL, rejectSubmission(deps));
  app.action<BlockButtonAction>(SCHEDULE_ACTION, scheduleAction(deps));
  app.view(DNC_IMPORT_MODAL, dncImportSubmission(deps));
  registerFormListeners(app, deps);
  registerBatchListeners(app, deps);
}
