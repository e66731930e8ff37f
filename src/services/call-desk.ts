import { type ApprovalMode, approvalExpiry, needsApproval } from '../calls/approval.js';
import type { CallRequest, CallRequestDraft } from '../calls/call-request.js';
import { atNextWindow } from '../calls/calling-hours.js';
import { CallRequestError } from '../calls/errors.js';
import { isValidTimeZone, resolveWhen, type When } from '../calls/when.js';
import { type Logger, maskPhone } from '../log.js';
import type { CallRecord, EntryPoint, JobKind, NewJob, Store } from '../store/store.js';
import { TurnQueue, type Turns } from '../turns.js';
import type { CallGuards, GuardRefusal } from './call-guards.js';
import { type CallMetrics, noMetrics } from './call-metrics.js';
import { initialTracking } from './call-tracker.js';
import { type CallInitiator, placeCall } from './place-call.js';
import { draftOf, requestOf, storeDraft, storeRequest, type ZoneSource } from './stored-request.js';

/** A Slack message about a call, as the outbox records it: its kind, what it needs, and its channel if not the call's. */
interface Message {
  kind: JobKind;
  payload?: Record<string, unknown>;
  channelId?: string;
}

/** The call's parent message, posted or rewritten, with the thread's first reply when it is new. */
const PARENT: Message = { kind: 'announce', payload: { step: 'parent' } };
/** The parent message rewritten, nothing more (its thread says the rest). */
const PARENT_ONLY: Message = { kind: 'announce', payload: { step: 'parent', parentOnly: true } };

/** Whether the call's approval request was posted in a channel of its own, which then hears the decision too. */
function otherApprovalChannel(record: CallRecord): record is CallRecord & { approvalChannel: string } {
  return Boolean(record.approvalChannel && record.approvalChannel !== record.channelId);
}

export interface RequesterZone {
  timeZone: string;
  source: ZoneSource;
}

export interface CallDeskDeps {
  store: Store;
  iqra: CallInitiator;
  /**
   * IQRA_DRY_RUN: when on, `iqra` sends nothing and every request recorded is marked as recorded in a dry run. Such a
   * request goes to `dryRunInitiator` (which sends nothing either) even when it is processed with dry run off.
   */
  dryRun?: boolean;
  dryRunInitiator: CallInitiator;
  /** The requester's time zone (their Slack profile's, or the default). */
  zoneOf: (userId: string) => Promise<RequesterZone>;
  /** Called after a Slack delivery was added to the outbox, so that it goes out at once. */
  onOutbox: () => void;
  /**
   * A batch's row changed (its calls have no messages of their own: the batch's one message shows them). Also told
   * when a row has to wait (`holdUntil`: an hourly limit, or Iqra asking to slow down) so that the batch pauses.
   */
  onBatchRow?: (batchId: string, hold?: { until: number; reason: 'limit' | 'iqra' }) => void | Promise<void>;
  /**
   * When a batch's row found outside calling hours as it is sent starts in its callee's next window (`window`: its
   * opening), staggered at the batch's pace after the rows already moved there; undefined when the batch skips such
   * rows instead.
   */
  batchWindowSlot?: (batchId: string, requestId: string, window: Date) => Promise<Date | undefined>;
  logger: Logger;
  now: () => Date;
  instanceId: string;
  maxScheduleDays: number;
  defaultTimeZone: string;
  /** How long an instance may miss heartbeats before its requests are recovered by another (PostgreSQL). */
  instanceTimeoutMs?: number;
  /** Who may call, whom and when: checked before a call waits for approval, and again before it is sent. */
  guards?: CallGuards;
  metrics?: CallMetrics;
  /** Where the work after an ack waits its turn, behind the acks (one queue for the whole app). */
  turns?: Turns;
  approval?: {
    mode: ApprovalMode;
    ttlMs: number;
    /** Where approval requests go; the request's own channel when unset. */
    channel?: string;
    /** Whether the requester is exempt from approval (`unlisted` mode). */
    isExempt: (userId: string) => Promise<boolean>;
    /** Whether anyone besides the requester may approve (nobody approves their own call); unset: assumed so. */
    hasOtherApprover?: (userId: string) => Promise<boolean>;
    /** The approvers as named to a requester (`CALL_APPROVERS`'s mentions). */
    approversNamed?: string;
  };
}

