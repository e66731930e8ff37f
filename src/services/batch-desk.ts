import { type ApprovalMode, needsApproval } from '../calls/approval.js';
import { type BatchDefaults, previewBatch, readBatchTable } from '../calls/batch.js';
import {
  type BatchCounts,
  type BatchResultRow,
  batchEta,
  batchRowState,
  countRows,
  doneRows,
  isRowFinal,
} from '../calls/batch-progress.js';
import type { CallCatalog, CallRequest } from '../calls/call-request.js';
import { atNextWindow, NEXT_WINDOW_PHRASE } from '../calls/calling-hours.js';
import { CallRequestError } from '../calls/errors.js';
import { END_WORDS } from '../calls/progress.js';
import { describeInZone, isValidTimeZone, resolveWhen, type When } from '../calls/when.js';
import type { Logger } from '../log.js';
import type { BatchRecord, BatchState, CallRecord, NewCall, Store } from '../store/store.js';
import type { CallDesk, RequesterZone } from './call-desk.js';
import type { CallGuards } from './call-guards.js';
import { requestOf, storeRequest, type ZoneSource } from './stored-request.js';

/**
 * Batches (issue 9): a list of calls placed from one form. The list is previewed with the rules of a single call
 * (number, agent, time, variables, do-not-call, calling hours in each callee's zone, limits) before anything is
 * recorded as a call; once confirmed (and approved, as a whole, when approval applies), its rows are recorded as
 * calls in state `waiting` and sent one at a time at the batch's pace, each through the CallDesk like any call (the
 * same guards, the same exactly-once path to Iqra, the same tracking). Pacing, stopping and finishing live in the
 * store, so that a restart (or another replica) picks the batch up where it was.
 */

export interface BatchDeskDeps {
  store: Store;
  desk: CallDesk;
  guards?: CallGuards;
  catalog: CallCatalog;
  zoneOf: (userId: string) => Promise<RequesterZone>;
  logger: Logger;
  now: () => Date;
  instanceId: string;
  newRequestId: () => string;
  newBatchId: () => string;
  maxScheduleDays: number;
  defaultTimeZone: string;
  /** CALL_BATCH_MAX: the most rows a batch may have. */
  maxRows: number;
  /** The time zone a number's calling hours are read in (for the preview's words). */
  zonesOf?: (e164: string) => Promise<{ zones: string[] }>;
  approval?: {
    mode: ApprovalMode;
    ttlMs: number;
    channel?: string;
    isExempt: (userId: string) => Promise<boolean>;
  };
  /** A batch's message must be posted or rewritten (through the outbox). */
  onOutbox: () => void;
  /** A batch changed: its message is refreshed at Slack's pace. */
  onChange?: (batchId: string) => void;
}

/** What the rep filled in the batch form. */
export interface BatchForm {
  teamId: string;
  userId: string;
  channelId: string;
  /** The CSV file's text, or the pasted lines. */
  text: string;
  fileName?: string;
  defaults: Omit<BatchDefaults, 'when'>;
  /** The batch's start, as typed (empty: now). */
  start?: string;
  pacePerMinute: number;
}

/** The preview, as stored with the draft batch and shown to the rep. */
export interface BatchPlan {
  batchId: string;
  channelId: string;
  given: number;
  callable: number;
  outsideHours: { line: number; number: string; next?: string }[];
  skipped: { line: number; raw: string; reason: string }[];
  duplicates: number;
  tooMany?: { max: number; given: number };
  sample: { line: number; number: string; agent: string; when: string; variables: Record<string, string> }[];
  pacePerMinute: number;
  startLabel: string;
  placingMinutes: number;
  approvalNeeded: boolean;
  notes: string[];
}

interface StoredRow {
  line: number;
  requestId: string;
  request: Record<string, unknown>;
}

interface StoredOutsideRow extends StoredRow {
  reason: string;
  nextAllowed?: number;
}

/** A row skipped at the preview (or at confirm, outside calling hours): its number as written, E.164 once read. */
interface SkippedRow {
  line: number;
  raw: string;
  e164?: string;
  reason: string;
}

