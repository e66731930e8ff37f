/** Messages between the bench (parent) and its stand-ins process (bench/stand-ins.ts), over Node's IPC channel. */

/** Slack's per-channel pace for chat.postMessage, as the stand-in enforces it (a token bucket per channel). */
export interface PaceSettings {
  /** Messages per second per channel (Slack: about 1). */
  perSecond: number;
  /** How many messages a channel may send at once after a quiet spell (Slack allows short bursts). */
  burst: number;
  /**
   * Also answer 429 to every n-th message that the bucket would have let through (0: never), as Slack's limiter
   * sometimes does within its nominal pace; `injectedRetryAfterS` is its Retry-After. Used by the burst test so that
   * the app's handling of 429 + Retry-After is exercised, not only its own pacing.
   */
  inject429Every: number;
  injectedRetryAfterS: number;
}

export interface StandInSettings {
  /** How long the Iqra stand-in waits before answering call/initiate (ms). */
  iqraDelayMs: number;
  pace: PaceSettings;
  /** Slack time zones of some bench users (users.info `tz`); the others have none (the app's default applies). */
  userZones: Record<string, string>;
}

/** One call/initiate request as the Iqra stand-in received it. */
export interface IqraArrival {
  /** When its headers arrived (ms since the epoch, sub-ms precision). */
  at: number;
  /** The command's `BenchId` dynamic variable (fields or config part). */
  benchId: string | undefined;
  /** E.164, from `RecipientNumber` or the config part. */
  recipient: string | undefined;
  /** The app's `Metadata[RequestId]`. */
  requestId: string | undefined;
}

/** One chat.postMessage as the Slack stand-in answered it. */
export interface SlackPost {
  at: number;
  channel: string;
  /** Set for a thread reply. */
  threadTs: string | undefined;
  /** The digits of the first bold phone number in the message (`*+1 415 555 2671*` → `14155552671`). */
  key: string | undefined;
  /** A `req_…` id found in the message, if any (the thread reply names the request). */
  requestId: string | undefined;
  /** 200 (accepted) or 429 (rate limited). */
  status: number;
  /** The Retry-After (s) sent with a 429. */
  retryAfterS?: number;
  /** Arrived while the channel was still inside the Retry-After of an earlier 429 (the app did not wait). */
  insideRetryAfter?: boolean;
}

export interface StandInCounts {
  usersInfo: number;
  chatUpdate: number;
  responseUrlPosts: number;
  iqraReads: number;
  otherSlackCalls: number;
}

export type ToStandIns =
  | { type: 'start'; settings: StandInSettings }
  | { type: 'pace'; pace: PaceSettings }
  /** Hands over (and forgets) everything recorded since the last collect. */
  | { type: 'collect' }
  | { type: 'stop' };

export type FromStandIns =
  | {
      type: 'ready';
      slackApiUrl: string;
      slackUrl: string;
      iqraUrl: string;
      iqraBusinessId: string;
      iqraApiKey: string;
    }
  | { type: 'records'; iqra: IqraArrival[]; slack: SlackPost[]; counts: StandInCounts }
  | { type: 'paced' }
  | { type: 'stopped' };
