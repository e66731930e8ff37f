import { afterEach, describe, expect, it } from 'vitest';
import { type InitiateCallInput, IqraClient, type IqraClientOptions } from '../../src/iqra/client.js';
import { IqraReadError } from '../../src/iqra/errors.js';
import {
  isTerminalQueueEntry,
  metadataValue,
  parseConversation,
  parseQueueEntry,
  QUEUE_STATUS,
  readErrorKindOfCode,
  SESSION_END_TYPE,
  SESSION_STATUS,
} from '../../src/iqra/tracking.js';
import { createLogger } from '../../src/log.js';
import {
  type FakeIqra,
  type FakeIqraMode,
  type FakeIqraOptions,
  startFakeIqra,
} from '../support/fake-iqra.js';

// Not in the `iu_<a>_<b>` shape, so the logger's own scrubbing cannot hide a leak from these tests.
const KEY = 'TestKey-Zq9-do-not-leak';
const BUSINESS = '4242';
const NOW = new Date('2026-03-01T10:00:00.000Z');
const RECIPIENT = '+14155552671';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const fakes: FakeIqra[] = [];
const clients: IqraClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(options: FakeIqraOptions = {}): Promise<FakeIqra> {
  const f = await startFakeIqra({ businessId: BUSINESS, apiKey: KEY, ...options });
  fakes.push(f);
  return f;
}

interface Harness {
  client: IqraClient;
  sleeps: number[];
  logs: string[];
}

function client(iqra: { url: string }, overrides: Partial<IqraClientOptions> = {}): Harness {
  const sleeps: number[] = [];
  const logs: string[] = [];
  const c = new IqraClient({
    baseUrl: iqra.url,
    businessId: BUSINESS,
    apiKey: KEY,
    format: 'both',
    callWindowMinutes: 60,
    timeoutMs: 5_000,
    now: () => NOW,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    logger: createLogger({ level: 'debug', write: (line) => logs.push(line) }),
    ...overrides,
  });
  clients.push(c);
  return { client: c, sleeps, logs };
}

function input(overrides: Partial<InitiateCallInput> = {}): InitiateCallInput {
  return {
    requestId: 'req-7f3a',
    recipient: RECIPIENT,
    agentId: 'agent_xyz789',
    numberId: 'num_abc123',
    campaignId: 'campaign_001',
    dynamicVariables: { CustomerName: 'Jane Doe' },
    metadata: { SlackTeamId: 'T0001', SlackUserId: 'U0001' },
    ...overrides,
  };
}

async function readFailure(promise: Promise<unknown>): Promise<IqraReadError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(IqraReadError);
    return err as IqraReadError;
  }
  throw new Error('expected the read to fail');
}

/** Places a call through the fake and returns its queue id. */
async function placeCall(c: IqraClient): Promise<string> {
  const { queueIds } = await c.initiateCall(input());
  const [queueId] = queueIds;
  if (!queueId) throw new Error('no queue id');
  return queueId;
}

const MODES: FakeIqraMode[] = ['server', 'reference'];

