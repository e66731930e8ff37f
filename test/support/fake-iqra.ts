/**
 * A real HTTP server that stands in for Iqra: `POST /api/v1/business/{businessId}/call/initiate`, and the reads that
 * follow a call, `POST .../queues/outbound/{queueId}` and `GET .../conversations/{sessionId}`.
 *
 * It parses multipart bodies with busboy (a real parser, so a malformed body fails here as it would on Iqra), records
 * every request, and answers like one of the two Iqra variants described in /work/shared:
 * - `reference` (the published docs): reads RecipientNumber, NumberId, AgentId, ...; answers PascalCase
 *   (`{"Success":true,"Data":["queue_..."]}`); a wrong `Authorization` gets 401.
 * - `server` (Iqra's open-source server): reads ONLY the `config` JSON part and validates it like the server does;
 *   answers camelCase with HTTP 200 even for errors (`{"success":false,"code":"InitiateCall:...","message":...}`).
 *
 * In both modes a route other than call/initiate and the two reads gets 404, another business id gets 400, a body
 * over 10 MB gets 413, and a call/initiate body that is not multipart/form-data gets 400.
 *
 * `script(...)` queues one-shot behaviours that replace the default answer of the next call/initiate requests, in
 * order (reads never use them).
 *
 * Tracking: every queue id the fake hands out from call/initiate (its own or a scripted `queueIds`) is known to it,
 * and stays `Queued` (status 0) unless `lifecycle(...)` scripts it; an unknown queue id gets a `NOT_FOUND` code.
 * `conversation(...)` sets what a session's conversation answers (default: `NOT_FOUND`). Reads are recorded in
 * `trackingRequests`, never in `requests` (which holds only the other requests, i.e. call/initiate).
 *
 * The business: `GET /api/v1/business/{businessId}` answers what `business(...)` set (build one shaped like the
 * open-source server's with `fakeBusiness(...)`), in the mode's envelope and casing; a wrong key gets the mode's
 * refusal (401 in reference mode, a 200 with a `GetBusiness:...:INVALID_API_KEY` code in server mode). Until
 * `business(...)` is called the route answers 404. These reads are recorded in `businessRequests`.
 *
 * @example
 * const iqra = await startFakeIqra({ mode: 'server' });
 * iqra.script({ status: 429, headers: { 'retry-after': '2' } }); // first request: 429, then the default answer
 * // ... use iqra.url as IQRA_BASE_URL, then look at iqra.requests[0].config
 *
 * // The next call placed is dialled, rings, is answered and ends; the 2nd poll is rate limited.
 * iqra.lifecycle([
 *   { status: 0 },
 *   { http: 429, retryAfter: 2 },
 *   { status: 4, sessionStatus: 3, sessionId: 'sess-1' },
 *   { status: 4, sessionStatus: 6, sessionEndType: 5 },
 * ]);
 * iqra.conversation('sess-1', { messages: [{ role: 2, content: 'Hello Jane' }, { role: 1, content: 'Hi' }] });
 * await iqra.close();
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';
import { isValidPhoneNumber } from 'libphonenumber-js';
import {
  type Conversation,
  type ConversationMessage,
  isTerminalQueueEntry,
  type QueueEntry,
  queueStatusName,
  sessionEndTypeName,
  sessionStatusName,
} from '../../src/iqra/tracking.js';

export type FakeIqraMode = 'reference' | 'server';

export interface FakeIqraOptions {
  /** Default `reference`. */
  mode?: FakeIqraMode;
  /** The business id in the path that is accepted. Default `12345`. */
  businessId?: string;
  /** `Authorization` must be exactly `Token <apiKey>`. Default `iu_fake_key`. */
  apiKey?: string;
  /**
   * Server mode only. When given, only these campaign ids exist: another id gets `InitiateCall:EXCEPTION` (as the
   * real server does), and a campaign's `requiredVariables` missing from `dynamicVariables` get
   * `...:CONFIG_DYNAMIC_VARIABLES_REQUIRED_NOT_FOUND`. When absent, every campaign id exists and requires nothing.
   */
  campaigns?: Record<string, { requiredVariables?: string[] }>;
}

/** One request as the fake received it. */
export interface RecordedIqraRequest {
  /** 0-based order in which requests arrived. */
  index: number;
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** Node's lower-cased request headers (`authorization`, `content-type`, `content-length`, ...). */
  headers: IncomingHttpHeaders;
  /** Every text part by name (last one wins), including the raw `config` text under `config`. */
  fields: Record<string, string>;
  /** Names of the text parts in the order received (repeats included). */
  fieldOrder: string[];
  /** Names of file parts (their content is discarded). */
  files: string[];
  /** The `config` part parsed as JSON; `undefined` when absent or not JSON. */
  config?: unknown;
  /** Size of the raw body in bytes. */
  bodyBytes: number;
}

export type FakeIqraCasing = 'pascal' | 'camel';

