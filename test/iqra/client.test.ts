import { afterEach, describe, expect, it } from 'vitest';
import {
  buildInitiateForm,
  type InitiateCallInput,
  IqraClient,
  type IqraClientOptions,
} from '../../src/iqra/client.js';
import { IqraError } from '../../src/iqra/errors.js';
import { createLogger } from '../../src/log.js';
import { type FakeIqra, type FakeIqraOptions, startFakeIqra } from '../support/fake-iqra.js';

// Not in the `iu_<a>_<b>` shape, so the logger's own scrubbing cannot hide a leak from these tests.
const KEY = 'TestKey-Zq9-do-not-leak';
const BUSINESS = '4242';
const NOW = new Date('2026-03-01T10:00:00.000Z');
const RECIPIENT = '+14155552671';

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
    dynamicVariables: { CustomerName: 'Jane Doe', AccountNumber: '12345' },
    metadata: { SlackTeamId: 'T0001', SlackUserId: 'U0001' },
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<IqraError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(IqraError);
    return err as IqraError;
  }
  throw new Error('expected the call to be rejected');
}

function expectUnknownMessage(error: IqraError): void {
  expect(error.outcome).toBe('unknown');
  expect(error.retryable).toBe(false);
  expect(error.userMessage).toMatch(/may have placed this call/);
  expect(error.userMessage).toMatch(/not retried, to avoid dialling the customer twice/);
  expect(error.userMessage).toMatch(/Check Iqra’s dashboard/);
  expect(error.userMessage).toContain('req-7f3a');
}

