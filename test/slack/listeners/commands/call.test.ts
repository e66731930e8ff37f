import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../../../support/fake-slack.js';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

// A fixed "now" for time phrases: Friday 27 November 2026, 17:00 UTC (09:00 in Los Angeles).
const NOW = new Date('2026-11-27T17:00:00.000Z');

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(options: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  // A clock that starts at NOW and runs, so that requests made one after another are ordered.
  const startedAt = Date.now();
  app = await startTestApp({ now: () => new Date(NOW.getTime() + (Date.now() - startedAt)), ...options });
  app.slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
  return app;
}

function posts(a: TestApp, channel?: string): SlackApiCall[] {
  return a.slack.callsOf('chat.postMessage').filter((c) => !channel || c.args.channel === channel);
}

function textOf(call: SlackApiCall | undefined): string {
  return JSON.stringify(call?.args.blocks ?? '') + String(call?.args.text ?? '');
}

async function waitForThreadReply(a: TestApp): Promise<SlackApiCall> {
  return a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts), 'the thread reply');
}

/** Lets any work still running after the ack finish, so that "nothing happened" is really nothing. */
async function settle(a: TestApp): Promise<void> {
  await a.slack
    .waitFor(
      () => a.logs.some((l) => l.msg === 'command refused' || l.msg === 'call queued'),
      'the outcome',
      3000,
    )
    .catch(() => {});
  await new Promise((r) => setTimeout(r, 150));
}

