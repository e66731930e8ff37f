import type {
  AllMiddlewareArgs,
  BlockAction,
  PlainTextInputAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
  webApi,
} from '@slack/bolt';
import {
  type CallCatalog,
  type CallRequest,
  draftCallRequest,
  resolveChoices,
} from '../../../calls/call-request.js';
import { type CallCommand, parseAssignmentLines, timeFieldPhrase } from '../../../calls/command.js';
import { CallRequestError } from '../../../calls/errors.js';
import { normalizeRecipient } from '../../../calls/phone.js';
import { isValidTimeZone, resolveWhen, type When } from '../../../calls/when.js';
import type { Logger } from '../../../log.js';
import type { CallDesk } from '../../../services/call-desk.js';
import type { ZoneSource } from '../../../services/stored-request.js';
import type { EntryPoint } from '../../../store/store.js';
import {
  blockForField,
  type CallModalContext,
  type CallModalValues,
  CHANNEL_BLOCK,
  callModal,
  decodeModalContext,
  readCallModal,
  whenHintText,
} from '../../blocks/call-modal.js';
import type { UserZones } from '../../user-zones.js';
import { workspaceOf } from '../../workspace.js';
import { NOT_RECORDED } from '../commands/call.js';
import { formFieldError, formWording } from './form-errors.js';

export interface CallModalDeps {
  catalog: CallCatalog;
  maxScheduleDays: number;
  defaultTimeZone: string;
  /** The requesters' Slack time zones (cached users.info). */
  zones: UserZones;
  desk: CallDesk;
  logger: Logger;
  now: () => Date;
  newRequestId: () => string;
}

export const CHOOSE_CHANNEL = 'Choose the channel where the call is confirmed.';
export const FORM_OUT_OF_DATE =
  'This form is out of date (the app was updated since it was opened). Close it and open it again; nothing was sent.';

/**
 * How long a submission waits for the rep's zone before reading the time in DEFAULT_TIMEZONE (as when Slack can't
 * tell): the answer must reach Slack within 3 seconds. The zone is normally cached since the modal opened.
 */
const ZONE_WAIT_MS = 1500;

/** The rep's zone: their Slack profile's when it is a zone this machine knows, else DEFAULT_TIMEZONE. */
async function requesterZone(
  client: webApi.WebClient,
  deps: Pick<CallModalDeps, 'zones' | 'defaultTimeZone' | 'logger'>,
  userId: string,
): Promise<{ timeZone: string; zoneSource: ZoneSource }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ZONE_WAIT_MS);
  });
  const zone = await Promise.race([deps.zones.zoneOf(client, userId), late]).finally(() =>
    clearTimeout(timer),
  );
  if (!zone) {
    deps.logger.warn('the time zone lookup is slow; reading the time in the default zone', { userId });
    return { timeZone: deps.defaultTimeZone, zoneSource: 'default' };
  }
  return isValidTimeZone(zone.timeZone)
    ? { timeZone: zone.timeZone, zoneSource: zone.source }
    : { timeZone: deps.defaultTimeZone, zoneSource: 'default' };
}

function entryPointOf(context: CallModalContext): EntryPoint {
  return context.origin.source === 'message' || context.origin.source === 'shortcut' ? 'shortcut' : 'modal';
}

/**
 * The modal is submitted: the same checks as `/call` (number, agent, caller-ID number, campaign, time in the rep's
 * zone, variables and metadata), with each problem shown next to its field and nothing recorded or sent until the
 * whole form is right. A right form is recorded once per view (a double submit records one call), then the modal
 * closes and the call goes to Iqra; its confirmation is posted by the outbox, as for the command.
 */
