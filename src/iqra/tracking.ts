/**
 * Reading a call's progress from Iqra: the outbound queue entry (`POST /queues/outbound/{queueId}`) and the
 * conversation of its session (`GET /conversations/{sessionId}`), both under `/api/v1/business/{businessId}`.
 *
 * The answers are read leniently, because Iqra's versions differ (see /work/shared/iqra-server-notes.md):
 * - keys in any casing (`queueId`, `QueueId`, `queue_id`), at every level; the values of `metadata` and
 *   `dynamicVariables` keep their keys as sent (the server may camelCase them: `SlackUserId` → `slackUserId`; use
 *   `metadataValue` to look one up);
 * - the server's envelope `{success, data, code, message}` or the bare object;
 * - enums as integers, numeric strings, C# names (`ProcessedBackend`) or the `{value, name}` objects some server
 *   versions write. A known name wins over the number, because the numbers of `ConversationSessionEndType` moved
 *   between server versions while the names did not;
 * - times as ISO strings, with or without a zone (no zone = UTC, as the server stores them); returned as ISO UTC.
 *
 * Reads are idempotent and never retried here: the caller paces its polls and backs off on `IqraReadError`.
 */
import { type Dispatcher, request } from 'undici';
import type { Logger } from '../log.js';
import { type IqraBusiness, readBusiness } from './business.js';
import { IqraReadError, type IqraReadErrorDetails, type IqraReadErrorKind } from './errors.js';
import { errorCodes, firstHeader, parseRetryAfter, readBody } from './http.js';
import { fieldsOf, isRecord, normalizeKey, readId } from './json-fields.js';

/** One outbound call queue entry. Enums are the server's integers (see the tables below). */
export interface QueueEntry {
  queueId: string;
  /** `QUEUE_STATUS`: 0 Queued … 4 ProcessedBackend (dialled, a session exists) … 5 Failed, 6 Canceled, 7 Expired. */
  status: number;
  /** ISO UTC. */
  enqueuedAt?: string;
  processingStartedAt?: string;
  completedAt?: string;
  sessionId?: string;
  /** `SESSION_STATUS`: 0 Created … 3 Active … 6 Ended, 7 Error. */
  sessionStatus?: number;
  /** `SESSION_END_TYPE`: 0 NotSet … 4 UserNoAnswer, 5 UserEndedCall … 10 VoicemailDetected. */
  sessionEndType?: number;
  campaignId?: string;
  numberId?: string;
  /** The customer's number: personal data; mask it (`maskPhone`) before logging. */
  recipientNumber?: string;
  metadata?: Record<string, string>;
  dynamicVariables?: Record<string, string>;
}

export interface ConversationMessage {
  /** `MESSAGE_ROLE`: 0 system, 1 client (the customer), 2 agent. */
  role: number;
  content: string;
  /** ISO UTC. */
  timestamp?: string;
  senderId?: string;
}

export interface Conversation {
  /** The session id. */
  id: string;
  queueId?: string;
  /** `SESSION_STATUS`. */
  status?: number;
  /** ISO UTC. */
  startTime?: string;
  endTime?: string;
  /** `SESSION_END_TYPE`. */
  endType?: number;
  /** In the order Iqra sent them. */
  messages: ConversationMessage[];
}

/** `CallQueueStatusEnum`. */
export const QUEUE_STATUS = {
  Queued: 0,
  ProcessingProxy: 1,
  ProcessedProxy: 2,
  ProcessingBackend: 3,
  ProcessedBackend: 4,
  Failed: 5,
  Canceled: 6,
  Expired: 7,
} as const;

/** `ConversationSessionState`: the `sessionStatus` of a queue entry and the `status` of a conversation. */
export const SESSION_STATUS = {
  Created: 0,
  WaitingForPrimaryClient: 1,
  Starting: 2,
  Active: 3,
  Paused: 4,
  Ending: 5,
  Ended: 6,
  Error: 7,
} as const;

