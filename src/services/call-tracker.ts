import {
  advances,
  isFinal,
  nextPollDelayMs,
  type Progress,
  type QueueReading,
  type Reading,
  readQueueEntry,
} from '../calls/progress.js';
import type { Logger } from '../log.js';
import type { CallChanges, CallRecord, NewJob, Store } from '../store/store.js';
import { TurnQueue, type Turns } from '../turns.js';
import { type CallMetrics, noMetrics } from './call-metrics.js';
import { requestOf } from './stored-request.js';

/** What tracking needs of Iqra: the queue entry, and the conversation once a call has ended. */
export interface CallReader {
  getQueueEntry(queueId: string): Promise<QueueReading>;
  getConversation(sessionId: string): Promise<{
    startTime?: string;
    endTime?: string;
    messages: { role: number; content: string }[];
  }>;
}

/** A failed read, as the Iqra client reports it (`IqraReadError`), seen structurally. */
interface ReadFailure {
  kind?: string;
  retryAfterMs?: number;
}

export interface CallTrackerDeps {
  store: Store;
  reader: CallReader;
  logger: Logger;
  now: () => Date;
  /** Called after a Slack delivery was added to the outbox. */
  onOutbox: () => void;
  /** A batch's row moved on (its batch's message shows it; the row has no messages of its own). */
  onBatchRow?: (batchId: string) => void | Promise<void>;
  /** One budget for every tracking request to Iqra, per minute. */
  maxRequestsPerMinute: number;
  /** A call not ended this long after its start is marked "status unknown". */
  limitMs: number;
  /** Whether the thread gets the conversation (`full`), only the outcome, or nothing when a call ends. */
  transcripts: 'off' | 'outcome' | 'full';
  /** How often due calls are looked for. */
  tickMs?: number;
  metrics?: CallMetrics;
  /** Where each look at a call waits its turn, behind the acks and the calls on their way to Iqra. */
  turns?: Turns;
}

export const TRACKING_LIMIT_MESSAGE = (hours: number) =>
  `I stopped following this call: it had not ended ${hours} hour${hours === 1 ? '' : 's'} after its start. Iqra's dashboard has its status.`;
export const NOT_FOUND_MESSAGE =
  "Iqra no longer knows this call's queue entry, so its status is unknown. Iqra's dashboard may still have it.";

/**
 * A conversation read that fails for a passing reason (Iqra unreachable or failing, or asking to slow down) when a
 * poll sees a call ended is tried again at the next polls, this many times in all, a little later each time, before
 * the outcome goes without it: the transcript and the real duration are what a rep waits for, and they are lost for
 * good once the outcome is posted.
 */
const CONVERSATION_TRIES = 4;
/** The wait before the next try of a conversation read: this, times the tries so far. */
const CONVERSATION_RETRY_MS = 20_000;
const PASSING_READ_FAILURES = new Set(['unavailable', 'rate_limited']);

/** Where tracking starts for a call Iqra just queued: when to look first, and what to show meanwhile. */
export function initialTracking(now: number, scheduledAt: number | undefined): CallChanges {
  const progress: Progress = scheduledAt !== undefined && scheduledAt > now ? 'scheduled' : 'queued';
  return {
    progress,
    trackAt: now + nextPollDelayMs(progress, now, scheduledAt, 0),
    trackUnchanged: 0,
    trackedAt: now,
  };
}

/**
 * The parent message moved in place to a call's new step. `lastWord`: this step is the call's final result, with no
 * outcome reply after it (the one step a requester told alone, because the channel cannot be used, hears of).
 */
function progressAnnouncement(lastWord: boolean): Record<string, unknown> {
  return { step: 'parent', parentOnly: true, progress: true, ...(lastWord ? { lastWord: true } : {}) };
}

/**
 * Follows queued calls until they end: polls Iqra's queue entry on a schedule that fits each call's stage, within one
 * shared request budget that also waits out Iqra's 429s, and moves each call forward only (never back). Every step
 * updates the call's parent message in place; the end adds one reply with the outcome in the call's thread. Pushed
 * events (Iqra's custom tools) feed the same machine. Tracking state lives in the store, so it resumes after a restart.
 */