/** A call that needs approval when its requester is the only approver: it would wait until it expired. */
export const ONLY_APPROVER = (approvers: string) =>
  `This call needs approval, and you are the only one who may approve calls (CALL_APPROVERS${approvers ? `: ${approvers}` : ''}); nobody approves their own call, so it would wait until it expired. I did not place it. Ask an admin to add another approver, or to make you exempt (CALL_APPROVAL_EXEMPT).`;

export type Decision =
  | { kind: 'approve'; by: string; callNow?: boolean }
  | { kind: 'reject'; by: string; reason?: string };

export type DecisionResult =
  | { ok: true; record: CallRecord }
  /**
   * `not_found`; `already_decided` (someone else was first, or it expired); `expired` (its deadline passed, and it is
   * now marked so); `time_passed` (a scheduled call whose time has passed: it may be approved to call now instead).
   */
  | { ok: false; reason: 'not_found' | 'already_decided' | 'expired' | 'time_passed'; record?: CallRecord };

export interface ReceiveOptions {
  entryPoint: EntryPoint;
  responseUrl?: string;
  threadTs?: string;
  retryOf?: string;
}

/** What a request being taken over after a crash is told. */
export const INTERRUPTED_MESSAGE =
  "The app stopped while it was asking Iqra for this call, so the call may or may not have been placed. It was not sent again, so that nobody is dialled twice. Check Iqra's dashboard, and if the call is not there, press *Place the call again*.";

/**
 * The one path every call takes, whatever its entry point: recorded before Slack is acked (`receive`), then timed,
 * sent to Iqra exactly once and its outcome recorded (`process`), and its Slack messages put in the outbox. After a
 * crash, `recover` sends what was recorded but never sent, and marks what was caught mid-send as `unknown`.
 */
export class CallDesk {
  private readonly inFlight = new Set<Promise<void>>();
  /** The requests this instance is processing now (waiting for their turn included). */
  private readonly working = new Set<string>();
  private accepting = true;

  private readonly metrics: CallMetrics;
  private readonly turns: Turns;

  constructor(private readonly deps: CallDeskDeps) {
    this.metrics = deps.metrics ?? noMetrics;
    this.turns = deps.turns ?? new TurnQueue();
  }

  /**
   * Records the request under its intent key, atomically. `created: false` means the same intent was already
   * recorded (a redelivery, a double click, another replica): nothing more must happen.
   */
  async receive(intentKey: string, draft: CallRequestDraft, options: ReceiveOptions) {
    const { store, now, instanceId } = this.deps;
    return store.recordCall(
      intentKey,
      {
        id: draft.requestId,
        entryPoint: options.entryPoint,
        teamId: draft.origin.teamId,
        channelId: draft.origin.channelId,
        userId: draft.origin.userId,
        ...(options.threadTs ? { threadTs: options.threadTs } : {}),
        ...(options.responseUrl ? { responseUrl: options.responseUrl } : {}),
        ...(options.retryOf ? { retryOf: options.retryOf } : {}),
        request: storeDraft(this.marked(draft)),
        recipient: draft.recipient.e164,
        agentAlias: draft.agent.alias,
        owner: instanceId,
      },
      now().getTime(),
    );
  }

  /** Records a request whose time is already known (e.g. placed again), under its intent key. */
  async receiveResolved(
    intentKey: string,
    request: CallRequest,
    zoneSource: ZoneSource,
    options: ReceiveOptions,
  ) {
    const result = await this.receive(intentKey, request, options);
    if (result.created) {
      await this.deps.store.updateCall(
        request.requestId,
        { request: storeRequest(this.marked(request), zoneSource) },
        this.deps.now().getTime(),
      );
    }
    return result;
  }