/** The JSON the store keeps in a batch's `rows`. */
interface BatchRows {
  calls: StoredRow[];
  outside: StoredOutsideRow[];
  skipped: SkippedRow[];
  /** Rows not called because an earlier row (`of`: its line) has the same number. Absent in older batches. */
  duplicates: { line: number; e164: string; of: number }[];
}

/** The JSON the store keeps in a batch's `settings`. */
export interface BatchSettings {
  pacePerMinute: number;
  startAt?: number;
  startLabel: string;
  timeZone: string;
  zoneSource: ZoneSource;
  fileName?: string;
  agentLabel?: string;
  given: number;
  duplicates: number;
  tooMany?: { max: number; given: number };
  approvalNeeded: boolean;
  outsideHours?: 'schedule' | 'skip';
}

function settingsOf(batch: BatchRecord): BatchSettings {
  return batch.settings as unknown as BatchSettings;
}

function rowsOf(batch: BatchRecord): BatchRows {
  const rows = batch.rows as Partial<BatchRows>;
  return {
    calls: rows.calls ?? [],
    outside: rows.outside ?? [],
    skipped: rows.skipped ?? [],
    duplicates: rows.duplicates ?? [],
  };
}

/** A batch in a list: when, its state, and how many of its rows are over (called, skipped or cancelled). */
export interface BatchSummary {
  id: string;
  createdAt: number;
  state: BatchState;
  done: number;
  total: number;
}

export type ConfirmResult =
  | { ok: true; batch: BatchRecord }
  | { ok: false; reason: 'not_found' | 'not_yours' | 'already_confirmed' | 'too_many' | 'nothing_to_call' };

export type BatchDecision = { kind: 'approve'; by: string } | { kind: 'reject'; by: string; reason?: string };

/** A batch and its rows, as its message and `/call status` show them. */
export interface BatchSnapshot {
  batch: BatchRecord;
  settings: BatchSettings;
  calls: CallRecord[];
  counts: BatchCounts;
  /** Rows the batch places plus rows skipped at the preview. */
  total: number;
  eta?: number;
  /** Rows the batch moved to their callee's next calling window. */
  scheduledOutsideHours: number;
  /** Rows not called as the same number as an earlier row (not in `counts` nor `total`; in the result file). */
  duplicates: number;
}

const MINUTE = 60_000;
const DRAFT_TTL_MS = 24 * 60 * MINUTE;
const DRAFT_PRUNE_EVERY_MS = 10 * MINUTE;

export class BatchDesk {
  private ticking: Promise<void> | undefined;
  private lastPrune = 0;

  constructor(private readonly deps: BatchDeskDeps) {}