export class CallTracker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  /** Conversation reads that failed for a passing reason, per call (kept in memory: a restart only allows more). */
  private readonly conversationFailures = new Map<string, number>();

  private readonly turns: Turns;

  constructor(private readonly deps: CallTrackerDeps) {
    this.turns = deps.turns ?? new TurnQueue();
    this.tokens = deps.maxRequestsPerMinute;
    this.refilledAt = deps.now().getTime();
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((err: unknown) => this.deps.logger.error('tracking run failed', { error: err }))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.deps.tickMs ?? 1000);
        });
    }, ms);
    this.timer.unref?.();
  }

  /** Takes one token from the shared budget, if there is one. */
  private take(): boolean {
    const now = this.deps.now().getTime();
    if (now < this.pausedUntil) return false;
    const perMs = this.deps.maxRequestsPerMinute / 60_000;
    this.tokens = Math.min(this.deps.maxRequestsPerMinute, this.tokens + (now - this.refilledAt) * perMs);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Takes one token from the shared budget, waiting for it up to `maxWaitMs` (of the app's clock) when the budget is
   * spent. False when none came in time, or tracking stopped meanwhile.
   */
  private async takeWithin(maxWaitMs: number): Promise<boolean> {
    const deadline = this.deps.now().getTime() + maxWaitMs;
    while (!this.take()) {
      if (this.stopped || this.deps.now().getTime() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return true;
  }

  /** How many requests the budget allows right now. */
  private available(): number {
    const now = this.deps.now().getTime();
    if (now < this.pausedUntil) return 0;
    const perMs = this.deps.maxRequestsPerMinute / 60_000;
    return Math.floor(
      Math.min(this.deps.maxRequestsPerMinute, this.tokens + (now - this.refilledAt) * perMs),
    );
  }

  async runOnce(): Promise<void> {
    const room = Math.min(this.available(), 25);
    if (room <= 0) return;
    const now = this.deps.now().getTime();
    const due = await this.deps.store.claimDueTracking(now, room, 30_000);
    for (const call of due) {
      await this.turns.turn('later');
      if (this.stopped) return;
      await this.poll(call).catch((err: unknown) =>
        this.deps.logger.error('tracking a call failed', { requestId: call.id, error: err }),
      );
    }
  }

  private scheduledAt(call: CallRecord): number | undefined {
    const when = requestOf(call)?.request.when;
    return when?.kind === 'scheduled' ? when.at.getTime() : undefined;
  }

  /**
   * When the call was meant to start: its scheduled time, or when it was queued. A request asked for long before it
   * was queued (it waited for an approval, or for its turn in a batch) counts from when Iqra queued it.
   */
  private async startOf(call: CallRecord, at: number): Promise<number> {
    const scheduled = this.scheduledAt(call);
    if (scheduled !== undefined) return scheduled;
    if (at - call.createdAt <= this.deps.limitMs) return call.createdAt;
    const queued = (await this.deps.store.transitions(call.id)).find((t) => t.to === 'queued');
    return queued?.at ?? call.createdAt;
  }

  private async poll(call: CallRecord): Promise<void> {
    const { store, now, logger } = this.deps;
    const log = logger.child({ requestId: call.id });
    const at = now().getTime();
    const queueId = call.queueIds[0];
    if (!queueId || isFinal(call.progress)) {
      await store.updateCall(call.id, { trackAt: null }, at);
      return;
    }
    // Past the limit, the call is looked at once more before it is given up: it may have ended meanwhile (while the app
    // was stopped, say), and then its outcome is the truth, not "status unknown".
    const overdue = at - (await this.startOf(call, at)) > this.deps.limitMs;
    const giveUpOverdue = () =>
      this.giveUp(call, TRACKING_LIMIT_MESSAGE(Math.round(this.deps.limitMs / 3_600_000)), 'limit');
    if (!this.take()) {
      await store.updateCall(call.id, { trackAt: Math.max(at + 1000, this.pausedUntil) }, at);
      return;
    }
    let reading: Reading;
    const metrics = this.deps.metrics ?? noMetrics;
    const started = performance.now();
    try {
      reading = readQueueEntry(await this.deps.reader.getQueueEntry(queueId), at, this.scheduledAt(call));
      metrics.iqraRequest('queue_entry', (performance.now() - started) / 1000, 'ok');
    } catch (err) {
      const failure = err as ReadFailure;
      metrics.iqraRequest('queue_entry', (performance.now() - started) / 1000, failure.kind ?? 'error');
      metrics.trackingPoll(
        failure.kind === 'not_found' || failure.kind === 'rate_limited' ? failure.kind : 'error',
      );
      if (failure.kind === 'not_found') {
        await this.giveUp(call, NOT_FOUND_MESSAGE, 'not_found');
        return;
      }
      // The last look failed: given up as before, unless Iqra only asked to slow down (it is looked at after the pause).
      if (overdue && failure.kind !== 'rate_limited') {
        await giveUpOverdue();
        return;
      }
      if (failure.kind === 'rate_limited') {
        this.pausedUntil = at + (failure.retryAfterMs ?? 30_000);
        log.warn('Iqra asked to slow down: tracking pauses', { retryAfterMs: failure.retryAfterMs });
      } else {
        log.warn('could not read the call from Iqra; will try again', { kind: failure.kind, error: err });
      }
      const unchanged = (call.trackUnchanged ?? 0) + 1;
      const delay = nextPollDelayMs(call.progress ?? 'queued', at, this.scheduledAt(call), unchanged);
      await store.updateCall(
        call.id,
        { trackAt: Math.max(at + delay, this.pausedUntil), trackUnchanged: unchanged },
        at,
      );
      return;
    }
    if (overdue && reading.progress !== 'ended') {
      metrics.trackingPoll('changed');
      await giveUpOverdue();
      return;
    }
    // Iqra answered: the reading is applied on a turn of its own.
    await this.turns.turn('later');
    const changed = await this.apply(call, reading, 'poll');
    metrics.trackingPoll(changed ? 'changed' : 'unchanged');
  }

  /**
   * Moves a call forward on a reading (a poll or a pushed event). A reading that would not move it forward only
   * reschedules the next look.
   */
  async apply(call: CallRecord, reading: Reading, source: 'poll' | 'push'): Promise<boolean> {
    const { store, now } = this.deps;
    const at = now().getTime();
    if (!advances(call.progress, reading.progress)) {
      if (source === 'poll' && !isFinal(call.progress)) {
        const unchanged = (call.trackUnchanged ?? 0) + 1;
        const progress = call.progress ?? 'queued';
        await store.updateCall(
          call.id,
          {
            trackAt: at + nextPollDelayMs(progress, at, this.scheduledAt(call), unchanged),
            trackUnchanged: unchanged,
            trackedAt: at,
            ...(reading.sessionId && !call.sessionId ? { sessionId: reading.sessionId } : {}),
          },
          at,
        );
      }
      return false;
    }
    const final = isFinal(reading.progress);
    // The outcome reply (CALL_TRANSCRIPTS) is the call's last word; without it, the final step of the parent is.
    const withOutcome = reading.progress === 'ended' && this.deps.transcripts !== 'off';
    // A pushed end can come before any poll saw the call's session (a call answered and hung up between two polls).
    // Tracking stops with it, so the queue entry is read once now for the session (its conversation) and the duration.
    const entry =
      source === 'push' && reading.progress === 'ended' && !reading.sessionId && !call.sessionId
        ? await this.entryOnce(call, at)
        : undefined;
    let durationSeconds = reading.durationSeconds ?? entry?.durationSeconds;
    let turns: { role: number; content: string }[] | undefined;
    const sessionId = reading.sessionId ?? call.sessionId ?? entry?.sessionId;
    // The conversation is read with a token of its own: a poll that used up the budget waits for the next one (other
    // polls could not go before it anyway), rather than leave the conversation and the duration out for good.
    const wantsConversation =
      reading.progress === 'ended' && sessionId !== undefined && this.deps.transcripts !== 'off';
    const conversationToken = wantsConversation
      ? source === 'poll'
        ? await this.takeWithin(60_000)
        : this.take()
      : false;
    // Stopped while waiting: the call is looked at again after the restart (its lease runs out), conversation and all.
    if (wantsConversation && !conversationToken && source === 'poll' && this.stopped) return false;
    if (conversationToken && sessionId) {
      try {
        const conversation = await this.deps.reader.getConversation(sessionId);
        if (conversation.startTime && conversation.endTime) {
          const ms = Date.parse(conversation.endTime) - Date.parse(conversation.startTime);
          if (Number.isFinite(ms) && ms >= 0) durationSeconds = Math.round(ms / 1000);
        }
        // What was said: not the system prompt, nor the agent's turns that only ran a tool (they carry no text).
        if (this.deps.transcripts === 'full')
          turns = conversation.messages.filter((m) => m.role !== 0 && m.content.trim() !== '');
        this.conversationFailures.delete(call.id);
      } catch (err) {
        const failure = err as ReadFailure;
        const tries = (this.conversationFailures.get(call.id) ?? 0) + 1;
        // Seen by a poll, the end is not recorded yet: the call stays followed, and the next poll, which sees it ended
        // again, reads the conversation again. A pushed end is recorded at once (no poll may ever show it).
        if (
          source === 'poll' &&
          PASSING_READ_FAILURES.has(failure.kind ?? '') &&
          tries < CONVERSATION_TRIES
        ) {
          this.conversationFailures.set(call.id, tries);
          if (failure.kind === 'rate_limited') this.pausedUntil = at + (failure.retryAfterMs ?? 30_000);
          this.deps.logger.warn(
            'could not read the conversation from Iqra; will try again before the outcome',
            {
              requestId: call.id,
              kind: failure.kind,
              tries,
              error: err,
            },
          );
          await store.updateCall(
            call.id,
            { trackAt: Math.max(at + CONVERSATION_RETRY_MS * tries, this.pausedUntil) },
            at,
          );
          return false;
        }
        this.conversationFailures.delete(call.id);
        this.deps.logger.warn('could not read the conversation from Iqra; the outcome goes without it', {
          requestId: call.id,
          kind: failure.kind,
          tries,
          error: err,
        });
      }
    }
    const updated = await store.advanceProgress(
      call.id,
      [call.progress ?? null],
      {
        progress: reading.progress,
        ...(reading.end ? { callEnd: reading.end } : {}),
        ...(sessionId ? { sessionId } : {}),
        ...(durationSeconds !== undefined ? { durationSeconds } : {}),
        trackAt: final ? null : at + nextPollDelayMs(reading.progress, at, this.scheduledAt(call), 0),
        trackUnchanged: 0,
        trackedAt: at,
      },
      at,
      { by: source, ...(reading.end ? { end: reading.end } : {}) },
      // Recorded with the step itself: a step taken is never left unsaid (a crash, the database refusing the job).
      this.jobsFor(call, [
        ['announce', progressAnnouncement(final && !withOutcome)],
        ...(withOutcome ? [['outcome', turns ? { turns } : {}] as const] : []),
      ]),
    );
    if (!updated) return false;
    this.deps.logger.info('call progress', {
      requestId: call.id,
      from: call.progress ?? null,
      to: reading.progress,
      end: reading.end,
      source,
    });
    await this.announced(updated);
    return true;
  }

  /**
   * One read of a call's queue entry, outside the polling schedule, when the budget allows it; `undefined` when it
   * does not, or the read failed (the caller goes on without what it would have said).
   */
  private async entryOnce(call: CallRecord, at: number): Promise<Reading | undefined> {
    const queueId = call.queueIds[0];
    if (!queueId || !this.take()) return undefined;
    const metrics = this.deps.metrics ?? noMetrics;
    const started = performance.now();
    try {
      const entry = await this.deps.reader.getQueueEntry(queueId);
      metrics.iqraRequest('queue_entry', (performance.now() - started) / 1000, 'ok');
      return readQueueEntry(entry, at, this.scheduledAt(call));
    } catch (err) {
      const failure = err as ReadFailure;
      metrics.iqraRequest('queue_entry', (performance.now() - started) / 1000, failure.kind ?? 'error');
      if (failure.kind === 'rate_limited') this.pausedUntil = at + (failure.retryAfterMs ?? 30_000);
      this.deps.logger.warn('could not read the call from Iqra after a pushed end', {
        requestId: call.id,
        kind: failure.kind,
        error: err,
      });
      return undefined;
    }
  }

  /** A pushed event for a queue id: the same machine as polling. Unknown queue ids change nothing. */
  async applyPushed(queueId: string, reading: Reading): Promise<'applied' | 'ignored' | 'unknown_call'> {
    const call = await this.deps.store.findCallByQueueId(queueId);
    if (!call) return 'unknown_call';
    return (await this.apply(call, reading, 'push')) ? 'applied' : 'ignored';
  }

  private async giveUp(call: CallRecord, message: string, why: string): Promise<void> {
    const at = this.deps.now().getTime();
    const updated = await this.deps.store.advanceProgress(
      call.id,
      [call.progress ?? null],
      { progress: 'status_unknown', userMessage: message, trackAt: null, trackedAt: at },
      at,
      { by: 'tracker', why },
      this.jobsFor(call, [['announce', progressAnnouncement(true)]]),
    );
    if (updated) {
      this.deps.logger.warn('call progress', {
        requestId: call.id,
        from: call.progress ?? null,
        to: 'status_unknown',
        why,
      });
      await this.announced(updated);
    }
  }

  /** The Slack messages that say a call moved on (a batch's row has none: its batch's message shows it). */
  private jobsFor(
    call: CallRecord,
    messages: readonly (readonly ['announce' | 'outcome', Record<string, unknown>])[],
  ): NewJob[] {
    if (call.batchId) return [];
    return messages.map(([kind, payload]) => ({
      kind,
      requestId: call.id,
      channelId: call.channelId,
      payload,
    }));
  }

  /** The call moved on and its messages are in the outbox: deliver them now (or tell its batch). */
  private async announced(call: CallRecord): Promise<void> {
    if (call.batchId) {
      await this.deps.onBatchRow?.(call.batchId);
      return;
    }
    this.deps.onOutbox();
  }
}