describe.each(MODES)('getQueueEntry against the %s fake', (mode) => {
  it('a call just placed is Queued, with its details; the read is recorded apart from call/initiate', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    const queueId = await placeCall(c);
    expect(queueId).toMatch(mode === 'server' ? /^[0-9a-f]{24}$/ : /^queue_[0-9a-f]{12}$/);

    const entry = await c.getQueueEntry(queueId);
    expect(entry).toMatchObject({
      queueId,
      status: QUEUE_STATUS.Queued,
      campaignId: 'campaign_001',
      recipientNumber: RECIPIENT,
      dynamicVariables: { CustomerName: 'Jane Doe' },
      metadata: { SlackTeamId: 'T0001', SlackUserId: 'U0001' },
    });
    expect(entry.enqueuedAt).toMatch(ISO);
    expect(entry.sessionId).toBeUndefined();
    expect(isTerminalQueueEntry(entry)).toBe(false);

    expect(iqra.issuedQueueIds).toEqual([queueId]);
    expect(iqra.requests).toHaveLength(1);
    expect(iqra.requests[0]?.path).toBe(`/api/v1/business/${BUSINESS}/call/initiate`);
    expect(iqra.trackingRequests).toHaveLength(1);
    const [read] = iqra.trackingRequests;
    expect(read).toMatchObject({
      method: 'POST',
      path: `/api/v1/business/${BUSINESS}/queues/outbound/${queueId}`,
      kind: 'queueEntry',
      id: queueId,
      bodyBytes: 0,
    });
    expect(read?.headers.authorization).toBe(`Token ${KEY}`);
    expect(read?.headers.accept).toBe('application/json');
  });

  it('without a script an entry stays Queued forever', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    const queueId = await placeCall(c);
    for (let i = 0; i < 3; i++) expect((await c.getQueueEntry(queueId)).status).toBe(0);
    expect(iqra.trackingRequests).toHaveLength(3);
  });

  it('walks a scripted lifecycle: queued, dialling, active session, ended with an end type; the last step repeats', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle([
      { status: 0 },
      { status: 1 },
      { status: 3 },
      { status: 4, sessionStatus: 1, sessionId: 'sess-1' },
      { status: 4, sessionStatus: 3 },
      { status: 4, sessionStatus: 6, sessionEndType: SESSION_END_TYPE.UserEndedCall },
    ]);
    const queueId = await placeCall(c);

    const queued = await c.getQueueEntry(queueId);
    expect(queued).toMatchObject({ queueId, status: 0 });
    expect(queued.processingStartedAt).toBeUndefined();

    const proxy = await c.getQueueEntry(queueId);
    expect(proxy.status).toBe(QUEUE_STATUS.ProcessingProxy);
    expect(proxy.processingStartedAt).toMatch(ISO);

    expect((await c.getQueueEntry(queueId)).status).toBe(QUEUE_STATUS.ProcessingBackend);

    const ringing = await c.getQueueEntry(queueId);
    expect(ringing).toMatchObject({
      status: QUEUE_STATUS.ProcessedBackend,
      sessionId: 'sess-1',
      sessionStatus: SESSION_STATUS.WaitingForPrimaryClient,
    });
    expect(isTerminalQueueEntry(ringing)).toBe(false);

    const active = await c.getQueueEntry(queueId);
    expect(active).toMatchObject({ status: 4, sessionId: 'sess-1', sessionStatus: SESSION_STATUS.Active });
    expect(active.completedAt).toBeUndefined();

    const ended = await c.getQueueEntry(queueId);
    expect(ended).toMatchObject({
      status: 4,
      sessionId: 'sess-1',
      sessionStatus: SESSION_STATUS.Ended,
      sessionEndType: SESSION_END_TYPE.UserEndedCall,
      recipientNumber: RECIPIENT,
    });
    expect(ended.completedAt).toMatch(ISO);
    expect(isTerminalQueueEntry(ended)).toBe(true);

    expect(await c.getQueueEntry(queueId)).toEqual(ended);
    expect(iqra.queueEntry(queueId)).toEqual(ended);
  });

  it.each([
    [QUEUE_STATUS.Failed, 'Failed'],
    [QUEUE_STATUS.Canceled, 'Canceled'],
    [QUEUE_STATUS.Expired, 'Expired'],
  ])('reads status %i (%s) as terminal, for a queue id scripted by id', async (status, _name) => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle([{ status }], { queueId: 'q-terminal' });
    const entry = await c.getQueueEntry('q-terminal');
    expect(entry).toMatchObject({ queueId: 'q-terminal', status });
    expect(entry.completedAt).toMatch(ISO);
    expect(isTerminalQueueEntry(entry)).toBe(true);
  });

  it('scripts the next queue ids in order; a queue id scripted by id keeps its script when handed out', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle([{ status: 5 }]);
    iqra.lifecycle([{ status: 7 }]);
    const first = await placeCall(c);
    const second = await placeCall(c);
    const third = await placeCall(c);
    expect((await c.getQueueEntry(first)).status).toBe(5);
    expect((await c.getQueueEntry(second)).status).toBe(7);
    expect((await c.getQueueEntry(third)).status).toBe(0);

    iqra.script({ queueIds: ['scripted-q'] });
    iqra.lifecycle([{ status: 6 }], { queueId: 'scripted-q' });
    expect(await placeCall(c)).toBe('scripted-q');
    expect(await c.getQueueEntry('scripted-q')).toMatchObject({ status: 6, recipientNumber: RECIPIENT });
  });

  it.each(['names', 'objects'] as const)('reads enums written as %s', async (enums) => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle(
      [{ status: 4, sessionStatus: 6, sessionEndType: SESSION_END_TYPE.UserNoAnswer, sessionId: 's' }],
      {
        queueId: 'q-enum',
        enums,
      },
    );
    expect(await c.getQueueEntry('q-enum')).toMatchObject({
      status: 4,
      sessionStatus: 6,
      sessionEndType: SESSION_END_TYPE.UserNoAnswer,
    });
  });

  it.each([
    ['bare camelCase', { envelope: 'bare', casing: 'camel' }],
    ['bare PascalCase', { envelope: 'bare', casing: 'pascal' }],
    ['wrapped PascalCase', { envelope: 'wrapped', casing: 'pascal' }],
    ['wrapped camelCase', { envelope: 'wrapped', casing: 'camel' }],
  ] as const)('reads a %s answer', async (_name, format) => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle([{ status: 4, sessionStatus: 3, sessionId: 'sess-9', metadata: { SlackUserId: 'U9' } }], {
      queueId: 'q-shape',
      ...format,
    });
    expect(await c.getQueueEntry('q-shape')).toMatchObject({
      queueId: 'q-shape',
      status: 4,
      sessionStatus: 3,
      sessionId: 'sess-9',
      // Keys inside metadata are the caller's: kept as sent.
      metadata: { SlackUserId: 'U9' },
    });
  });
});