  /**
   * Reads the list and checks every row, records the result as a draft batch (nothing is sent, no call is recorded),
   * and returns what the rep will see. A problem with the list as a whole, the start time, or who may call throws a
   * CallRequestError with the message for the rep.
   */
  async preview(form: BatchForm): Promise<BatchPlan> {
    const { deps } = this;
    if (!Number.isInteger(form.pacePerMinute) || form.pacePerMinute < 1 || form.pacePerMinute > 60) {
      throw new CallRequestError(
        'command',
        'The pace is the number of calls per minute: a whole number from 1 to 60, e.g. `10`.',
      );
    }
    await this.checkRequester(form.userId, form.channelId);

    const table = readBatchTable(form.text);
    const preview = previewBatch(table, form.defaults, deps.catalog, { max: deps.maxRows });
    const now = deps.now();
    const zone = await deps.zoneOf(form.userId);
    const zoneValid = isValidTimeZone(zone.timeZone);
    const timeZone = zoneValid ? zone.timeZone : deps.defaultTimeZone;
    const zoneSource: ZoneSource = zoneValid ? zone.source : 'default';
    const whenContext = { now, timeZone, maxScheduleDays: deps.maxScheduleDays };

    let start: When;
    try {
      start = resolveWhen(form.start, whenContext);
    } catch (error) {
      if (!(error instanceof CallRequestError)) throw error;
      throw new CallRequestError('when', `The batch's start: ${error.userMessage}`);
    }
    const startAt = start.kind === 'scheduled' ? start.at.getTime() : now.getTime();
    const interval = MINUTE / form.pacePerMinute;
    const batchId = deps.newBatchId();

    const rows: BatchRows = {
      calls: [],
      outside: [],
      skipped: preview.skipped.map(({ line, raw, reason }) => ({ line, raw, reason })),
      duplicates: preview.duplicateRows.map(({ line, e164, of }) => ({ line, e164, of })),
    };
    const sample: BatchPlan['sample'] = [];
    /** A row's own later time (a `when` cell): a scheduled call, for the approval policy as for a single call. */
    let laterRow: When | undefined;
    let slot = 0;
    for (const row of preview.valid) {
      const requestId = deps.newRequestId();
      let when: When;
      try {
        when = resolveWhen(row.whenPhrase, whenContext);
      } catch (error) {
        if (!(error instanceof CallRequestError)) throw error;
        rows.skipped.push({
          line: row.line,
          raw: row.recipient.display,
          e164: row.recipient.e164,
          reason: error.userMessage,
        });
        continue;
      }
      const listed = await deps.store.findDnc(form.teamId, row.recipient.e164);
      if (listed) {
        rows.skipped.push({
          line: row.line,
          raw: row.recipient.display,
          e164: row.recipient.e164,
          reason: 'On the do-not-call list, so it will not be called.',
        });
        continue;
      }
      const request: CallRequest = {
        requestId,
        origin: { teamId: form.teamId, channelId: form.channelId, userId: form.userId },
        recipient: row.recipient,
        agent: row.agent,
        number: row.number,
        ...(row.campaign ? { campaign: row.campaign } : {}),
        ...(row.whenPhrase !== undefined ? { whenPhrase: row.whenPhrase } : {}),
        variables: row.variables,
        metadata: { BatchId: batchId, BatchLine: String(row.line) },
        when,
        requesterTimeZone: timeZone,
      };
      // When the call would start: its own time, or its turn at the batch's pace.
      const callAt = when.kind === 'scheduled' ? when.at : new Date(startAt + slot * interval);
      if (when.kind === 'scheduled') laterRow ??= when;
      const stored = {
        line: row.line,
        requestId,
        request: storeRequest(deps.desk.marked(request), zoneSource),
      };
      const hours = await deps.guards?.callingHours({
        requestId,
        teamId: form.teamId,
        channelId: form.channelId,
        userId: form.userId,
        recipient: row.recipient,
        when: { kind: 'scheduled', at: callAt, timeZone, zoneSource: 'requester', phrase: '' },
      });
      slot += 1;
      if (hours) {
        rows.outside.push({
          ...stored,
          reason: hours.message,
          ...(hours.nextAllowed ? { nextAllowed: hours.nextAllowed.getTime() } : {}),
        });
        continue;
      }
      rows.calls.push(stored);
      if (sample.length < 5) {
        sample.push({
          line: row.line,
          number: row.recipient.display,
          agent: row.agent.alias,
          when: when.kind === 'scheduled' ? describeInZone(when.at, timeZone) : 'at its turn',
          variables: row.variables,
        });
      }
    }
    rows.skipped.sort((a, b) => a.line - b.line);

    // The batch as a whole is approved (or not) as its calls would be one by one: by its start, and by the rows that
    // name their own later time (with CALL_APPROVAL=scheduled, a list of calls for tomorrow is calls for later, even
    // when the batch starts now).
    const approval = deps.approval;
    let approvalNeeded = false;
    if (approval) {
      const isExempt = () => approval.isExempt(form.userId);
      approvalNeeded =
        (await needsApproval(approval.mode, start, isExempt)) ||
        (laterRow !== undefined && (await needsApproval(approval.mode, laterRow, isExempt)));
    }
    const toPlace = rows.calls.length + rows.outside.length;
    const notes: string[] = [];
    const limits = deps.guards?.limits;
    if (limits && limits.perUserPerHour > 0 && toPlace > limits.perUserPerHour) {
      notes.push(
        `You may place ${limits.perUserPerHour} calls an hour (CALL_LIMIT_PER_USER_PER_HOUR): the batch pauses when that is reached and goes on when the hour frees up.`,
      );
    }
    if (limits && limits.perWorkspacePerHour > 0 && toPlace > limits.perWorkspacePerHour) {
      notes.push(
        `The workspace may place ${limits.perWorkspacePerHour} calls an hour (CALL_LIMIT_PER_WORKSPACE_PER_HOUR): the batch pauses when that is reached.`,
      );
    }
    const startLabel = start.kind === 'scheduled' ? describeInZone(start.at, timeZone) : 'now';
    // The agent the batch's message and its approval request name: the one every row goes to. The form always has
    // one chosen (its default), but a list's `agent` column may send rows elsewhere: then it is "per row", so that
    // nobody approves a list for one agent that calls with another.
    const agents = new Set(
      [...rows.calls, ...rows.outside].map(
        (row) => (row.request as { agent: { alias: string } }).agent.alias,
      ),
    );
    const agentLabel = agents.size === 1 ? [...agents][0] : undefined;
    const settings: BatchSettings = {
      pacePerMinute: form.pacePerMinute,
      ...(start.kind === 'scheduled' ? { startAt } : {}),
      startLabel,
      timeZone,
      zoneSource,
      ...(form.fileName ? { fileName: form.fileName } : {}),
      ...(agentLabel ? { agentLabel } : {}),
      given: Math.min(table.rows.length, deps.maxRows),
      duplicates: preview.duplicates,
      ...(preview.tooMany ? { tooMany: preview.tooMany } : {}),
      approvalNeeded,
    };
    await deps.store.createBatch(
      {
        id: batchId,
        teamId: form.teamId,
        channelId: form.channelId,
        userId: form.userId,
        settings: { ...settings },
        rows: { ...rows },
        total: toPlace,
      },
      now.getTime(),
    );
    deps.logger.info('batch previewed', {
      batchId,
      userId: form.userId,
      rows: table.rows.length,
      callable: rows.calls.length,
      outsideHours: rows.outside.length,
      skipped: rows.skipped.length,
      duplicates: preview.duplicates,
    });
    const outsideHours: BatchPlan['outsideHours'] = [];
    for (const row of rows.outside) {
      const recipient = (row.request as { recipient: { display: string; e164: string } }).recipient;
      const zones = row.nextAllowed !== undefined ? await deps.zonesOf?.(recipient.e164) : undefined;
      outsideHours.push({
        line: row.line,
        number: recipient.display,
        ...(row.nextAllowed !== undefined
          ? { next: describeInZone(new Date(row.nextAllowed), zones?.zones[0] ?? timeZone) }
          : {}),
      });
    }
    return {
      batchId,
      channelId: form.channelId,
      given: table.rows.length,
      callable: rows.calls.length,
      outsideHours,
      skipped: rows.skipped,
      duplicates: preview.duplicates,
      ...(preview.tooMany ? { tooMany: preview.tooMany } : {}),
      sample,
      pacePerMinute: form.pacePerMinute,
      startLabel,
      placingMinutes: placingMinutes(toPlace, form.pacePerMinute, limits),
      approvalNeeded,
      notes,
    };
  }

