import type {
  AllMiddlewareArgs,
  BlockButtonAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
  webApi,
} from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import type { Audience } from '../../../calls/approval.js';
import type { Logger } from '../../../log.js';
import type { CallDesk, DecisionResult } from '../../../services/call-desk.js';
import type { CallRecord, Store } from '../../../store/store.js';
import type { Audiences } from '../../audiences.js';
import {
  APPROVE_NOW_ACTION,
  callNowOffer,
  dateToken,
  REJECT_REASON_BLOCK,
  REJECT_REASON_INPUT,
} from '../../blocks/call-messages.js';
import { escapeMrkdwn } from '../../blocks/mrkdwn.js';
import { rejectModal } from '../../blocks/reject-modal.js';
import { type ApprovalContext, reportOf } from '../../delivery.js';
import type { HomeTab } from '../../home-tab.js';
import { workspaceOf } from '../../workspace.js';

export interface ApprovalDeps {
  desk: CallDesk;
  store: Store;
  logger: Logger;
  audiences: Audiences;
  approvers: Audience;
  approvalContext: ApprovalContext;
  /** Refreshed after an answer given by direct message (a button pressed on the Home tab). */
  homeTab?: HomeTab;
}

export const NOT_AN_APPROVER = (approvers: string) =>
  `Only the approvers (${approvers}) can approve or reject calls. Ask one of them.`;
/** NOT_AN_APPROVER on the reject form, where the approvers' mentions would not read (see `Where`). */
export const NOT_AN_APPROVER_ON_FORM = 'Only the approvers can approve or reject calls. Ask one of them.';
export const OWN_REQUEST = 'You asked for this call, so someone else must approve or reject it.';
export const NOT_FOUND = "I can't find this call request any more.";
/** Reject was pressed, and Slack would not open the form for its reason: nothing was decided. */
export const REJECT_FORM_NOT_OPENED = (slackError: string) =>
  `⚠️ I couldn't open the form to reject this call (Slack said \`${escapeMrkdwn(slackError)}\`), so nothing was decided: it still waits for approval. Press Reject again.`;
/**
 * The answer to an approver whose own approval is already recorded (a second click on Approve, or Slack delivering
 * the same click again): a reminder of their decision, not a refusal. Nothing more was done.
 */
export const ALREADY_APPROVED_BY_YOU = (decidedAt: number | undefined) =>
  `You already approved this call${decidedAt === undefined ? '' : `, ${dateToken(decidedAt)}`}. Pressing Approve again changes nothing.`;

/**
 * Where an answer is shown. In a message (mrkdwn), people are named by mention. On the reject form, as the form's
 * `errors`, which Slack shows as plain text (a mention reads `<@U0123>` there), they are named in words, from the
 * point of view of `userId`: nobody's name is at hand, and looking one up would hold up the form's 3-second ack.
 */
type Where = { on: 'message' } | { on: 'form'; userId: string };

const IN_MESSAGE: Where = { on: 'message' };

function stateWords(record: CallRecord | undefined, where: Where = IN_MESSAGE): string {
  if (!record) return 'It was already decided.';
  const by = (userId: string | undefined) =>
    where.on === 'message' ? `<@${userId}>` : userId === where.userId ? 'you' : 'another approver';
  switch (record.state) {
    case 'rejected':
      return `It was already rejected by ${by(record.decidedBy)}.`;
    case 'expired':
      return 'It has expired: nobody approved it in time.';
    default:
      return record.decidedBy
        ? `It was already approved by ${by(record.decidedBy)}.`
        : 'It was already decided.';
  }
}

/** Whether `record` holds an approval by `userId` (its states after `approved` included: the approval stands). */
function approvedBy(record: CallRecord | undefined, userId: string): record is CallRecord {
  if (!record || record.decidedBy !== userId) return false;
  return !['pending_approval', 'rejected', 'expired'].includes(record.state);
}

function who(body: BlockButtonAction): { id: string; teamId?: string } {
  const teamId = workspaceOf(body);
  return { id: body.user.id, ...(teamId ? { teamId } : {}) };
}

/** Why the user may not decide on this request, or undefined when they may. */
async function refusal(
  deps: ApprovalDeps,
  client: webApi.WebClient,
  userId: string,
  record: CallRecord | undefined,
  where: Where = IN_MESSAGE,
): Promise<string | undefined> {
  if (!record) return NOT_FOUND;
  if (!(await deps.audiences.includes(client, deps.approvers, userId))) {
    deps.logger.warn('approval refused: not an approver', { requestId: record.id, userId });
    return where.on === 'form' ? NOT_AN_APPROVER_ON_FORM : NOT_AN_APPROVER(deps.approvalContext.approvers);
  }
  if (userId === record.userId) {
    deps.logger.warn('approval refused: own request', { requestId: record.id, userId });
    return OWN_REQUEST;
  }
  return undefined;
}

type Respond = SlackActionMiddlewareArgs<BlockButtonAction>['respond'] | undefined;

/**
 * Tells the approver alone: in the conversation the button was in (response_url), or, for a button on the Home tab
 * (which has no response_url), in a direct message from the app, after which their Home tab is refreshed.
 */