  /** The request as recorded now: marked as made in a dry run while IQRA_DRY_RUN is on. */
  marked<T extends CallRequestDraft>(draft: T): T {
    return this.deps.dryRun ? { ...draft, inDryRun: true } : draft;
  }

  /** Processes a recorded request in the background; `drain` waits for it. The work, for callers that wait. */
  start(requestId: string): Promise<void> | undefined {
    if (!this.accepting) return undefined;
    // On its turn: the acks of requests that arrived meanwhile go first, so that the work after one ack does not hold
    // up another.
    this.working.add(requestId);
    const work = this.turns
      .turn('call')
      .then(() => this.process(requestId))
      .catch((err: unknown) =>
        this.deps.logger.error('processing a call request failed', { requestId, error: err }),
      )
      .finally(() => {
        this.inFlight.delete(work);
        this.working.delete(requestId);
      });
    this.inFlight.add(work);
    return work;
  }

  /** Resolves the time, sends the request to Iqra once, records the outcome, and queues the Slack messages. */
  async process(requestId: string): Promise<void> {
    const { store, logger, now, instanceId } = this.deps;
    const log = logger.child({ requestId });
    const record = await store.getCall(requestId);
    if (record?.state !== 'received' && record?.state !== 'approved') return;

    const resolved = requestOf(record) ?? (await this.resolve(record, log));
    if (!resolved) return;
    const { zoneSource } = resolved;
    let request = resolved.request;
    // A batch's row whose own time passed while it waited its turn (a slow pace, a pause) is called now.
    if (record.batchId && request.when.kind === 'scheduled' && request.when.at.getTime() <= now().getTime()) {
      request = { ...request, when: { kind: 'now' } };
    }

    const guards = this.deps.guards;
    if (guards) {
      const stage = record.state === 'received' ? 'request' : 'approval';
      const check = (r: CallRequest) =>
        guards.check(
          {
            requestId,
            teamId: record.teamId,
            channelId: record.channelId,
            userId: record.userId,
            recipient: r.recipient,
            when: r.when,
            ...(r.force ? { force: true } : {}),
          },
          stage,
        );
      let verdict = await check(request);
      if (verdict.refusal && record.batchId) {
        const handled = await this.batchRowRefused(record, request, verdict.refusal);
        if (handled === 'waits') return;
        if (handled) {
          // Rescheduled for the callee's next calling window: the other guards (the limits) still apply.
          request = handled;
          verdict = await check(request);
          if (
            verdict.refusal?.guard === 'limit' &&
            (await this.batchRowRefused(record, request, verdict.refusal))
          )
            return;
        }
      }
      if (verdict.refusal) {
        await this.refuse(record, request, zoneSource, verdict.refusal);
        return;
      }
      if (verdict.overridden && stage === 'request') {
        await store.audit({
          teamId: record.teamId,
          at: now().getTime(),
          actor: record.userId,
          action: `override:${verdict.overridden}`,
          target: requestId,
          detail: { recipient: maskPhone(request.recipient.e164) },
        });
        log.warn('calling hours overridden with force', { userId: record.userId });
      }
    }

    const approval = this.deps.approval;
    if (
      record.state === 'received' &&
      // A batch's rows were approved with the batch, as a whole.
      !record.batchId &&
      approval &&
      (await needsApproval(approval.mode, request.when, () => approval.isExempt(record.userId)))
    ) {
      if (approval.hasOtherApprover && !(await approval.hasOtherApprover(record.userId))) {
        await this.refuse(record, request, zoneSource, {
          guard: 'approver',
          message: ONLY_APPROVER(approval.approversNamed ?? ''),
          detail: { mode: approval.mode },
        });
        return;
      }
      const pending = await store.transition(
        requestId,
        ['received'],
        'pending_approval',
        {
          request: storeRequest(request, zoneSource),
          expiresAt: now().getTime() + approval.ttlMs,
          approvalChannel: approval.channel ?? record.channelId,
        },
        now().getTime(),
        { by: 'policy', mode: approval.mode },
        this.messages((r) => [
          PARENT,
          otherApprovalChannel(r) && { kind: 'approval', channelId: r.approvalChannel },
        ]),
      );
      if (pending) {
        log.info('call transition', { from: 'received', to: 'pending_approval', mode: approval.mode });
        await this.messagesRecorded(pending);
      }
      return;
    }

    const sending = await store.transition(
      requestId,
      [record.state],
      'sending',
      { request: storeRequest(request, zoneSource), owner: instanceId },
      now().getTime(),
      { by: 'iqra', recipient: maskPhone(request.recipient.e164) },
    );
    if (!sending) {
      log.info('call request already taken by another worker');
      return;
    }
    // Debug only: every call logs when it was received and its outcome ('call queued' or why not) at info; a line per
    // step in between would be most of the log under load.
    log.debug('call transition', { from: record.state, to: 'sending' });
    const started = performance.now();
    const outcome = await placeCall(request, this.initiatorFor(request, log), log);
    // Iqra's answer is recorded on its turn, after the acks that arrived while it was on its way.
    await this.turns.turn('call');
    if (!(outcome.state === 'queued' && outcome.dryRun)) {
      this.metrics.iqraRequest(
        'initiate',
        (performance.now() - started) / 1000,
        outcome.state === 'queued' ? 'ok' : (outcome.error.code?.split(':').pop() ?? outcome.error.reason),
      );
    }
    if (record.batchId && outcome.state === 'failed' && outcome.error.retryable) {
      // Iqra turned it away without taking it (429, 503, unreachable): the row waits for its next turn, not lost.
      const back = await store.transition(requestId, ['sending'], 'waiting', {}, now().getTime(), {
        by: 'iqra',
        reason: outcome.error.reason,
      });
      if (back) {
        log.info('call transition', { from: 'sending', to: 'waiting', reason: outcome.error.reason });
        // Nothing was placed: the row's turn to come does not count twice against the hourly limits.
        await store.releaseQuota(requestId);
        await this.deps.onBatchRow?.(record.batchId, { until: now().getTime() + 60_000, reason: 'iqra' });
        return;
      }
    }
    const dryRun = outcome.state === 'queued' ? outcome.dryRun : undefined;
    const changes = dryRun
      ? // Dry run: what would have been sent is kept for the thread; nothing to track.
        { request: { ...storeRequest(request, zoneSource), dryRun: dryRun.parts } }
      : outcome.state === 'queued'
        ? {
            queueIds: outcome.queueIds,
            // Tracking starts here (and survives restarts, since it lives in the store); the tracker's tick finds the
            // call when its first look is due, seconds from now.
            ...initialTracking(
              now().getTime(),
              request.when.kind === 'scheduled' ? request.when.at.getTime() : undefined,
            ),
          }
        : {
            outcomeReason: outcome.error.reason,
            userMessage: outcome.error.userMessage,
            iqraCode: outcome.error.code ?? null,
            iqraMessage: outcome.error.iqraMessage ?? null,
            httpStatus: outcome.error.httpStatus ?? null,
          };
    // `unknown` too: another replica may have given up on this instance while Iqra was answering; the answer wins.
    const to = dryRun ? 'dry_run' : outcome.state;
    const answered = (from: 'sending' | 'unknown') =>
      store.transition(
        requestId,
        [from],
        to,
        changes,
        now().getTime(),
        { by: 'iqra', attempts: outcome.state === 'queued' ? outcome.attempts : outcome.error.attempts },
        this.messages(() => [PARENT]),
      );
    const fromSending = await answered('sending');
    const done = fromSending ?? (await answered('unknown'));
    if (done && to === 'queued') log.debug('call transition', { from: 'sending', to, recorded: true });
    else
      log.info('call transition', {
        from: fromSending || !done ? 'sending' : 'unknown',
        to,
        recorded: Boolean(done),
      });
    // Once per request: one marked `unknown` meanwhile was counted then (an answer that comes after corrects it).
    if (fromSending) this.metrics.callEnded(to, record.entryPoint);
    // Iqra surely did not queue it: it does not count against the hourly limits (`unknown` does: it may be placed).
    if (done && to === 'failed') await this.releaseQuota(requestId);
    // Not moved (another replica recorded an answer first): the parent is rewritten all the same, with what is known.
    if (done) await this.messagesRecorded(done);
    else await this.announce(sending);
  }

