/**
 * What the services report for monitoring. The Prometheus implementation lives in src/metrics.ts; without it
 * nothing is counted.
 */
export interface CallMetrics {
  /** A call request reached an end state (queued, failed, unknown, refused, rejected, expired, dry_run). */
  callEnded(outcome: string, entryPoint: string): void;
  /** A guard stopped a call. */
  refused(guard: string): void;
  /** One request to Iqra: which, how long, and how it went (`ok`, or an error code / reason). */
  iqraRequest(operation: 'initiate' | 'queue_entry' | 'conversation', seconds: number, result: string): void;
  /** A Slack Web API failure, by Slack's error code. */
  slackError(code: string): void;
  /** A Slack delivery waiting out a rate limit. */
  slackRateLimited(waitMs: number): void;
  /** One tracking poll and what it brought (`changed`, `unchanged`, `not_found`, `rate_limited`, `error`). */
  trackingPoll(result: string): void;
}

export const noMetrics: CallMetrics = {
  callEnded: () => {},
  refused: () => {},
  iqraRequest: () => {},
  slackError: () => {},
  slackRateLimited: () => {},
  trackingPoll: () => {},
};