describe.each(MODES)('getConversation against the %s fake', (mode) => {
  it('reads the messages with their roles, in order, and the session details', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle([{ status: 4, sessionStatus: 6, sessionEndType: 6, sessionId: 'sess-42' }]);
    const queueId = await placeCall(c);
    await c.getQueueEntry(queueId);
    iqra.conversation('sess-42', {
      status: SESSION_STATUS.Ended,
      startTime: '2026-03-01T10:00:05.000Z',
      endTime: '2026-03-01T10:02:00.000Z',
      endType: SESSION_END_TYPE.AgentEndedCall,
      messages: [
        { role: 0, content: 'Call started' },
        {
          role: 2,
          content: 'Hello, is this Jane? ',
          timestamp: '2026-03-01T10:00:06.000Z',
          senderId: 'agent-1',
        },
        { role: 1, content: 'Yes, speaking.', timestamp: '2026-03-01T10:00:09.000Z' },
      ],
    });

    const conversation = await c.getConversation('sess-42');
    expect(conversation).toEqual({
      id: 'sess-42',
      queueId,
      status: SESSION_STATUS.Ended,
      startTime: '2026-03-01T10:00:05.000Z',
      endTime: '2026-03-01T10:02:00.000Z',
      endType: SESSION_END_TYPE.AgentEndedCall,
      messages: [
        { role: 0, content: 'Call started' },
        {
          role: 2,
          content: 'Hello, is this Jane?',
          timestamp: '2026-03-01T10:00:06.000Z',
          senderId: 'agent-1',
        },
        { role: 1, content: 'Yes, speaking.', timestamp: '2026-03-01T10:00:09.000Z' },
      ],
    });
    const read = iqra.trackingRequests.at(-1);
    expect(read).toMatchObject({
      method: 'GET',
      path: `/api/v1/business/${BUSINESS}/conversations/sess-42`,
      kind: 'conversation',
      id: 'sess-42',
    });
    expect(read?.headers.authorization).toBe(`Token ${KEY}`);
  });

  it('reads roles and enums written as names, bare and PascalCase', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.conversation(
      'sess-n',
      {
        status: 6,
        endType: 4,
        messages: [
          { role: 2, content: 'Hi' },
          { role: 1, content: 'Bye' },
        ],
      },
      { enums: 'names', envelope: 'bare', casing: 'pascal' },
    );
    expect(await c.getConversation('sess-n')).toEqual({
      id: 'sess-n',
      status: 6,
      endType: 4,
      messages: [
        { role: 2, content: 'Hi' },
        { role: 1, content: 'Bye' },
      ],
    });
  });

  it('a session Iqra does not have (yet) is not_found', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    const error = await readFailure(c.getConversation('sess-unknown'));
    expect(error).toMatchObject({ kind: 'not_found', httpStatus: 200 });
    expect(error.code).toMatch(/^GetConversation:.*NOT_FOUND$/);
  });

  it('a scripted failure replaces the conversation', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.conversation('sess-busy', { http: 429, retryAfter: 5 });
    expect(await readFailure(c.getConversation('sess-busy'))).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 5000,
      httpStatus: 429,
    });
  });
});