  /**
   * Where a request goes: Iqra, or nowhere when it was made in a dry run. Such a request processed after a restart
   * with dry run off (approved later, recovered, a batch's row) is not placed: its rep was told nothing would be.
   */
  private initiatorFor(request: CallRequestDraft, log: Logger): CallInitiator {
    if (!request.inDryRun || this.deps.dryRun) return this.deps.iqra;
    log.warn('a request made during a dry run is not sent to Iqra, although IQRA_DRY_RUN is now off');
    return this.deps.dryRunInitiator;
  }

  /**
   * A guard stopped a batch's row. An hourly limit: the row goes back to waiting and the batch pauses until the
   * limit frees up (`'waits'`). Calling hours, when the batch schedules such rows: the request, rescheduled for its
   * slot in the callee's next window. Otherwise undefined: the row is refused like any call (and shows as skipped).
   */
  private async batchRowRefused(
    record: CallRecord,
    request: CallRequest,
    refusal: GuardRefusal,
  ): Promise<CallRequest | 'waits' | undefined> {
    const batchId = record.batchId;
    if (!batchId) return undefined;
    const { store, now, logger } = this.deps;
    if (refusal.guard === 'limit' && typeof refusal.detail.retryAt === 'number') {
      const back = await store.transition(record.id, ['received'], 'waiting', {}, now().getTime(), {
        by: 'guard',
        guard: 'limit',
      });
      if (!back) return 'waits';
      logger.info('call transition', {
        requestId: record.id,
        from: 'received',
        to: 'waiting',
        guard: 'limit',
      });
      await this.deps.onBatchRow?.(batchId, { until: refusal.detail.retryAt, reason: 'limit' });
      return 'waits';
    }
    if (refusal.guard === 'hours' && refusal.nextAllowed) {
      const at = await this.deps.batchWindowSlot?.(batchId, record.id, refusal.nextAllowed);
      if (at) return { ...request, when: atNextWindow(at, request.requesterTimeZone) };
    }
    return undefined;
  }