/** A one-shot answer for the next request (see `FakeIqra.script`). */
export type FakeIqraBehaviour =
  /** Answer with this status; `body` as JSON unless it is a string (sent as is). */
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Wait `delayMs` after reading the request, then answer with `then` (default: the mode's normal answer). */
  | { delayMs: number; then?: FakeIqraBehaviour }
  /** Destroy the socket after reading the request: the client sees the connection reset after sending. */
  | { destroy: true }
  /**
   * HTTP 200 with `success: false` and this code. A bare code (`INSUFFICIENT_BALANCE`) is prefixed like the mode
   * would (`InitiateCall:` for reference, `InitiateCall:QueueCallInitiationRequestAsync:` for server); a code with a
   * colon is sent as is. `casing` defaults to the mode's (`pascal` for reference, `camel` for server).
   */
  | { code: string; message?: string; casing?: FakeIqraCasing; status?: number }
  /** HTTP 200 success with these queue ids (default casing of the mode unless given). */
  | { queueIds: string[]; casing?: FakeIqraCasing };

/** One read (queue entry or conversation) as the fake received it. */
export interface RecordedIqraTrackingRequest {
  /** 0-based order among the reads. */
  index: number;
  method: string;
  /** Path with query string, as sent. */
  path: string;
  /** `queueEntry` for `.../queues/outbound/{queueId}`, `conversation` for `.../conversations/{sessionId}`. */
  kind: 'queueEntry' | 'conversation';
  /** The queue id or session id in the path, decoded. */
  id: string;
  /** Node's lower-cased request headers. */
  headers: IncomingHttpHeaders;
  /** Size of the raw body in bytes (Iqra's reads have none). */
  bodyBytes: number;
}

/** How the fake writes a read's answer. Every field defaults to what the mode does. */
export interface FakeReadFormat {
  /** Default: `camel` in server mode, `pascal` in reference mode (at every level, but not the keys of maps). */
  casing?: FakeIqraCasing;
  /** Default `wrapped` (`{success, data, code, message}`, like the server); `bare` sends the object alone. */
  envelope?: 'wrapped' | 'bare';
  /**
   * Default `numbers`. `names` writes the C# names (`ProcessedBackend`, as a campaign custom tool does); `objects`
   * writes `{value, name}` (as some server versions' JSON converter does).
   */
  enums?: 'numbers' | 'names' | 'objects';
}

/** A read's answer that replaces the data. */
export type FakeReadFailure =
  /**
   * This HTTP status. `retryAfter` sets Retry-After (seconds, or a string such as an HTTP date); `body` is sent as
   * JSON unless it is a string (sent as is; default: empty).
   */
  | { http: number; retryAfter?: number | string; body?: unknown; headers?: Record<string, string> }
  /**
   * HTTP 200 with `success: false` and this code. A bare code (`NOT_FOUND`) is nested like the server does
   * (`GetOutboundCallQueues:GetOutboundConversationsMetaDataAsync:NOT_FOUND` for a queue entry,
   * `GetConversation:GetConversationState:NOT_FOUND` for a conversation; `GetQueueEntry:NOT_FOUND` and
   * `GetConversation:NOT_FOUND` in reference mode); a code with a colon is sent as is.
   */
  | { code: string; message?: string }
  /** Destroy the socket: the client sees the connection reset. */
  | { destroy: true };

/**
 * A failure, or a slow answer: wait `delayMs`, then answer with `then` (default: for a queue entry, its current
 * state without taking another step; for a conversation, `NOT_FOUND`).
 */
export type FakeReadBehaviour<T> = FakeReadFailure | { delayMs: number; then?: T | FakeReadBehaviour<T> };

/**
 * One poll's answer in a `lifecycle`: a queue entry (merged over the previous state, see `lifecycle`), or a
 * behaviour.
 */
export type FakeQueueStep = Partial<QueueEntry> | FakeReadBehaviour<Partial<QueueEntry>>;

/** What `conversation(...)` accepts: the conversation (merged over sensible defaults), or a behaviour. */
export type FakeConversationAnswer = Partial<Conversation> | FakeReadBehaviour<Partial<Conversation>>;

export interface FakeIqra {
  /** `http://127.0.0.1:<port>`: use as IQRA_BASE_URL. Stays valid after `close()`, and then refuses connections. */
  readonly url: string;
  readonly mode: FakeIqraMode;
  readonly businessId: string;
  readonly apiKey: string;
  /** Every request received so far except the reads (live array): call/initiate, and stray routes. */
  readonly requests: RecordedIqraRequest[];
  /** Every read (queue entry, conversation) received so far, in order (live array). */
  readonly trackingRequests: RecordedIqraTrackingRequest[];
  /** The queue ids handed out by call/initiate, in order (live array). */
  readonly issuedQueueIds: string[];
  /** Queue one-shot behaviours for the next requests, in order. */
  script(...behaviours: FakeIqraBehaviour[]): void;
  /** Behaviours queued and not used yet. */
  pendingScript(): number;
  /**
   * Scripts the polls of one queue entry. Without `options.queueId`: the next queue id that call/initiate hands out
   * (several calls script the next ids in order). With it: that queue id, which becomes known to the fake.
   *
   * Each poll answers the next step; the last step repeats. A queue entry step is merged over the previous state
   * (a field set to `undefined` is removed), and the fake fills in what is missing: `queueId`, `status` 0,
   * `enqueuedAt`, the recipient, number, campaign, variables and metadata of the call/initiate request,
   * `processingStartedAt` once the status passes Queued, a 24-hex `sessionId` at ProcessedBackend (4), and
   * `completedAt` once the entry is terminal. `format` says how the answers are written.
   */
  lifecycle(steps: FakeQueueStep[], options?: { queueId?: string } & FakeReadFormat): void;
  /**
   * Sets what `GET .../conversations/{sessionId}` answers from now on (default: a `NOT_FOUND` code). Missing fields
   * are filled: `id`, the `queueId` of the entry with this session, `messages: []`.
   */
  conversation(sessionId: string, conversation: FakeConversationAnswer, format?: FakeReadFormat): void;
  /** The state the fake last answered for a queue id (without taking a step); `undefined` when unknown. */
  queueEntry(queueId: string): QueueEntry | undefined;
  /**
   * Sets what `GET /api/v1/business/{businessId}` answers from now on: the business data (wrapped in the mode's
   * envelope and cased like the mode, unless `format` says otherwise), or a read failure.
   */
  business(answer: Record<string, unknown> | FakeReadFailure, format?: FakeReadFormat): void;
  /** Every `GET /api/v1/business/{id}` received (live array). */
  readonly businessRequests: { method: string; path: string; headers: IncomingHttpHeaders }[];
  /** Stops listening and drops open connections and delayed answers. Idempotent. */
  close(): Promise<void>;
}

const MAX_BODY = 10 * 1024 * 1024;

const DEFAULT_MESSAGES: Record<string, string> = {
  INSUFFICIENT_BALANCE: 'Insufficient balance or minutes to make this call',
  INVALID_NUMBER: 'Invalid recipient phone number format',
  INVALID_AGENT: 'Agent not found or disabled',
  INVALID_NUMBER_ID: 'Calling number not found or not configured',
  PERMISSION_DENIED: 'Insufficient permissions to make calls',
  BUSINESS_DISABLED: 'Business is disabled',
  EXCEPTION: 'Object reference not set to an instance of an object.',
};

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeIqra(options: FakeIqraOptions = {}): Promise<FakeIqra> {
  const mode = options.mode ?? 'reference';
  const businessId = options.businessId ?? '12345';
  const apiKey = options.apiKey ?? 'iu_fake_key';
  const requests: RecordedIqraRequest[] = [];
  const trackingRequests: RecordedIqraTrackingRequest[] = [];
  const issuedQueueIds: string[] = [];
  const queue: FakeIqraBehaviour[] = [];
  /** Known queue entries by id. */
  const queues = new Map<string, QueueState>();
  /** Lifecycles for the next queue ids handed out, in order. */
  const pendingLifecycles: { steps: FakeQueueStep[]; format: FakeReadFormat }[] = [];
  const conversations = new Map<string, { answer: FakeConversationAnswer; format: FakeReadFormat }>();
  let businessAnswer:
    | { answer: Record<string, unknown> | FakeReadFailure; format: FakeReadFormat }
    | undefined;
  const businessRequests: FakeIqra['businessRequests'] = [];
  /** Delayed answers waiting; `close()` ends them early. */
  const delays = new Map<NodeJS.Timeout, () => void>();
  let closed = false;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const businessRoute = /^\/api\/v1\/business\/([^/?]+)\/?(?:\?.*)?$/.exec(path);
    if (businessRoute && req.method === 'GET') {
      await answerBusiness(req, res, safeDecode(businessRoute[1] ?? ''));
      return;
    }
    const read = matchRead(path);
    if (read) {
      await handleRead(req, res, read);
      return;
    }
    const route = /^\/api\/v1\/business\/([^/?]+)\/call\/initiate\/?(?:\?.*)?$/.exec(path);
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_BODY) {
      // Answer before reading, as a framework limit does.
      res.setHeader('connection', 'close');
      send(res, 413, 'Request body too large');
      req.resume();
      return;
    }
    const parsed = await readMultipart(req);
    const record: RecordedIqraRequest = {
      index: requests.length,
      method: req.method ?? '',
      path,
      headers: req.headers,
      fields: parsed.fields,
      fieldOrder: parsed.fieldOrder,
      files: parsed.files,
      bodyBytes: parsed.bytes,
    };
    if (parsed.fields.config !== undefined) {
      try {
        record.config = JSON.parse(parsed.fields.config);
      } catch {
        // left undefined: not JSON
      }
    }
    requests.push(record);

    let behaviour = queue.shift();
    while (behaviour && 'delayMs' in behaviour) {
      const { delayMs, then } = behaviour;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          delays.delete(timer);
          resolve();
        }, delayMs);
        delays.set(timer, resolve);
      });
      if (closed || res.destroyed || req.socket.destroyed) return;
      behaviour = then;
    }
    if (behaviour) {
      answerScripted(res, req, behaviour, record);
      return;
    }
    if (!route || req.method !== 'POST') {
      send(res, 404, '');
      return;
    }
    if (decodeURIComponent(route[1] ?? '') !== businessId) {
      sendJson(res, 400, {
        type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1',
        title: 'Bad Request',
        status: 400,
      });
      return;
    }
    if (parsed.error) {
      sendJson(res, 400, { title: 'Bad Request', status: 400, detail: parsed.error });
      return;
    }
    const [status, body] = mode === 'reference' ? referenceAnswer(req, record) : serverAnswer(req, record);
    sendJson(res, status, body);
  }

  function answerScripted(
    res: ServerResponse,
    req: IncomingMessage,
    b: FakeIqraBehaviour,
    record: RecordedIqraRequest,
  ): void {
    if ('destroy' in b) {
      req.socket.destroy();
      return;
    }
    if ('queueIds' in b) {
      for (const id of b.queueIds) issue(id, record);
      sendJson(res, 200, success(b.queueIds, b.casing ?? defaultCasing()));
      return;
    }
    if ('code' in b) {
      const code = b.code.includes(':')
        ? b.code
        : `${mode === 'server' ? SERVER_PREFIX : 'InitiateCall:'}${b.code}`;
      const last = code.split(':').at(-1) ?? code;
      sendJson(
        res,
        b.status ?? 200,
        failure(code, b.message ?? DEFAULT_MESSAGES[last] ?? `Error ${last}`, b.casing ?? defaultCasing()),
      );
      return;
    }
    if ('status' in b) {
      for (const [name, value] of Object.entries(b.headers ?? {})) res.setHeader(name, value);
      if (b.body === undefined) send(res, b.status, '');
      else if (typeof b.body === 'string') send(res, b.status, b.body);
      else sendJson(res, b.status, b.body);
    }
  }

  function defaultCasing(): FakeIqraCasing {
    return mode === 'server' ? 'camel' : 'pascal';
  }

  /** The reference's behaviour: reads the documented fields, answers PascalCase. */
  function referenceAnswer(req: IncomingMessage, r: RecordedIqraRequest): Answer {
    if (req.headers.authorization !== `Token ${apiKey}`) {
      return [401, { Success: false, Message: 'Invalid or missing API key', Data: null }];
    }
    const fail = (code: string): Answer => [
      200,
      failure(`InitiateCall:${code}`, DEFAULT_MESSAGES[code] ?? code, 'pascal'),
    ];
    const recipient = r.fields.RecipientNumber;
    if (!recipient || !/^\+[1-9]\d{6,14}$/.test(recipient)) return fail('INVALID_NUMBER');
    if (!r.fields.NumberId) return fail('INVALID_NUMBER_ID');
    if (!r.fields.AgentId) return fail('INVALID_AGENT');
    const scheduled = r.fields.ScheduledTime;
    if (scheduled !== undefined && Number.isNaN(Date.parse(scheduled))) return fail('EXCEPTION');
    return [200, success([issue(`queue_${randomBytes(6).toString('hex')}`, r)], 'pascal')];
  }

  /** The open-source server's behaviour: reads only `config`, answers camelCase with HTTP 200. */
  function serverAnswer(req: IncomingMessage, r: RecordedIqraRequest): Answer {
    const fail = (code: string, message: string): Answer => [200, failure(code, message, 'camel')];
    const auth = req.headers.authorization ?? '';
    if (auth !== `Token ${apiKey}`) {
      const code = auth.startsWith('Token ') ? 'API_KEY_INVALID' : 'INVALID_FORMAT';
      return fail(
        `InitiateCall:ValidateUserAPIAndBusinessWithPermissions:VALIDATE_API_KEY:${code}`,
        'Invalid API key',
      );
    }
    const q = (code: string, message: string) => fail(`${SERVER_PREFIX}${code}`, message);
    if (r.fields.config === undefined) return q('FORM_DATA_CONFIG_NOT_FOUND', 'Form data config not found.');
    const config = r.config;
    if (!isObject(config)) return q('FORM_DATA_CONFIG_PARSE_ERROR', 'Unable to parse config.');
    const campaignId = config.campaignId;
    if (typeof campaignId !== 'string' || campaignId.trim() === '') {
      return q('CONFIG_CAMPAIGN_ID_NOT_FOUND', 'Campaign id not found in config.');
    }
    const number = config.number;
    if (!isObject(number) || typeof number.type !== 'number' || number.type !== 0) {
      return q('CONFIG_NUMBER_TYPE_INVALID', 'Number type is invalid.');
    }
    const toNumber = typeof number.toNumber === 'string' ? number.toNumber.trim().replace(/^00/, '+') : '';
    if (!toNumber || !isValidPhoneNumber(toNumber)) {
      return q('CONFIG_NUMBER_TO_NUMBER_INVALID', 'To number is invalid.');
    }
    const schedule = config.schedule;
    if (!isObject(schedule) || !isDateString(schedule.dateTimeUTC)) {
      return q('CONFIG_SCHEDULE_DATETIMEUTC_PARSE_ERROR', 'Unable to parse schedule dateTimeUTC.');
    }
    if (!isDateString(schedule.maxDateTimeUTC)) {
      return q('CONFIG_SCHEDULE_MAXDATETIMEUTC_PARSE_ERROR', 'Unable to parse schedule maxDateTimeUTC.');
    }
    const variables = config.dynamicVariables ?? {};
    if (!isObject(variables) || Object.values(variables).some((v) => typeof v !== 'string')) {
      return q('CONFIG_DYNAMIC_VARIABLES_VALUE_INVALID', 'Dynamic variable values must be strings.');
    }
    const metadata = config.metadata ?? {};
    if (!isObject(metadata) || Object.values(metadata).some((v) => typeof v !== 'string')) {
      return q('CONFIG_METADATA_VALUE_INVALID', 'Metadata values must be strings.');
    }
    if (options.campaigns) {
      const campaign = options.campaigns[campaignId];
      if (!campaign)
        return fail('InitiateCall:EXCEPTION', 'Object reference not set to an instance of an object.');
      const missing = (campaign.requiredVariables ?? []).filter((name) => !(name in variables));
      if (missing.length > 0) {
        return q(
          'CONFIG_DYNAMIC_VARIABLES_REQUIRED_NOT_FOUND',
          `Required dynamic variable '${missing[0]}' not found.`,
        );
      }
    }
    return [200, success([issue(randomBytes(12).toString('hex'), r)], 'camel')];
  }

  /** Makes a queue id known, with the next pending lifecycle, and the details of the request that created it. */
  function issue(queueId: string, r: RecordedIqraRequest): string {
    issuedQueueIds.push(queueId);
    const known = queues.get(queueId);
    if (known) {
      // Scripted by id beforehand: keep the script, learn the request's details.
      if (known.next === 0) known.entry = initialEntry(queueId, r);
      return queueId;
    }
    const script = pendingLifecycles.shift() ?? { steps: [], format: {} };
    queues.set(queueId, {
      entry: initialEntry(queueId, r),
      steps: script.steps,
      next: 0,
      format: script.format,
    });
    return queueId;
  }

  async function handleRead(req: IncomingMessage, res: ServerResponse, read: ReadRoute): Promise<void> {
    const bodyBytes = await drain(req);
    trackingRequests.push({
      index: trackingRequests.length,
      method: req.method ?? '',
      path: req.url ?? '/',
      kind: read.kind,
      id: read.id,
      headers: req.headers,
      bodyBytes,
    });
    const expected = read.kind === 'queueEntry' ? 'POST' : 'GET';
    if (req.method !== expected) {
      res.setHeader('allow', expected);
      send(res, 405, '');
      return;
    }
    if (read.businessId !== businessId) {
      sendJson(res, 400, { title: 'Bad Request', status: 400 });
      return;
    }
    const prefix = read.kind === 'queueEntry' ? 'GetOutboundCallQueues' : 'GetConversation';
    if (req.headers.authorization !== `Token ${apiKey}`) {
      if (mode === 'reference') {
        sendJson(res, 401, { Success: false, Message: 'Invalid or missing API key', Data: null });
      } else {
        sendJson(
          res,
          200,
          failure(
            `${prefix}:ValidateAPIUserAndBusinessSessionAsync:ValidateUserAPIAsync:INVALID_API_KEY`,
            'Validation failed for the api key.',
            'camel',
          ),
        );
      }
      return;
    }
    if (read.kind === 'queueEntry') await answerQueueEntry(req, res, read.id);
    else await answerConversation(req, res, read.id);
  }

  async function answerBusiness(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    await drain(req);
    businessRequests.push({ method: req.method ?? '', path: req.url ?? '/', headers: req.headers });
    if (!businessAnswer) {
      send(res, 404, '');
      return;
    }
    if (id !== businessId) {
      sendJson(res, 400, { title: 'Bad Request', status: 400 });
      return;
    }
    if (req.headers.authorization !== `Token ${apiKey}`) {
      if (mode === 'reference') {
        sendJson(res, 401, { Success: false, Message: 'Invalid or missing API key', Data: null });
      } else {
        sendJson(
          res,
          200,
          failure(
            'GetBusiness:ValidateAPIUserAndBusinessSessionAsync:ValidateUserAPIAsync:INVALID_API_KEY',
            'Validation failed for the api key.',
            'camel',
          ),
        );
      }
      return;
    }
    const { answer, format } = businessAnswer;
    if ('http' in answer || 'code' in answer || 'destroy' in answer) {
      const b = answer as FakeReadFailure;
      if ('destroy' in b) {
        req.socket.destroy();
        return;
      }
      if ('code' in b) {
        const code = b.code.includes(':') ? b.code : `GetBusiness:${b.code}`;
        sendJson(res, 200, failure(code, b.message ?? `Error ${code}`, format.casing ?? defaultCasing()));
        return;
      }
      for (const [name, value] of Object.entries(b.headers ?? {})) res.setHeader(name, value);
      if (b.retryAfter !== undefined) res.setHeader('retry-after', String(b.retryAfter));
      if (b.body === undefined) send(res, b.http, '');
      else if (typeof b.body === 'string') send(res, b.http, b.body);
      else sendJson(res, b.http, b.body);
      return;
    }
    sendRead(res, answer, format);
  }

  async function answerQueueEntry(req: IncomingMessage, res: ServerResponse, queueId: string): Promise<void> {
    const state = queues.get(queueId);
    if (!state) {
      answerReadCode(
        res,
        'queueEntry',
        'NOT_FOUND',
        `Outbound conversation with Queue ID '${queueId}' not found.`,
        {},
      );
      return;
    }
    const step =
      state.steps.length > 0 ? state.steps[Math.min(state.next, state.steps.length - 1)] : undefined;
    state.next++;
    await answerStep(req, res, state, step);
  }

  async function answerStep(
    req: IncomingMessage,
    res: ServerResponse,
    state: QueueState,
    step: FakeQueueStep | undefined,
  ): Promise<void> {
    if (step === undefined) {
      sendRead(res, queueEntryWire(state.entry, state.format), state.format);
      return;
    }
    if (isReadBehaviour(step)) {
      if ('delayMs' in step) {
        if (!(await wait(step.delayMs, req, res))) return;
        await answerStep(req, res, state, step.then);
        return;
      }
      answerReadBehaviour(req, res, 'queueEntry', step, state.format);
      return;
    }
    state.entry = advance(state.entry, step);
    sendRead(res, queueEntryWire(state.entry, state.format), state.format);
  }

  async function answerConversation(
    req: IncomingMessage,
    res: ServerResponse,
    sessionId: string,
  ): Promise<void> {
    const set = conversations.get(sessionId);
    const notFound = () =>
      answerReadCode(
        res,
        'conversation',
        'NOT_FOUND',
        `Conversation state with Session ID '${sessionId}' not found.`,
        {},
      );
    if (!set) {
      notFound();
      return;
    }
    let answer: FakeConversationAnswer | undefined = set.answer;
    while (answer !== undefined && isReadBehaviour(answer) && 'delayMs' in answer) {
      if (!(await wait(answer.delayMs, req, res))) return;
      answer = answer.then;
    }
    if (answer === undefined) {
      notFound();
      return;
    }
    if (isReadBehaviour(answer)) {
      answerReadBehaviour(req, res, 'conversation', answer, set.format);
      return;
    }
    sendRead(res, conversationWire(fullConversation(sessionId, answer), set.format), set.format);
  }

  function fullConversation(sessionId: string, given: Partial<Conversation>): Record<string, unknown> {
    const linked = [...queues.values()].find((q) => q.entry.sessionId === sessionId)?.entry;
    const out: Record<string, unknown> = { id: sessionId, messages: [] };
    if (linked) out.queueId = linked.queueId;
    for (const [key, value] of Object.entries(given)) if (value !== undefined) out[key] = value;
    return out;
  }

  function answerReadBehaviour(
    req: IncomingMessage,
    res: ServerResponse,
    kind: ReadRoute['kind'],
    b: FakeReadFailure,
    format: FakeReadFormat,
  ): void {
    if ('destroy' in b) {
      req.socket.destroy();
      return;
    }
    if ('code' in b) {
      answerReadCode(res, kind, b.code, b.message ?? `Error ${b.code.split(':').at(-1) ?? b.code}`, format);
      return;
    }
    for (const [name, value] of Object.entries(b.headers ?? {})) res.setHeader(name, value);
    if (b.retryAfter !== undefined) res.setHeader('retry-after', String(b.retryAfter));
    if (b.body === undefined) send(res, b.http, '');
    else if (typeof b.body === 'string') send(res, b.http, b.body);
    else sendJson(res, b.http, b.body);
  }

  function answerReadCode(
    res: ServerResponse,
    kind: ReadRoute['kind'],
    code: string,
    message: string,
    format: FakeReadFormat,
  ): void {
    const nested = code.includes(':')
      ? code
      : mode === 'server'
        ? `${kind === 'queueEntry' ? 'GetOutboundCallQueues:GetOutboundConversationsMetaDataAsync' : 'GetConversation:GetConversationState'}:${code}`
        : `${kind === 'queueEntry' ? 'GetQueueEntry' : 'GetConversation'}:${code}`;
    sendJson(res, 200, failure(nested, message, format.casing ?? defaultCasing()));
  }

  /** Sends data as the format says: wrapped or bare, in the casing of the format or the mode. */
  function sendRead(res: ServerResponse, data: Record<string, unknown>, format: FakeReadFormat): void {
    const casing = format.casing ?? defaultCasing();
    const body = recase(data, casing);
    if (format.envelope === 'bare') {
      sendJson(res, 200, body);
      return;
    }
    sendJson(
      res,
      200,
      casing === 'pascal'
        ? { Success: true, Data: body, Code: null, Message: null }
        : { success: true, data: body, code: null, message: null },
    );
  }

  /** Waits like a slow server; `false` when the fake closed or the client left meanwhile. */
  async function wait(ms: number, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        delays.delete(timer);
        resolve();
      }, ms);
      delays.set(timer, resolve);
    });
    return !(closed || res.destroyed || req.socket.destroyed);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    mode,
    businessId,
    apiKey,
    requests,
    trackingRequests,
    issuedQueueIds,
    script: (...behaviours) => {
      queue.push(...behaviours);
    },
    pendingScript: () => queue.length,
    lifecycle: (steps, lifecycleOptions = {}) => {
      const { queueId, ...format } = lifecycleOptions;
      if (queueId === undefined) {
        pendingLifecycles.push({ steps: [...steps], format });
        return;
      }
      const known = queues.get(queueId);
      queues.set(queueId, {
        entry: known?.entry ?? initialEntry(queueId),
        steps: [...steps],
        next: 0,
        format,
      });
    },
    conversation: (sessionId, answer, format = {}) => {
      conversations.set(sessionId, { answer, format });
    },
    queueEntry: (queueId) => {
      const entry = queues.get(queueId)?.entry;
      return entry ? { ...entry } : undefined;
    },
    business: (answer, format = {}) => {
      businessAnswer = { answer, format };
    },
    businessRequests,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const [timer, resolve] of delays) {
        clearTimeout(timer);
        resolve();
      }
      delays.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Answer = [status: number, body: Record<string, unknown>];