  /** Who may call, and from which channel: checked before the list is even read. Throws a CallRequestError. */
  async checkRequester(userId: string, channelId: string): Promise<void> {
    const who = await this.deps.guards?.requesterRefusal(userId, channelId);
    if (who) throw new CallRequestError('command', who.message);
  }

  /**
   * The rep confirmed the preview: the rows are recorded as calls (once, however often this runs), and the batch
   * waits for approval or starts. `outsideHours`: rows outside calling hours are scheduled for the callee's next
   * window, or skipped.
   */
  async confirm(batchId: string, userId: string, outsideHours: 'schedule' | 'skip'): Promise<ConfirmResult> {
    const { deps } = this;
    const { store } = deps;
    const batch = await store.getBatch(batchId);
    if (!batch) return { ok: false, reason: 'not_found' };
    if (batch.userId !== userId) return { ok: false, reason: 'not_yours' };
    if (batch.state !== 'draft') return { ok: false, reason: 'already_confirmed' };
    const settings = settingsOf(batch);
    if (settings.tooMany) return { ok: false, reason: 'too_many' };
    const rows = rowsOf(batch);
    const place: StoredRow[] = [...rows.calls];
    const skipped = [...rows.skipped];
    const interval = MINUTE / settings.pacePerMinute;
    const moved = new Set<number>();
    for (const row of [...rows.outside].sort((a, b) => a.line - b.line)) {
      if (outsideHours === 'schedule' && row.nextAllowed !== undefined) {
        const at = windowSlot(row.nextAllowed, interval, moved);
        moved.add(at);
        place.push({ ...row, request: scheduledAt(row.request, at) });
      } else {
        const recipient = (row.request as { recipient: { display: string; e164: string } }).recipient;
        skipped.push({ line: row.line, raw: recipient.display, e164: recipient.e164, reason: row.reason });
      }
    }
    if (place.length === 0) return { ok: false, reason: 'nothing_to_call' };
    place.sort((a, b) => a.line - b.line);
    skipped.sort((a, b) => a.line - b.line);

    const at = deps.now().getTime();
    const calls: NewCall[] = place.map((row) => {
      const request = row.request as { recipient: { e164: string }; agent: { alias: string } };
      return {
        id: row.requestId,
        entryPoint: 'batch',
        teamId: batch.teamId,
        channelId: batch.channelId,
        userId: batch.userId,
        request: row.request,
        recipient: request.recipient.e164,
        agentAlias: request.agent.alias,
        owner: deps.instanceId,
        batchId,
        batchLine: row.line,
      };
    });
    await store.addBatchCalls(batchId, calls, at);
    const changes = {
      settings: { ...settings, outsideHours },
      rows: { ...rows, skipped },
      total: place.length,
    };
    const approval = deps.approval;
    const confirmed = settings.approvalNeeded
      ? await store.transitionBatch(
          batchId,
          ['draft'],
          'pending_approval',
          {
            ...changes,
            expiresAt: at + (approval?.ttlMs ?? 24 * 3_600_000),
            approvalChannel: approval?.channel ?? batch.channelId,
          },
          at,
        )
      : await store.transitionBatch(
          batchId,
          ['draft'],
          'running',
          { ...changes, nextAt: Math.max(settings.startAt ?? at, at) },
          at,
        );
    if (!confirmed) return { ok: false, reason: 'already_confirmed' };
    deps.logger.info('batch confirmed', { batchId, state: confirmed.state, calls: place.length });
    await store.audit({
      teamId: batch.teamId,
      at,
      actor: userId,
      action: 'batch:start',
      target: batchId,
      detail: { calls: place.length, skipped: skipped.length, pacePerMinute: settings.pacePerMinute },
    });
    await this.announce(confirmed);
    return { ok: true, batch: confirmed };
  }

