import { randomUUID } from 'node:crypto';
import type {
  AllMiddlewareArgs,
  App,
  BlockButtonAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
  webApi,
} from '@slack/bolt';
import type { ModalView } from '@slack/types';
import type { Audience } from '../../calls/approval.js';
import type { CallCatalog } from '../../calls/call-request.js';
import { CallRequestError } from '../../calls/errors.js';
import type { Logger } from '../../log.js';
import type { BatchDesk, ConfirmResult } from '../../services/batch-desk.js';
import type { Store } from '../../store/store.js';
import type { Audiences } from '../audiences.js';
import type { BatchBoard } from '../batch-board.js';
import {
  BATCH_AGENT_BLOCK,
  BATCH_APPROVE_ACTION,
  BATCH_CAMPAIGN_BLOCK,
  BATCH_CHANNEL_BLOCK,
  BATCH_FROM_BLOCK,
  BATCH_MODAL,
  BATCH_PACE,
  BATCH_PACE_BLOCK,
  BATCH_PASTE_BLOCK,
  BATCH_PREVIEW_MODAL,
  BATCH_REJECT_ACTION,
  BATCH_STOP_ACTION,
  type BatchViewStateValues,
  batchCheckingView,
  batchModal,
  batchPreviewView,
  decodeBatchFormContext,
  NEW_BATCH_ACTION,
  readBatchForm,
  readOutsideChoice,
} from '../blocks/batch.js';
import { REJECT_REASON_BLOCK, REJECT_REASON_INPUT } from '../blocks/call-messages.js';
import { clip, escapeMrkdwn, LIMITS } from '../blocks/mrkdwn.js';
import { REJECT_BATCH_MODAL, rejectModal } from '../blocks/reject-modal.js';
import { downloadSlackFile, SlackFileError } from '../files.js';
import type { UserZones } from '../user-zones.js';
import { workspaceOf } from '../workspace.js';
import { formFieldError, formWording } from './views/form-errors.js';
import { sayFormNotOpened } from './views/open-call-modal.js';

export interface BatchListenerDeps {
  batches: BatchDesk;
  board: BatchBoard;
  catalog: CallCatalog;
  store: Store;
  logger: Logger;
  zones: UserZones;
  audiences: Audiences;
  approvers: Audience;
  approvalContext: { approvers: string };
  admins?: Audience;
  adminMentions?: string;
  /** The bot token, to download the uploaded list (Slack serves files to the token's bearer only). */
  botToken: string;
  /** The largest file accepted (bytes). */
  maxFileBytes?: number;
}

export const BATCH_FORM_NOT_OPENED = (slackError: string) =>
  `⚠️ I couldn't open the batch form (Slack said \`${escapeMrkdwn(slackError)}\`). Try \`/call batch\` again.`;

/** 2 MB: 500 rows of a wide CRM export fit many times over; beyond that it is not a call list. */
const MAX_FILE_BYTES = 2 * 1024 * 1024;

const plain = (text: string) => ({ type: 'plain_text' as const, text });

/** A modal that only says something (the preview, once it can't be confirmed any more). */
function noticeView(text: string): ModalView {
  return {
    type: 'modal',
    title: plain('Call a list'),
    close: plain('Close'),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  };
}

/** Opens the batch form; Slack's error code when it could not be opened. */
export async function openBatchForm(
  client: webApi.WebClient,
  deps: Pick<BatchListenerDeps, 'catalog' | 'logger' | 'zones'>,
  o: { triggerId: string; userId: string; channelId?: string },
): Promise<string | undefined> {
  try {
    await client.views.open({
      trigger_id: o.triggerId,
      view: batchModal(deps.catalog, o.channelId ? { channelId: o.channelId } : {}),
    });
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
    deps.logger.warn('could not open the batch form', { userId: o.userId, slackError: code });
    return code;
  }
  // The rep's zone is needed to read the times in the list: fetched now, so that the preview has it.
  void deps.zones.zoneOf(client, o.userId).catch(() => {});
  return undefined;
}

/**
 * A problem within `max` characters (a list with many columns that can't be variables names them all): shortened, and
 * without the backtick of a `code` span cut in two, which Slack would show as is.
 */
