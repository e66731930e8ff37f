import FormData from 'form-data';
import { Agent, type Dispatcher, request } from 'undici';
import { type Logger, maskPhone, silentLogger } from '../log.js';
import type { IqraBusiness } from './business.js';
import { explainIqraCode } from './codes.js';
import { IqraError, type IqraErrorDetails } from './errors.js';
import { errorCodes, firstHeader, parseRetryAfter, readBody } from './http.js';
import { type Conversation, IqraReader, type QueueEntry } from './tracking.js';

export { parseRetryAfter } from './http.js';
export type { Conversation, ConversationMessage, QueueEntry } from './tracking.js';
export { parseConversation, parseQueueEntry } from './tracking.js';

/**
 * How `call/initiate` requests are written.
 * - `fields`: only the published reference's form fields (RecipientNumber, NumberId, AgentId, ...).
 * - `config`: only the `config` JSON part, which is what Iqra's open-source server reads (needs a campaign).
 * - `both`: the reference's fields, plus the `config` part whenever a campaign is given.
 */
export type IqraRequestFormat = 'both' | 'fields' | 'config';

export interface InitiateCallInput {
  /** Our id for this call request; appears in logs and in messages so that a rep can quote it. */
  requestId: string;
  /** E.164, e.g. `+14155552671`. */
  recipient: string;
  agentId: string;
  numberId: string;
  campaignId?: string;
  /** When to call; `undefined` = now. */
  scheduledAt?: Date;
  dynamicVariables: Record<string, string>;
  /** The caller puts SlackTeamId, SlackUserId, ... here. */
  metadata: Record<string, string>;
}

export interface InitiateCallResult {
  queueIds: string[];
  attempts: number;
  sentFormat: { fields: boolean; config: boolean };
  /** Dry run: nothing was sent; these are the parts that would have been. */
  dryRun?: { parts: [string, string][] };
}

export interface IqraClientOptions {
  /** e.g. `https://app.iqra.bot`; trailing slashes are ignored. */
  baseUrl: string;
  businessId: string;
  apiKey: string;
  format: IqraRequestFormat;
  /** Minutes after the start time during which Iqra may still start the call (`schedule.maxDateTimeUTC`). */
  callWindowMinutes: number;
  /** Limit for one attempt, from sending to the end of the answer. Connecting is limited to min(this, 5 s). */
  timeoutMs: number;
  /** Default 3. Only requests that surely did not reach Iqra are sent again. */
  maxAttempts?: number;
  /** Longest single wait for a Retry-After (default 30 000 ms). A longer one ends retrying with a `failed` error. */
  maxRetryWaitMs?: number;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  logger?: Logger;
}

/** The `config` JSON part, as Iqra's server reads it (property names are case-sensitive). */
export interface IqraCallConfig {
  campaignId: string;
  number: { type: 0; toNumber: string };
  /**
   * `type`: 0 now, 1 at `dateTimeUTC`. The server notes' version reads only the two times; a later version of Iqra's
   * open-source server needs `type` (its OutboundCallScheduleType: Now 0, Later 1) and answers
   * CONFIG_SCHEDULE_TYPE_NOT_FOUND without it. Sending all three works with both.
   */
  schedule: { type: 0 | 1; dateTimeUTC: string; maxDateTimeUTC: string };
  dynamicVariables: Record<string, string>;
  metadata: Record<string, string>;
}

export interface BuildFormOptions {
  format: IqraRequestFormat;
  callWindowMinutes: number;
  now: Date;
}