  /** Approves or rejects a batch waiting for approval; exactly one decision wins. Who may decide is the caller's. */
  async decide(batchId: string, decision: BatchDecision): Promise<BatchRecord | undefined> {
    const { store, now, logger } = this.deps;
    const batch = await store.getBatch(batchId);
    if (batch?.state !== 'pending_approval') return undefined;
    const at = now().getTime();
    if (batch.expiresAt !== undefined && batch.expiresAt <= at) {
      await this.expire(batch);
      return undefined;
    }
    const decided =
      decision.kind === 'approve'
        ? await store.transitionBatch(
            batchId,
            ['pending_approval'],
            'running',
            { decidedBy: decision.by, decidedAt: at, nextAt: Math.max(settingsOf(batch).startAt ?? at, at) },
            at,
          )
        : await store.transitionBatch(
            batchId,
            ['pending_approval'],
            'rejected',
            { decidedBy: decision.by, decidedAt: at, decisionReason: decision.reason?.trim() || null },
            at,
          );
    if (!decided) return undefined;
    if (decision.kind === 'reject')
      await store.cancelWaitingCalls(batchId, at, { by: decision.by, why: 'rejected' });
    logger.info('batch decided', { batchId, decision: decision.kind, by: decision.by });
    await this.announce(decided);
    return decided;
  }

  /**
   * "Stop the rest": rows not sent yet are cancelled; rows already with Iqra are left alone (and still followed).
   * Who may stop is the caller's to check.
   */
  async stop(batchId: string, by: string): Promise<{ batch: BatchRecord; cancelled: number } | undefined> {
    const { store, now, logger } = this.deps;
    const at = now().getTime();
    const stopped = await store.transitionBatch(
      batchId,
      ['running', 'pending_approval'],
      'stopped',
      { stoppedBy: by },
      at,
    );
    if (!stopped) return undefined;
    const cancelled = await store.cancelWaitingCalls(batchId, at, { by, why: 'stopped' });
    logger.info('batch stopped', { batchId, by, cancelled });
    await store.audit({
      teamId: stopped.teamId,
      at,
      actor: by,
      action: 'batch:stop',
      target: batchId,
      detail: { cancelled },
    });
    await this.announce(stopped);
    await this.finishIfDone(stopped);
    return { batch: stopped, cancelled };
  }