describe.each(MODES)('read errors against the %s fake', (mode) => {
  it('an unknown queue id is not_found (a NOT_FOUND code in a 200)', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    const error = await readFailure(c.getQueueEntry('6650f0c2a1b2c3d4e5f60799'));
    expect(error).toMatchObject({ kind: 'not_found', httpStatus: 200 });
    expect(error.code).toBe(
      mode === 'server'
        ? 'GetOutboundCallQueues:GetOutboundConversationsMetaDataAsync:NOT_FOUND'
        : 'GetQueueEntry:NOT_FOUND',
    );
    expect(error.iqraMessage).toContain('not found');
    expect(error.message).toContain('queue entry 6650f0c2a1b2c3d4e5f60799');
  });

  it('a scripted NOT_FOUND code is not_found', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle([{ status: 1 }, { code: 'NOT_FOUND' }], { queueId: 'q-gone' });
    expect((await c.getQueueEntry('q-gone')).status).toBe(1);
    expect((await readFailure(c.getQueueEntry('q-gone'))).kind).toBe('not_found');
  });

  it('a bare HTTP 404 is not not_found: a bad_response, logged as a likely wrong IQRA_BASE_URL with its path', async () => {
    const iqra = await fake({ mode });
    const { client: c, logs } = client(iqra);
    iqra.lifecycle([{ http: 404 }, { http: 404, body: '<h1>Not Found</h1>' }, { status: 1 }], {
      queueId: 'q-404',
    });
    for (let i = 0; i < 2; i += 1) {
      const error = await readFailure(c.getQueueEntry('q-404'));
      expect(error).toMatchObject({ kind: 'bad_response', httpStatus: 404 });
      expect(error.code).toBeUndefined();
      expect(error.message).toContain('IQRA_BASE_URL');
    }
    const warnings = logs.map((l) => JSON.parse(l)).filter((l) => String(l.msg).includes('HTTP 404'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatchObject({
      level: 'warn',
      path: `/api/v1/business/${BUSINESS}/queues/outbound/q-404`,
      queueId: 'q-404',
    });
    expect(String(warnings[0]?.msg)).toContain('IQRA_BASE_URL');
    expect(logs.join('\n')).not.toContain(KEY);
    // Nothing was concluded about the call: the caller asks again later.
    expect((await c.getQueueEntry('q-404')).status).toBe(1);
  });

  it('a 404 in Iqra’s envelope with a NOT_FOUND code is not_found; a 404 with another JSON is not', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    const code = 'GetOutboundCallQueues:GetOutboundConversationsMetaDataAsync:NOT_FOUND';
    iqra.lifecycle(
      [
        { http: 404, body: { success: false, code, message: 'Queue entry not found', data: null } },
        { http: 404, body: { code: 'NOT_FOUND', message: 'no route' } },
      ],
      { queueId: 'q-gone' },
    );
    expect(await readFailure(c.getQueueEntry('q-gone'))).toMatchObject({
      kind: 'not_found',
      httpStatus: 404,
      code,
    });
    expect(await readFailure(c.getQueueEntry('q-gone'))).toMatchObject({
      kind: 'bad_response',
      httpStatus: 404,
    });
  });

  it('an IQRA_BASE_URL with a path the app adds itself (404 from the route) is not not_found', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client({ url: `${iqra.url}/api/v1` });
    const error = await readFailure(c.getQueueEntry('6650f0c2a1b2c3d4e5f60799'));
    expect(error).toMatchObject({ kind: 'bad_response', httpStatus: 404 });
  });

  it('429 is rate_limited with retryAfterMs from Retry-After seconds; nothing is retried', async () => {
    const iqra = await fake({ mode });
    const { client: c, sleeps } = client(iqra);
    iqra.lifecycle([{ http: 429, retryAfter: 2 }, { status: 1 }], { queueId: 'q-429' });
    const error = await readFailure(c.getQueueEntry('q-429'));
    expect(error).toMatchObject({ kind: 'rate_limited', httpStatus: 429, retryAfterMs: 2000 });
    expect(iqra.trackingRequests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    // The caller may simply ask again.
    expect((await c.getQueueEntry('q-429')).status).toBe(1);
  });

  it('429 with Retry-After as an HTTP date, and without one', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle(
      [{ http: 429, retryAfter: new Date(NOW.getTime() + 7_000).toUTCString() }, { http: 429 }],
      {
        queueId: 'q-date',
      },
    );
    expect((await readFailure(c.getQueueEntry('q-date'))).retryAfterMs).toBe(7000);
    const second = await readFailure(c.getQueueEntry('q-date'));
    expect(second.kind).toBe('rate_limited');
    expect(second.retryAfterMs).toBeUndefined();
  });

  it('500 is unavailable; 503 is unavailable with retryAfterMs', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle(
      [
        { http: 500, body: 'Internal Server Error' },
        { http: 503, retryAfter: 30 },
      ],
      {
        queueId: 'q-5xx',
      },
    );
    const first = await readFailure(c.getQueueEntry('q-5xx'));
    expect(first).toMatchObject({ kind: 'unavailable', httpStatus: 500 });
    expect(first.retryAfterMs).toBeUndefined();
    expect(await readFailure(c.getQueueEntry('q-5xx'))).toMatchObject({
      kind: 'unavailable',
      httpStatus: 503,
      retryAfterMs: 30_000,
    });
  });

  it('an EXCEPTION code is unavailable', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle([{ code: 'EXCEPTION', message: 'Internal server error processing request' }], {
      queueId: 'q-exc',
    });
    expect(await readFailure(c.getQueueEntry('q-exc'))).toMatchObject({
      kind: 'unavailable',
      httpStatus: 200,
    });
  });

  it('no answer within timeoutMs is unavailable, and fast', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra, { timeoutMs: 300 });
    iqra.lifecycle([{ delayMs: 3_000 }], { queueId: 'q-slow' });
    const started = Date.now();
    const error = await readFailure(c.getQueueEntry('q-slow'));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('no answer within 0.3 s');
  });

  it('a slow answer within timeoutMs is read', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra, { timeoutMs: 2_000 });
    iqra.lifecycle([{ status: 2 }, { delayMs: 100 }], { queueId: 'q-late' });
    expect((await c.getQueueEntry('q-late')).status).toBe(2);
    expect((await c.getQueueEntry('q-late')).status).toBe(2);
  });

  it('a connection reset and a refused connection are unavailable', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle([{ destroy: true }], { queueId: 'q-reset' });
    expect((await readFailure(c.getQueueEntry('q-reset'))).kind).toBe('unavailable');
    await iqra.close();
    const refused = await readFailure(c.getQueueEntry('q-reset'));
    expect(refused.kind).toBe('unavailable');
    expect(refused.message).toContain('ECONNREFUSED');
  });

  it('a wrong API key is unauthorized', async () => {
    const iqra = await fake({ mode, apiKey: 'the-right-key' });
    const { client: c } = client(iqra);
    iqra.lifecycle([{ status: 1 }], { queueId: 'q-auth' });
    const error = await readFailure(c.getQueueEntry('q-auth'));
    expect(error.kind).toBe('unauthorized');
    if (mode === 'server') {
      expect(error).toMatchObject({ httpStatus: 200 });
      expect(error.code).toMatch(
        /^GetOutboundCallQueues:ValidateAPIUserAndBusinessSessionAsync:.*INVALID_API_KEY$/,
      );
    } else {
      expect(error.httpStatus).toBe(401);
    }
    expect((await readFailure(c.getConversation('s'))).kind).toBe('unauthorized');
  });

  it('403 is unauthorized', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle([{ http: 403 }], { queueId: 'q-403' });
    expect(await readFailure(c.getQueueEntry('q-403'))).toMatchObject({
      kind: 'unauthorized',
      httpStatus: 403,
    });
  });

  it.each([
    ['not JSON', { http: 200, body: '<html>gateway</html>' }],
    ['an empty body', { http: 200 }],
    ['success without data', { http: 200, body: { success: true, data: null } }],
    ['an entry without a status', { http: 200, body: { success: true, data: { queueId: 'q' } } }],
    ['an entry without a queue id', { http: 200, body: { queueId: '', status: 1 } }],
    ['an unknown status name', { http: 200, body: { queueId: 'q', status: 'Teleported' } }],
    ['success: false without a code', { http: 200, body: { Success: false, Data: null } }],
    ['a redirect', { http: 302, headers: { location: '/login' } }],
  ] as const)('%s is bad_response', async (_name, step) => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra);
    iqra.lifecycle([step], { queueId: 'q-bad' });
    expect((await readFailure(c.getQueueEntry('q-bad'))).kind).toBe('bad_response');
  });

  it('another business id (400 from the framework) is bad_response', async () => {
    const iqra = await fake({ mode });
    const { client: c } = client(iqra, { businessId: '999' });
    expect(await readFailure(c.getQueueEntry('q'))).toMatchObject({ kind: 'bad_response', httpStatus: 400 });
  });
});