describe('/call places an Iqra call end to end', () => {
  it('acks at once, sends one exact Iqra request, and posts a parent message with the details in its thread', async () => {
    const a = await start();
    const sent = await a.command(
      '+1 (415) 555-2671 agent=Sales at “tomorrow 10am” CustomerName="Jane Doe" Plan=Pro meta.Source=webinar',
    );
    expect(sent.status).toBe(200);
    expect(sent.body).toBe('');

    const thread = await waitForThreadReply(a);
    expect(a.iqra.requests).toHaveLength(1);
    const req = a.iqra.requests[0];
    expect(req?.path).toBe(`/api/v1/business/${a.iqra.businessId}/call/initiate`);
    expect(req?.headers.authorization).toBe(`Token ${a.iqra.apiKey}`);
    expect(req?.fields).toMatchObject({
      RecipientNumber: '+14155552671',
      AgentId: 'agent_sales_01',
      NumberId: 'num_main_01',
      CampaignId: 'camp_sales_01',
      // 10:00 in Los Angeles (PST, UTC-8) on Saturday 28 November.
      ScheduledTime: '2026-11-28T18:00:00.000Z',
      'DynamicVariables[CustomerName]': 'Jane Doe',
      'DynamicVariables[Plan]': 'Pro',
      'Metadata[Source]': 'webinar',
      'Metadata[SlackTeamId]': 'T0001',
      'Metadata[SlackChannelId]': 'C0SALES01',
      'Metadata[SlackUserId]': 'U0MARIA1',
    });
    expect(req?.fields['Metadata[RequestId]']).toMatch(/^req_[0-9a-z]{12}$/);
    // `both` with a resolved campaign: the server's config part travels in the same request.
    expect(req?.config).toEqual({
      campaignId: 'camp_sales_01',
      number: { type: 0, toNumber: '+14155552671' },
      schedule: {
        type: 1,
        dateTimeUTC: '2026-11-28T18:00:00.000Z',
        maxDateTimeUTC: '2026-11-28T19:00:00.000Z',
      },
      dynamicVariables: { CustomerName: 'Jane Doe', Plan: 'Pro' },
      metadata: expect.objectContaining({ Source: 'webinar', SlackUserId: 'U0MARIA1' }),
    });

    const [parent] = posts(a, 'C0SALES01');
    expect(parent?.token).toBe('xoxb-1111-2222-testtoken');
    expect(parent?.args.thread_ts).toBeUndefined();
    expect(String(parent?.args.text)).toContain(
      '<@U0MARIA1> queued a call to *+1 415 555 2671* with *sales*, at <!date^1795888800^',
    );
    expect(textOf(parent)).toContain('America/Los_Angeles');

    const parentTs = a.slack.calls.indexOf(parent as SlackApiCall);
    expect(parentTs).toBeGreaterThanOrEqual(0);
    expect(thread.args.channel).toBe('C0SALES01');
    const queueId = (a.iqra.requests.length && textOf(thread).match(/Queue id\*\\n`([^`]+)`/)?.[1]) || '';
    expect(queueId).not.toBe('');
    expect(textOf(thread)).toContain('agent_sales_01');
    expect(textOf(thread)).toContain('num_main_01');
    expect(textOf(thread)).toContain('camp_sales_01');
    expect(textOf(thread)).toContain('`CustomerName`, `Plan`');
    expect(textOf(thread)).toContain(String(req?.fields['Metadata[RequestId]']));
    expect(textOf(thread)).toContain('your Slack time zone (America/Los_Angeles)');
    // Only the variable names are shown in the channel, not their values.
    expect(textOf(thread)).not.toContain('Jane Doe');
  });

  it('threads the details under the parent message it posted', async () => {
    const a = await start();
    await a.command('+14155552671');
    const thread = await waitForThreadReply(a);
    const parent = posts(a).find((c) => !c.args.thread_ts);
    expect(parent).toBeDefined();
    // The fake answers chat.postMessage with increasing ts values; the reply must point at the parent's.
    const parentIndex = a.slack.callsOf('chat.postMessage').indexOf(parent as SlackApiCall);
    expect(thread.args.thread_ts).toBe(`${1_764_000_000 + parentIndex + 1}.000100`);
    expect(String(parent?.args.text)).toContain('queued a call to *+1 415 555 2671* with *sales*, now');
    expect(a.iqra.requests[0]?.fields.ScheduledTime).toBeUndefined();
  });

  it('answers /call help to the requester only, listing the configured agents and numbers', async () => {
    const a = await start();
    const sent = await a.command('help');
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ response_type: 'ephemeral' });
    const text = JSON.stringify(sent.body);
    expect(text).toContain('`sales` (default)');
    expect(text).toContain('`support`');
    expect(text).toContain('`main` (default)');
    await settle(a);
    expect(a.iqra.requests).toHaveLength(0);
    expect(posts(a)).toHaveLength(0);
  });
});

describe('/call help', () => {
  it.each([
    ['the test settings', {}],
    ['agents named otherwise', { IQRA_AGENTS: 'closer=agent_closer_01', IQRA_DEFAULT_AGENT: 'closer' }],
  ])('gives examples that each place a call when copied as they are (%s)', async (_, env) => {
    const a = await start({ env });
    const help = JSON.stringify((await a.command('help')).body);
    // In the message's text and again in its blocks: each once.
    const examples = [
      ...new Set([...help.matchAll(/• `\/call ([^`]+)`/g)].map((m) => (m[1] ?? '').replace(/\\"/g, '"'))),
    ];
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const refused: string[] = [];
    for (const [i, example] of examples.entries()) {
      const ack = await a.command(example, { triggerId: `help-example-${i}` });
      if (ack.body) refused.push(`${example}: ${JSON.stringify(ack.body)}`);
    }
    expect(refused).toEqual([]);
    await a.slack.waitFor(
      () => a.iqra.requests.length === examples.length || a.slack.responses.length > 0,
      'a call for each example',
    );
    expect(a.slack.responses.map((r) => JSON.stringify(r.body))).toEqual([]);
    expect(a.iqra.requests).toHaveLength(examples.length);
  });
});

describe('/call refuses bad input, sends nothing and posts nothing', () => {
  it.each([
    ['+1234567890', 'not a valid number'],
    ['+14155552671 agent=sale', "I don't know the agent “sale”"],
    ['+14155552671 from=backup', "I don't know the number “backup”"],
    ['+14155552671 agent=sales agent=support', 'twice'],
    ['+14155552671 Name="Jane', 'quote'],
    ['+14155552671 tomorrow 10am', 'at "tomorrow 10am"'],
    // Single quotes: the example to copy has double quotes, without the single ones.
    ["+14155552671 Name='Jane Doe'", 'put the value in double quotes: `Name="Jane Doe"`'],
    ['+14155552671 Name=‘Jane Doe’', 'put the value in double quotes: `Name="Jane Doe"`'],
  ])('%s → an ephemeral answer in the ack (%s)', async (text, message) => {
    const a = await start();
    const sent = await a.command(text);
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(sent.body)).toContain(message.replace(/"/g, '\\"'));
    await settle(a);
    expect(a.iqra.requests).toHaveLength(0);
    expect(posts(a)).toHaveLength(0);
  });

  it('lists the configured agents when the agent is unknown', async () => {
    const a = await start();
    const sent = await a.command('+14155552671 agent=nobody');
    expect(JSON.stringify(sent.body)).toContain('`sales`, `support`');
  });

  it.each([
    ['at "yesterday 10am"', 'past'],
    ['at "2027-01-15 10:00"', '30 days'],
    ['at "blorp o\'clock"', 'blorp'],
  ])('%s → told through response_url after the ack (%s)', async (when, message) => {
    const a = await start();
    const sent = await a.command(`+14155552671 ${when}`);
    expect(sent.status).toBe(200);
    expect(sent.body).toBe('');
    const reply = await a.slack.waitFor(() => a.slack.responses[0], 'the response_url answer');
    expect(reply.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(reply.body)).toContain(message);
    await settle(a);
    expect(a.iqra.requests).toHaveLength(0);
    expect(posts(a)).toHaveLength(0);
  });

  it('asks for the campaign (in the modal) when the server format needs one and none applies, sending nothing', async () => {
    const a = await start({ env: { IQRA_REQUEST_FORMAT: 'config', IQRA_CAMPAIGNS: 'webinar=camp_web_01' } });
    const sent = await a.command('+14155552671 agent=support');
    expect(sent.body).toBe('');
    const open = await a.slack.waitFor(() => a.slack.callsOf('views.open')[0], 'the modal');
    expect(JSON.stringify(open.args.view)).toContain('needs a campaign for every call');
    const wrong = await a.command('+14155552671 agent=support campaign=spring');
    expect(JSON.stringify(wrong.body)).toContain("I don't know the campaign “spring”");
    await settle(a);
    expect(a.iqra.requests).toHaveLength(0);
    expect(a.slack.callsOf('views.open')).toHaveLength(1);
  });
});

describe('/call when Iqra does not queue the call', () => {
  it('shows a refusal in the parent and the reason and code in the thread', async () => {
    const a = await start({ iqra: { mode: 'server' } });
    a.iqra.script({ code: 'INSUFFICIENT_BALANCE', message: 'Insufficient balance or minutes' });
    await a.command('+14155552671');
    const thread = await waitForThreadReply(a);
    const parent = posts(a).find((c) => !c.args.thread_ts);
    expect(String(parent?.args.text)).toContain('was not placed');
    expect(String(parent?.args.text)).toMatch(/balance/i);
    expect(textOf(thread)).toContain('InitiateCall:QueueCallInitiationRequestAsync:INSUFFICIENT_BALANCE');
    expect(textOf(thread)).toContain('Insufficient balance or minutes');
    expect(a.iqra.requests).toHaveLength(1);
  });

  it("shows Iqra's own words as text: markup in them neither pings a channel nor makes a link", async () => {
    const a = await start({ iqra: { mode: 'server' } });
    const said = 'Agent <!channel> not found & see <https://evil.example|here>';
    a.iqra.script({ code: 'INSUFFICIENT_BALANCE', message: said });
    await a.command('+14155552671');
    const thread = await waitForThreadReply(a);
    const parent = posts(a).find((c) => !c.args.thread_ts);
    for (const text of [JSON.stringify(parent?.args), textOf(thread)]) {
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<https://evil.example');
    }
    expect(textOf(thread)).toContain('&lt;!channel&gt; not found &amp; see');
    // The same words in `/call status`, read back from the store.
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    const status = JSON.stringify((await a.command(`status ${call?.id}`)).body);
    expect(status).toContain('INSUFFICIENT_BALANCE');
    expect(status).not.toContain('<!channel>');
    expect(status).not.toContain('<https://evil.example');
  });

  it('reports an HTTP 500 as "may or may not have been placed" with the request id, and does not retry', async () => {
    const a = await start();
    a.iqra.script({ status: 500, body: 'boom' });
    await a.command('+14155552671');
    const thread = await waitForThreadReply(a);
    const parent = posts(a).find((c) => !c.args.thread_ts);
    expect(String(parent?.args.text)).toContain('may or may not have been placed');
    const requestId = a.iqra.requests[0]?.fields['Metadata[RequestId]'];
    expect(textOf(thread)).toContain(String(requestId));
    await new Promise((r) => setTimeout(r, 200));
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('retries a 503 (Iqra did not take the request) and places the call once', async () => {
    const a = await start();
    a.iqra.script({ status: 503, headers: { 'retry-after': '1' } });
    await a.command('+14155552671');
    const thread = await waitForThreadReply(a);
    expect(a.iqra.requests).toHaveLength(2);
    expect(textOf(thread)).toContain('Iqra queued the call');
  });

  it('explains a reference-only request to a server that reads the config part', async () => {
    const a = await start({ iqra: { mode: 'server' }, env: { IQRA_REQUEST_FORMAT: 'fields' } });
    await a.command('+14155552671');
    const thread = await waitForThreadReply(a);
    expect(textOf(thread)).toContain('FORM_DATA_CONFIG_NOT_FOUND');
    expect(textOf(thread)).toContain('IQRA_REQUEST_FORMAT');
  });
});

describe('/call when Slack gets in the way', () => {
  it('places the call and tells the requester alone how to invite the bot when it is not in the channel', async () => {
    const a = await start();
    a.slack.failNext('chat.postMessage', 'not_in_channel', 'C0PRIVATE');
    await a.command('+14155552671', { channel: 'C0PRIVATE' });
    const reply = await a.slack.waitFor(() => a.slack.responses[0], 'the response_url answer');
    expect(a.iqra.requests).toHaveLength(1);
    expect(reply.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(reply.body)).toContain('/invite @Iqra Calls');
    expect(JSON.stringify(reply.body)).toContain('queued a call');
    expect(posts(a).filter((c) => c.args.thread_ts)).toHaveLength(0);
  });

  it('explains that it cannot post in a direct message between people', async () => {
    const a = await start();
    a.slack.failNext('chat.postMessage', 'channel_not_found', 'D0DIRECT1');
    await a.command('+14155552671', { channel: 'D0DIRECT1' });
    const reply = await a.slack.waitFor(() => a.slack.responses[0], 'the response_url answer');
    expect(JSON.stringify(reply.body)).toContain("can't post in a direct message");
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('never places a second call when Slack redelivers a command', async () => {
    const a = await start();
    const first = await a.command('+14155552671');
    await waitForThreadReply(a);
    const again = await a.command('+14155552671', {
      triggerId: first.triggerId,
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    expect(again.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.iqra.requests).toHaveLength(1);
    expect(posts(a, 'C0SALES01')).toHaveLength(2); // one parent, one thread reply
  });

  it('places one call when the same command arrives twice at the same moment', async () => {
    const a = await start();
    const triggerId = '5555.4444.concurrent';
    await Promise.all([
      a.command('+14155552671', { triggerId }),
      a.command('+14155552671', { triggerId, headers: { 'x-slack-retry-num': '1' } }),
    ]);
    await waitForThreadReply(a);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('acks before Iqra answers, so a slow Iqra never makes Slack time out', async () => {
    const a = await start();
    a.iqra.script({ delayMs: 1500 });
    const sent = await a.command('+14155552671');
    expect(sent.status).toBe(200);
    // The ack came back while Iqra was still thinking: no confirmation could have been posted yet.
    expect(posts(a)).toHaveLength(0);
    await waitForThreadReply(a);
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('copies the parent message to CALL_LOG_CHANNEL', async () => {
    const a = await start({ env: { CALL_LOG_CHANNEL: 'C0CALLLOG1' } });
    await a.command('+14155552671');
    const copy = await a.slack.waitFor(() => posts(a, 'C0CALLLOG1')[0], 'the log copy');
    expect(String(copy.args.text)).toContain('queued a call to *+1 415 555 2671*');
    expect(textOf(copy)).toContain('<#C0SALES01>');
  });

  it('reads the time in DEFAULT_TIMEZONE when the requester has no Slack zone, and says so', async () => {
    const a = await start({ env: { DEFAULT_TIMEZONE: 'Europe/London' } });
    await a.command('+14155552671 at "tomorrow 10am"', { user: 'U0NOZONE1' });
    const thread = await waitForThreadReply(a);
    expect(a.iqra.requests[0]?.fields.ScheduledTime).toBe('2026-11-28T10:00:00.000Z');
    expect(textOf(thread)).toContain("the app's default was used");
  });
});

describe('Slack request signatures', () => {
  it('answers a forged signature with 401 and sends nothing', async () => {
    const a = await start();
    const sent = await a.command('+14155552671', { secret: 'not-the-real-secret' });
    expect(sent.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.iqra.requests).toHaveLength(0);
    expect(a.slack.callsOf('chat.postMessage')).toHaveLength(0);
  });

  it('answers a stale timestamp (over 5 minutes old) with 401 and sends nothing', async () => {
    const a = await start();
    const sent = await a.command('+14155552671', { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(sent.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.iqra.requests).toHaveLength(0);
  });
});

describe('logs', () => {
  it('mask the phone number and never contain a token or the API key', async () => {
    const a = await start();
    await a.command('+14155552671 CustomerName=Jane');
    await waitForThreadReply(a);
    const all = JSON.stringify(a.logs);
    expect(all).toContain('2671');
    expect(all).not.toContain('4155552671');
    expect(all).not.toContain('xoxb-1111');
    expect(all).not.toContain(a.iqra.apiKey);
    expect(a.logs.some((l) => l.msg === 'call queued' && l.requestId)).toBe(true);
  });
});

describe('health', () => {
  it('GET /healthz answers 200 once the app is ready', async () => {
    const a = await start();
    const res = await fetch(`${a.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, store: 'ok' });
  });
});

describe('/call history and /call status', () => {
  it('lists the requester’s own latest calls, newest first, to them only', async () => {
    const a = await start();
    await a.command('+14155552671');
    await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts), 'the first call');
    await a.command('+1 646 555 0199 agent=support', { user: 'U0OTHER01' });
    await a.command('+44 20 7183 8750 at "tomorrow 10am"');
    await a.slack.waitFor(() => a.iqra.requests.length === 3 && true, 'three calls');
    await a.slack.waitFor(
      () => posts(a).filter((c) => c.args.thread_ts).length === 3 && true,
      'three replies',
    );
    const sent = await a.command('history');
    expect(sent.body).toMatchObject({ response_type: 'ephemeral' });
    const text = String((sent.body as { text: string }).text);
    expect(text).toContain('Your last 2 calls');
    expect(text).not.toContain('support');
    expect(text).not.toContain('+1 646 555 0199');
    // Newest first.
    expect(text.indexOf('+44 20 7183 8750')).toBeLessThan(text.indexOf('+1 415 555 2671'));
    expect(text.indexOf('+44 20 7183 8750')).toBeGreaterThan(0);
    expect(text).toContain(String(a.iqra.requests[0]?.fields['Metadata[RequestId]']));
  });

  it('shows one call by request id or queue id, with what happened step by step', async () => {
    const a = await start();
    await a.command('+14155552671');
    await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts), 'the call');
    const requestId = String(a.iqra.requests[0]?.fields['Metadata[RequestId]']);
    const byId = await a.command(`status ${requestId}`);
    const text = String((byId.body as { text: string }).text);
    expect(text).toContain('✅ queued');
    expect(text).toContain('⏳ received → ⏳ sending to Iqra');
    expect(text).toContain('⏳ sending to Iqra → ✅ queued');
    const queueId = (await a.store.getCall(requestId))?.queueIds[0] ?? 'missing';
    const byQueue = await a.command(`status ${queueId}`);
    expect(String((byQueue.body as { text: string }).text)).toContain(requestId);
    const someoneElse = await a.command(`status ${requestId}`, { user: 'U0OTHER01' });
    expect(String((someoneElse.body as { text: string }).text)).toContain('I found no call');
  });

  it('records a refused time as refused, with the reason', async () => {
    const a = await start();
    await a.command('+14155552671 at "yesterday 10am"');
    await a.slack.waitFor(() => a.slack.responses[0], 'the refusal');
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    expect(call?.state).toBe('refused');
    expect(call?.userMessage).toContain('past');
    expect(a.iqra.requests).toHaveLength(0);
  });
});

describe('/call at a time beyond the scheduling limit', () => {
  it('refuses a time further ahead than CALL_MAX_SCHEDULE_DAYS as too far, with an example that is accepted', async () => {
    const a = await start();
    const refusal = async (when: string): Promise<string> => {
      const before = a.slack.responses.length;
      await a.command(`+14155552671 at "${when}"`);
      const reply = await a.slack.waitFor(() => a.slack.responses[before], `the answer to "${when}"`);
      return String(reply.body.text);
    };
    // Days and years ahead, written without a time of day: it is the day that is too far, at any hour.
    for (const when of ['in 400 days', 'in 2 years', 'next year', 'in 3 months', 'in 500 days at 10am']) {
      const text = await refusal(when);
      expect(text).toContain(`“${when}” is`);
      expect(text).toContain('more than 30 days from now');
      expect(text).toContain(
        'Calls can be scheduled at most 30 days ahead, up to Sun 27 Dec 2026, 09:00 PST',
      );
      expect(text).not.toContain('time of day');
    }
    // The example: "in 30 days 10am" is an hour past the limit at 09:00, so the day before.
    const example = /e\.g\. `at "([^"`]+)"`/.exec(await refusal('in 400 days'))?.[1];
    expect(example).toBe('in 29 days 10am');
    await a.command(`+14155552671 at "${example}"`);
    await waitForThreadReply(a);
    expect(a.iqra.requests.map((r) => r.fields.ScheduledTime)).toEqual(['2026-12-26T18:00:00.000Z']);
  });

  it('answers by CALL_MAX_SCHEDULE_DAYS: "in 30 days" is too far for 7, and only needs a time of day for 30', async () => {
    const a = await start({ env: { CALL_MAX_SCHEDULE_DAYS: '7' } });
    await a.command('+14155552671 at "in 30 days"');
    const week = await a.slack.waitFor(() => a.slack.responses[0], 'the refusal');
    expect(String(week.body.text)).toContain('more than 7 days from now');
    expect(String(week.body.text)).toContain('e.g. `at "in 6 days 10am"`');
    await a.close();

    const b = await start();
    await b.command('+14155552671 at "in 30 days"');
    const month = await b.slack.waitFor(() => b.slack.responses[0], 'the refusal');
    expect(String(month.body.text)).toContain("doesn't say the time of day");
    expect(String(month.body.text)).not.toContain('more than 30 days');
  });
});

describe('/call with a number in other digits', () => {
  it.each([
    ['＋１ ４１５ ５５５ ２６７１', '+14155552671'],
    ['（４１５）５５５－２６７１', '+14155552671'],
    ['+٤٤ ٢٠ ٧١٨٣ ٨٧٥٠', '+442071838750'],
    ['+۱ ۴۱۵ ۵۵۵ ۲۶۷۱', '+14155552671'],
  ])(
    'calls %s (full-width or Arabic-Indic digits, as a phone or another script writes them)',
    async (number, e164) => {
      const a = await start();
      const sent = await a.command(`${number} agent=sales`);
      expect(sent.body).toBe('');
      await waitForThreadReply(a);
      expect(a.iqra.requests.map((r) => r.fields.RecipientNumber)).toEqual([e164]);
    },
  );
});

describe('/call at a day and a bare hour from 8 to 12', () => {
  it.each([
    ['tomorrow 9', '2026-11-28T17:00:00.000Z'],
    ['tomorrow 8', '2026-11-28T16:00:00.000Z'],
    ['monday 9', '2026-11-30T17:00:00.000Z'],
    ['9 tomorrow', '2026-11-28T17:00:00.000Z'],
    ['Dec 3 9', '2026-12-03T17:00:00.000Z'],
  ])('reads %j in the morning, as the README says and as "tomorrow 10" is read', async (when, scheduled) => {
    const a = await start();
    await a.command(`+14155552671 at "${when}"`);
    const answer = await a.slack.waitFor(
      () => a.slack.responses[0]?.body ?? posts(a).find((c) => c.args.thread_ts)?.args,
      'the refusal or the thread reply',
    );
    expect(JSON.stringify(answer)).toContain('Iqra queued the call');
    expect(a.iqra.requests.map((r) => r.fields.ScheduledTime)).toEqual([scheduled]);
  });
});

describe('health with the store', () => {
  it('answers 503 when the store cannot be reached', async () => {
    const a = await start();
    await a.store.close();
    const res = await fetch(`${a.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ok: false, store: 'unreachable' });
  });
});
