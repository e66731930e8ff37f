import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs, webApi } from '@slack/bolt';
import {
  type CallCatalog,
  draftCallRequest,
  type OpenChoice,
  openChoices,
} from '../../../calls/call-request.js';
import { type CallCommand, formatAssignmentLines, parseCallCommand, USAGE } from '../../../calls/command.js';
import { CallRequestError } from '../../../calls/errors.js';
import { normalizeRecipient } from '../../../calls/phone.js';
import type { Logger } from '../../../log.js';
import type { BatchDesk } from '../../../services/batch-desk.js';
import type { CallDesk } from '../../../services/call-desk.js';
import type { DoctorCheck } from '../../../services/doctor.js';
import type { Store } from '../../../store/store.js';
import type { BatchBoard } from '../../batch-board.js';
import { plain } from '../../blocks/admin.js';
import { batchParentMessage } from '../../blocks/batch.js';
import { commandErrorMessage, helpMessage, type SlackMessage } from '../../blocks/call-messages.js';
import { type CallModalContext, type CallModalValues, callModal } from '../../blocks/call-modal.js';
import { doctorMessage } from '../../blocks/doctor.js';
import { historyMessage, STATUS_NOT_FOUND, statusMessage } from '../../blocks/history.js';
import { escapeMrkdwn } from '../../blocks/mrkdwn.js';
import type { UserZones } from '../../user-zones.js';
import { BATCH_FORM_NOT_OPENED, openBatchForm } from '../batch.js';
import { openCallModal } from '../views/open-call-modal.js';
import { type AdminDeps, auditCommand, dncCommand, onlyAdmins, refusedNotAdmin } from './admin.js';

export interface CallCommandDeps extends AdminDeps {
  catalog: CallCatalog;
  maxScheduleDays: number;
  desk: CallDesk;
  store: Store;
  logger: Logger;
  newRequestId: () => string;
  /** The requesters' Slack time zones: looked up as soon as a modal is open, so that its submission has them. */
  zones: UserZones;
  /** Batches, for `/call history` and `/call status <batch id>`. */
  batches?: BatchDesk;
  board?: BatchBoard;
  /** `/call doctor`: runs the checks with this Web API client (`services/doctor.ts`, `doctorRunner`). */
  doctor?: (client: webApi.WebClient) => Promise<DoctorCheck[]>;
}

export const MODAL_NOT_OPENED = (slackError: string) =>
  `⚠️ I couldn't open the call form (Slack said \`${escapeMrkdwn(slackError)}\`). Try again, or type the whole request, e.g. \`/call +14155552671 agent=sales\` (\`/call help\` shows how).`;

export const NOT_RECORDED =
  "⚠️ I couldn't record your request (the app's database is not answering), so nothing was sent to Iqra. Please try again in a minute.";

function ephemeral(message: SlackMessage) {
  return { response_type: 'ephemeral' as const, ...message };
}

/** What a `/call` typed so far, as the modal's fields (the number as validated, the rest as typed). */
function typedValues(parsed: CallCommand, catalog: CallCatalog): CallModalValues {
  const values: CallModalValues = {
    recipient: normalizeRecipient(parsed.recipient, catalog.defaultRegion).display,
  };
  if (parsed.agent !== undefined) values.agent = parsed.agent;
  if (parsed.from !== undefined) values.from = parsed.from;
  if (parsed.campaign !== undefined) values.campaign = parsed.campaign;
  if (parsed.when !== undefined) values.when = parsed.when;
  if (Object.keys(parsed.variables).length) values.variables = formatAssignmentLines(parsed.variables);
  if (Object.keys(parsed.metadata).length) values.metadata = formatAssignmentLines(parsed.metadata);
  return values;
}

/**
 * A refusal as the log may keep it: it quotes what the rep typed (`…` or “…”), which can be the customer's number in a
 * form no scrubbing recognises (`+14155552671abc`, full-width digits), so the quoted parts are left out.
 */
