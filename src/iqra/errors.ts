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

/**
 * Why reading a queue entry or a conversation from Iqra failed. Reads change nothing on Iqra, so any of them may be
 * tried again; the kind says whether that is worth it and how soon.
 * - `not_found`: Iqra does not know that queue id or session id (a code ending in `NOT_FOUND`, in Iqra's answer).
 * - `rate_limited`: HTTP 429; wait `retryAfterMs` when given.
 * - `unavailable`: HTTP 5xx, Iqra's `EXCEPTION` code, a network error or a timeout; try again later (`retryAfterMs`
 *   when a 503 says how long).
 * - `unauthorized`: the API key, its user or the business was refused (API-key and validation codes, HTTP 401 or
 *   403); nothing will work until an admin fixes IQRA_API_KEY or IQRA_BUSINESS_ID.
 * - `bad_response`: an answer this app cannot read (not JSON, missing fields, a redirect, an unexpected 4xx or an
 *   Iqra code it does not know). A bare HTTP 404, without Iqra's answer, is one too, not `not_found`: it comes from a
 *   wrong IQRA_BASE_URL or route, not from Iqra.
 */
export type IqraReadErrorKind =
  | 'not_found'
  | 'rate_limited'
  | 'unavailable'
  | 'unauthorized'
  | 'bad_response';

export interface IqraReadErrorDetails {
  kind: IqraReadErrorKind;
  /** What was being read, for the message: `queue entry 6650…` or `conversation 6650…`. */
  what: string;
  /** Local detail for the message and the logs (never the API key): `HTTP 500`, `ECONNREFUSED`, `not JSON`, ... */
  detail: string;
  /** From Retry-After (seconds or an HTTP date), for 429 and 503. */
  retryAfterMs?: number;
  /** Iqra's full code, e.g. `GetOutboundCallQueues:GetOutboundConversationsMetaDataAsync:NOT_FOUND`. */
  code?: string;
  /** Iqra's own message, as it sent it (without the API key). */
  iqraMessage?: string;
  httpStatus?: number;
}

/** A failed read of Iqra's queue entry or conversation endpoints. Branch on `kind`. */
export class IqraReadError extends Error {
  override readonly name = 'IqraReadError';
  readonly kind: IqraReadErrorKind;
  readonly retryAfterMs?: number;
  readonly code?: string;
  readonly iqraMessage?: string;
  readonly httpStatus?: number;

  constructor(details: IqraReadErrorDetails, options?: { cause?: unknown }) {
    super(readMessage(details), options);
    this.kind = details.kind;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.code !== undefined) this.code = details.code;
    if (details.iqraMessage !== undefined) this.iqraMessage = details.iqraMessage;
    if (details.httpStatus !== undefined) this.httpStatus = details.httpStatus;
  }
}

function readMessage(d: IqraReadErrorDetails): string {
  const parts = [`Iqra read of ${d.what} failed: ${d.kind} (${d.detail})`];
  if (d.httpStatus !== undefined && !d.detail.includes(`HTTP ${d.httpStatus}`))
    parts.push(`HTTP ${d.httpStatus}`);
  if (d.code) parts.push(`code ${d.code}`);
  if (d.iqraMessage) parts.push(`message ${JSON.stringify(d.iqraMessage.slice(0, 300))}`);
  if (d.retryAfterMs !== undefined) parts.push(`retry after ${d.retryAfterMs} ms`);
  return parts.join(', ');
}