function fitNote(note: string, max: number): string {
  if (note.length <= max) return note;
  const cut = clip(note, max);
  return (cut.match(/`/g) ?? []).length % 2 === 0 ? cut : cut.replace(/`(?=[^`]*$)/, '');
}

/** The start's refusals (src/services/batch-desk.ts) begin so: the rep fixes the Start field, not the list. */
const START_REFUSAL = "The batch's start: ";

/** A number typed where the pace goes, as the error under the field quotes it. */
function quotedPace(pace: string): string {
  return `“${pace.length > 20 ? `${pace.slice(0, 19)}…` : pace}”`;
}

/**
 * The form is submitted: simple mistakes are answered on the form at once; then the form turns into "Checking your
 * list…" while the file is downloaded and every row checked (which may take longer than Slack's 3 seconds), and
 * becomes the preview, or the form again with what is wrong.
 */
function formSubmission(deps: BatchListenerDeps) {
  return async ({
    ack,
    body,
    view,
    client,
  }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs) => {
    const values = readBatchForm(view.state.values as BatchViewStateValues);
    const context = decodeBatchFormContext(view.private_metadata);
    const channelId = values.channelId ?? context.channelId;
    const errors: Record<string, string> = {};
    if (values.fileIds.length === 0 && !values.pasted) {
      errors[BATCH_PASTE_BLOCK] = 'Upload a CSV file above, or paste the numbers here, one per line.';
    } else if (values.fileIds.length > 0 && values.pasted) {
      errors[BATCH_PASTE_BLOCK] =
        'Upload a file or paste a list, not both: clear this box or remove the file.';
    }
    const pace = Number(values.pace ?? BATCH_PACE.default);
    if (!Number.isInteger(pace) || pace < BATCH_PACE.min || pace > BATCH_PACE.max) {
      errors[BATCH_PACE_BLOCK] =
        `${quotedPace(values.pace ?? '')} is not a pace: type a whole number of calls per minute, from ${BATCH_PACE.min} to ${BATCH_PACE.max}, e.g. ${BATCH_PACE.default}.`;
    }
    if (!channelId) errors[BATCH_CHANNEL_BLOCK] = 'Choose the channel the batch’s progress is posted in.';
    // The batch-wide agent, number and campaign, checked as the preview checks them (a menu's choice may be gone
    // from the settings since the form opened): said under its menu, in the form's words.
    for (const [value, directory, block] of [
      [values.agent, deps.catalog.agents, BATCH_AGENT_BLOCK],
      [values.from, deps.catalog.numbers, BATCH_FROM_BLOCK],
      [values.campaign, deps.catalog.campaigns, BATCH_CAMPAIGN_BLOCK],
    ] as const) {
      if (value === undefined) continue;
      try {
        directory.resolve(value);
      } catch (err) {
        if (!(err instanceof CallRequestError)) throw err;
        errors[block] = formFieldError(err.field, err.userMessage, 'batch');
      }
    }
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    // The check is pushed on top of the form: "Back" on the preview (or on a problem) returns to the form as it was
    // filled in, to fix the list or upload another file. Its external id lets it be rewritten once the check is done.
    const checkId = `batch-check-${randomUUID()}`;
    await ack({ response_action: 'push', view: { ...batchCheckingView(), external_id: checkId } });

    const userId = body.user.id;
    const teamId = workspaceOf(body) ?? '';
    const log = deps.logger.child({ userId, channel: channelId });
    const again = (
      note: string,
      fix = 'Press *Back* to fix the list, or to upload another file.',
    ): ModalView => ({
      ...noticeView(`${fitNote(note, LIMITS.sectionText - fix.length - 2)}\n\n${fix}`),
      close: plain('Back'),
    });
    let next: ModalView;
    try {
      let text = values.pasted ?? '';
      let fileName: string | undefined;
      const fileId = values.fileIds[0];
      await deps.batches.checkRequester(userId, channelId ?? '');
      if (fileId) {
        const file = await downloadSlackFile(client, fileId, {
          token: deps.botToken,
          maxBytes: deps.maxFileBytes ?? MAX_FILE_BYTES,
        });
        text = file.text;
        fileName = file.name;
      }
      const plan = await deps.batches.preview({
        teamId,
        userId,
        channelId: channelId ?? '',
        text,
        ...(fileName ? { fileName } : {}),
        defaults: {
          ...(values.agent ? { agent: values.agent } : {}),
          ...(values.from ? { from: values.from } : {}),
          ...(values.campaign ? { campaign: values.campaign } : {}),
        },
        ...(values.when ? { start: values.when } : {}),
        pacePerMinute: pace,
      });
      next = {
        ...batchPreviewView({ ...plan, approvers: deps.approvalContext.approvers }),
        close: plain('Back'),
      };
    } catch (err) {
      if (err instanceof CallRequestError) {
        log.info('batch list refused', { reason: err.field });
        // The command's message in the form's words (still mrkdwn: this answer is a section, which shows `code`).
        const note = `⚠️ ${formWording(err.field, err.userMessage, 'batch')}`;
        next = err.userMessage.startsWith(START_REFUSAL)
          ? again(note, 'Press *Back* to change the start.')
          : again(note);
      } else if (err instanceof SlackFileError) {
        log.info('batch list refused', { reason: err.code });
        next = again(`⚠️ ${err.userMessage}`);
      } else {
        log.error('could not check a batch list', { error: err });
        next = again(
          '⚠️ Something went wrong while checking the list, and nothing was placed. Please try again.',
        );
      }
    }
    await client.views.update({ external_id: checkId, view: next }).catch((err: unknown) => {
      log.warn('could not show the batch preview', {
        slackError: (err as { data?: { error?: string } }).data?.error ?? String(err),
      });
    });
  };
}

const CONFIRM_REFUSALS: Record<Exclude<ConfirmResult, { ok: true }>['reason'], string> = {
  not_found: "I can't find this list any more. Start again with `/call batch`.",
  not_yours: 'Only the person who uploaded this list can confirm it.',
  already_confirmed: 'This batch was already confirmed: its progress is in the channel.',
  too_many: 'The list is longer than the most allowed, so it can’t be placed. Split it and upload each part.',
  nothing_to_call:
    'No row of this list can be called, so there is nothing to place. Fix the list and upload it again.',
};

/** The preview is confirmed: the batch is recorded and starts (or waits for approval). */
function previewSubmission(deps: BatchListenerDeps) {
  return async ({ ack, body, view }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs) => {
    const batchId = view.private_metadata;
    const choice = readOutsideChoice(view.state.values as BatchViewStateValues);
    let result: ConfirmResult;
    try {
      result = await deps.batches.confirm(batchId, body.user.id, choice);
    } catch (err) {
      deps.logger.error('could not confirm a batch', { batchId, error: err });
      await ack({
        response_action: 'update',
        view: noticeView(
          "⚠️ I couldn't record the batch (the app's database is not answering), so nothing was placed. Please try again in a minute.",
        ),
      });
      return;
    }
    if (result.ok) {
      await ack({ response_action: 'clear' });
      return;
    }
    await ack({ response_action: 'update', view: noticeView(CONFIRM_REFUSALS[result.reason]) });
  };
}

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

async function tell(respond: ButtonArgs['respond'], text: string): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: false, text }).catch(() => {});
}

/** "Stop the rest": for the rep who started the batch, or an admin. */
function stopAction(deps: BatchListenerDeps) {
  return async ({ ack, body, action, client, respond }: ButtonArgs) => {
    await ack();
    const batchId = action.value ?? '';
    const userId = body.user.id;
    const batch = await deps.store.getBatch(batchId);
    if (!batch) return tell(respond, "I can't find this batch any more.");
    const admin = deps.admins ? await deps.audiences.includes(client, deps.admins, userId) : false;
    if (batch.userId !== userId && !admin) {
      deps.logger.warn('batch stop refused', { batchId, userId });
      return tell(
        respond,
        `Only <@${batch.userId}>, who started this batch, or an admin${deps.adminMentions ? ` (${deps.adminMentions})` : ''} can stop it.`,
      );
    }
    const stopped = await deps.batches.stop(batchId, userId);
    if (!stopped) return tell(respond, 'This batch is not running any more, so there was nothing to stop.');
    await tell(
      respond,
      `Stopped. ${stopped.cancelled} call${stopped.cancelled === 1 ? '' : 's'} not sent yet ${stopped.cancelled === 1 ? 'was' : 'were'} cancelled; calls already with Iqra go on, and the batch's message keeps following them.`,
    );
  };
}

/** What an approver is told when someone else decided first, or the batch expired. */
const ALREADY_DECIDED = 'This batch was already decided (or it expired).';

/**
 * Approve or Reject a whole batch: approvers only, and never the rep who asked. Reject opens a small form for an
 * optional reason, which the rep sees on the batch's message.
 */
function decisionAction(deps: BatchListenerDeps, kind: 'approve' | 'reject') {
  return async ({ ack, body, action, client, respond }: ButtonArgs) => {
    await ack();
    const batchId = action.value ?? '';
    const userId = body.user.id;
    const batch = await deps.store.getBatch(batchId);
    if (!batch) return tell(respond, "I can't find this batch any more.");
    if (!(await deps.audiences.includes(client, deps.approvers, userId))) {
      return tell(
        respond,
        `Only the approvers (${deps.approvalContext.approvers}) can approve or reject a batch. Ask one of them.`,
      );
    }
    if (userId === batch.userId)
      return tell(respond, 'You started this batch, so someone else must approve or reject it.');
    if (kind === 'reject') {
      if (batch.state !== 'pending_approval') return tell(respond, ALREADY_DECIDED);
      await client.views
        .open({
          trigger_id: body.trigger_id,
          view: rejectModal(
            batchId,
            `<@${batch.userId}> asks to call a list of *${batch.total}* numbers (batch \`${batchId}\`).`,
            'batch',
          ),
        })
        .catch((err: unknown) => deps.logger.warn('could not open the reject form', { batchId, error: err }));
      return;
    }
    const decided = await deps.batches.decide(batchId, { kind, by: userId });
    if (!decided) return tell(respond, ALREADY_DECIDED);
  };
}

/** Every batch entry point: the form (from `/call batch` or the App Home), its preview, and the buttons. */
export function registerBatchListeners(app: App, deps: BatchListenerDeps): void {
  app.view(BATCH_MODAL, formSubmission(deps));
  app.view(BATCH_PREVIEW_MODAL, previewSubmission(deps));
  app.action<BlockButtonAction>(BATCH_STOP_ACTION, stopAction(deps));
  app.action<BlockButtonAction>(BATCH_APPROVE_ACTION, decisionAction(deps, 'approve'));
  app.action<BlockButtonAction>(BATCH_REJECT_ACTION, decisionAction(deps, 'reject'));
  app.view(REJECT_BATCH_MODAL, async ({ ack, body, view, client }) => {
    let batchId = '';
    try {
      batchId = String((JSON.parse(view.private_metadata) as { batchId?: unknown }).batchId ?? '');
    } catch {
      // not this form's metadata: nothing to reject
    }
    const reason = view.state.values[REJECT_REASON_BLOCK]?.[REJECT_REASON_INPUT]?.value ?? undefined;
    const userId = body.user.id;
    const batch = await deps.store.getBatch(batchId);
    if (
      !batch ||
      !(await deps.audiences.includes(client, deps.approvers, userId)) ||
      userId === batch.userId
    ) {
      await ack({ response_action: 'update', view: noticeView('You can’t reject this batch.') });
      return;
    }
    const decided = await deps.batches.decide(batchId, {
      kind: 'reject',
      by: userId,
      ...(reason ? { reason } : {}),
    });
    if (!decided) {
      await ack({
        response_action: 'update',
        view: noticeView(ALREADY_DECIDED),
      });
      return;
    }
    await ack();
  });
  app.action<BlockButtonAction>(NEW_BATCH_ACTION, async ({ ack, body, client }) => {
    await ack();
    const failed = await openBatchForm(client, deps, { triggerId: body.trigger_id, userId: body.user.id });
    // The Home tab's button has no response_url: without a direct message the rep would click and see nothing.
    if (failed) await sayFormNotOpened(client, deps.logger, body.user.id, BATCH_FORM_NOT_OPENED(failed));
  });
}