describe('request format', () => {
  it('fields: sends exactly the reference fields, the Token header and a content-length', async () => {
    const iqra = await fake({ mode: 'reference' });
    const { client: c } = client(iqra, { format: 'fields' });
    const result = await c.initiateCall(input());

    expect(result.queueIds).toHaveLength(1);
    expect(result.queueIds[0]).toMatch(/^queue_[0-9a-f]{12}$/);
    expect(result).toMatchObject({ attempts: 1, sentFormat: { fields: true, config: false } });
    expect(iqra.requests).toHaveLength(1);
    const [req] = iqra.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe(`/api/v1/business/${BUSINESS}/call/initiate`);
    expect(req?.headers.authorization).toBe(`Token ${KEY}`);
    expect(req?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(Number(req?.headers['content-length'])).toBe(req?.bodyBytes);
    expect(req?.fieldOrder).toEqual([
      'RecipientNumber',
      'NumberId',
      'AgentId',
      'CampaignId',
      'DynamicVariables[CustomerName]',
      'DynamicVariables[AccountNumber]',
      'Metadata[SlackTeamId]',
      'Metadata[SlackUserId]',
    ]);
    expect(req?.fields).toEqual({
      RecipientNumber: RECIPIENT,
      NumberId: 'num_abc123',
      AgentId: 'agent_xyz789',
      CampaignId: 'campaign_001',
      'DynamicVariables[CustomerName]': 'Jane Doe',
      'DynamicVariables[AccountNumber]': '12345',
      'Metadata[SlackTeamId]': 'T0001',
      'Metadata[SlackUserId]': 'U0001',
    });
  });

  it('fields: a scheduled call carries ScheduledTime in UTC with Z; no campaign means no CampaignId', async () => {
    const iqra = await fake({ mode: 'reference' });
    const { client: c } = client(iqra, { format: 'fields' });
    await c.initiateCall(
      input({
        campaignId: undefined,
        scheduledAt: new Date('2026-03-02T15:30:00.000Z'),
        dynamicVariables: {},
      }),
    );
    expect(iqra.requests[0]?.fields).toEqual({
      RecipientNumber: RECIPIENT,
      NumberId: 'num_abc123',
      AgentId: 'agent_xyz789',
      ScheduledTime: '2026-03-02T15:30:00.000Z',
      'Metadata[SlackTeamId]': 'T0001',
      'Metadata[SlackUserId]': 'U0001',
    });
  });

  it('config: sends only the config part, which the real server accepts; the window starts now', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config', callWindowMinutes: 60 });
    const result = await c.initiateCall(input());

    expect(result.queueIds).toHaveLength(1);
    expect(result.queueIds[0]).toMatch(/^[0-9a-f]{24}$/);
    expect(result.sentFormat).toEqual({ fields: false, config: true });
    const [req] = iqra.requests;
    expect(req?.fieldOrder).toEqual(['config']);
    expect(req?.files).toEqual([]);
    expect(req?.config).toEqual({
      campaignId: 'campaign_001',
      number: { type: 0, toNumber: RECIPIENT },
      // type 0 (now): a later Iqra server needs it, the notes' one reads only the two times.
      schedule: {
        type: 0,
        dateTimeUTC: '2026-03-01T10:00:00.000Z',
        maxDateTimeUTC: '2026-03-01T11:00:00.000Z',
      },
      dynamicVariables: { CustomerName: 'Jane Doe', AccountNumber: '12345' },
      metadata: { SlackTeamId: 'T0001', SlackUserId: 'U0001' },
    });
    expect(JSON.parse(req?.fields.config ?? '')).toEqual(req?.config);
  });

  it('config: a scheduled call starts the window at the scheduled time and ends it callWindowMinutes later', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config', callWindowMinutes: 90 });
    await c.initiateCall(input({ scheduledAt: new Date('2026-03-02T23:45:00.000Z') }));
    expect(iqra.requests[0]?.config).toMatchObject({
      schedule: {
        type: 1,
        dateTimeUTC: '2026-03-02T23:45:00.000Z',
        maxDateTimeUTC: '2026-03-03T01:15:00.000Z',
      },
    });
  });

  it('config: every variable and metadata value is sent as a JSON string', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config' });
    // A caller that slipped a number and a boolean past the types.
    const loose = { Count: 3, Vip: true } as unknown as Record<string, string>;
    await c.initiateCall(input({ dynamicVariables: loose, metadata: { ...loose, SlackTeamId: 'T0001' } }));
    expect(iqra.requests[0]?.config).toMatchObject({
      dynamicVariables: { Count: '3', Vip: 'true' },
      metadata: { Count: '3', Vip: 'true', SlackTeamId: 'T0001' },
    });
  });

  it('both: with a campaign, sends the reference fields and the config part; each Iqra variant accepts it', async () => {
    for (const mode of ['reference', 'server'] as const) {
      const iqra = await fake({ mode });
      const { client: c } = client(iqra, { format: 'both' });
      const result = await c.initiateCall(input());
      expect(result.sentFormat).toEqual({ fields: true, config: true });
      const req = iqra.requests[0];
      expect(req?.fieldOrder[0]).toBe('RecipientNumber');
      expect(req?.fieldOrder.at(-1)).toBe('config');
      expect(req?.fields.AgentId).toBe('agent_xyz789');
      expect(req?.config).toMatchObject({
        campaignId: 'campaign_001',
        number: { type: 0, toNumber: RECIPIENT },
      });
    }
  });

  it('both: without a campaign, sends no config part, and the real server explains the missing part', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'both' });
    const error = await rejection(c.initiateCall(input({ campaignId: undefined })));
    expect(iqra.requests[0]?.fields.config).toBeUndefined();
    expect(iqra.requests[0]?.fields.RecipientNumber).toBe(RECIPIENT);
    expect(error).toMatchObject({
      outcome: 'failed',
      reason: 'FORM_DATA_CONFIG_NOT_FOUND',
      code: 'InitiateCall:QueueCallInitiationRequestAsync:FORM_DATA_CONFIG_NOT_FOUND',
      httpStatus: 200,
      attempts: 1,
    });
    expect(error.userMessage).toContain('IQRA_REQUEST_FORMAT=both or config');
  });

  it('config without a campaign fails with NO_CAMPAIGN before sending anything', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config' });
    const error = await rejection(c.initiateCall(input({ campaignId: undefined })));
    expect(error).toMatchObject({ outcome: 'failed', reason: 'NO_CAMPAIGN', attempts: 0, retryable: false });
    expect(error.userMessage).toContain('IQRA_CAMPAIGNS');
    expect(iqra.requests).toHaveLength(0);
  });

  it('strips trailing slashes from the base URL', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client({ url: `${iqra.url}//` }, { format: 'config' });
    await c.initiateCall(input());
    expect(iqra.requests[0]?.path).toBe(`/api/v1/business/${BUSINESS}/call/initiate`);
  });

  it('buildInitiateForm decides the parts from the format and the campaign', () => {
    const opts = { callWindowMinutes: 30, now: NOW };
    const fieldsOnly = buildInitiateForm(input(), { ...opts, format: 'fields' });
    expect([fieldsOnly.fields, fieldsOnly.config]).toEqual([true, false]);
    expect(fieldsOnly.form.getBuffer().toString()).not.toContain('name="config"');

    const configOnly = buildInitiateForm(input(), { ...opts, format: 'config' });
    expect([configOnly.fields, configOnly.config]).toEqual([false, true]);
    const text = configOnly.form.getBuffer().toString();
    expect(text).toContain('name="config"');
    expect(text).not.toContain('RecipientNumber');
    expect(text).toContain('"maxDateTimeUTC":"2026-03-01T10:30:00.000Z"');

    const bothNoCampaign = buildInitiateForm(input({ campaignId: '  ' }), { ...opts, format: 'both' });
    expect([bothNoCampaign.fields, bothNoCampaign.config]).toEqual([true, false]);
  });
});