  /** A guard stopped the call: it ends as `refused`, recorded in the audit log, and the requester is told why. */
  private async refuse(
    record: CallRecord,
    request: CallRequest,
    zoneSource: ZoneSource,
    refusal: GuardRefusal,
  ) {
    const { store, now, logger } = this.deps;
    const at = now().getTime();
    const refused = await store.transition(
      record.id,
      [record.state],
      'refused',
      {
        request: storeRequest(request, zoneSource),
        outcomeReason: `guard_${refusal.guard}`,
        userMessage: refusal.message,
      },
      at,
      { by: 'guard', guard: refusal.guard },
      this.messages((r) => [
        {
          kind: 'refusal',
          payload: {
            message: refusal.message,
            guard: refusal.guard,
            // The one-click "Schedule for <that time>", unless that is further ahead than calls may be scheduled.
            ...(refusal.nextAllowed && !refusal.nextAllowedTooFar
              ? { nextAllowed: refusal.nextAllowed.getTime() }
              : {}),
          },
        },
        // A call that waited for approval already has a message in the channel: it says the call was stopped.
        r.parentTs && PARENT_ONLY,
      ]),
    );
    if (!refused) return;
    // Stopped after the limits were counted (at approval: the do-not-call list, calling hours): nothing was placed.
    await this.releaseQuota(record.id);
    logger.info('call transition', {
      requestId: record.id,
      from: record.state,
      to: 'refused',
      guard: refusal.guard,
    });
    this.metrics.refused(refusal.guard);
    this.metrics.callEnded('refused', record.entryPoint);
    await store.audit({
      teamId: record.teamId,
      at,
      actor: 'app',
      action: `refused:${refusal.guard}`,
      target: record.id,
      detail: { userId: record.userId, recipient: maskPhone(request.recipient.e164), ...refusal.detail },
    });
    await this.messagesRecorded(refused);
  }

