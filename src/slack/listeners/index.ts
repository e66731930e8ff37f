import type { App } from '@slack/bolt';
import { type CallCommandDeps, callCommand } from './commands/call.js';

export type ListenerDeps = CallCommandDeps;

/** Every Slack entry point of the app, registered on one Bolt App. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  app.command('/call', callCommand(deps));
}