describe('answers', () => {
  it('reads both casings, and a single queue id given as a string', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config' });
    iqra.script(
      { queueIds: ['pascal-q'], casing: 'pascal' },
      { queueIds: ['camel-q'], casing: 'camel' },
      { status: 200, body: { Success: true, Data: 'single-q' } },
    );
    expect((await c.initiateCall(input())).queueIds).toEqual(['pascal-q']);
    expect((await c.initiateCall(input())).queueIds).toEqual(['camel-q']);
    expect((await c.initiateCall(input())).queueIds).toEqual(['single-q']);
  });

  it('200 with success:false (PascalCase) is failed, explained, and not retried', async () => {
    const iqra = await fake({ mode: 'reference' });
    const { client: c } = client(iqra, { format: 'fields' });
    iqra.script({ code: 'INSUFFICIENT_BALANCE' });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({
      outcome: 'failed',
      reason: 'INSUFFICIENT_BALANCE',
      code: 'InitiateCall:INSUFFICIENT_BALANCE',
      iqraMessage: 'Insufficient balance or minutes to make this call',
      httpStatus: 200,
      attempts: 1,
      retryable: false,
    });
    expect(error.userMessage).toMatch(/top up/);
    expect(iqra.requests).toHaveLength(1);
  });

  it('the real server: an invalid number is explained as such (camelCase)', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config' });
    // Valid E.164 shape, but not a real number: the server's libphonenumber check rejects it.
    const error = await rejection(c.initiateCall(input({ recipient: '+1234567890' })));
    expect(error).toMatchObject({
      outcome: 'failed',
      reason: 'CONFIG_NUMBER_TO_NUMBER_INVALID',
      code: 'InitiateCall:QueueCallInitiationRequestAsync:CONFIG_NUMBER_TO_NUMBER_INVALID',
    });
    expect(error.userMessage).toMatch(/not a valid phone number/);
  });

  it('the real server: a wrong key is an API-key problem (nested VALIDATE_API_KEY code)', async () => {
    const iqra = await fake({ mode: 'server', apiKey: 'the-right-key' });
    const { client: c } = client(iqra, { format: 'config' });
    const error = await rejection(c.initiateCall(input()));
    expect(error.code).toBe(
      'InitiateCall:ValidateUserAPIAndBusinessWithPermissions:VALIDATE_API_KEY:API_KEY_INVALID',
    );
    expect(error.reason).toBe('API_KEY_INVALID');
    expect(error.outcome).toBe('failed');
    expect(error.userMessage).toContain('IQRA_API_KEY');
  });

  it('the real server: EXCEPTION (here an unknown campaign) is unknown, sent once, and says why it may happen', async () => {
    // Iqra answers EXCEPTION from one catch around the whole action, also after the call was queued: it may have been.
    const iqra = await fake({ mode: 'server', campaigns: { campaign_001: {} } });
    const { client: c } = client(iqra, { format: 'config' });
    const error = await rejection(c.initiateCall(input({ campaignId: 'no_such_campaign' })));
    expect(error).toMatchObject({
      outcome: 'unknown',
      reason: 'EXCEPTION',
      code: 'InitiateCall:EXCEPTION',
      attempts: 1,
      retryable: false,
    });
    expect(iqra.requests).toHaveLength(1);
    expect(error.userMessage).toMatch(/may have placed this call.*Request id: req-7f3a\./s);
    expect(error.userMessage).toMatch(/campaign id is unknown/);
    expect(error.userMessage).toContain('IQRA_CAMPAIGNS');
  });

  it('a code from after the call was queued is unknown and sent once; the same code with a 4xx is failed', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config' });
    const code = 'InitiateCall:ForwardCallInitiationRequestAsync:ForwardSingleCallToRegionProxy:2';
    iqra.script(
      { code, message: 'Failed to add outbound call queue to campaign.' },
      { code, message: 'Bad request', status: 400 },
    );
    const afterQueued = await rejection(c.initiateCall(input()));
    expect(afterQueued).toMatchObject({ outcome: 'unknown', reason: '2', code, attempts: 1 });
    expect(iqra.requests).toHaveLength(1);
    // A 4xx is answered before Iqra's action runs: nothing was queued, whatever the code.
    const refused = await rejection(c.initiateCall(input()));
    expect(refused).toMatchObject({ outcome: 'failed', httpStatus: 400, attempts: 1 });
    expect(refused.userMessage).not.toMatch(/may have placed/);
    expect(iqra.requests).toHaveLength(2);
  });

  it('the real server: a required campaign variable that is missing is named', async () => {
    const iqra = await fake({
      mode: 'server',
      campaigns: { campaign_001: { requiredVariables: ['RenewalDate'] } },
    });
    const { client: c } = client(iqra, { format: 'config' });
    const error = await rejection(c.initiateCall(input()));
    expect(error.reason).toBe('CONFIG_DYNAMIC_VARIABLES_REQUIRED_NOT_FOUND');
    expect(error.userMessage).toContain('It is missing: RenewalDate.');
  });

  it('an unknown code shows Iqra’s own message', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config' });
    iqra.script({
      code: 'InitiateCall:SomethingNew:QUOTA_WINDOW_CLOSED',
      message: 'Calls are paused until 18:00.',
    });
    const error = await rejection(c.initiateCall(input()));
    expect(error.reason).toBe('QUOTA_WINDOW_CLOSED');
    expect(error.userMessage).toContain('Calls are paused until 18:00.');
  });

  it.each([
    ['HTML', '<html>Bad gateway</html>'],
    ['JSON without success', { data: ['q'] }],
    ['success without queue ids', { success: true, data: null }],
  ])('200 with an unreadable body (%s) is unknown BAD_RESPONSE', async (_name, body) => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config' });
    iqra.script({ status: 200, body });
    const error = await rejection(c.initiateCall(input()));
    expect(error.reason).toBe('BAD_RESPONSE');
    expect(error.httpStatus).toBe(200);
    expectUnknownMessage(error);
    expect(iqra.requests).toHaveLength(1);
  });

  it('404 is failed with a hint to check the base URL and business id', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client({ url: `${iqra.url}/not-the-api` }, { format: 'config' });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({ outcome: 'failed', reason: 'HTTP_404', httpStatus: 404, attempts: 1 });
    expect(error.userMessage).toContain('IQRA_BASE_URL');
    expect(error.userMessage).toContain('IQRA_BUSINESS_ID');
    expect(iqra.requests).toHaveLength(1);
  });

  it('an unknown business id (400 from the framework) is failed and not retried', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config', businessId: '999' });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({ outcome: 'failed', reason: 'HTTP_400', httpStatus: 400, retryable: false });
    expect(iqra.requests).toHaveLength(1);
  });

  it('401 (reference) is failed and points at the API key', async () => {
    const iqra = await fake({ mode: 'reference', apiKey: 'the-right-key' });
    const { client: c } = client(iqra, { format: 'fields' });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({ outcome: 'failed', reason: 'HTTP_401', httpStatus: 401, attempts: 1 });
    expect(error.userMessage).toContain('IQRA_API_KEY');
  });

  it('413 is failed and not retried', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config' });
    iqra.script({ status: 413 });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({ outcome: 'failed', reason: 'HTTP_413', httpStatus: 413 });
    expect(iqra.requests).toHaveLength(1);
  });
});