  /** Reads the time phrase in the requester's zone; a mistake ends the request as `refused`, told to the requester. */
  private async resolve(
    record: CallRecord,
    log: Logger,
  ): Promise<{ request: CallRequest; zoneSource: ZoneSource } | undefined> {
    const { store, now } = this.deps;
    const draft = draftOf(record);
    const zone = await this.deps.zoneOf(record.userId);
    const valid = isValidTimeZone(zone.timeZone);
    const timeZone = valid ? zone.timeZone : this.deps.defaultTimeZone;
    const zoneSource: ZoneSource = valid ? zone.source : 'default';
    let when: When;
    try {
      // Read relative to when the rep asked, not to when a recovering instance gets to it.
      when = resolveWhen(draft.whenPhrase, {
        now: new Date(record.createdAt),
        timeZone,
        maxScheduleDays: this.deps.maxScheduleDays,
      });
    } catch (err) {
      if (!(err instanceof CallRequestError)) throw err;
      const refused = await store.transition(
        record.id,
        ['received'],
        'refused',
        { outcomeReason: `invalid_${err.field}`, userMessage: err.userMessage },
        now().getTime(),
        { by: 'validation', field: err.field },
        this.messages(() => [{ kind: 'refusal', payload: { field: err.field, message: err.userMessage } }]),
      );
      log.info('call transition', { from: 'received', to: 'refused', field: err.field });
      if (refused) this.metrics.callEnded('refused', record.entryPoint);
      if (refused) await this.messagesRecorded(refused);
      return undefined;
    }
    // A scheduled time that passed while the request waited (a restart) means: call now.
    if (when.kind === 'scheduled' && when.at.getTime() <= now().getTime()) when = { kind: 'now' };
    return { request: { ...draft, when, requesterTimeZone: timeZone }, zoneSource };
  }

  /** The parent message rewritten (and the thread's first reply), on its own: for a move that was not recorded. */
  private async announce(record: CallRecord): Promise<void> {
    for (const job of this.messages(() => [PARENT])(record)) {
      await this.deps.store.enqueueJob(job, this.deps.now().getTime());
    }
    await this.messagesRecorded(record);
  }

  /**
   * The Slack messages a move calls for (`pick`, from the moved record; falsy entries skipped), as outbox jobs that
   * the store records with the move, in its transaction. None for a batch's row: the batch's message shows it.
   */
  private messages(
    pick: (record: CallRecord) => readonly (Message | false | null | undefined | '')[],
  ): (record: CallRecord) => NewJob[] {
    return (record) =>
      record.batchId
        ? []
        : pick(record)
            .filter((m): m is Message => Boolean(m))
            .map((m) => ({
              kind: m.kind,
              requestId: record.id,
              channelId: m.channelId ?? record.channelId,
              payload: m.payload ?? {},
            }));
  }

  /** After a move recorded with its messages: the outbox is woken for them, or the row's batch message updated. */
  private async messagesRecorded(record: CallRecord): Promise<void> {
    if (record.batchId) await this.deps.onBatchRow?.(record.batchId);
    else this.deps.onOutbox();
  }