const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_MAX_RETRY_WAIT_MS = 30_000;
const BACKOFF_BASE_MS = 250;
const MAX_CONNECT_TIMEOUT_MS = 5_000;
/** Below the usual 5 s of servers, so that we do not write a request on a socket the server is closing. */
const KEEP_ALIVE_MS = 4_000;
const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Connection failures that happen before a single byte of the request is written. */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
/** Worth another try when they happen while connecting; after the request was written they mean "unknown". */
const TRANSIENT_CONNECT_CODES = new Set([
  ...NEVER_SENT_CODES,
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ECONNABORTED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Builds the multipart body of `call/initiate`. Throws an `IqraError` (`failed`, `NO_CAMPAIGN`) when the format is
 * `config` and no campaign is given, because Iqra's server cannot place a call without one.
 */
/**
 * The multipart parts of a call/initiate request, in order, as `[name, value]` pairs: what is sent, and what a dry run
 * shows instead of sending. Throws (sending nothing) when the `config` format has no campaign.
 */
export function initiateFormParts(
  input: InitiateCallInput,
  options: BuildFormOptions,
): { parts: [string, string][]; fields: boolean; config: boolean } {
  const fields = options.format === 'fields' || options.format === 'both';
  const config = options.format === 'config' || (options.format === 'both' && hasText(input.campaignId));
  if (options.format === 'config' && !hasText(input.campaignId)) {
    throw new IqraError({
      outcome: 'failed',
      reason: 'NO_CAMPAIGN',
      userMessage:
        'No Iqra campaign was chosen for this call, and this Iqra server places calls only through a campaign ' +
        '(it takes the agent and the caller-ID number from it). Nothing was sent to Iqra. Pick a campaign, or ask ' +
        'an admin to set IQRA_CAMPAIGNS (and IQRA_DEFAULT_CAMPAIGN).',
      attempts: 0,
      retryable: false,
    });
  }
  const parts: [string, string][] = [];
  if (fields) {
    parts.push(
      ['RecipientNumber', input.recipient],
      ['NumberId', input.numberId],
      ['AgentId', input.agentId],
    );
    if (hasText(input.campaignId)) parts.push(['CampaignId', input.campaignId]);
    if (input.scheduledAt) parts.push(['ScheduledTime', input.scheduledAt.toISOString()]);
    for (const [key, value] of Object.entries(input.dynamicVariables)) {
      parts.push([`DynamicVariables[${key}]`, String(value)]);
    }
    for (const [key, value] of Object.entries(input.metadata))
      parts.push([`Metadata[${key}]`, String(value)]);
  }
  if (config) parts.push(['config', JSON.stringify(buildIqraConfig(input, options))]);
  return { parts, fields, config };
}

export function buildInitiateForm(
  input: InitiateCallInput,
  options: BuildFormOptions,
): { form: FormData; fields: boolean; config: boolean } {
  const { parts, fields, config } = initiateFormParts(input, options);
  const form = new FormData();
  for (const [name, value] of parts) form.append(name, value);
  return { form, fields, config };
}

/** The `config` JSON part. The call window starts at `scheduledAt`, or at `now` for a call placed now. */
export function buildIqraConfig(
  input: InitiateCallInput,
  options: { callWindowMinutes: number; now: Date },
): IqraCallConfig {
  const start = input.scheduledAt ?? options.now;
  const end = new Date(start.getTime() + options.callWindowMinutes * 60_000);
  return {
    campaignId: input.campaignId ?? '',
    number: { type: 0, toNumber: input.recipient },
    schedule: {
      type: input.scheduledAt ? 1 : 0,
      dateTimeUTC: start.toISOString(),
      maxDateTimeUTC: end.toISOString(),
    },
    dynamicVariables: stringValues(input.dynamicVariables),
    metadata: stringValues(input.metadata),
  };
}

/** Set on a request by the interceptor once undici starts writing it on a connected socket. */
class AttemptTracker {
  written = false;
  constructor(readonly signal: AbortSignal) {}
}

/** The abort reason of an attempt that ran out of time. */
class AttemptTimeout extends Error {
  override readonly name = 'AttemptTimeout';
}

/**
 * Marks the attempt as written when undici hands the request to a connected socket (`onRequestStart` is called right
 * before the request line is written). Any error before that point means nothing reached Iqra.
 */
const trackWrites: Dispatcher.DispatchInterceptor = (dispatch) => (opts, handler) => {
  const tracker = (opts as { opaque?: unknown }).opaque;
  if (!(tracker instanceof AttemptTracker)) return dispatch(opts, handler);
  const tracked: Dispatcher.DispatchHandler = {
    onRequestStart(controller, context) {
      // An aborted request is cancelled by undici before anything is written.
      if (!tracker.signal.aborted) tracker.written = true;
      handler.onRequestStart?.(controller, context);
    },
    onRequestUpgrade: (controller, statusCode, headers, socket) =>
      handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) =>
      handler.onResponseStart?.(controller, statusCode, headers, statusMessage),
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  };
  return dispatch(opts, tracked);
};

type AttemptResult =
  | { type: 'queued'; queueIds: string[]; status: number }
  | { type: 'final'; error: (attempts: number) => IqraError }
  /** Surely not processed by Iqra: may be sent again. */
  | {
      type: 'retry';
      status?: number;
      /** The connection error code, for the log. */
      detail?: string;
      retryAfterMs?: number;
      exhausted: (attempts: number) => IqraError;
      tooLong?: (attempts: number, waitMs: number) => IqraError;
    };

/**
 * Iqra's `call/initiate`, which never sends a request again once it may have reached Iqra, and the read endpoints
 * that follow a call (`getQueueEntry`, `getConversation`), which are sent once each and may be repeated by the caller.
 * All share one connection pool; `close()` ends it.
 */
export class IqraClient {
  private readonly url: string;
  private readonly reader: IqraReader;
  private readonly agent: Agent;
  private readonly dispatcher: Dispatcher;
  private readonly maxAttempts: number;
  private readonly maxRetryWaitMs: number;
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly logger: Logger;

  constructor(private readonly o: IqraClientOptions) {
    const base = o.baseUrl.trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]/i.test(base)) throw new TypeError('IqraClient: baseUrl must be an http(s) URL');
    if (!hasText(o.businessId)) throw new TypeError('IqraClient: businessId is required');
    if (!hasText(o.apiKey)) throw new TypeError('IqraClient: apiKey is required');
    if (!(o.timeoutMs > 0)) throw new TypeError('IqraClient: timeoutMs must be positive');
    if (!(o.callWindowMinutes > 0)) throw new TypeError('IqraClient: callWindowMinutes must be positive');
    const businessUrl = `${base}/api/v1/business/${encodeURIComponent(o.businessId.trim())}`;
    this.url = `${businessUrl}/call/initiate`;
    this.maxAttempts = Math.max(1, Math.floor(o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
    this.maxRetryWaitMs = Math.max(0, o.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS);
    this.now = o.now ?? (() => new Date());
    this.sleep = o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = o.random ?? Math.random;
    this.logger = o.logger ?? silentLogger;
    this.agent = new Agent({
      connect: { timeout: Math.min(o.timeoutMs, MAX_CONNECT_TIMEOUT_MS) },
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
    });
    this.dispatcher = this.agent.compose(trackWrites);
    this.reader = new IqraReader({
      businessUrl,
      apiKey: o.apiKey,
      timeoutMs: o.timeoutMs,
      dispatcher: this.agent,
      now: this.now,
      logger: this.logger,
    });
  }

  /**
   * Queues one call. Resolves with Iqra's queue ids; throws an `IqraError` whose `outcome` says whether the call
   * may have been placed anyway.
   */
  async initiateCall(input: InitiateCallInput): Promise<InitiateCallResult> {
    const log = this.logger.child({ requestId: input.requestId, recipient: maskPhone(input.recipient) });
    const { form, fields, config } = buildInitiateForm(input, {
      format: this.o.format,
      callWindowMinutes: this.o.callWindowMinutes,
      now: this.now(),
    });
    const body = form.getBuffer();
    const headers: Record<string, string> = {
      ...headerStrings(form.getHeaders()),
      'content-length': String(body.length),
      accept: 'application/json',
      authorization: `Token ${this.o.apiKey}`,
    };
    const sentFormat = { fields, config };

    for (let attempt = 1; ; attempt++) {
      log.debug('iqra initiate call: sending', {
        attempt,
        format: this.o.format,
        sentFormat,
        bytes: body.length,
      });
      const result = await this.attempt(input, body, headers);
      if (result.type === 'queued') {
        // Debug: the call desk logs the outcome ('call queued'), once per call.
        log.debug('iqra initiate call: queued', {
          attempt,
          status: result.status,
          queueIds: result.queueIds,
        });
        return { queueIds: result.queueIds, attempts: attempt, sentFormat };
      }
      if (result.type === 'final') throw this.fail(log, result.error(attempt));
      if (attempt >= this.maxAttempts) throw this.fail(log, result.exhausted(attempt));
      if (result.retryAfterMs !== undefined && result.retryAfterMs > this.maxRetryWaitMs && result.tooLong) {
        throw this.fail(log, result.tooLong(attempt, result.retryAfterMs));
      }
      const waitMs = result.retryAfterMs ?? this.backoff(attempt);
      log.info('iqra initiate call: not processed, trying again', {
        attempt,
        status: result.status,
        error: result.detail,
        waitMs,
      });
      await this.sleep(waitMs);
    }
  }

  /**
   * One outbound queue entry (`POST /queues/outbound/{queueId}`, no body): its status and, once dialled, its session.
   * One request, no retries; throws an `IqraReadError` whose `kind` says what went wrong.
   */
  getQueueEntry(queueId: string): Promise<QueueEntry> {
    return this.reader.getQueueEntry(queueId);
  }

  /**
   * The conversation of a session (`GET /conversations/{sessionId}`): status, times, end type and messages.
   * One request, no retries; throws an `IqraReadError` (`not_found` until Iqra has the session).
   */
  getConversation(sessionId: string): Promise<Conversation> {
    return this.reader.getConversation(sessionId);
  }

  /**
   * The business (`GET /api/v1/business/{id}`), reduced to the ids and names of its agents, numbers and campaigns,
   * for `/call doctor`. One request, no retries; throws an `IqraReadError` (`unauthorized` for a refused key).
   */
  getBusiness(): Promise<IqraBusiness> {
    return this.reader.getBusiness();
  }

  /** Lets requests in flight finish, then closes the connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.maxRetryWaitMs, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling);
  }

  private fail(log: Logger, error: IqraError): IqraError {
    const clean = this.withoutKey(error);
    const fields = {
      outcome: clean.outcome,
      reason: clean.reason,
      code: clean.code,
      status: clean.httpStatus,
      attempt: clean.attempts,
    };
    if (clean.outcome === 'unknown') log.error('iqra initiate call: outcome unknown, not retried', fields);
    else log.warn('iqra initiate call: failed', fields);
    return clean;
  }

  /** Defence in depth: Iqra's messages are quoted to the rep, so make sure none of them echoes the key. */
  private withoutKey(error: IqraError): IqraError {
    const key = this.o.apiKey;
    const texts = [error.message, error.userMessage, error.reason, error.iqraMessage ?? '', error.code ?? ''];
    if (!texts.some((t) => t.includes(key))) return error;
    const hide = (t: string | undefined) => t?.split(key).join('[redacted]');
    const details: IqraErrorDetails = {
      outcome: error.outcome,
      reason: hide(error.reason) ?? '',
      userMessage: hide(error.userMessage) ?? '',
      attempts: error.attempts,
      retryable: error.retryable,
    };
    const code = hide(error.code);
    const iqraMessage = hide(error.iqraMessage);
    if (code !== undefined) details.code = code;
    if (iqraMessage !== undefined) details.iqraMessage = iqraMessage;
    if (error.httpStatus !== undefined) details.httpStatus = error.httpStatus;
    return new IqraError(details);
  }

  private async attempt(
    input: InitiateCallInput,
    body: Buffer,
    headers: Record<string, string>,
  ): Promise<AttemptResult> {
    const controller = new AbortController();
    const tracker = new AttemptTracker(controller.signal);
    const timer = setTimeout(
      () => controller.abort(new AttemptTimeout(`no complete answer within ${this.o.timeoutMs} ms`)),
      this.o.timeoutMs,
    );
    let status: number | undefined;
    try {
      const res = await request(this.url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: controller.signal,
        headersTimeout: this.o.timeoutMs,
        bodyTimeout: this.o.timeoutMs,
        opaque: tracker,
      });
      status = res.statusCode;
      const text = await readText(res.body);
      return this.interpret(input, res.statusCode, res.headers, text);
    } catch (err) {
      return this.interpretError(input, err, tracker, status);
    } finally {
      clearTimeout(timer);
    }
  }

  private interpret(
    input: InitiateCallInput,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    text: string,
  ): AttemptResult {
    if (status >= 200 && status < 300) return this.interpretBody(input, status, text);

    if (status === 429 || status === 503) {
      // Iqra (or its proxy) turned the request away without processing it: sending it again cannot dial twice.
      const retryAfterMs = parseRetryAfter(firstHeader(headers['retry-after']), this.now());
      const reason = status === 429 ? 'RATE_LIMITED' : 'HTTP_503';
      const what =
        status === 429
          ? 'Iqra is limiting how many calls this app may place right now'
          : 'Iqra is temporarily unavailable';
      const result: AttemptResult = {
        type: 'retry',
        status,
        exhausted: (attempts) =>
          new IqraError({
            outcome: 'failed',
            reason,
            httpStatus: status,
            attempts,
            retryable: true,
            userMessage: `${what}, so the call was not placed (nothing was queued). Try again in a minute or two.`,
          }),
        tooLong: (attempts, waitMs) =>
          new IqraError({
            outcome: 'failed',
            reason,
            httpStatus: status,
            attempts,
            retryable: true,
            userMessage: `${what}, so the call was not placed (nothing was queued). Iqra asks to wait ${describeWait(
              waitMs,
              this.now(),
            )} before trying again.`,
          }),
      };
      if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
      return result;
    }

    if (status >= 500) {
      // 500 and the other 5xx: Iqra (or the gateway in front of it) may have queued the call before failing.
      // 502 and 504 included: a gateway error means the gateway forwarded the request and then lost or timed out
      // the upstream's answer, so Iqra may have received and queued it. "Never dial twice" wins: no retry.
      const what =
        status === 502 || status === 504
          ? `a gateway in front of Iqra answered HTTP ${status} (it may have passed the request on to Iqra)`
          : `Iqra answered with a server error (HTTP ${status})`;
      return this.final(input, { reason: `HTTP_${status}`, status, what, text });
    }

    const iqra = parseIqraBody(text, this.o.apiKey);
    // A 4xx with an Iqra code of its checks: the code says more than the status. (A 4xx comes before Iqra's action
    // runs, so nothing was queued whatever the code.)
    const explained = iqra?.code ? explainIqraCode(iqra.code, iqra.message) : undefined;
    const error =
      (userMessage: string, reason = `HTTP_${status}`) =>
      (attempts: number): IqraError => {
        const d: IqraErrorDetails = {
          outcome: 'failed',
          reason,
          httpStatus: status,
          attempts,
          retryable: false,
          userMessage,
        };
        if (iqra?.code) d.code = iqra.code;
        if (iqra?.message) d.iqraMessage = iqra.message;
        return new IqraError(d);
      };
    if (explained && !explained.mayHaveQueued) {
      return { type: 'final', error: error(explained.userMessage, explained.reason) };
    }
    let userMessage: string;
    if (status === 401 || status === 403) {
      userMessage =
        `Iqra refused this app’s credentials (HTTP ${status}), so the call was not placed. An admin must check ` +
        'IQRA_API_KEY (and that the key belongs to the business in IQRA_BUSINESS_ID).';
    } else if (status === 404) {
      userMessage =
        'Iqra answered “not found” (HTTP 404), so the call was not placed. An admin must check IQRA_BASE_URL ' +
        '(e.g. https://app.iqra.bot) and IQRA_BUSINESS_ID.';
    } else if (status === 413) {
      userMessage =
        'Iqra refused the request as too large (HTTP 413, over 10 MB), so the call was not placed. Use fewer or ' +
        'shorter call variables and try again.';
    } else if (status >= 300 && status < 400) {
      userMessage =
        `Iqra answered with a redirect (HTTP ${status}) instead of queuing the call, so the call was not placed. ` +
        'An admin must check IQRA_BASE_URL (the exact https address of the Iqra API, e.g. https://app.iqra.bot).';
    } else {
      const said = iqra?.message ? ` Iqra says: “${iqra.message.slice(0, 300)}”.` : '';
      userMessage =
        `Iqra rejected the request (HTTP ${status}), so the call was not placed.${said} If this keeps happening, ` +
        'ask an admin to check IQRA_BASE_URL, IQRA_BUSINESS_ID and IQRA_REQUEST_FORMAT.';
    }
    return { type: 'final', error: error(userMessage) };
  }

  private interpretBody(input: InitiateCallInput, status: number, text: string): AttemptResult {
    const iqra = parseIqraBody(text, this.o.apiKey);
    if (iqra?.success === true) {
      const queueIds = queueIdsOf(iqra.data);
      if (queueIds) return { type: 'queued', queueIds, status };
    }
    if (iqra?.success === false) {
      // Iqra answered with an error. The codes of its checks mean nothing was queued (`failed`); EXCEPTION and codes
      // not known here may come after the call was queued (`unknown`: never sent again).
      const code = iqra.code ?? '';
      const explained = explainIqraCode(code, iqra.message);
      return {
        type: 'final',
        error: (attempts) => {
          const d: IqraErrorDetails = explained.mayHaveQueued
            ? {
                outcome: 'unknown',
                reason: explained.reason,
                userMessage: `${explained.userMessage} Request id: ${input.requestId}.`,
                httpStatus: status,
                attempts,
                retryable: false,
              }
            : {
                outcome: 'failed',
                reason: explained.reason,
                userMessage: explained.userMessage,
                httpStatus: status,
                attempts,
                retryable: false,
              };
          if (code) d.code = code;
          if (iqra.message) d.iqraMessage = iqra.message;
          return new IqraError(d);
        },
      };
    }
    return this.final(input, {
      reason: 'BAD_RESPONSE',
      status,
      what: `Iqra answered HTTP ${status} with something this app could not read`,
      text,
    });
  }

  /** An `unknown` outcome: the request reached Iqra, or may have. */
  private final(
    input: InitiateCallInput,
    what: { reason: string; status?: number; what: string; text?: string; cause?: unknown },
  ): AttemptResult {
    const iqra = what.text !== undefined ? parseIqraBody(what.text, this.o.apiKey) : undefined;
    return {
      type: 'final',
      error: (attempts) => {
        const d: IqraErrorDetails = {
          outcome: 'unknown',
          reason: what.reason,
          userMessage: unknownMessage(what.what, input.requestId),
          attempts,
          retryable: false,
        };
        if (what.status !== undefined) d.httpStatus = what.status;
        if (iqra?.code) d.code = iqra.code;
        if (iqra?.message) d.iqraMessage = iqra.message;
        return new IqraError(d, { cause: what.cause });
      },
    };
  }

  private interpretError(
    input: InitiateCallInput,
    err: unknown,
    tracker: AttemptTracker,
    status: number | undefined,
  ): AttemptResult {
    const codes = errorCodes(err);
    if (codes.includes('UND_ERR_INVALID_ARG') && !tracker.written) {
      // undici refused to build the request (e.g. a line break in a header value): nothing was sent.
      return {
        type: 'final',
        error: (attempts) =>
          new IqraError({
            outcome: 'failed',
            reason: 'INVALID_SETTINGS',
            attempts,
            retryable: false,
            userMessage:
              'This app could not build a valid request to Iqra, so nothing was sent and no call was placed. ' +
              'An admin must check IQRA_BASE_URL and IQRA_API_KEY for stray spaces or line breaks.',
          }),
      };
    }
    const timedOut =
      err instanceof AttemptTimeout ||
      tracker.signal.reason === err ||
      codes.some((c) => TIMEOUT_CODES.has(c) || c === 'UND_ERR_CONNECT_TIMEOUT');
    const neverSent = codes.some((c) => NEVER_SENT_CODES.has(c)) || !tracker.written;

    if (neverSent && status === undefined) {
      const transient = timedOut || codes.some((c) => TRANSIENT_CONNECT_CODES.has(c));
      const detail = codes[0] ?? (err instanceof Error ? err.name : 'error');
      const error = (attempts: number) =>
        new IqraError(
          {
            outcome: 'failed',
            reason: 'UNREACHABLE',
            attempts,
            retryable: transient,
            userMessage:
              `This app could not reach Iqra (${detail}${attempts > 1 ? `, ${attempts} tries` : ''}), so nothing ` +
              'reached Iqra and no call was placed. ' +
              (transient
                ? 'Try again in a few minutes; if it keeps happening, ask an admin to check IQRA_BASE_URL.'
                : 'Ask an admin to check IQRA_BASE_URL.'),
          },
          { cause: err },
        );
      if (transient) return { type: 'retry', detail, exhausted: error };
      return { type: 'final', error };
    }
    if (timedOut) {
      return this.final(input, {
        reason: 'TIMEOUT',
        ...(status !== undefined ? { status } : {}),
        what: `Iqra did not answer within ${Math.round(this.o.timeoutMs / 100) / 10} s after receiving the request`,
        cause: err,
      });
    }
    return this.final(input, {
      reason: 'CONNECTION_LOST',
      ...(status !== undefined ? { status } : {}),
      what: `the connection to Iqra broke after the request was sent (${codes[0] ?? 'no answer'})`,
      cause: err,
    });
  }
}