/** `ConversationSessionEndType`, as the current server numbers it (its spelling of "Initalize" included). */
export const SESSION_END_TYPE = {
  NotSet: 0,
  InitalizeError: 1,
  ExpiredWaitingForInitalize: 2,
  UserDeclinedOrBusy: 3,
  UserNoAnswer: 4,
  UserEndedCall: 5,
  AgentEndedCall: 6,
  MidSessionFailure: 7,
  UserSilenceTimeoutReached: 8,
  MaxConversationDurationReached: 9,
  VoicemailDetected: 10,
} as const;

/** `ConversationSenderRole`. */
export const MESSAGE_ROLE = { System: 0, Client: 1, Agent: 2 } as const;

type EnumTable = Readonly<Record<string, number>>;

const QUEUE_STATUS_NAMES = enumNames(QUEUE_STATUS, { Cancelled: 6 });
const SESSION_STATUS_NAMES = enumNames(SESSION_STATUS);
const SESSION_END_TYPE_NAMES = enumNames(SESSION_END_TYPE, {
  InitializeError: 1,
  ExpiredWaitingForInitialize: 2,
});
const MESSAGE_ROLE_NAMES = enumNames(MESSAGE_ROLE, { Customer: 1, User: 1, Assistant: 2, Bot: 2 });

/** `4` → `ProcessedBackend`; `undefined` for a number the table does not know. */
export function queueStatusName(status: number): string | undefined {
  return nameOf(QUEUE_STATUS, status);
}

export function sessionStatusName(status: number): string | undefined {
  return nameOf(SESSION_STATUS, status);
}

export function sessionEndTypeName(endType: number): string | undefined {
  return nameOf(SESSION_END_TYPE, endType);
}

/** Iqra is done with this call: status Failed, Canceled or Expired; or ProcessedBackend with a session Ended or Error. */
export function isTerminalQueueEntry(entry: Pick<QueueEntry, 'status' | 'sessionStatus'>): boolean {
  if (
    entry.status === QUEUE_STATUS.Failed ||
    entry.status === QUEUE_STATUS.Canceled ||
    entry.status === QUEUE_STATUS.Expired
  ) {
    return true;
  }
  return (
    entry.status === QUEUE_STATUS.ProcessedBackend &&
    (entry.sessionStatus === SESSION_STATUS.Ended || entry.sessionStatus === SESSION_STATUS.Error)
  );
}

/** A metadata or dynamic-variable value by key, in any casing (the server may camelCase the keys it stored). */
export function metadataValue(values: Record<string, string> | undefined, key: string): string | undefined {
  if (!values) return undefined;
  if (Object.hasOwn(values, key)) return values[key];
  const wanted = normalizeKey(key);
  const found = Object.keys(values).find((k) => normalizeKey(k) === wanted);
  return found === undefined ? undefined : values[found];
}

/**
 * Which `IqraReadError` kind an Iqra error code means. Codes are colon-joined and nested
 * (`GetOutboundCallQueues:GetOutboundConversationsMetaDataAsync:NOT_FOUND`):
 * - any `Validate…` segment (API key, user, business checks: `...:ValidateAPIUserAndBusinessSessionAsync:...`,
 *   `...:VALIDATE_API_KEY:...`), `CheckModulePermission`, or a last segment about the key, a disabled user or
 *   business, or permissions → `unauthorized` (checked first: a business that is not found is a settings problem,
 *   not a missing call);
 * - a last segment `NOT_FOUND` or `…_NOT_FOUND` → `not_found`;
 * - `RATE_LIMITED`, `TOO_MANY_REQUESTS` → `rate_limited`;
 * - `EXCEPTION`, `-1`, `…_ERROR` (database and internal errors) → `unavailable`;
 * - anything else → `bad_response`.
 */