/** What `fakeBusiness` builds a business from: ids, or ids with names (a number's name is its phone number). */
export interface FakeBusinessContents {
  id?: string;
  name?: string;
  agents?: (string | { id: string; name?: string })[];
  numbers?: (string | { id: string; number?: string; voiceEnabled?: boolean })[];
  campaigns?: (string | { id: string; name?: string })[];
}

/**
 * A business shaped like the open-source server's `GetUserBusinessFullReturnModel` (camelCase here; the fake recases
 * it for the mode): `businessData`, and `businessApp` with `agents` (names per language under `general.name`),
 * `numbers` (`countryCode` + `number`, `voiceEnabled`), `telephonyCampaigns`, and some bulk the app must skip.
 */
export function fakeBusiness(contents: FakeBusinessContents = {}): Record<string, unknown> {
  const id = Number(contents.id ?? 12345);
  const item = <T extends { id: string }>(v: string | T): T => (typeof v === 'string' ? ({ id: v } as T) : v);
  return {
    businessData: { id, name: contents.name ?? 'Acme Sales', masterUserEmail: 'owner@example.com' },
    businessApp: {
      id,
      context: { branding: { name: { en: 'Acme' } } },
      tools: [],
      agents: (contents.agents ?? []).map((v) => {
        const a = item<{ id: string; name?: string }>(v);
        return {
          id: a.id,
          general: { emoji: '🤖', name: { en: a.name ?? `Agent ${a.id}` }, description: { en: '' } },
          personality: { name: { en: 'Jane' }, role: { en: 'Sales rep' } },
          utterances: { openingType: 0, greetingMessage: { en: 'Hello!' } },
          settings: { backgroundAudioVolume: 50 },
        };
      }),
      numbers: (contents.numbers ?? []).map((v) => {
        const n = item<{ id: string; number?: string; voiceEnabled?: boolean }>(v);
        const digits = (n.number ?? '+14155550100').replace(/^\+1/, '');
        return {
          id: n.id,
          countryCode: '1',
          number: digits,
          regionId: 'us-east',
          voiceEnabled: n.voiceEnabled ?? true,
          smsEnabled: false,
          provider: 2,
        };
      }),
      telephonyCampaigns: (contents.campaigns ?? []).map((v) => {
        const c = item<{ id: string; name?: string }>(v);
        return {
          id: c.id,
          general: { emoji: '📞', name: c.name ?? `Campaign ${c.id}`, description: '' },
          agent: { selectedAgentId: 'agent_sales_01' },
          variables: { dynamicVariables: [] },
        };
      }),
      webCampaigns: [{ id: 'web_campaign_1', general: { name: 'Website' } }],
      knowledgeBases: [],
      routings: [],
    },
    businessWhiteLabelDomain: [],
  };
}