describe('retries', () => {
  it('429 with Retry-After seconds is retried after that wait, then succeeds', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c, sleeps } = client(iqra, { format: 'config' });
    iqra.script({ status: 429, headers: { 'retry-after': '2' } });
    const result = await c.initiateCall(input());
    expect(result.attempts).toBe(2);
    expect(result.queueIds[0]).toMatch(/^[0-9a-f]{24}$/);
    expect(sleeps).toEqual([2000]);
    expect(iqra.requests).toHaveLength(2);
    expect(iqra.requests[1]?.fields.config).toBe(iqra.requests[0]?.fields.config);
  });

  it('429 with Retry-After as an HTTP date waits until that date', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c, sleeps } = client(iqra, { format: 'config' });
    iqra.script({ status: 429, headers: { 'retry-after': new Date(NOW.getTime() + 7_000).toUTCString() } });
    await c.initiateCall(input());
    expect(sleeps).toEqual([7000]);
  });

  it('503 without Retry-After is retried with jittered backoff', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c, sleeps } = client(iqra, { format: 'config', random: () => 0.5 });
    iqra.script({ status: 503 }, { status: 503 });
    const result = await c.initiateCall(input());
    expect(result.attempts).toBe(3);
    // Full jitter: random × 250 ms × 2^(attempt-1).
    expect(sleeps).toEqual([125, 250]);
    expect(iqra.requests).toHaveLength(3);
  });

  it('429 on every attempt ends failed RATE_LIMITED after maxAttempts', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c, sleeps } = client(iqra, { format: 'config', maxAttempts: 3 });
    iqra.script({ status: 429 }, { status: 429 }, { status: 429 });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({
      outcome: 'failed',
      reason: 'RATE_LIMITED',
      httpStatus: 429,
      attempts: 3,
      retryable: true,
    });
    expect(sleeps).toHaveLength(2);
    expect(iqra.requests).toHaveLength(3);
  });

  it('a Retry-After longer than the cap ends retrying at once with a failed error that says when to try', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c, sleeps } = client(iqra, { format: 'config', maxRetryWaitMs: 30_000 });
    iqra.script({ status: 429, headers: { 'retry-after': '300' } });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({ outcome: 'failed', reason: 'RATE_LIMITED', attempts: 1, retryable: true });
    expect(error.userMessage).toContain('about 5 minutes (until 10:05 UTC)');
    expect(sleeps).toEqual([]);
    expect(iqra.requests).toHaveLength(1);
  });

  it('connection refused is retried maxAttempts times, then failed UNREACHABLE: nothing reached Iqra', async () => {
    const iqra = await fake({ mode: 'server' });
    await iqra.close(); // the port now refuses connections
    const { client: c, sleeps, logs } = client(iqra, { format: 'config', maxAttempts: 3 });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({ outcome: 'failed', reason: 'UNREACHABLE', attempts: 3, retryable: true });
    const retries = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'waitMs' in l);
    expect(retries.map((l) => [l.attempt, l.error])).toEqual([
      [1, 'ECONNREFUSED'],
      [2, 'ECONNREFUSED'],
    ]);
    expect(error.userMessage).toContain('nothing reached Iqra');
    expect(error.userMessage).toContain('ECONNREFUSED');
    expect(sleeps).toHaveLength(2);
    expect(iqra.requests).toHaveLength(0);
  });

  it('an unresolvable host is retried, then failed UNREACHABLE', async () => {
    const { client: c, sleeps } = client(
      { url: 'http://iqra-fake.invalid' },
      { format: 'config', maxAttempts: 2, timeoutMs: 2_000 },
    );
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({ outcome: 'failed', reason: 'UNREACHABLE', attempts: 2 });
    expect(sleeps).toHaveLength(1);
  });
});

