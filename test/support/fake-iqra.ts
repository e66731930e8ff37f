/**
 * A real HTTP server that stands in for Iqra's `POST /api/v1/business/{businessId}/call/initiate`.
 *
 * It parses multipart bodies with busboy (a real parser, so a malformed body fails here as it would on Iqra), records
 * every request, and answers like one of the two Iqra variants described in /work/shared:
 * - `reference` (the published docs): reads RecipientNumber, NumberId, AgentId, ...; answers PascalCase
 *   (`{"Success":true,"Data":["queue_..."]}`); a wrong `Authorization` gets 401.
 * - `server` (Iqra's open-source server): reads ONLY the `config` JSON part and validates it like the server does;
 *   answers camelCase with HTTP 200 even for errors (`{"success":false,"code":"InitiateCall:...","message":...}`).
 *
 * In both modes a route other than call/initiate gets 404, another business id gets 400, a body over 10 MB gets 413,
 * and a body that is not multipart/form-data gets 400.
 *
 * `script(...)` queues one-shot behaviours that replace the default answer of the next requests, in order.
 *
 * @example
 * const iqra = await startFakeIqra({ mode: 'server' });
 * iqra.script({ status: 429, headers: { 'retry-after': '2' } }); // first request: 429, then the default answer
 * // ... use iqra.url as IQRA_BASE_URL, then look at iqra.requests[0].config
 * await iqra.close();
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';
import { isValidPhoneNumber } from 'libphonenumber-js';

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

export interface FakeIqra {
  /** `http://127.0.0.1:<port>`: use as IQRA_BASE_URL. Stays valid after `close()`, and then refuses connections. */
  readonly url: string;
  readonly mode: FakeIqraMode;
  readonly businessId: string;
  readonly apiKey: string;
  /** Every request received so far (live array). */
  readonly requests: RecordedIqraRequest[];
  /** Queue one-shot behaviours for the next requests, in order. */
  script(...behaviours: FakeIqraBehaviour[]): void;
  /** Behaviours queued and not used yet. */
  pendingScript(): number;
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
  const queue: FakeIqraBehaviour[] = [];
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
      answerScripted(res, req, behaviour);
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

  function answerScripted(res: ServerResponse, req: IncomingMessage, b: FakeIqraBehaviour): void {
    if ('destroy' in b) {
      req.socket.destroy();
      return;
    }
    if ('queueIds' in b) {
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
    return [200, success([`queue_${randomBytes(6).toString('hex')}`], 'pascal')];
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
    return [200, success([randomBytes(12).toString('hex')], 'camel')];
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
    script: (...behaviours) => {
      queue.push(...behaviours);
    },
    pendingScript: () => queue.length,
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