const SERVER_PREFIX = 'InitiateCall:QueueCallInitiationRequestAsync:';

function success(queueIds: string[], casing: FakeIqraCasing): Record<string, unknown> {
  return casing === 'pascal'
    ? { Success: true, Data: queueIds }
    : { success: true, data: queueIds, code: null, message: null };
}

function failure(code: string, message: string, casing: FakeIqraCasing): Record<string, unknown> {
  return casing === 'pascal'
    ? { Success: false, Code: code, Message: message, Data: null }
    : { success: false, code, message, data: null };
}

function send(res: ServerResponse, status: number, body: string): void {
  if (!res.hasHeader('content-type') && body) res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.statusCode = status;
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.statusCode = status;
  res.end(JSON.stringify(body));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isDateString(value: unknown): boolean {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

interface ParsedBody {
  fields: Record<string, string>;
  fieldOrder: string[];
  files: string[];
  bytes: number;
  /** Why the body could not be read as multipart/form-data. */
  error?: string;
}

/** Reads the whole body; parses it with busboy when it is multipart/form-data. */
function readMultipart(req: IncomingMessage): Promise<ParsedBody> {
  return new Promise((resolve) => {
    const result: ParsedBody = { fields: {}, fieldOrder: [], files: [], bytes: 0 };
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      if (error) result.error = error;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      result.bytes += chunk.length;
    });
    req.on('aborted', () => finish('request aborted'));
    req.on('error', () => finish('request error'));
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fieldSize: MAX_BODY } });
    } catch (err) {
      req.resume();
      req.on('end', () => finish(err instanceof Error ? err.message : 'not multipart'));
      return;
    }
    parser.on('field', (name, value) => {
      result.fields[name] = value;
      result.fieldOrder.push(name);
    });
    parser.on('file', (name, stream) => {
      result.files.push(name);
      stream.resume();
    });
    parser.on('error', (err) => {
      req.unpipe(parser);
      req.resume();
      finish(err instanceof Error ? err.message : 'malformed multipart');
    });
    parser.on('close', () => finish());
    req.pipe(parser);
  });
}