export function callModalSubmission(deps: CallModalDeps) {
  return async ({
    ack,
    body,
    view,
    client,
  }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs) => {
    const userId = body.user.id;
    const log = deps.logger.child({ userId, viewId: view.id });
    const firstBlock = blockForField('command', view.blocks);
    const context = decodeModalContext(view.private_metadata);
    if (!context) {
      log.warn('call modal submitted with unreadable private_metadata');
      await ack({ response_action: 'errors', errors: { [firstBlock]: FORM_OUT_OF_DATE } });
      return;
    }
    const values = readCallModal(view.state.values);
    // The time as the command reads what follows `at`: `at "tomorrow 10am"`, as refusals write it, is that time.
    if (values.when !== undefined) values.when = timeFieldPhrase(values.when);
    const errors: Record<string, string> = {};
    const refuse = (err: unknown) => {
      if (!(err instanceof CallRequestError)) throw err;
      const block = blockForField(err.field, view.blocks);
      // The command's message in the form's terms, as plain text: Slack shows a field's error without mrkdwn.
      errors[block] ??= formFieldError(err.field, err.userMessage);
    };

    const lines = (field: 'variables' | 'metadata'): Record<string, string> => {
      try {
        return parseAssignmentLines(values[field] ?? '', field);
      } catch (err) {
        refuse(err);
        return {};
      }
    };
    const variables = lines('variables');
    const metadata = lines('metadata');
    const channelId = context.origin.channelId ?? values.channelId;
    if (!channelId) errors[CHANNEL_BLOCK] = CHOOSE_CHANNEL;

    const requestId = deps.newRequestId();
    const command: CallCommand = {
      kind: 'call',
      recipient: values.recipient ?? '',
      ...(values.agent !== undefined ? { agent: values.agent } : {}),
      ...(values.from !== undefined ? { from: values.from } : {}),
      ...(values.campaign !== undefined ? { campaign: values.campaign } : {}),
      ...(values.when !== undefined ? { when: values.when } : {}),
      variables,
      metadata,
    };
    const origin = { teamId: workspaceOf(body) ?? view.team_id, channelId: channelId ?? '', userId };
    // The number and the choices are checked apart, so that a problem with each is shown at once.
    let checked = true;
    for (const check of [
      () => normalizeRecipient(command.recipient, deps.catalog.defaultRegion),
      () => resolveChoices(command, deps.catalog),
    ]) {
      try {
        check();
      } catch (err) {
        refuse(err);
        checked = false;
      }
    }
    let draft: ReturnType<typeof draftCallRequest> | undefined;
    if (checked) {
      try {
        // Also checks the variables and metadata for secrets and card numbers (hygiene): shown on their field.
        draft = draftCallRequest(command, deps.catalog, origin, requestId);
      } catch (err) {
        refuse(err);
      }
    }
    // Usually cached: the lookup started when the modal opened.
    const { timeZone, zoneSource } = await requesterZone(client, deps, userId);
    let when: When | undefined;
    try {
      when = resolveWhen(values.when, { now: deps.now(), timeZone, maxScheduleDays: deps.maxScheduleDays });
    } catch (err) {
      refuse(err);
    }
    if (!draft || !when || Object.keys(errors).length > 0) {
      log.info('call modal refused', { fields: Object.keys(errors) });
      await ack({ response_action: 'errors', errors });
      return;
    }

    const request: CallRequest = { ...draft, when, requesterTimeZone: timeZone };
    const { threadTs } = context.origin;
    const responseUrl = context.origin.responseUrl ?? body.response_urls?.[0]?.response_url;
    const entryPoint = entryPointOf(context);
    let created: boolean;
    try {
      ({ created } = await deps.desk.receiveResolved(`view:${view.id}:${view.hash}`, request, zoneSource, {
        entryPoint,
        ...(threadTs ? { threadTs } : {}),
        ...(responseUrl ? { responseUrl } : {}),
      }));
    } catch (err) {
      log.error('could not record the call request', { requestId, error: err });
      await ack({ response_action: 'errors', errors: { [firstBlock]: NOT_RECORDED } });
      return;
    }
    if (!created) {
      await ack();
      log.warn('call modal submitted again: the first submission was already recorded', { requestId });
      return;
    }
    log.info('call transition', { requestId, from: null, to: 'received', entryPoint, channel: channelId });
    // Started even when the ack cannot be sent (a Socket Mode connection closing meanwhile): the request is recorded.
    await ack().finally(() => deps.desk.start(requestId));
  };
}

/**
 * Enter in the time field: says under it how the time is understood, in the rep's zone, or what is wrong with it.
 * The view is rebuilt from what the form holds and updated only if it did not change meanwhile (its hash).
 */
export function whenHintAction(deps: CallModalDeps) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockAction<PlainTextInputAction>> & AllMiddlewareArgs) => {
    await ack();
    const view = body.view;
    const context = decodeModalContext(view?.private_metadata);
    if (!view || !context) return;
    const values: CallModalValues = { ...readCallModal(view.state.values) };
    const phrase = (action.value ?? '').trim();
    if (phrase) values.when = phrase;
    else delete values.when;
    let hint: string | undefined;
    if (phrase) {
      const { timeZone, zoneSource } = await requesterZone(client, deps, body.user.id);
      try {
        const when = resolveWhen(timeFieldPhrase(phrase), {
          now: deps.now(),
          timeZone,
          maxScheduleDays: deps.maxScheduleDays,
        });
        hint = whenHintText({ when, timeZone, zoneSource });
      } catch (err) {
        if (!(err instanceof CallRequestError)) throw err;
        hint = whenHintText({ error: formWording('when', err.userMessage) });
      }
    }
    try {
      await client.views.update({
        view_id: view.id,
        hash: view.hash,
        view: callModal(deps.catalog, context, values, hint),
      });
    } catch (err) {
      // hash_conflict: the form changed meanwhile (another Enter); the newer update wins.
      const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
      deps.logger.debug('could not show how the time is understood', { viewId: view.id, slackError: code });
    }
  };
}