  /**
   * One step of every batch: expires approvals that waited too long, sends each running batch's next row when its
   * slot has come, and finishes batches whose rows have all ended. Safe in every replica and after a restart.
   */
  async tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.tickOnce().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    const { store, now } = this.deps;
    // Previews nobody confirmed within a day are forgotten (their rows can be large); a rep who comes back to one
    // is told to start again.
    if (now().getTime() - this.lastPrune > DRAFT_PRUNE_EVERY_MS) {
      this.lastPrune = now().getTime();
      await store.deleteDrafts(now().getTime() - DRAFT_TTL_MS);
    }
    for (const batch of await store.batchesInStates(['pending_approval'], 100)) {
      if (batch.expiresAt !== undefined && batch.expiresAt <= now().getTime()) await this.expire(batch);
    }
    const active = await store.batchesInStates(['running', 'stopped'], 100);
    await Promise.all(
      active.map(async (batch) => {
        if (batch.state === 'running' && (batch.nextAt ?? 0) <= now().getTime()) await this.sendNext(batch);
        await this.finishIfDone(batch);
      }),
    );
  }

  /** Claims the batch's slot (one replica wins it) and sends its next waiting row through the CallDesk. */
  private async sendNext(batch: BatchRecord): Promise<void> {
    const { store, now, desk, instanceId, logger } = this.deps;
    const at = now().getTime();
    const interval = MINUTE / settingsOf(batch).pacePerMinute;
    const next = Math.max((batch.nextAt ?? at) + interval, at);
    if (!(await store.claimBatchSlot(batch.id, batch.nextAt ?? null, next, at))) return;
    const row = await store.nextWaitingCall(batch.id);
    if (!row) return;
    const taken = await store.transition(row.id, ['waiting'], 'received', { owner: instanceId }, at, {
      by: 'batch',
      batchId: batch.id,
    });
    if (!taken) return;
    logger.info('call transition', { requestId: row.id, from: 'waiting', to: 'received', batchId: batch.id });
    await desk.start(row.id);
    this.deps.onChange?.(batch.id);
  }

  /** When every row has ended: the batch is done (once) and its result goes in its thread. */
  private async finishIfDone(batch: BatchRecord): Promise<void> {
    const { store, now, logger } = this.deps;
    // Cheap first: a batch with rows still waiting is not done.
    if (await store.nextWaitingCall(batch.id)) {
      // Unless it was stopped: a row that was with Iqra when Stop was pressed, and that Iqra then turned away without
      // taking it (429, 503, unreachable), came back to waiting after Stop cancelled the others. It is not sent any
      // more: it is cancelled too, or the batch would wait for it forever and never post its result.
      if (batch.state !== 'stopped') return;
      const at = now().getTime();
      const cancelled = await store.cancelWaitingCalls(batch.id, at, {
        by: batch.stoppedBy ?? 'batch',
        why: 'stopped',
      });
      if (cancelled > 0) {
        logger.info('batch rows cancelled after stop', { batchId: batch.id, cancelled });
        this.deps.onChange?.(batch.id);
      }
      if (await store.nextWaitingCall(batch.id)) return;
    }
    const calls = await store.batchCalls(batch.id);
    if (!calls.every((call) => isRowFinal(call))) return;
    const done = await store.transitionBatch(
      batch.id,
      ['running', 'stopped'],
      'done',
      { finishedAt: now().getTime() },
      now().getTime(),
    );
    if (!done) return;
    logger.info('batch done', { batchId: batch.id, calls: calls.length });
    await this.enqueue(done, 'result', done.channelId);
  }

  private async expire(batch: BatchRecord): Promise<void> {
    const at = this.deps.now().getTime();
    const expired = await this.deps.store.transitionBatch(
      batch.id,
      ['pending_approval'],
      'expired',
      { decidedAt: at },
      at,
    );
    if (!expired) return;
    await this.deps.store.cancelWaitingCalls(batch.id, at, { by: 'expiry' });
    this.deps.logger.info('batch expired', { batchId: batch.id });
    await this.announce(expired);
  }

  /**
   * A row's call told something (CallDesk, CallTracker): the batch's message is refreshed, and when the row has to
   * wait (an hourly limit, Iqra slowing the app down) the whole batch pauses until then.
   */
  async rowChanged(batchId: string, hold?: { until: number; reason: 'limit' | 'iqra' }): Promise<void> {
    if (hold) {
      const batch = await this.deps.store.getBatch(batchId);
      if (batch && (batch.nextAt ?? 0) < hold.until) {
        await this.deps.store.updateBatch(
          batchId,
          { nextAt: hold.until, heldReason: hold.reason },
          this.deps.now().getTime(),
        );
      }
    }
    this.deps.onChange?.(batchId);
  }

  /**
   * When a row found outside calling hours only as it is sent (after a pause at an hourly limit, or a slow batch
   * crossing the window's end) starts in its callee's next window (`window`: its opening): at the batch's pace after
   * the rows already moved there, at confirm time or since, as at confirm time. Undefined when the batch skips rows
   * outside calling hours.
   */
  async nextWindowSlot(batchId: string, requestId: string, window: Date): Promise<Date | undefined> {
    const { store } = this.deps;
    const batch = await store.getBatch(batchId);
    if (!batch || settingsOf(batch).outsideHours !== 'schedule') return undefined;
    const moved = new Set<number>();
    for (const call of await store.batchCalls(batchId)) {
      const when = call.request.when as { phrase?: unknown; at?: unknown } | undefined;
      if (call.id !== requestId && when?.phrase === NEXT_WINDOW_PHRASE && typeof when.at === 'string') {
        moved.add(Date.parse(when.at));
      }
    }
    return new Date(windowSlot(window.getTime(), MINUTE / settingsOf(batch).pacePerMinute, moved));
  }

  /** The batch with its rows and counts (skipped rows included), for its message and `/call status`. */
  async snapshot(batchId: string): Promise<BatchSnapshot | undefined> {
    const { store, now } = this.deps;
    const batch = await store.getBatch(batchId);
    if (!batch) return undefined;
    const calls = await store.batchCalls(batchId);
    const { skipped: skippedRows, duplicates } = rowsOf(batch);
    const skipped = skippedRows.length;
    const states = calls.map((call) => batchRowState(call));
    for (let i = 0; i < skipped; i++) states.push('skipped');
    const counts = countRows(states);
    const settings = settingsOf(batch);
    const waiting = calls.filter((call) => call.state === 'waiting').length;
    const eta =
      batch.state === 'running'
        ? batchEta(waiting, settings.pacePerMinute, batch.nextAt ?? now().getTime(), now().getTime())
        : undefined;
    const scheduledOutsideHours = calls.filter(
      (call) => (call.request.when as { phrase?: unknown } | undefined)?.phrase === NEXT_WINDOW_PHRASE,
    ).length;
    return {
      batch,
      settings,
      calls,
      counts,
      scheduledOutsideHours,
      duplicates: duplicates.length,
      total: calls.length + skipped,
      ...(eta !== undefined ? { eta } : {}),
    };
  }

  /** The requester's latest batches with how far each got (for `/call history` and the Home tab). */
  async recent(teamId: string, userId: string, limit: number): Promise<BatchSummary[]> {
    const summaries: BatchSummary[] = [];
    for (const batch of await this.deps.store.recentBatches(teamId, userId, limit)) {
      const snapshot = await this.snapshot(batch.id);
      if (!snapshot) continue;
      summaries.push({
        id: batch.id,
        createdAt: batch.createdAt,
        state: batch.state,
        done: doneRows(snapshot.counts),
        total: snapshot.total,
      });
    }
    return summaries;
  }

  /**
   * The result file's rows: every row of the list, by line: placed, skipped (at the preview, or at confirm outside
   * calling hours), or not called as the same number as an earlier row. Reasons are as the rep was told them (Slack
   * mrkdwn): the caller turns them into the file's plain text. Numbers are E.164, but for a row skipped before its
   * number could be read (as written).
   */
  resultRows(snapshot: BatchSnapshot): BatchResultRow[] {
    const rows: BatchResultRow[] = snapshot.calls.map((call) => {
      const state = batchRowState(call);
      const reason = reasonOf(call, requestOf(call)?.request);
      return {
        line: call.batchLine ?? 0,
        number: call.recipient,
        state,
        ...(call.queueIds[0] ? { queueId: call.queueIds[0] } : {}),
        ...(call.callEnd ? { outcome: END_WORDS[call.callEnd] } : {}),
        ...(call.durationSeconds !== undefined ? { durationSeconds: call.durationSeconds } : {}),
        ...(reason ? { reason } : {}),
        requestId: call.id,
      };
    });
    const { skipped, duplicates } = rowsOf(snapshot.batch);
    for (const row of skipped) {
      rows.push({ line: row.line, number: row.e164 ?? row.raw, state: 'skipped', reason: row.reason });
    }
    for (const row of duplicates) {
      rows.push({
        line: row.line,
        number: row.e164,
        state: 'skipped',
        reason: `Not called: the same number as line ${row.of}.`,
      });
    }
    return rows.sort((a, b) => a.line - b.line);
  }

  /** Puts the batch's message (and its approval request, when it goes elsewhere) in the outbox. */
  private async announce(batch: BatchRecord): Promise<void> {
    await this.enqueue(batch, 'parent', batch.channelId);
    if (batch.approvalChannel && batch.approvalChannel !== batch.channelId) {
      await this.enqueue(batch, 'approval', batch.approvalChannel);
    }
    this.deps.onChange?.(batch.id);
  }

  private async enqueue(batch: BatchRecord, step: 'parent' | 'approval' | 'result', channelId: string) {
    await this.deps.store.enqueueJob(
      { kind: 'batch', requestId: batch.id, channelId, payload: { step } },
      this.deps.now().getTime(),
    );
    this.deps.onOutbox();
  }
}