describe('secrets and logs', () => {
  it('no log line or error contains the API key; recipients are masked', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c, logs } = client(iqra);
    // A queue id without a run of 7 digits: the logger masks such runs as phone numbers.
    iqra.script({ queueIds: ['q-logs-6650f0c2'] });
    iqra.lifecycle([
      { status: 4, sessionStatus: 3 },
      { code: 'InitiateCall:WEIRD', message: `Key ${KEY} is not allowed here` },
      { http: 500, body: { success: false, code: 'X:EXCEPTION', message: `boom ${KEY}` } },
    ]);
    const queueId = await placeCall(c);
    const entry = await c.getQueueEntry(queueId);
    expect(entry.recipientNumber).toBe(RECIPIENT);
    const errors = [await readFailure(c.getQueueEntry(queueId)), await readFailure(c.getQueueEntry(queueId))];
    expect(errors.map((e) => e.kind)).toEqual(['bad_response', 'unavailable']);
    expect(errors[0]?.iqraMessage).toBe('Key [redacted] is not allowed here');
    expect(errors[1]?.code).toBe('X:EXCEPTION');
    for (const e of errors) {
      for (const text of [e.message, e.iqraMessage ?? '', e.code ?? '', JSON.stringify(e)]) {
        expect(text).not.toContain(KEY);
      }
    }
    const reads = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'queueId' in l);
    expect(reads.length).toBeGreaterThanOrEqual(5);
    expect(reads.find((l) => l.msg === 'iqra read: ok')).toMatchObject({
      op: 'iqra queue entry',
      queueId,
      status: 4,
      statusName: 'ProcessedBackend',
      sessionStatus: 3,
    });
    expect(reads.filter((l) => l.msg === 'iqra read: failed').map((l) => [l.level, l.kind])).toEqual([
      ['warn', 'bad_response'],
      ['info', 'unavailable'],
    ]);
    for (const line of logs) {
      expect(line).not.toContain(KEY);
      expect(line).not.toContain(RECIPIENT);
    }
  });

  it('a key undici cannot send is unauthorized, without showing the key', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { apiKey: `${KEY}\nX-Injected: 1` });
    const error = await readFailure(c.getQueueEntry('q'));
    expect(error.kind).toBe('unauthorized');
    expect(error.message).toContain('IQRA_API_KEY');
    expect(error.message).not.toContain(KEY);
    expect(iqra.trackingRequests).toHaveLength(0);
  });

  it('ids are required and are sent URL-encoded', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra);
    await expect(c.getQueueEntry('  ')).rejects.toThrow(TypeError);
    await expect(c.getConversation('')).rejects.toThrow(TypeError);
    await readFailure(c.getQueueEntry('a/b?c'));
    expect(iqra.trackingRequests[0]?.path).toBe(`/api/v1/business/${BUSINESS}/queues/outbound/a%2Fb%3Fc`);
    expect(iqra.trackingRequests[0]?.id).toBe('a/b?c');
  });
});