export function readErrorKindOfCode(code: string): IqraReadErrorKind {
  const segments = code
    .split(':')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const upper = segments.map((s) => s.toUpperCase());
  const last = upper.at(-1) ?? '';
  if (
    upper.some((s) => s.startsWith('VALIDATE') || s === 'CHECKMODULEPERMISSION') ||
    /API_?KEY|^(USER|BUSINESS|BUSINESSES)_DISABLED$|_CONVERSATIONS(_OUTBOUND)?_DISABLED$|PERMISSION|UNAUTHORI[SZ]ED|FORBIDDEN|ACCESS_DENIED/.test(
      last,
    )
  ) {
    return 'unauthorized';
  }
  if (last === 'NOT_FOUND' || last.endsWith('_NOT_FOUND')) return 'not_found';
  if (last === 'RATE_LIMITED' || last === 'TOO_MANY_REQUESTS') return 'rate_limited';
  if (last === 'EXCEPTION' || last === '-1' || last.endsWith('_ERROR') || last === 'TIMEOUT')
    return 'unavailable';
  return 'bad_response';
}

/**
 * Reads one queue entry from a parsed JSON answer (or its text): wrapped (`{success: true, data: {...}}`) or bare,
 * in any casing. Also reads the conventional names of a campaign custom tool's body (`call_queue_id`,
 * `call_queue_status`, `call_queue_metadata`, `conversation_end_type`), so that a webhook receiver can use it.
 * Throws `IqraReadError`: the kind of the code for `success: false`, `bad_response` when unreadable (no queue id, no
 * readable status).
 */
export function parseQueueEntry(json: unknown): QueueEntry {
  return readQueueEntry(json, { what: 'queue entry', hide: (t) => t });
}

/**
 * Reads one conversation from a parsed JSON answer (or its text), wrapped or bare, in any casing. Messages whose role
 * cannot be read are left out. Throws `IqraReadError` like `parseQueueEntry`.
 */
export function parseConversation(json: unknown): Conversation {
  return readConversation(json, { what: 'conversation', hide: (t) => t });
}

interface ParseContext {
  what: string;
  /** Removes the API key from Iqra's texts before they go into an error. */
  hide: (text: string) => string;
  httpStatus?: number;
}

function readQueueEntry(json: unknown, ctx: ParseContext): QueueEntry {
  const f = fieldsOf(unwrap(json, ctx));
  if (!f) throw unreadable(ctx, 'the entry is not a JSON object');
  const queueId = readId(f('queueId', 'callQueueId', 'id'));
  if (queueId === undefined) throw unreadable(ctx, 'no queue id');
  const status = readEnum(f('status', 'callQueueStatus', 'queueStatus'), QUEUE_STATUS_NAMES);
  if (typeof status !== 'number') throw unreadable(ctx, status === 'absent' ? 'no status' : 'unknown status');
  const entry: QueueEntry = { queueId, status };
  setTime(entry, 'enqueuedAt', f('enqueuedAt', 'createdAt'));
  setTime(entry, 'processingStartedAt', f('processingStartedAt'));
  setTime(entry, 'completedAt', f('completedAt'));
  const sessionId = readId(f('sessionId', 'conversationSessionId', 'conversationId'));
  if (sessionId !== undefined) entry.sessionId = sessionId;
  const sessionStatus = readEnum(f('sessionStatus', 'conversationStatus'), SESSION_STATUS_NAMES);
  if (typeof sessionStatus === 'number') entry.sessionStatus = sessionStatus;
  const endType = readEnum(f('sessionEndType', 'conversationEndType', 'endType'), SESSION_END_TYPE_NAMES);
  if (typeof endType === 'number') entry.sessionEndType = endType;
  const campaignId = readId(f('campaignId'));
  if (campaignId !== undefined) entry.campaignId = campaignId;
  const numberId = readId(f('numberId', 'callingNumberId'));
  if (numberId !== undefined) entry.numberId = numberId;
  const recipient = readId(f('recipientNumber', 'toNumber'));
  if (recipient !== undefined) entry.recipientNumber = recipient;
  const metadata = readStringMap(f('metadata', 'callQueueMetadata'));
  if (metadata) entry.metadata = metadata;
  const variables = readStringMap(f('dynamicVariables', 'callQueueDynamicVariables'));
  if (variables) entry.dynamicVariables = variables;
  return entry;
}

