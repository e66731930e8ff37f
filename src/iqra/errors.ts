/**
 * What is known about a call when Iqra's `call/initiate` did not clearly succeed.
 * - `failed`: the call was surely NOT queued (Iqra refused it, or nothing reached Iqra): trying again cannot dial
 *   the customer twice.
 * - `unknown`: the request may have reached Iqra and the call may have been queued: do not try again before checking
 *   Iqra's dashboard.
 */
export type IqraOutcome = 'failed' | 'unknown';

export interface IqraErrorDetails {
  outcome: IqraOutcome;
  /** Local reason or the last segment of Iqra's code: `TIMEOUT`, `UNREACHABLE`, `HTTP_500`, `INSUFFICIENT_BALANCE`… */
  reason: string;
  /** Plain language for the sales rep, including what to do next. Never contains the API key. */
  userMessage: string;
  /** Iqra's full code, e.g. `InitiateCall:QueueCallInitiationRequestAsync:CONFIG_CAMPAIGN_ID_NOT_FOUND`. */
  code?: string;
  /** Iqra's own message, as it sent it. */
  iqraMessage?: string;
  httpStatus?: number;
  /** Requests sent (or tried) before giving up; 0 when the problem was found before sending anything. */
  attempts: number;
  /** True only when the rep may simply try again later without changing anything. */
  retryable: boolean;
}

/** A call that Iqra did not confirm as queued. `outcome` says whether it may have been placed anyway. */
export class IqraError extends Error {
  override readonly name = 'IqraError';
  readonly outcome: IqraOutcome;
  readonly code?: string;
  readonly reason: string;
  readonly userMessage: string;
  readonly iqraMessage?: string;
  readonly httpStatus?: number;
  readonly attempts: number;
  readonly retryable: boolean;

  constructor(details: IqraErrorDetails, options?: { cause?: unknown }) {
    super(technicalMessage(details), options);
    this.outcome = details.outcome;
    this.reason = details.reason;
    this.userMessage = details.userMessage;
    this.attempts = details.attempts;
    this.retryable = details.retryable;
    if (details.code !== undefined) this.code = details.code;
    if (details.iqraMessage !== undefined) this.iqraMessage = details.iqraMessage;
    if (details.httpStatus !== undefined) this.httpStatus = details.httpStatus;
  }
}

function technicalMessage(d: IqraErrorDetails): string {
  const parts = [`Iqra call/initiate ${d.outcome}: ${d.reason}`];
  if (d.httpStatus !== undefined) parts.push(`HTTP ${d.httpStatus}`);
  if (d.code) parts.push(`code ${d.code}`);
  if (d.iqraMessage) parts.push(`message ${JSON.stringify(d.iqraMessage)}`);
  parts.push(`after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`);
  return parts.join(', ');
}