async function tell(
  deps: ApprovalDeps,
  respond: Respond,
  client: webApi.WebClient,
  user: { id: string; teamId?: string },
  message: { text: string; blocks?: KnownBlock[] },
): Promise<void> {
  if (typeof respond === 'function') {
    await respond({ response_type: 'ephemeral', replace_original: false, ...message });
    return;
  }
  await client.chat
    .postMessage({
      channel: user.id,
      text: message.text,
      ...(message.blocks ? { blocks: message.blocks } : {}),
    })
    .catch((err: unknown) =>
      deps.logger.warn('could not tell the approver', { userId: user.id, error: err }),
    );
  if (deps.homeTab && user.teamId) await deps.homeTab.publish(user.id, user.teamId);
}

function answerFor(result: DecisionResult, where: Where = IN_MESSAGE): string | undefined {
  if (result.ok) return undefined;
  switch (result.reason) {
    case 'not_found':
      return NOT_FOUND;
    case 'expired':
      return 'This request has expired: nobody approved it in time. The requester can ask again.';
    case 'already_decided':
      return stateWords(result.record, where);
    case 'time_passed':
      return undefined;
  }
}

/** Approve, and "Call now" (approving a scheduled call whose time has passed). Only approvers; never one's own. */
export function approveAction(deps: ApprovalDeps) {
  return async ({
    ack,
    body,
    action,
    client,
    respond,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    const requestId = action.value ?? '';
    const record = await deps.store.getCall(requestId);
    const refused = await refusal(deps, client, body.user.id, record);
    if (refused) {
      await ack();
      await tell(deps, respond, client, who(body), { text: refused });
      return;
    }
    const result = await deps.desk.decide(requestId, {
      kind: 'approve',
      by: body.user.id,
      callNow: action.action_id === APPROVE_NOW_ACTION,
    });
    await ack();
    if (!result.ok && result.reason === 'time_passed' && result.record) {
      const report = reportOf(result.record, deps.approvalContext);
      if (report) await tell(deps, respond, client, who(body), callNowOffer(report));
      return;
    }
    // The same approver's approval already recorded (a redelivery, a second click): the desk changed nothing, and
    // the answer reminds them of their own decision rather than reporting someone else's.
    if (!result.ok && result.reason === 'already_decided' && approvedBy(result.record, body.user.id)) {
      deps.logger.info('approval repeated by the same approver: nothing more done', {
        requestId,
        userId: body.user.id,
      });
      await tell(deps, respond, client, who(body), {
        text: ALREADY_APPROVED_BY_YOU(result.record.decidedAt),
      });
      return;
    }
    const answer = answerFor(result);
    if (answer) await tell(deps, respond, client, who(body), { text: answer });
  };
}

/** Reject: asks for an optional reason in a small modal. Only approvers; never one's own. */
export function rejectAction(deps: ApprovalDeps) {
  return async ({
    ack,
    body,
    action,
    client,
    respond,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs) => {
    const requestId = action.value ?? '';
    const record = await deps.store.getCall(requestId);
    const refused = await refusal(deps, client, body.user.id, record);
    await ack();
    if (refused || !record) {
      await tell(deps, respond, client, who(body), { text: refused ?? NOT_FOUND });
      return;
    }
    if (record.state !== 'pending_approval') {
      await tell(deps, respond, client, who(body), { text: stateWords(record) });
      return;
    }
    const number =
      (record.request.recipient as { display?: string } | undefined)?.display ?? record.recipient;
    try {
      await client.views.open({
        trigger_id: body.trigger_id,
        view: rejectModal(
          requestId,
          `<@${record.userId}> asks to call *${number}* with *${escapeMrkdwn(record.agentAlias)}*.`,
        ),
      });
    } catch (err) {
      // An expired trigger (the click waited too long), Slack down: without a word the approver would see nothing.
      const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
      deps.logger.warn('could not open the reject form', {
        requestId,
        userId: body.user.id,
        slackError: code,
      });
      await tell(deps, respond, client, who(body), { text: REJECT_FORM_NOT_OPENED(code) });
    }
  };
}

/** The reject modal's submission: records the rejection (once, whoever is first) with its reason. */
export function rejectSubmission(deps: ApprovalDeps) {
  return async ({
    ack,
    body,
    view,
    client,
  }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs) => {
    let requestId = '';
    try {
      requestId = String(
        (JSON.parse(view.private_metadata || '{}') as { requestId?: unknown }).requestId ?? '',
      );
    } catch {
      // handled as not found
    }
    const record = requestId ? await deps.store.getCall(requestId) : undefined;
    const onForm: Where = { on: 'form', userId: body.user.id };
    const refused = await refusal(deps, client, body.user.id, record, onForm);
    if (refused) {
      await ack({ response_action: 'errors', errors: { [REJECT_REASON_BLOCK]: refused } });
      return;
    }
    const reason = view.state.values[REJECT_REASON_BLOCK]?.[REJECT_REASON_INPUT]?.value ?? undefined;
    const result = await deps.desk.decide(requestId, {
      kind: 'reject',
      by: body.user.id,
      ...(reason ? { reason } : {}),
    });
    const answer = answerFor(result, onForm);
    if (answer) {
      await ack({ response_action: 'errors', errors: { [REJECT_REASON_BLOCK]: answer } });
      return;
    }
    await ack();
  };
}