describe('never dial twice', () => {
  it('500 is unknown and not retried', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c, sleeps } = client(iqra, { format: 'config' });
    iqra.script({ status: 500, body: 'Internal Server Error' });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({ reason: 'HTTP_500', httpStatus: 500, attempts: 1 });
    expectUnknownMessage(error);
    expect(iqra.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it.each([502, 504])('%i from a gateway is unknown and not retried', async (status) => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config' });
    iqra.script({ status, body: '<html>gateway</html>' });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({ reason: `HTTP_${status}`, httpStatus: status, attempts: 1 });
    expectUnknownMessage(error);
    expect(error.userMessage).toContain('gateway');
    expect(iqra.requests).toHaveLength(1);
  });

  it('a timeout after the request was sent is unknown TIMEOUT and not retried', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c } = client(iqra, { format: 'config', timeoutMs: 800 });
    iqra.script({ delayMs: 5_000 });
    const started = Date.now();
    const error = await rejection(c.initiateCall(input()));
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(error).toMatchObject({ reason: 'TIMEOUT', attempts: 1 });
    expectUnknownMessage(error);
    expect(iqra.requests).toHaveLength(1);
  });

  it('a connection reset after the request was sent is unknown and not retried', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c, sleeps } = client(iqra, { format: 'config' });
    iqra.script({ destroy: true });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({ reason: 'CONNECTION_LOST', attempts: 1 });
    expectUnknownMessage(error);
    expect(iqra.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    // The client is still usable afterwards.
    expect((await c.initiateCall(input())).queueIds).toHaveLength(1);
  });
});

