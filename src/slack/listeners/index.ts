import type { App, BlockButtonAction } from '@slack/bolt';
import { PLACE_AGAIN_ACTION } from '../blocks/call-messages.js';
import type { UserZones } from '../user-zones.js';
import { type PlaceAgainDeps, placeAgainAction } from './actions/place-again.js';
import { type CallCommandDeps, callCommand } from './commands/call.js';

export type ListenerDeps = CallCommandDeps &
  PlaceAgainDeps & {
    defaultTimeZone: string;
    /** The requesters' Slack time zones (cached users.info). */
    zones: UserZones;
  };

/** Every Slack entry point of the app, registered on one Bolt App. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  app.command('/call', callCommand(deps));
  app.action<BlockButtonAction>(PLACE_AGAIN_ACTION, placeAgainAction(deps));
}