function readConversation(json: unknown, ctx: ParseContext): Conversation {
  const f = fieldsOf(unwrap(json, ctx));
  if (!f) throw unreadable(ctx, 'the conversation is not a JSON object');
  const id = readId(f('id', 'sessionId'));
  if (id === undefined) throw unreadable(ctx, 'no session id');
  const conversation: Conversation = { id, messages: [] };
  const queueId = readId(f('queueId'));
  if (queueId !== undefined) conversation.queueId = queueId;
  const status = readEnum(f('status'), SESSION_STATUS_NAMES);
  if (typeof status === 'number') conversation.status = status;
  setTime(conversation, 'startTime', f('startTime'));
  setTime(conversation, 'endTime', f('endTime'));
  const endType = readEnum(f('endType', 'sessionEndType'), SESSION_END_TYPE_NAMES);
  if (typeof endType === 'number') conversation.endType = endType;
  const messages = f('messages');
  if (Array.isArray(messages)) {
    for (const raw of messages) {
      const m = fieldsOf(raw);
      if (!m) continue;
      const role = readEnum(m('role', 'senderRole'), MESSAGE_ROLE_NAMES);
      if (typeof role !== 'number') continue;
      const content = m('content', 'text');
      const message: ConversationMessage = {
        role,
        content:
          typeof content === 'string' ? content.trim() : typeof content === 'number' ? String(content) : '',
      };
      setTime(message, 'timestamp', m('timestamp'));
      const senderId = readId(m('senderId'));
      if (senderId !== undefined) message.senderId = senderId;
      conversation.messages.push(message);
    }
  }
  return conversation;
}

/** The `data` of Iqra's envelope, or the object itself when it is not wrapped. Throws for `success: false`. */
function unwrap(json: unknown, ctx: ParseContext): unknown {
  let value = json;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw unreadable(ctx, 'not JSON');
    }
  }
  const f = fieldsOf(value);
  if (!f) throw unreadable(ctx, 'not a JSON object');
  const success = f('success');
  if (typeof success !== 'boolean') return value;
  const code = typeof f('code') === 'string' ? ctx.hide(String(f('code')).trim()) : '';
  const message = typeof f('message') === 'string' ? ctx.hide(String(f('message')).trim()) : '';
  if (!success) {
    const details: IqraReadErrorDetails = {
      kind: code ? readErrorKindOfCode(code) : 'bad_response',
      what: ctx.what,
      detail: code ? 'Iqra answered success: false' : 'Iqra answered success: false without a code',
    };
    if (code) details.code = code;
    if (message) details.iqraMessage = message;
    if (ctx.httpStatus !== undefined) details.httpStatus = ctx.httpStatus;
    throw new IqraReadError(details);
  }
  const data = f('data');
  if (!fieldsOf(data)) throw unreadable(ctx, 'success without an object in data');
  return data;
}

function unreadable(ctx: ParseContext, detail: string): IqraReadError {
  const details: IqraReadErrorDetails = { kind: 'bad_response', what: ctx.what, detail };
  if (ctx.httpStatus !== undefined) details.httpStatus = ctx.httpStatus;
  return new IqraReadError(details);
}

/** An integer, a numeric string, a name from the table, or `{value, name}` (a known name wins). */
function readEnum(value: unknown, names: ReadonlyMap<string, number>): number | 'absent' | 'invalid' {
  if (value === undefined || value === null) return 'absent';
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : 'invalid';
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+$/.test(text)) return Number(text);
    return names.get(normalizeKey(text)) ?? 'invalid';
  }
  const f = fieldsOf(value);
  if (!f) return 'invalid';
  const name = f('name');
  const byName = typeof name === 'string' ? names.get(normalizeKey(name)) : undefined;
  if (byName !== undefined) return byName;
  const inner = f('value');
  return inner === undefined ? 'invalid' : readEnum(inner, names);
}