describe('secrets and logs', () => {
  it('a key undici cannot send (line break) fails before sending, without showing the key', async () => {
    const iqra = await fake({ mode: 'server' });
    const badKey = `${KEY}\nX-Injected: 1`;
    const { client: c, sleeps } = client(iqra, { format: 'config', apiKey: badKey });
    const error = await rejection(c.initiateCall(input()));
    expect(error).toMatchObject({
      outcome: 'failed',
      reason: 'INVALID_SETTINGS',
      attempts: 1,
      retryable: false,
    });
    expect(error.userMessage).toContain('IQRA_API_KEY');
    expect(`${error.message} ${error.userMessage}`).not.toContain(KEY);
    expect(iqra.requests).toHaveLength(0);
    expect(sleeps).toEqual([]);
  });

  it('no error message and no log line contains the API key; recipients are masked', async () => {
    const iqra = await fake({ mode: 'server' });
    const { client: c, logs } = client(iqra, { format: 'config' });
    iqra.script(
      { queueIds: ['ok-1'] },
      { code: 'InitiateCall:WEIRD', message: `Key ${KEY} is not allowed here` },
      { status: 500 },
      { status: 404 },
    );
    await c.initiateCall(input());
    const errors: IqraError[] = [];
    for (let i = 0; i < 3; i++) errors.push(await rejection(c.initiateCall(input())));

    expect(errors.map((e) => e.reason)).toEqual(['WEIRD', 'HTTP_500', 'HTTP_404']);
    expect(errors[0]?.userMessage).toContain('Key [redacted] is not allowed here');
    for (const e of errors) {
      for (const text of [e.message, e.userMessage, e.iqraMessage ?? '', e.code ?? '', JSON.stringify(e)]) {
        expect(text).not.toContain(KEY);
      }
    }
    expect(logs.length).toBeGreaterThanOrEqual(8);
    for (const line of logs) {
      expect(line).not.toContain(KEY);
      expect(line).not.toContain(RECIPIENT);
    }
    const parsed = logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.every((l) => l.requestId === 'req-7f3a')).toBe(true);
    expect(parsed.some((l) => l.recipient === '+*******2671')).toBe(true);
    expect(parsed.find((l) => l.msg === 'iqra initiate call: queued')).toMatchObject({
      attempt: 1,
      status: 200,
    });
    // The unknown code and the 500 may both have queued the call: errors, with the outcome `unknown`.
    expect(parsed.filter((l) => l.level === 'error')).toMatchObject([
      { outcome: 'unknown', status: 200 },
      { outcome: 'unknown', status: 500 },
    ]);
  });
});