interface QueueState {
  /** What the last poll answered (or the initial state). */
  entry: QueueEntry;
  steps: FakeQueueStep[];
  /** Polls answered so far. */
  next: number;
  format: FakeReadFormat;
}

interface ReadRoute {
  kind: 'queueEntry' | 'conversation';
  businessId: string;
  id: string;
}

function matchRead(path: string): ReadRoute | undefined {
  const queue = /^\/api\/v1\/business\/([^/?]+)\/queues\/outbound\/([^/?]+)\/?(?:\?.*)?$/.exec(path);
  const conversation = /^\/api\/v1\/business\/([^/?]+)\/conversations\/([^/?]+)\/?(?:\?.*)?$/.exec(path);
  const match = queue ?? conversation;
  if (!match) return undefined;
  return {
    kind: queue ? 'queueEntry' : 'conversation',
    businessId: safeDecode(match[1] ?? ''),
    id: safeDecode(match[2] ?? ''),
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function isReadBehaviour<T extends object>(step: T | FakeReadBehaviour<T>): step is FakeReadBehaviour<T> {
  return 'http' in step || 'code' in step || 'delayMs' in step || 'destroy' in step;
}

/** A new entry: Queued now, with what the call/initiate request said (config part first, then reference fields). */
function initialEntry(queueId: string, r?: RecordedIqraRequest): QueueEntry {
  const entry: QueueEntry = { queueId, status: 0, enqueuedAt: new Date().toISOString() };
  if (!r) return entry;
  const config = isObject(r.config) ? r.config : undefined;
  const number = isObject(config?.number) ? config.number : undefined;
  const recipient = typeof number?.toNumber === 'string' ? number.toNumber : r.fields.RecipientNumber;
  if (recipient) entry.recipientNumber = recipient;
  const campaignId = typeof config?.campaignId === 'string' ? config.campaignId : r.fields.CampaignId;
  if (campaignId) entry.campaignId = campaignId;
  if (r.fields.NumberId) entry.numberId = r.fields.NumberId;
  entry.dynamicVariables = stringMap(config?.dynamicVariables) ?? bracketFields(r.fields, 'DynamicVariables');
  entry.metadata = stringMap(config?.metadata) ?? bracketFields(r.fields, 'Metadata');
  return entry;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/** `Metadata[Key]=Value` form fields → `{ Key: Value }`. */
function bracketFields(fields: Record<string, string>, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    const m = /^(\w+)\[(.+)\]$/.exec(key);
    if (m && m[1] === name && m[2]) out[m[2]] = value;
  }
  return out;
}

/** The next state: the step merged over the previous one, then the gaps filled. */
function advance(previous: QueueEntry, step: Partial<QueueEntry>): QueueEntry {
  const next: Record<string, unknown> = { ...previous };
  for (const [key, value] of Object.entries(step)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  const entry = next as unknown as QueueEntry;
  entry.queueId = previous.queueId;
  if (typeof entry.status !== 'number') entry.status = 0;
  const now = new Date().toISOString();
  if (entry.status > 0 && !entry.processingStartedAt) entry.processingStartedAt = now;
  if (entry.status === 4 && !entry.sessionId) entry.sessionId = randomBytes(12).toString('hex');
  if (isTerminalQueueEntry(entry) && !entry.completedAt) entry.completedAt = now;
  return entry;
}

function queueEntryWire(entry: QueueEntry, format: FakeReadFormat): Record<string, unknown> {
  const out: Record<string, unknown> = { ...entry };
  out.status = wireEnum(entry.status, queueStatusName, format);
  if (entry.sessionStatus !== undefined)
    out.sessionStatus = wireEnum(entry.sessionStatus, sessionStatusName, format);
  if (entry.sessionEndType !== undefined) {
    out.sessionEndType = wireEnum(entry.sessionEndType, sessionEndTypeName, format);
  }
  return out;
}

function conversationWire(
  conversation: Record<string, unknown>,
  format: FakeReadFormat,
): Record<string, unknown> {
  const out = { ...conversation };
  if (typeof out.status === 'number') out.status = wireEnum(out.status, sessionStatusName, format);
  if (typeof out.endType === 'number') out.endType = wireEnum(out.endType, sessionEndTypeName, format);
  if (Array.isArray(out.messages)) {
    out.messages = (out.messages as Partial<ConversationMessage>[]).map((m) => {
      const message: Record<string, unknown> = { ...m };
      if (typeof m.role === 'number') message.role = wireEnum(m.role, roleName, format);
      return message;
    });
  }
  return out;
}

function roleName(role: number): string | undefined {
  return ['System', 'Client', 'Agent'][role];
}

function wireEnum(value: number, name: (n: number) => string | undefined, format: FakeReadFormat): unknown {
  if (format.enums === 'names') return name(value) ?? value;
  if (format.enums === 'objects') return { value, name: name(value) ?? String(value) };
  return value;
}

/** Keys in camelCase or PascalCase at every level, except inside `metadata` and `dynamicVariables` (user keys). */
function recase(value: unknown, casing: FakeIqraCasing): Record<string, unknown> {
  const convert = (v: unknown, key: string): unknown => {
    if (Array.isArray(v)) return v.map((item) => convert(item, ''));
    if (isObject(v) && key !== 'metadata' && key !== 'dynamicVariables') return recase(v, casing);
    return v;
  };
  const out: Record<string, unknown> = {};
  if (!isObject(value)) return out;
  for (const [key, v] of Object.entries(value)) {
    const cased =
      casing === 'pascal'
        ? key.charAt(0).toUpperCase() + key.slice(1)
        : key.charAt(0).toLowerCase() + key.slice(1);
    out[cased] = convert(v, key);
  }
  return out;
}

/** Reads and discards a body; resolves with its size. */
function drain(req: IncomingMessage): Promise<number> {
  return new Promise((resolve) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => resolve(bytes));
    req.on('error', () => resolve(bytes));
    req.on('aborted', () => resolve(bytes));
  });
}