describe('parseQueueEntry', () => {
  it('reads the server envelope in PascalCase at every level', () => {
    const entry = parseQueueEntry({
      Success: true,
      Data: {
        QueueId: 'q1',
        Status: 4,
        EnqueuedAt: '2026-03-01T10:00:00Z',
        ProcessingStartedAt: '2026-03-01T10:00:01.5Z',
        SessionId: 's1',
        SessionStatus: 3,
        SessionEndType: null,
        CampaignId: 'c1',
        NumberId: 'n1',
        RecipientNumber: RECIPIENT,
        Metadata: { SlackTeamId: 'T1' },
        DynamicVariables: { CustomerName: 'Jane' },
        Logs: [{ Message: 'ignored' }],
      },
      Code: null,
      Message: null,
    });
    expect(entry).toEqual({
      queueId: 'q1',
      status: 4,
      enqueuedAt: '2026-03-01T10:00:00.000Z',
      processingStartedAt: '2026-03-01T10:00:01.500Z',
      sessionId: 's1',
      sessionStatus: 3,
      campaignId: 'c1',
      numberId: 'n1',
      recipientNumber: RECIPIENT,
      metadata: { SlackTeamId: 'T1' },
      dynamicVariables: { CustomerName: 'Jane' },
    });
  });

  it('reads a bare object, numeric strings, and the text of the answer', () => {
    expect(parseQueueEntry({ queueId: 'q2', status: '5' })).toEqual({ queueId: 'q2', status: 5 });
    expect(parseQueueEntry('{"success":true,"data":{"queueId":"q3","status":0},"code":null}')).toEqual({
      queueId: 'q3',
      status: 0,
    });
  });

  it('reads enum names (with the C# spelling and common variants) and {value, name} objects', () => {
    expect(
      parseQueueEntry({
        queueId: 'q',
        status: 'ProcessedBackend',
        sessionStatus: 'ended',
        sessionEndType: 'InitalizeError',
      }),
    ).toMatchObject({ status: 4, sessionStatus: 6, sessionEndType: 1 });
    expect(
      parseQueueEntry({ queueId: 'q', status: 'Cancelled', sessionEndType: 'InitializeError' }),
    ).toMatchObject({ status: 6, sessionEndType: 1 });
    // An older server numbered UserEndedCall 4: the name wins over the number.
    expect(
      parseQueueEntry({
        queueId: 'q',
        status: { value: 4, name: 'ProcessedBackend' },
        sessionEndType: { value: 4, name: 'UserEndedCall' },
      }),
    ).toMatchObject({ status: 4, sessionEndType: SESSION_END_TYPE.UserEndedCall });
    expect(parseQueueEntry({ queueId: 'q', status: { Value: 7 } }).status).toBe(7);
  });

  it('leaves out optional enums and times it cannot read; C# default times are absent', () => {
    const entry = parseQueueEntry({
      queueId: 'q',
      status: 1,
      sessionStatus: 'Teleported',
      enqueuedAt: '2026-03-01T10:00:00',
      completedAt: '0001-01-01T00:00:00',
      processingStartedAt: 'soon',
    });
    expect(entry).toEqual({ queueId: 'q', status: 1, enqueuedAt: '2026-03-01T10:00:00.000Z' });
  });

  it('reads a campaign custom tool body (snake_case, enum names, metadata as JSON text)', () => {
    const entry = parseQueueEntry({
      call_queue_id: 'q-hook',
      call_queue_status: 'ProcessedBackend',
      call_queue_metadata: '{"SlackTeamId":"T1","SlackUserId":"U1"}',
      conversation_end_type: 'UserNoAnswer',
    });
    expect(entry).toEqual({
      queueId: 'q-hook',
      status: 4,
      sessionEndType: SESSION_END_TYPE.UserNoAnswer,
      metadata: { SlackTeamId: 'T1', SlackUserId: 'U1' },
    });
  });

  it('throws IqraReadError with the kind of the code for success: false', () => {
    const attempt = (json: unknown) => {
      try {
        parseQueueEntry(json);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const notFound = attempt({ success: false, code: 'GetOutboundCallQueues:X:NOT_FOUND', message: 'nope' });
    expect(notFound).toBeInstanceOf(IqraReadError);
    expect(notFound).toMatchObject({ kind: 'not_found', code: 'GetOutboundCallQueues:X:NOT_FOUND' });
    expect(attempt('not json')).toMatchObject({ kind: 'bad_response' });
    expect(attempt([1, 2])).toMatchObject({ kind: 'bad_response' });
    expect(attempt({ success: true, data: { status: 1 } })).toMatchObject({ kind: 'bad_response' });
  });

  it('metadataValue finds a key the server camelCased', () => {
    const entry = parseQueueEntry({ queueId: 'q', status: 0, metadata: { slackUserId: 'U1' } });
    expect(metadataValue(entry.metadata, 'SlackUserId')).toBe('U1');
    expect(metadataValue(entry.metadata, 'SlackTeamId')).toBeUndefined();
    expect(metadataValue(undefined, 'SlackTeamId')).toBeUndefined();
  });
});

describe('parseConversation', () => {
  it('reads messages with numeric and named roles, skipping unreadable ones', () => {
    const conversation = parseConversation({
      success: true,
      data: {
        id: 's1',
        queueId: 'q1',
        status: { value: 6, name: 'Ended' },
        startTime: '2026-03-01T10:00:00Z',
        endTime: null,
        endType: 'VoicemailDetected',
        clients: [{ audioUrl: 'https://example.test/a.wav' }],
        messages: [
          { senderId: 'x', role: 'Client', content: 'Hello?', timestamp: '2026-03-01T10:00:01Z' },
          { Role: 2, Content: 'Hi Jane ' },
          { role: 'Narrator', content: 'skipped' },
          'not a message',
          { role: 0 },
        ],
      },
    });
    expect(conversation).toEqual({
      id: 's1',
      queueId: 'q1',
      status: 6,
      startTime: '2026-03-01T10:00:00.000Z',
      endType: SESSION_END_TYPE.VoicemailDetected,
      messages: [
        { role: 1, content: 'Hello?', timestamp: '2026-03-01T10:00:01.000Z', senderId: 'x' },
        { role: 2, content: 'Hi Jane' },
        { role: 0, content: '' },
      ],
    });
  });

  it('a conversation without an id is bad_response; a NOT_FOUND code is not_found', () => {
    expect(() => parseConversation({ messages: [] })).toThrow(IqraReadError);
    try {
      parseConversation({ success: false, code: 'GetConversation:GetConversationState:NOT_FOUND' });
    } catch (err) {
      expect(err).toMatchObject({ kind: 'not_found' });
    }
  });
});

describe('readErrorKindOfCode', () => {
  it.each([
    ['GetOutboundCallQueues:GetOutboundConversationsMetaDataAsync:NOT_FOUND', 'not_found'],
    ['GetQueueEntry:NOT_FOUND', 'not_found'],
    ['GetConversation:GetConversationState:NOT_FOUND', 'not_found'],
    ['X:QUEUE_NOT_FOUND', 'not_found'],
    [
      'GetOutboundCallQueues:ValidateAPIUserAndBusinessSessionAsync:ValidateUserAPIAsync:INVALID_API_KEY',
      'unauthorized',
    ],
    ['InitiateCall:ValidateUserAPIAndBusinessWithPermissions:VALIDATE_API_KEY:KEY_NOT_FOUND', 'unauthorized'],
    ['GetOutboundCallQueues:ValidateAPIUserAndBusinessSessionAsync:BUSINESS_NOT_FOUND', 'unauthorized'],
    ['GetOutboundCallQueues:BUSINESS_CONVERSATIONS_OUTBOUND_DISABLED', 'unauthorized'],
    ['X:RESTRICTED_API_KEY', 'unauthorized'],
    ['X:PERMISSION_DENIED', 'unauthorized'],
    ['GetOutboundCallQueues:EXCEPTION', 'unavailable'],
    ['GetOutboundCallQueuesCountAsync:DATABASE_COUNT_ERROR', 'unavailable'],
    ['X:RATE_LIMITED', 'rate_limited'],
    ['GetOutboundCallQueues:INVALID_MODEL_DATA', 'bad_response'],
  ])('%s → %s', (code, kind) => {
    expect(readErrorKindOfCode(code)).toBe(kind);
  });
});

describe('the client after reads', () => {
  it('still places calls over the same connections, and closes', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config' });
    const first = await placeCall(c);
    await c.getQueueEntry(first);
    await readFailure(c.getConversation('nope'));
    const second = await placeCall(c);
    expect(second).not.toBe(first);
    expect(iqra.requests).toHaveLength(2);
    expect(iqra.trackingRequests).toHaveLength(2);
  });
});
