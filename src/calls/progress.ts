/**
 * How far a queued call has got, as Iqra reports it, and the one-way state machine that follows it:
 * scheduled → queued → dialling → in_conversation → ended (with an outcome). A stale or out-of-order reading never
 * moves a call backwards; `ended` and `status_unknown` stop tracking (an `ended` reading may still replace
 * `status_unknown`, since it is the truth arriving late).
 */
export type Progress = 'scheduled' | 'queued' | 'dialling' | 'in_conversation' | 'ended' | 'status_unknown';

/** How an ended call ended, in words a rep understands. */
export type CallEnd =
  | 'completed'
  | 'no_answer'
  | 'busy_or_declined'
  | 'voicemail'
  | 'failed'
  | 'expired'
  | 'cancelled';

export const END_WORDS: Record<CallEnd, string> = {
  completed: 'completed',
  no_answer: 'no answer',
  busy_or_declined: 'busy or declined',
  voicemail: 'voicemail',
  failed: 'failed',
  expired: 'expired',
  cancelled: 'cancelled',
};

const RANK: Record<Progress, number> = {
  scheduled: 0,
  queued: 1,
  dialling: 2,
  in_conversation: 3,
  ended: 4,
  status_unknown: 4,
};

export function isFinal(progress: Progress | undefined): boolean {
  return progress === 'ended' || progress === 'status_unknown';
}

/** One reading of a call's state: from a poll of the queue entry, or from a pushed event. */
export interface Reading {
  progress: Progress;
  end?: CallEnd;
  sessionId?: string;
  /** Call duration in seconds, when it ended and the times are known. */
  durationSeconds?: number;
}

/** Whether `next` moves the call forward from `current` (the only moves the machine makes). */
export function advances(current: Progress | undefined, next: Progress): boolean {
  if (current === undefined) return true;
  if (current === 'ended') return false;
  if (current === 'status_unknown') return next === 'ended';
  if (next === 'status_unknown') return true;
  return RANK[next] > RANK[current];
}

/** Iqra's queue entry, as far as progress goes (integers as on Iqra's API). */
export interface QueueReading {
  status: number;
  sessionStatus?: number;
  sessionEndType?: number;
  sessionId?: string;
  processingStartedAt?: string;
  completedAt?: string;
}

/** Iqra's `sessionEndType` → how the call ended. */
export function endFromSessionEndType(endType: number | undefined): CallEnd {
  switch (endType) {
    case 1: // InitalizeError
    case 2: // ExpiredWaitingForInitalize
    case 7: // MidSessionFailure
      return 'failed';
    case 3: // UserDeclinedOrBusy
      return 'busy_or_declined';
    case 4: // UserNoAnswer
      return 'no_answer';
    case 10: // VoicemailDetected
      return 'voicemail';
    default: // NotSet, UserEndedCall, AgentEndedCall, UserSilenceTimeoutReached, MaxConversationDurationReached
      return 'completed';
  }
}

/**
 * Reads a queue entry. `scheduledAt` is the call's start time when it was scheduled, to tell "waiting for its time"
 * from "queued to go now".
 */
export function readQueueEntry(entry: QueueReading, now: number, scheduledAt?: number): Reading {
  const session = entry.sessionId ? { sessionId: entry.sessionId } : {};
  switch (entry.status) {
    case 0:
      return { progress: scheduledAt !== undefined && scheduledAt > now ? 'scheduled' : 'queued' };
    case 1:
    case 2:
    case 3:
      return { progress: 'dialling', ...session };
    case 4: {
      const s = entry.sessionStatus;
      // No duration from the entry's times: Iqra sets `completedAt` when the entry reaches ProcessedBackend (the call
      // dialled, its session made), not when the call ends, so `completedAt - processingStartedAt` is the few seconds
      // it took to dial. The call's length comes from its conversation (`startTime` to `endTime`).
      if (s === 6 || s === 7) {
        return {
          progress: 'ended',
          end: s === 7 ? 'failed' : endFromSessionEndType(entry.sessionEndType),
          ...session,
        };
      }
      if (s === 3 || s === 4 || s === 5) return { progress: 'in_conversation', ...session };
      return { progress: 'dialling', ...session };
    }
    case 5:
      return { progress: 'ended', end: 'failed', ...session };
    case 6:
      return { progress: 'ended', end: 'cancelled', ...session };
    case 7:
      return { progress: 'ended', end: 'expired', ...session };
    default:
      return { progress: 'queued', ...session };
  }
}

