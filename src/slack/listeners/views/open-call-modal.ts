import type { webApi } from '@slack/bolt';
import type { ModalView } from '@slack/types';
import type { Logger } from '../../../log.js';
import type { UserZones } from '../../user-zones.js';

/**
 * Opens the call modal at once: a trigger_id is good for 3 seconds, so nothing slow may come before this. The rep's
 * time zone is then looked up in the background, so that it is cached when the form is submitted. Returns Slack's
 * error code when the modal could not be opened, else undefined.
 */
export async function openCallModal(
  client: webApi.WebClient,
  deps: { zones: UserZones; logger: Logger },
  o: { triggerId: string; userId: string; view: ModalView },
): Promise<string | undefined> {
  try {
    await client.views.open({ trigger_id: o.triggerId, view: o.view });
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
    deps.logger.warn('could not open the call modal', { userId: o.userId, slackError: code });
    return code;
  }
  void deps.zones.zoneOf(client, o.userId).catch(() => {});
  return undefined;
}

/**
 * Tells the rep, in the app's direct messages, that the call form could not be opened, for the entry points that
 * have no response_url to answer through (the global shortcut, the Home tab's button): without it the rep would
 * click and see nothing. A failure to say so is logged.
 */
export async function sayFormNotOpened(
  client: webApi.WebClient,
  logger: Logger,
  userId: string,
  text: string,
): Promise<void> {
  await client.chat
    .postMessage({ channel: userId, text })
    .catch((err: unknown) =>
      logger.warn('could not say that the call form did not open', { userId, error: err }),
    );
}