function unknownMessage(what: string, requestId: string): string {
  return (
    `Iqra may have placed this call: ${what}. It was not retried, to avoid dialling the customer twice. ` +
    `Check Iqra’s dashboard (call queue) before trying again. Request id: ${requestId}.`
  );
}

interface IqraBody {
  success?: boolean;
  data?: unknown;
  code?: string;
  message?: string;
}

/**
 * Reads Iqra's answer in either casing (`Success`/`success`, `Data`/`data`, ...). `undefined` when not JSON.
 * `secret` (the API key) is replaced in Iqra's code and message here, before any of it is quoted or shortened: a key
 * cut in two by a shortened quote could no longer be found and hidden afterwards.
 */
function parseIqraBody(text: string, secret: string): IqraBody | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const record = json as Record<string, unknown>;
  const pick = (name: string): unknown => {
    if (name in record) return record[name];
    const pascal = name.charAt(0).toUpperCase() + name.slice(1);
    if (pascal in record) return record[pascal];
    const lower = name.toLowerCase();
    const key = Object.keys(record).find((k) => k.toLowerCase() === lower);
    return key === undefined ? undefined : record[key];
  };
  const out: IqraBody = {};
  const success = pick('success');
  if (typeof success === 'boolean') out.success = success;
  const data = pick('data');
  if (data !== undefined) out.data = data;
  const hide = (t: string) => (secret ? t.split(secret).join('[redacted]') : t);
  const code = pick('code');
  if (typeof code === 'string' && code.trim()) out.code = hide(code.trim());
  const message = pick('message');
  if (typeof message === 'string' && message.trim()) out.message = hide(message.trim());
  return out;
}

function queueIdsOf(data: unknown): string[] | undefined {
  if (typeof data === 'string' && data.trim()) return [data.trim()];
  if (Array.isArray(data) && data.length > 0 && data.every((d) => typeof d === 'string' && d.trim())) {
    return data.map((d: string) => d.trim());
  }
  return undefined;
}

function describeWait(ms: number, now: Date): string {
  const minutes = Math.ceil(ms / 60_000);
  const until = new Date(now.getTime() + ms).toISOString().slice(11, 16);
  if (ms < 90_000) return `${Math.ceil(ms / 1000)} seconds`;
  return `about ${minutes} minutes (until ${until} UTC)`;
}

async function readText(body: AsyncIterable<Buffer | string>): Promise<string> {
  return (await readBody(body, MAX_RESPONSE_BYTES)).text;
}

function headerStrings(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

function stringValues(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
}

function hasText(value: string | undefined): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}