const STATUS_NAMES: Record<string, number> = {
  queued: 0,
  processingproxy: 1,
  processedproxy: 2,
  processingbackend: 3,
  processedbackend: 4,
  failed: 5,
  canceled: 6,
  cancelled: 6,
  expired: 7,
};

const END_TYPE_NAMES: Record<string, number> = {
  notset: 0,
  initalizeerror: 1,
  initializeerror: 1,
  expiredwaitingforinitalize: 2,
  expiredwaitingforinitialize: 2,
  userdeclinedorbusy: 3,
  usernoanswer: 4,
  userendedcall: 5,
  agentendedcall: 6,
  midsessionfailure: 7,
  usersilencetimeoutreached: 8,
  maxconversationdurationreached: 9,
  voicemaildetected: 10,
};

/** Iqra's enum names (as its custom tools send them) or integers → integers. */
export function enumValue(value: unknown, names: Record<string, number>): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed)) return Number(trimmed);
    return names[trimmed.toLowerCase()];
  }
  return undefined;
}

/**
 * A pushed event (a campaign "custom tool" call: initiated, declined, missed, ended) read into the same terms.
 * `event` is `initiated | declined | missed | ended` when the tool's URL or body says which; the queue status and end
 * type (enum names) decide when present.
 */
export function readPushedEvent(
  event: string | undefined,
  status: unknown,
  endType: unknown,
): Reading | undefined {
  const queueStatus = enumValue(status, STATUS_NAMES);
  const end = enumValue(endType, END_TYPE_NAMES);
  const kind = event?.toLowerCase();
  if (kind === 'declined') return { progress: 'ended', end: 'busy_or_declined' };
  if (kind === 'missed') return { progress: 'ended', end: 'no_answer' };
  // A queue status that is itself an end (Failed, Canceled, Expired) says how the call ended, whatever the event.
  if (queueStatus === 5 || queueStatus === 6 || queueStatus === 7)
    return readQueueEntry({ status: queueStatus }, 0);
  if (kind === 'ended' || (end !== undefined && end !== 0)) {
    return { progress: 'ended', end: endFromSessionEndType(end) };
  }
  // ProcessedBackend (4) means dialled, with a session: not yet that anyone answered (polling says "in conversation"
  // only once the session is Active), so a pushed 4 without an end is still dialling.
  if (queueStatus !== undefined && queueStatus >= 1) return { progress: 'dialling' };
  if (kind === 'initiated') return { progress: 'dialling' };
  return undefined;
}

/**
 * When to look at a call next: seconds while it is being dialled or talked on, a minute while it waits in the queue
 * to go now, and for a call scheduled later, nothing until shortly before its time. `attempt` counts the polls that
 * brought no change (each one waits longer, up to the cap).
 */
export function nextPollDelayMs(
  progress: Progress,
  now: number,
  scheduledAt: number | undefined,
  unchanged: number,
): number {
  const grow = (base: number, cap: number) => Math.min(cap, base * 1.5 ** Math.min(unchanged, 10));
  switch (progress) {
    case 'scheduled': {
      const lead = (scheduledAt ?? now) - now - 60_000;
      return lead > 0 ? lead : grow(15_000, 60_000);
    }
    case 'queued':
      return grow(5_000, 60_000);
    case 'dialling':
      return grow(2_000, 10_000);
    case 'in_conversation':
      return grow(5_000, 30_000);
    default:
      return 60_000;
  }
}