  /** A decision's messages: the parent rewritten, the decision in the call's thread, the approval message. */
  private readonly decisionMessages = this.messages((r) => [
    PARENT_ONLY,
    { kind: 'decision' },
    otherApprovalChannel(r) && { kind: 'approval', channelId: r.approvalChannel },
  ]);

  /**
   * Approves or rejects a request waiting for approval. Exactly one decision wins, whoever presses first, in any
   * process (compare-and-set on the state). An approval then places the call through the same path as any call.
   * Who may decide is checked by the caller.
   */
  async decide(requestId: string, decision: Decision): Promise<DecisionResult> {
    const { store, now, logger, instanceId } = this.deps;
    const log = logger.child({ requestId, decidedBy: decision.by });
    const record = await store.getCall(requestId);
    if (!record) return { ok: false, reason: 'not_found' };
    if (record.state !== 'pending_approval') return { ok: false, reason: 'already_decided', record };
    const resolved = requestOf(record);
    if (!resolved) return { ok: false, reason: 'not_found', record };

    const at = now().getTime();
    if (decision.kind === 'approve') {
      const expiry = approvalExpiry(record.expiresAt, resolved.request.when, at);
      if (expiry === 'ttl') {
        const expired = await this.expire(record, 'ttl');
        return expired
          ? { ok: false, reason: 'expired', record: expired }
          : { ok: false, reason: 'already_decided' };
      }
      if (expiry === 'time_passed' && !decision.callNow) return { ok: false, reason: 'time_passed', record };
      const callNow = expiry === 'time_passed' || decision.callNow === true;
      const request = callNow
        ? storeRequest({ ...resolved.request, when: { kind: 'now' } }, resolved.zoneSource)
        : undefined;
      const approved = await store.transition(
        requestId,
        ['pending_approval'],
        'approved',
        { decidedBy: decision.by, decidedAt: at, owner: instanceId, ...(request ? { request } : {}) },
        at,
        { by: decision.by, ...(callNow ? { callNow: true } : {}) },
        // The buttons go at once; the parent is rewritten again when Iqra answers.
        this.decisionMessages,
      );
      if (!approved) return { ok: false, reason: 'already_decided', ...(await this.reread(requestId)) };
      log.info('call transition', { from: 'pending_approval', to: 'approved', callNow });
      await this.messagesRecorded(approved);
      this.start(requestId);
      return { ok: true, record: approved };
    }

    const rejected = await store.transition(
      requestId,
      ['pending_approval'],
      'rejected',
      { decidedBy: decision.by, decidedAt: at, decisionReason: decision.reason?.trim() || null },
      at,
      { by: decision.by },
      this.decisionMessages,
    );
    if (!rejected) return { ok: false, reason: 'already_decided', ...(await this.reread(requestId)) };
    await this.releaseQuota(requestId);
    log.info('call transition', { from: 'pending_approval', to: 'rejected' });
    this.metrics.callEnded('rejected', rejected.entryPoint);
    await this.messagesRecorded(rejected);
    return { ok: true, record: rejected };
  }

  /**
   * Gives back what a request counted against the hourly limits, once it ended without a call being placed (rejected,
   * expired, refused, or `failed` at Iqra). Called only by whoever won the transition to that end, so once; and the
   * store deletes the request's own uses, so a second call frees nothing more. A failure is logged, not thrown: the
   * use then simply leaves the window within the hour.
   */
  private async releaseQuota(requestId: string): Promise<void> {
    try {
      await this.deps.store.releaseQuota(requestId);
    } catch (error) {
      this.deps.logger.warn('could not give back an hourly limit use', { requestId, error });
    }
  }

  private async reread(requestId: string): Promise<{ record?: CallRecord }> {
    const record = await this.deps.store.getCall(requestId);
    return record ? { record } : {};
  }