/**
 * How long placing `rows` takes: at the pace, or, when an hourly limit is lower than the list, an hour for each
 * limit's worth of rows after the first (the batch pauses at the limit until the hour frees up).
 */
function placingMinutes(
  rows: number,
  pacePerMinute: number,
  limits: { perUserPerHour: number; perWorkspacePerHour: number } | undefined,
): number {
  const atPace = Math.ceil(rows / pacePerMinute);
  const perHour = Math.min(
    ...[limits?.perUserPerHour, limits?.perWorkspacePerHour].filter(
      (n): n is number => n !== undefined && n > 0,
    ),
    Number.POSITIVE_INFINITY,
  );
  if (rows <= perHour) return atPace;
  return Math.max(atPace, Math.floor((rows - 1) / perHour) * 60);
}

/**
 * When a row moved to its callee's next calling window (`window`: its opening) starts. Rows moved to the same window
 * start one after another at the batch's pace, not all when it opens: Iqra places a scheduled call at its time, and
 * the callees' phones would all ring at once. So the row takes the window's first slot (its opening, then one every
 * `interval`) that no row already moved (`moved`: their times) holds. Whole milliseconds, as the store keeps them.
 */
function windowSlot(window: number, interval: number, moved: ReadonlySet<number>): number {
  let slot = 0;
  while (moved.has(Math.round(window + slot * interval))) slot += 1;
  return Math.round(window + slot * interval);
}

/** A stored request moved to its callee's next calling window (the store keeps times as ISO strings). */
function scheduledAt(request: Record<string, unknown>, at: number): Record<string, unknown> {
  const when = atNextWindow(new Date(at), String(request.requesterTimeZone ?? 'UTC'));
  return { ...request, when: { ...when, at: when.at.toISOString() } };
}

/** Why a row ended as it did, in the rep's words, for the result file. */
function reasonOf(call: CallRecord, request: CallRequest | undefined): string | undefined {
  if (call.state === 'cancelled') return 'The batch was stopped before this row was sent.';
  if (call.userMessage) return call.userMessage;
  if (call.state === 'queued' && request?.when.kind === 'scheduled') {
    return `Scheduled for ${request.when.at.toISOString()}`;
  }
  return undefined;
}