describe('codes of the open-source server’s own checks', () => {
  // Read from abdofallah/IqraAI: APIv1BusinessCallController.InitiateCall, UserAPIValidationHelper and
  // BusinessMakeCallManager.QueueCallInitiationRequestAsync answer these before anything is queued.
  const Q = 'InitiateCall:QueueCallInitiationRequestAsync:';
  const PRE_QUEUE: ReadonlyArray<readonly [code: string, message: string, mustSay: RegExp]> = [
    [
      'InitiateCall:ValidateAPIUserAndBusinessSessionAsync:ValidateUserAPIAsync:INVALID_API_KEY',
      'Validation failed for the api key.',
      /did not accept the API key.*IQRA_API_KEY/s,
    ],
    [
      'InitiateCall:ValidateAPIUserAndBusinessSessionAsync:BUSINESSES_DISABLED',
      'Bussinesses are disabled for the user: unpaid',
      /disabled/,
    ],
    [
      'InitiateCall:BUSINESS_CALLING_DISABLED',
      'Outbound calling is disabled for this business: compliance review',
      /calling is disabled.*compliance review/s,
    ],
    [
      `${Q}CONFIG_METADATA_VALUE_INVALID`,
      'Metadata value not found or invalid in config data for Source.',
      /metadata/i,
    ],
    [
      `${Q}CONFIG_SCHEDULE_TYPE_NOT_FOUND`,
      'Schedule type not found in config data.',
      /Schedule type not found/,
    ],
    [`${Q}CONFIG_DESERIALIZATION_ERROR`, 'Invalid config data format.', /Invalid config data format/],
    [`${Q}CAMPAIGN_NOT_FOUND`, 'Campaign not found in business.', /campaign.*IQRA_CAMPAIGNS/s],
  ];

  it.each(PRE_QUEUE)(
    '%s is failed (nothing was queued), explained, and not retried',
    async (code, message, mustSay) => {
      const iqra = await fake({ mode: 'server' });
      const { client: c, sleeps } = client(iqra, { format: 'config' });
      iqra.script({ code, message });
      const error = await rejection(c.initiateCall(input()));
      expect(error).toMatchObject({
        outcome: 'failed',
        code,
        httpStatus: 200,
        attempts: 1,
        retryable: false,
      });
      expect(error.userMessage).not.toMatch(/may have placed/);
      expect(error.userMessage).toMatch(mustSay);
      expect(iqra.requests).toHaveLength(1);
      expect(sleeps).toEqual([]);
    },
  );
});

describe('the key in a long message from Iqra', () => {
  it.each([
    ['a 200 with an unknown code', { code: 'InitiateCall:SomethingNew:ODD' }],
    ['a 400 without a code', { status: 400 }],
  ] as const)(
    '%s: no part of the key reaches the rep, even where the message is shortened',
    async (_name, shape) => {
      const iqra = await fake({ mode: 'server' });
      const { client: c } = client(iqra, { format: 'config' });
      // The key straddles the point where the quoted message is cut (about 300 characters).
      const message = `${'x'.repeat(290)} ${KEY} was refused`;
      if ('code' in shape) iqra.script({ code: shape.code, message });
      else iqra.script({ status: shape.status, body: { success: false, message, data: null } });
      const error = await rejection(c.initiateCall(input()));
      for (const text of [error.message, error.userMessage, error.iqraMessage ?? '', JSON.stringify(error)]) {
        expect(text).not.toContain(KEY.slice(0, 6));
      }
    },
  );
});