function withoutQuotedInput(message: string): string {
  return message.replace(/`[^`]*`|“[^”]*”/g, '‹…›');
}

/**
 * `/call <number> [agent=..] [from=..] [campaign=..] [at ".."] [Key=Value ..] [meta.Key=Value ..]`, `/call help`,
 * `/call history` and `/call status <id>`. The request is checked and recorded before Slack is acked; mistakes that
 * need no lookup are answered in the ack itself; everything slow happens after it. `/call` alone opens the call
 * modal, and so does a right but incomplete `/call` (a choice with no default left open), filled in with what was
 * typed.
 */
export function callCommand(deps: CallCommandDeps) {
  return async ({
    command,
    ack,
    context,
    client,
    respond,
  }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    const requestId = deps.newRequestId();
    const log = deps.logger.child({ requestId, userId: command.user_id, channel: command.channel_id });
    const modal = async (values: CallModalValues, open: OpenChoice[] = []) => {
      const modalContext: CallModalContext = {
        origin: { source: 'command', channelId: command.channel_id, responseUrl: command.response_url },
        ...(open.length ? { note: { kind: 'open_choices' as const, choices: open } } : {}),
      };
      await ack();
      const failed = await openCallModal(client, deps, {
        triggerId: command.trigger_id,
        userId: command.user_id,
        view: callModal(deps.catalog, modalContext, values),
      });
      if (failed) {
        await respond({ response_type: 'ephemeral', text: MODAL_NOT_OPENED(failed) }).catch((err: unknown) =>
          log.warn('could not say that the modal did not open', { error: err }),
        );
        return;
      }
      log.info('call modal opened', { source: 'command', open });
    };
    if ((command.text ?? '').trim() === '') {
      await modal({});
      return;
    }
    let parsed: ReturnType<typeof parseCallCommand>;
    let draft: ReturnType<typeof draftCallRequest> | undefined;
    let completion: { values: CallModalValues; open: OpenChoice[] } | undefined;
    try {
      parsed = parseCallCommand(command.text ?? '', deps.catalog.defaultRegion);
      if (parsed.kind === 'help') {
        await ack(ephemeral(helpMessage(deps.catalog, USAGE, deps.maxScheduleDays)));
        return;
      }
      if (parsed.kind === 'history' || parsed.kind === 'status') {
        await ack(ephemeral(await lookUp(deps, command.team_id, command.user_id, parsed)));
        return;
      }
      if (parsed.kind === 'doctor') {
        // The checks take seconds (Slack, Iqra, the database): ack now, answer through response_url.
        await ack();
        await doctorCommand(deps, { teamId: command.team_id, userId: command.user_id, client }, log)
          .then((answer) => respond({ response_type: 'ephemeral', ...answer }))
          .catch((err: unknown) => log.warn('could not answer /call doctor', { error: err }));
        return;
      }
      if (parsed.kind === 'batch') {
        // The form must open within 3 s of the trigger: ack first.
        await ack();
        const failed = await openBatchForm(client, deps, {
          triggerId: command.trigger_id,
          userId: command.user_id,
          channelId: command.channel_id,
        });
        if (failed) {
          await respond({
            response_type: 'ephemeral',
            text: BATCH_FORM_NOT_OPENED(failed),
          }).catch((err: unknown) =>
            log.warn('could not say that the batch form did not open', { error: err }),
          );
        }
        return;
      }
      if (parsed.kind === 'dnc' || parsed.kind === 'audit') {
        const who = {
          teamId: command.team_id,
          userId: command.user_id,
          client,
          triggerId: command.trigger_id,
        };
        if (parsed.kind === 'dnc' && parsed.op === 'import') {
          // The modal must open within 3 s of the trigger: ack first.
          await ack();
          const answer = await dncCommand(parsed, who, deps).catch((err: unknown) => {
            log.error('could not open the import form', { error: err });
            return plain('I could not open the import form. Please try again.');
          });
          if (answer) await respond({ response_type: 'ephemeral', ...answer });
          return;
        }
        await ack(
          ephemeral(
            parsed.kind === 'dnc'
              ? ((await dncCommand(parsed, who, deps)) ?? plain('Done.'))
              : await auditCommand(parsed.count, who, deps),
          ),
        );
        return;
      }
      const open = openChoices(parsed, deps.catalog);
      if (open.length > 0) {
        completion = { values: typedValues(parsed, deps.catalog), open };
      } else {
        draft = draftCallRequest(
          parsed,
          deps.catalog,
          { teamId: command.team_id, channelId: command.channel_id, userId: command.user_id },
          requestId,
        );
      }
    } catch (err) {
      if (err instanceof CallRequestError) {
        log.info('command refused', { field: err.field, reason: withoutQuotedInput(err.userMessage) });
        await ack(ephemeral(commandErrorMessage(err, USAGE)));
        return;
      }
      log.error('could not read the store for history or status', { error: err });
      await ack(ephemeral({ text: NOT_RECORDED, blocks: [] }));
      return;
    }
    if (completion) {
      await modal(completion.values, completion.open);
      return;
    }
    // Unreachable: a call command either leaves a choice open or is drafted (or refused above).
    if (!draft) return ack();

    // One call per command: Slack redelivers a command it thinks failed, with the same trigger_id.
    let created: boolean;
    try {
      ({ created } = await deps.desk.receive(`command:${command.trigger_id || command.response_url}`, draft, {
        entryPoint: 'command',
        responseUrl: command.response_url,
      }));
    } catch (err) {
      log.error('could not record the call request', { error: err });
      await ack(ephemeral({ text: NOT_RECORDED, blocks: [] }));
      return;
    }
    if (!created) {
      log.warn('redelivered command ignored: it was already handled', { retryNum: context.retryNum });
      await ack();
      return;
    }
    log.info('call transition', { from: null, to: 'received', entryPoint: 'command' });
    // Started even when the ack cannot be sent (a Socket Mode connection closing meanwhile): the request is recorded,
    // so Slack's redelivery of it is ignored, and nothing else in this process would ever place it.
    await ack().finally(() => deps.desk.start(requestId));
  };
}

/** `/call doctor`, for admins only: every check, ✅ / ⚠️ / ❌ with how to fix it. */
async function doctorCommand(
  deps: CallCommandDeps,
  who: { teamId: string; userId: string; client: webApi.WebClient },
  log: Logger,
): Promise<SlackMessage> {
  if (!(await deps.audiences.includes(who.client, deps.admins, who.userId))) {
    await refusedNotAdmin(deps, who, 'doctor', log.child({ op: 'doctor' })).catch((err: unknown) =>
      log.warn('could not record the refusal', { error: err }),
    );
    return plain(onlyAdmins(deps, 'run the doctor'));
  }
  if (!deps.doctor) return plain('The doctor is not available in this process.');
  const checks = await deps.doctor(who.client).catch((err: unknown) => {
    log.error('the doctor failed', { error: err });
    return undefined;
  });
  if (!checks) return plain('⚠️ The doctor could not finish. Try again, or run `npm start -- --check`.');
  log.info('doctor ran', {
    fail: checks.filter((c) => c.status === 'fail').length,
    warn: checks.filter((c) => c.status === 'warn').length,
  });
  return doctorMessage(checks);
}

async function lookUp(
  deps: CallCommandDeps,
  teamId: string,
  userId: string,
  parsed: { kind: 'history' } | { kind: 'status'; id: string },
): Promise<SlackMessage> {
  const { store } = deps;
  if (parsed.kind === 'history') {
    const batches = (await deps.batches?.recent(teamId, userId, 5)) ?? [];
    return historyMessage(await store.recentCalls(teamId, userId, 10), batches);
  }
  if (parsed.id.startsWith('bat_') && deps.batches && deps.board) {
    const snapshot = await deps.batches.snapshot(parsed.id);
    if (
      snapshot &&
      snapshot.batch.teamId === teamId &&
      snapshot.batch.userId === userId &&
      snapshot.batch.state !== 'draft'
    ) {
      return batchParentMessage(deps.board.viewOf(snapshot));
    }
  }
  const call = (await store.getCall(parsed.id)) ?? (await store.findCallByQueueId(parsed.id));
  if (!call || call.teamId !== teamId || call.userId !== userId) {
    const text = STATUS_NOT_FOUND(parsed.id);
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
  }
  return statusMessage(call, await store.transitions(call.id));
}