  private async expire(record: CallRecord, why: 'ttl' | 'time_passed'): Promise<CallRecord | undefined> {
    const at = this.deps.now().getTime();
    const expired = await this.deps.store.transition(
      record.id,
      ['pending_approval'],
      'expired',
      { decisionReason: why, decidedAt: at },
      at,
      { by: 'expiry', why },
      this.decisionMessages,
    );
    if (expired) {
      await this.releaseQuota(record.id);
      this.metrics.callEnded('expired', expired.entryPoint);
      this.deps.logger.info('call transition', {
        requestId: record.id,
        from: 'pending_approval',
        to: 'expired',
        why,
      });
      await this.messagesRecorded(expired);
    }
    return expired;
  }

  /** Expires requests whose approval deadline or scheduled time has passed. Safe to run in every replica. */
  async expireApprovals(): Promise<number> {
    const at = this.deps.now().getTime();
    let count = 0;
    for (const record of await this.deps.store.orphanedCalls(['pending_approval'], [])) {
      const resolved = requestOf(record);
      if (!resolved) continue;
      const why = approvalExpiry(record.expiresAt, resolved.request.when, at);
      if (why && (await this.expire(record, why))) count += 1;
    }
    return count;
  }

  /**
   * Takes over requests left by an instance that is gone: `sending` ones become `unknown` (never re-sent
   * automatically) and their requester is told; `received` ones are processed now. With several replicas, also this
   * instance's own requests that nothing here works on any more (their processing failed on a database error) and
   * that have not moved for the instance timeout: else they would wait for this instance to stop.
   */
  async recover(): Promise<{ interrupted: number; resumed: number }> {
    const { store, now, instanceId, logger } = this.deps;
    const timeoutMs = this.deps.instanceTimeoutMs ?? 30_000;
    const live = store.singleProcess
      ? [instanceId]
      : [instanceId, ...(await store.liveInstances(now().getTime(), timeoutMs))];
    const released = await store.releaseJobLeases(live, now().getTime());
    if (released > 0) this.deps.onOutbox();
    const states = ['received', 'approved', 'sending'] as const;
    const others = live.filter((id) => id !== instanceId);
    // Others' live requests are left alone; this instance's own are looked at too (never an empty list: that would
    // mean every owner).
    const candidates =
      store.singleProcess || others.length === 0
        ? await store.orphanedCalls(states, store.singleProcess ? live : [])
        : await store.orphanedCalls(states, others);
    const stalled = now().getTime() - timeoutMs;
    const orphans = candidates.filter(
      (call) => call.owner !== instanceId || (!this.working.has(call.id) && call.updatedAt <= stalled),
    );
    let interrupted = 0;
    let resumed = 0;
    for (const call of orphans) {
      if (call.state === 'sending') {
        const marked = await store.transition(
          call.id,
          ['sending'],
          'unknown',
          { outcomeReason: 'INTERRUPTED', userMessage: INTERRUPTED_MESSAGE, owner: instanceId },
          now().getTime(),
          { by: 'recovery', previousOwner: call.owner },
          this.messages(() => [PARENT]),
        );
        if (marked) {
          interrupted += 1;
          this.metrics.callEnded('unknown', call.entryPoint);
          logger.warn('call transition', {
            requestId: call.id,
            from: 'sending',
            to: 'unknown',
            reason: 'INTERRUPTED',
          });
          await this.messagesRecorded(marked);
        }
      } else {
        resumed += 1;
        logger.info('resuming a call request recorded before a restart', { requestId: call.id });
        this.start(call.id);
      }
    }
    return { interrupted, resumed };
  }

  /** Stops taking new work and waits (up to `timeoutMs`) for requests being sent to Iqra to finish. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.accepting = false;
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([
      Promise.allSettled([...this.inFlight]).then(() => true as const),
      timeout,
    ]);
    clearTimeout(timer);
    return finished;
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /** For tests and status: the stored record. */
  get store(): Store {
    return this.deps.store;
  }
}