/** ISO UTC; a time without a zone is UTC; C#'s `default(DateTime)` (year 1) and unreadable times are dropped. */
function readTime(value: unknown): string | undefined {
  let ms: number;
  if (typeof value === 'string') {
    const text = value.trim();
    if (!text || text.startsWith('0001-01-01')) return undefined;
    const zoned = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text;
    ms = Date.parse(zoned);
  } else if (typeof value === 'number') {
    ms = value;
  } else {
    return undefined;
  }
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

function setTime<T extends object, K extends keyof T & string>(target: T, key: K, value: unknown): void {
  const time = readTime(value);
  if (time !== undefined) (target as Record<string, unknown>)[key] = time;
}

/** A string → string map; a JSON string of one is read too (custom-tool bodies). Other values become strings. */
function readStringMap(value: unknown): Record<string, string> | undefined {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (!isRecord(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(v)) {
    if (typeof item === 'string') out[key] = item;
    else if (typeof item === 'number' || typeof item === 'boolean') out[key] = String(item);
  }
  return out;
}

function enumNames(table: EnumTable, aliases: EnumTable = {}): ReadonlyMap<string, number> {
  const map = new Map<string, number>();
  for (const [name, n] of Object.entries({ ...table, ...aliases })) map.set(normalizeKey(name), n);
  return map;
}

function nameOf(table: EnumTable, value: number): string | undefined {
  return Object.entries(table).find(([, n]) => n === value)?.[0];
}

export interface IqraReaderOptions {
  /** `{base}/api/v1/business/{businessId}`, without a trailing slash. */
  businessUrl: string;
  apiKey: string;
  /** Limit for one read, from sending to the end of the answer. */
  timeoutMs: number;
  /** The client's connection pool (one per client). */
  dispatcher: Dispatcher;
  now: () => Date;
  logger: Logger;
}

/** Conversations can be long (a transcript, audio URLs, logs). */
const MAX_READ_BYTES = 8 * 1024 * 1024;
/** The business holds every agent, with its prompts and scripts, in one answer. */
const MAX_BUSINESS_BYTES = 32 * 1024 * 1024;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** The abort reason of a read that ran out of time. */
class ReadTimeout extends Error {
  override readonly name = 'ReadTimeout';
}

interface ReadSpec<T> {
  method: 'GET' | 'POST';
  path: string;
  what: string;
  /** For the log: the operation and the id read. */
  logFields: Record<string, string>;
  parse: (json: unknown, ctx: ParseContext) => T;
  describe: (value: T) => Record<string, unknown>;
  /** The largest answer read (default `MAX_READ_BYTES`). */
  maxBytes?: number;
}

/** Iqra's read endpoints, used by `IqraClient` over its own connection pool. One request per call: no retries. */
export class IqraReader {
  constructor(private readonly o: IqraReaderOptions) {}

  /** `POST {base}/api/v1/business/{id}/queues/outbound/{queueId}` with no body. */
  async getQueueEntry(queueId: string): Promise<QueueEntry> {
    const id = requireId(queueId, 'queueId');
    return this.read({
      method: 'POST',
      path: `/queues/outbound/${encodeURIComponent(id)}`,
      what: `queue entry ${id}`,
      logFields: { op: 'iqra queue entry', queueId: id },
      parse: readQueueEntry,
      describe: (e) => ({
        status: e.status,
        statusName: queueStatusName(e.status),
        sessionId: e.sessionId,
        sessionStatus: e.sessionStatus,
        sessionEndType: e.sessionEndType,
      }),
    });
  }

  /** `GET {base}/api/v1/business/{id}/conversations/{sessionId}`. */
  async getConversation(sessionId: string): Promise<Conversation> {
    const id = requireId(sessionId, 'sessionId');
    return this.read({
      method: 'GET',
      path: `/conversations/${encodeURIComponent(id)}`,
      what: `conversation ${id}`,
      logFields: { op: 'iqra conversation', sessionId: id },
      parse: readConversation,
      describe: (c) => ({ status: c.status, endType: c.endType, messages: c.messages.length }),
    });
  }

  /**
   * `GET {base}/api/v1/business/{id}`: the business with its agents, numbers and telephony campaigns, of which only
   * the ids and names are kept (see `business.ts`). The answer is large: up to `MAX_BUSINESS_BYTES` is read.
   */
  async getBusiness(): Promise<IqraBusiness> {
    return this.read({
      method: 'GET',
      path: '',
      what: 'business',
      logFields: { op: 'iqra business' },
      maxBytes: MAX_BUSINESS_BYTES,
      parse: (json, ctx) => readBusiness(json, unwrap(json, ctx)),
      describe: (b) => ({
        agents: b.agents?.length,
        numbers: b.numbers?.length,
        campaigns: b.campaigns?.length,
      }),
    });
  }

  private async read<T>(spec: ReadSpec<T>): Promise<T> {
    const log = this.o.logger.child(spec.logFields);
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new ReadTimeout(`no complete answer within ${this.o.timeoutMs} ms`)),
      this.o.timeoutMs,
    );
    log.debug('iqra read: sending', { method: spec.method });
    try {
      const res = await request(`${this.o.businessUrl}${spec.path}`, {
        method: spec.method,
        headers: { accept: 'application/json', authorization: `Token ${this.o.apiKey}` },
        dispatcher: this.o.dispatcher,
        signal: controller.signal,
        headersTimeout: this.o.timeoutMs,
        bodyTimeout: this.o.timeoutMs,
      });
      const { text, truncated } = await readBody(res.body, spec.maxBytes ?? MAX_READ_BYTES);
      const value = this.interpret(spec, res.statusCode, res.headers, text, truncated);
      log.debug('iqra read: ok', { status: res.statusCode, ...spec.describe(value) });
      return value;
    } catch (err) {
      const error = err instanceof IqraReadError ? err : this.networkError(spec, err, controller.signal);
      const fields = {
        kind: error.kind,
        httpStatus: error.httpStatus,
        code: error.code,
        retryAfterMs: error.retryAfterMs,
      };
      if (error.kind === 'bad_response' && error.httpStatus === 404 && error.code === undefined) {
        // Every read will fail alike until an admin fixes the setting: say so, and where the request went.
        log.warn(
          'iqra read: HTTP 404 without an Iqra answer; IQRA_BASE_URL (or a proxy in front of Iqra) is likely wrong',
          { ...fields, path: this.pathOf(spec) },
        );
      } else if (error.kind === 'unauthorized' || error.kind === 'bad_response')
        log.warn('iqra read: failed', fields);
      else log.info('iqra read: failed', fields);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private interpret<T>(
    spec: ReadSpec<T>,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    text: string,
    truncated: boolean,
  ): T {
    const ctx: ParseContext = { what: spec.what, hide: (t) => this.hide(t), httpStatus: status };
    const iqra = status >= 200 && status < 300 ? undefined : this.iqraFailure(text);
    const error = (kind: IqraReadErrorKind, detail: string, retryAfterMs?: number): IqraReadError => {
      const details: IqraReadErrorDetails = { kind, what: spec.what, detail, httpStatus: status };
      if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
      if (iqra?.code) details.code = iqra.code;
      if (iqra?.message) details.iqraMessage = iqra.message;
      return new IqraReadError(details);
    };
    const retryAfter = () => parseRetryAfter(firstHeader(headers['retry-after']), this.o.now());

    if (status === 429) throw error('rate_limited', `HTTP ${status}`, retryAfter());
    if (status === 503) throw error('unavailable', `HTTP ${status}`, retryAfter());
    if (status >= 500 || status === 408) throw error('unavailable', `HTTP ${status}`);
    if (status === 401 || status === 403) throw error('unauthorized', `HTTP ${status}`);
    // Iqra says "not found" in its envelope, with a code ending in NOT_FOUND (in a 200 from its server), not with a bare
    // 404: that comes from whatever routes the request (a wrong IQRA_BASE_URL, a proxy, a moved route) and says nothing
    // about the call. Read as "Iqra no longer knows it", it would give up on every call tracked at once; it is an
    // answer that is not Iqra's, which callers try again later. A 404 in Iqra's envelope is read by its code below.
    if (status === 404 && !(iqra?.envelope && iqra.code)) {
      throw new IqraReadError({
        kind: 'bad_response',
        what: spec.what,
        detail: `HTTP ${status} without an Iqra answer: is IQRA_BASE_URL right?`,
        httpStatus: status,
      });
    }
    if (status < 200 || status >= 300) {
      if (iqra?.code) throw error(readErrorKindOfCode(iqra.code), `HTTP ${status} with an Iqra code`);
      throw error('bad_response', `HTTP ${status}`);
    }
    if (truncated) throw unreadable(ctx, `answer larger than ${spec.maxBytes ?? MAX_READ_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw unreadable(ctx, text.trim() ? 'not JSON' : 'empty answer');
    }
    return spec.parse(json, ctx);
  }

  /** The path a read asked for (`/api/v1/business/{id}/queues/outbound/{queueId}`): no host, no query, no key. */
  private pathOf<T>(spec: ReadSpec<T>): string {
    try {
      return this.hide(new URL(`${this.o.businessUrl}${spec.path}`).pathname);
    } catch {
      return this.hide(spec.path);
    }
  }

  /**
   * Iqra's `code` and `message` in a non-2xx answer, when it has them; `envelope` when they come in Iqra's envelope
   * (a `success` field), not in any JSON that has a `code`.
   */
  private iqraFailure(text: string): { code?: string; message?: string; envelope: boolean } | undefined {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    const f = fieldsOf(json);
    if (!f) return undefined;
    const out: { code?: string; message?: string; envelope: boolean } = {
      envelope: typeof f('success') === 'boolean',
    };
    const code = f('code');
    const message = f('message');
    if (typeof code === 'string' && code.trim()) out.code = this.hide(code.trim());
    if (typeof message === 'string' && message.trim()) out.message = this.hide(message.trim());
    return out;
  }

  private networkError<T>(spec: ReadSpec<T>, err: unknown, signal: AbortSignal): IqraReadError {
    const codes = errorCodes(err);
    if (codes.includes('UND_ERR_INVALID_ARG')) {
      return new IqraReadError(
        {
          kind: 'unauthorized',
          what: spec.what,
          detail:
            'the request could not be built; check IQRA_API_KEY and IQRA_BASE_URL for stray spaces or line breaks',
        },
        { cause: err },
      );
    }
    const timedOut =
      err instanceof ReadTimeout || signal.reason === err || codes.some((c) => TIMEOUT_CODES.has(c));
    const detail = timedOut
      ? `no answer within ${Math.round(this.o.timeoutMs / 100) / 10} s`
      : (codes[0] ?? (err instanceof Error ? err.name : 'network error'));
    return new IqraReadError({ kind: 'unavailable', what: spec.what, detail }, { cause: err });
  }

  /** Iqra's texts go into errors and logs: make sure none of them echoes the key. */
  private hide(text: string): string {
    return text.split(this.o.apiKey).join('[redacted]');
  }
}

function requireId(value: string, name: string): string {
  const id = typeof value === 'string' ? value.trim() : '';
  if (!id) throw new TypeError(`IqraClient: ${name} is required`);
  return id;
}
