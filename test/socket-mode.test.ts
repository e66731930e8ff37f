import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { iqraClientFor, type RunningApp, startSlackApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { IqraClient } from '../src/iqra/client.js';
import { createLogger } from '../src/log.js';
import { SOCKET_RECONNECT_GRACE_MS } from '../src/slack/socket-connection.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { type FakeIqra, startFakeIqra } from './support/fake-iqra.js';
import { type FakeSlack, type SlackApiCall, startFakeSlack } from './support/fake-slack.js';
import { type FakeSocketMode, type SocketModeAck, startFakeSocketMode } from './support/fake-socket-mode.js';
import { type SentView, viewSubmission } from './support/slack-payloads.js';
import { BOT_TOKEN, type TestApp, testEnv } from './support/test-app.js';

/**
 * Socket Mode for real: the real Bolt App, SocketModeReceiver and @slack/socket-mode client (undici's WebSocket),
 * chosen by startSlackApp because SLACK_APP_TOKEN is set, talking to a local fake Web API and WebSocket endpoint.
 */

const APP_TOKEN = 'xapp-1-A0IQRA001-1111-apptokentest';

interface Harness {
  slack: FakeSlack;
  iqra: FakeIqra;
  socket: FakeSocketMode;
  client: IqraClient;
  store: Store;
  running: RunningApp | undefined;
  port: number;
  logs: Record<string, unknown>[];
}

let harness: Harness | undefined;

afterEach(async () => {
  const h = harness;
  harness = undefined;
  if (!h) return;
  await h.running?.stop();
  // Let the client's close handshake finish before the fake goes away, so that no reconnect is attempted.
  await Promise.race([
    Promise.all(h.socket.connections.map((c) => c.ended)),
    new Promise((resolve) => setTimeout(resolve, 1000)),
  ]);
  await h.socket.close();
  await h.client.close();
  await h.store.close().catch(() => {});
  await h.slack.close();
  await h.iqra.close();
});

/** A port nobody listens on right now (the receiver's health server needs a fixed one: it does not report PORT=0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function start(): Promise<Harness> {
  const slack = await startFakeSlack();
  const iqra = await startFakeIqra();
  const socket = await startFakeSocketMode();
  socket.attach(slack);
  const port = await freePort();
  const config = loadConfig(
    testEnv(slack, iqra, {
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_SIGNING_SECRET: undefined,
      PORT: String(port),
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'iqra-calls-socket-')), 'calls.sqlite'),
    }),
  );
  const store = await openStore(config.store);
  await store.migrate();
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) });
  const client = iqraClientFor(config, { sleep: async () => {}, logger });
  const h: Harness = { slack, iqra, socket, client, store, running: undefined, port, logs };
  harness = h;
  expect(config.slack.mode).toBe('socket');
  const starting = startSlackApp({
    config,
    logger,
    iqra: client,
    store,
    retryConfig: { retries: 0 },
    deliveryPollMs: 100,
  });
  // Fail fast and say why when the Socket Mode client asks somewhere else than SLACK_API_URL for its URL (it would
  // then wait on that request, or reach the real Slack).
  const opened = slack
    .waitFor(() => slack.callsOf('apps.connections.open').length > 0, 'apps.connections.open', 5000)
    .catch(() => {
      throw new Error(
        `Socket Mode did not start: no apps.connections.open reached SLACK_API_URL (${config.slack.apiUrl}) within 5 s; ` +
          'the Socket Mode client is not using the configured Web API URL.',
      );
    });
  await Promise.race([starting, opened]);
  h.running = await starting;
  return h;
}

let sequence = 0;

/** A `/call` slash command payload, as Slack puts it in a `slash_commands` envelope. */
function commandPayload(h: Harness, text: string, triggerId?: string): Record<string, string> {
  sequence += 1;
  return {
    token: 'legacy-verification-token',
    team_id: 'T0001',
    team_domain: 'acme',
    channel_id: 'C0SALES01',
    channel_name: 'sales',
    user_id: 'U0MARIA1',
    user_name: 'maria',
    command: '/call',
    text,
    api_app_id: 'A0IQRA001',
    is_enterprise_install: 'false',
    response_url: h.slack.responseUrl(`socket-cmd-${sequence}`),
    trigger_id: triggerId ?? `${2000 + sequence}.98765.${Date.now().toString(16)}${sequence}`,
  };
}

function posts(h: Harness): SlackApiCall[] {
  return h.slack.callsOf('chat.postMessage');
}

async function waitForThreadReply(h: Harness): Promise<SlackApiCall> {
  return h.slack.waitFor(() => posts(h).find((c) => c.args.thread_ts), 'the thread reply');
}

/** Lets any work still running after the ack finish, so that "nothing happened" is really nothing. */
async function settle(h: Harness, outcome: string): Promise<void> {
  await h.slack
    .waitFor(() => h.logs.some((l) => l.msg === outcome), `the log "${outcome}"`, 3000)
    .catch(() => {});
  await new Promise((r) => setTimeout(r, 200));
}

interface Health {
  status: number;
  body: { ok?: boolean; slack?: string; reason?: string; store?: string };
  at: number;
}

/** GET /healthz on PORT, with when it was answered. */
async function health(h: Harness): Promise<Health> {
  const res = await fetch(`http://127.0.0.1:${h.port}/healthz`);
  return { status: res.status, body: (await res.json()) as Health['body'], at: Date.now() };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls /healthz every 200 ms until `done` holds for an answer (which it returns); rejects after `timeoutMs`. */
async function healthUntil(
  h: Harness,
  done: (answer: Health) => boolean,
  what: string,
  timeoutMs: number,
  seen: Health[] = [],
): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await health(h);
    seen.push(answer);
    if (done(answer)) return answer;
    if (Date.now() > deadline)
      throw new Error(`/healthz never ${what} within ${timeoutMs} ms: last ${JSON.stringify(answer)}`);
    await pause(200);
  }
}

describe('Socket Mode (SLACK_APP_TOKEN set)', () => {
  it('opens the connection with the app-level token, on SLACK_API_URL, and connects to the URL it got', async () => {
    const h = await start();
    // Twice: once by the app's start-up check of the token (its URL unused), then by the Socket Mode client.
    const opens = h.slack.callsOf('apps.connections.open');
    expect(opens).toHaveLength(2);
    expect(opens.map((o) => o.token)).toEqual([APP_TOKEN, APP_TOKEN]);
    // The bot token is for the Web API only; the app token never travels anywhere else.
    expect(h.slack.calls.filter((c) => c.token === APP_TOKEN).map((c) => c.method)).toEqual([
      'apps.connections.open',
      'apps.connections.open',
    ]);
    expect(h.slack.callsOf('auth.test')[0]?.token).toBe(BOT_TOKEN);
    const connection = await h.socket.waitForConnection();
    expect(h.socket.connections).toHaveLength(1);
    expect(connection.path).toBe('/link/?ticket=ticket-2&app_id=A0IQRA001');
    expect(h.running?.port).toBe(h.port);
  });

  it('acks a /call envelope over the socket, sends one Iqra request and posts the parent and its thread reply', async () => {
    const h = await start();
    const ack = await h.socket.sendEnvelope('slash_commands', commandPayload(h, '+14155552671 agent=sales'), {
      envelopeId: 'e1',
    });
    expect(ack).toEqual({ envelope_id: 'e1', payload: {} });

    const thread = await waitForThreadReply(h);
    expect(h.iqra.requests).toHaveLength(1);
    expect(h.iqra.requests[0]?.fields).toMatchObject({
      RecipientNumber: '+14155552671',
      AgentId: 'agent_sales_01',
      'Metadata[SlackChannelId]': 'C0SALES01',
    });
    const parent = posts(h).find((c) => !c.args.thread_ts);
    expect(parent?.args.channel).toBe('C0SALES01');
    expect(parent?.token).toBe(BOT_TOKEN);
    expect(String(parent?.args.text)).toContain('queued a call to *+1 415 555 2671* with *sales*');
    const parentIndex = posts(h).indexOf(parent as SlackApiCall);
    expect(thread.args.channel).toBe('C0SALES01');
    expect(thread.args.thread_ts).toBe(`${1_764_000_000 + parentIndex + 1}.000100`);
    expect(h.socket.acks).toHaveLength(1);
  });

  it('answers a mistake in the ack itself, ephemerally, and sends nothing to Iqra', async () => {
    const h = await start();
    const ack = await h.socket.sendEnvelope('slash_commands', commandPayload(h, '+1234567890'));
    expect(ack.payload.response_type).toBe('ephemeral');
    expect(JSON.stringify(ack.payload)).toContain('not a valid number');
    await settle(h, 'command refused');
    expect(h.iqra.requests).toHaveLength(0);
    expect(posts(h)).toHaveLength(0);
    expect(h.slack.responses).toHaveLength(0);
  });

  it('serves GET /healthz on PORT with 200 once connected', async () => {
    const h = await start();
    const res = await fetch(`http://127.0.0.1:${h.port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
    const other = await fetch(`http://127.0.0.1:${h.port}/slack/events`, { method: 'POST' });
    expect(other.status).toBe(404);
  });

  it('keeps GET /healthz at 200 through a routine reconnect (Slack sends "disconnect")', async () => {
    const h = await start();
    expect((await health(h)).body).toMatchObject({ ok: true, store: 'ok', slack: 'connected' });
    h.socket.sendDisconnect('refresh_requested');
    // Polled all along the reconnect (the client waits 5 s before it reconnects), until connected again.
    const seen: Health[] = [];
    await healthUntil(
      h,
      (answer) => h.socket.connections.length === 2 && answer.body.slack === 'connected',
      'said connected again on a second connection',
      12_000,
      seen,
    );
    // The polls covered the gap (the client waits 5 s before it reconnects), and none of them failed.
    const during = seen.filter((answer) => answer.body.slack === 'reconnecting');
    expect(Number(during.at(-1)?.at) - Number(during[0]?.at)).toBeGreaterThanOrEqual(4000);
    expect(seen.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(h.logs.some((l) => l.msg === 'Socket Mode connection to Slack back')).toBe(true);
  });

  it('answers GET /healthz 503 with the reason once the connection is down longer than a reconnect takes, and 200 once back', async () => {
    const h = await start();
    await h.socket.waitForConnection();
    h.socket.refuseConnections = true;
    const droppedAt = Date.now();
    await h.socket.dropConnection();

    // Within the grace a routine reconnect would be under way: still 200, saying so.
    const seen: Health[] = [];
    await healthUntil(h, (answer) => answer.body.slack === 'reconnecting', 'said reconnecting', 2000, seen);
    const unhealthy = await healthUntil(
      h,
      (answer) => answer.status === 503,
      'answered 503',
      SOCKET_RECONNECT_GRACE_MS + 5000,
      seen,
    );
    expect(seen.filter((answer) => answer.status !== 200 && answer !== unhealthy)).toEqual([]);
    // 200 until near the end of the grace, then 503 soon after it.
    const lastOk = seen.filter((answer) => answer.status === 200).at(-1);
    expect(Number(lastOk?.at) - droppedAt).toBeGreaterThan(SOCKET_RECONNECT_GRACE_MS - 2000);
    expect(unhealthy.at - droppedAt).toBeGreaterThanOrEqual(SOCKET_RECONNECT_GRACE_MS);
    expect(unhealthy.at - droppedAt).toBeLessThan(SOCKET_RECONNECT_GRACE_MS + 3000);
    expect(unhealthy.body).toMatchObject({ ok: false, slack: 'reconnecting' });
    const since = /^not connected to Slack \(reconnecting since (\S+)\)$/.exec(String(unhealthy.body.reason));
    expect(since).not.toBeNull();
    expect(Math.abs(Date.parse(String(since?.[1])) - droppedAt)).toBeLessThan(1000);
    // The client did try again, and was refused; it is still down, so /healthz still says so.
    expect(h.socket.refused).toBeGreaterThanOrEqual(1);
    expect((await health(h)).status).toBe(503);
    expect(
      h.logs.filter(
        (l) => l.msg === '/healthz answers 503: the Socket Mode connection to Slack is still down',
      ),
    ).toHaveLength(1);

    // Slack takes connections again: the client's next attempt connects, and /healthz is 200 again.
    h.socket.refuseConnections = false;
    await h.slack.waitFor(() => h.socket.connections.length === 2, 'the reconnection', 15_000);
    const back = await healthUntil(h, (answer) => answer.status === 200, 'answered 200 again', 5000);
    expect(back.body).toMatchObject({ ok: true, store: 'ok', slack: 'connected' });
    expect(h.logs.some((l) => l.msg === 'Socket Mode connection to Slack back')).toBe(true);
  }, 45_000);

  it('places one call when the same envelope is delivered twice (same trigger_id)', async () => {
    const h = await start();
    const payload = commandPayload(h, '+14155552671 agent=sales');
    const first = await h.socket.sendEnvelope('slash_commands', payload, { envelopeId: 'e-dup' });
    await waitForThreadReply(h);
    const second = await h.socket.sendEnvelope('slash_commands', payload, {
      envelopeId: 'e-dup',
      retryAttempt: 1,
      retryReason: 'timeout',
    });
    expect(first).toEqual({ envelope_id: 'e-dup', payload: {} });
    expect(second).toEqual({ envelope_id: 'e-dup', payload: {} });
    await settle(h, 'redelivered command ignored: it was already handled');
    expect(h.iqra.requests).toHaveLength(1);
    expect(posts(h)).toHaveLength(2);
    expect(
      h.logs.find((l) => l.msg === 'redelivered command ignored: it was already handled')?.retryNum,
    ).toBe(1);
  });

  it('reconnects when Slack sends "disconnect", and a command redelivered on the new connection places no second call', async () => {
    const h = await start();
    const payload = commandPayload(h, '+14155552671');
    await h.socket.sendEnvelope('slash_commands', payload);
    await waitForThreadReply(h);

    h.socket.sendDisconnect('refresh_requested');
    // The client closes the old connection, waits (clientPingTimeout, 5 s), then opens a new one.
    await h.slack.waitFor(() => h.socket.connections.length === 2, 'the second connection', 12_000);
    expect(h.socket.connections[0]?.closeCodeFromApp).toBe(1000);
    // The start-up check of the token, the first connection, the second.
    expect(h.slack.callsOf('apps.connections.open')).toHaveLength(3);
    const second = await h.socket.waitForConnection();
    expect(second.id).toBe(2);
    expect(second.path).toContain('ticket=ticket-3');

    const ack: SocketModeAck = await h.socket.sendEnvelope('slash_commands', payload, { retryAttempt: 1 });
    expect(ack.payload).toEqual({});
    await settle(h, 'redelivered command ignored: it was already handled');
    expect(h.iqra.requests).toHaveLength(1);
  });

  /**
   * Sends an envelope while the database is slow to record it, and has Slack recycle the connection (`disconnect`)
   * meanwhile, so that the app can't ack it: resolves with what the fake got back ('no ack') once it was recorded.
   */
  async function deliverAcrossDisconnect(
    h: Harness,
    type: string,
    payload: Record<string, unknown>,
    envelopeId: string,
  ) {
    const first = await h.socket.waitForConnection();
    let recorded!: () => void;
    const slowRecord = new Promise<void>((resolve) => {
      recorded = resolve;
    });
    const recordCall = h.store.recordCall.bind(h.store);
    h.store.recordCall = async (...args) => {
      await slowRecord;
      return recordCall(...args);
    };
    const answer = h.socket.sendEnvelope(type, payload, { envelopeId }).then(
      () => 'acked',
      () => 'no ack',
    );
    await h.slack.waitFor(
      () => h.socket.frames.some((f) => f.direction === 'out' && f.text.includes(envelopeId)),
      'the envelope sent',
    );
    h.socket.sendDisconnect('refresh_requested');
    await first.ended;
    recorded();
    return answer;
  }

  it('places a /call whose ack could not be sent (Slack sent "disconnect" meanwhile), once, and acks its redelivery', async () => {
    const h = await start();
    const payload = commandPayload(h, '+14155552671 agent=sales');
    expect(await deliverAcrossDisconnect(h, 'slash_commands', payload, 'e-lost')).toBe('no ack');

    // The request was recorded, so it is placed, although Slack never got the ack.
    await waitForThreadReply(h);
    expect(h.iqra.requests).toHaveLength(1);

    // Slack redelivers the envelope on the new connection: acked, and no second call.
    await h.slack.waitFor(() => h.socket.connections.length === 2, 'the second connection', 12_000);
    await h.socket.waitForConnection();
    const ack = await h.socket.sendEnvelope('slash_commands', payload, {
      envelopeId: 'e-lost',
      retryAttempt: 1,
      retryReason: 'timeout',
    });
    expect(ack).toEqual({ envelope_id: 'e-lost', payload: {} });
    await settle(h, 'redelivered command ignored: it was already handled');
    expect(h.iqra.requests).toHaveLength(1);
    expect(posts(h).filter((c) => !c.args.thread_ts)).toHaveLength(1);
  });

  it('places a call form submission whose ack could not be sent (Slack sent "disconnect" meanwhile), once', async () => {
    const h = await start();
    await h.socket.sendEnvelope('slash_commands', commandPayload(h, ''));
    const opened = await h.slack.waitFor(() => h.slack.callsOf('views.open')[0], 'views.open');
    const view = opened.args.view as SentView;
    const submission = viewSubmission({ slack: h.slack } as TestApp, view, {
      input: { recipient: '+14155552671' },
    });
    expect(await deliverAcrossDisconnect(h, 'interactive', submission, 'e-form')).toBe('no ack');

    await waitForThreadReply(h);
    expect(h.iqra.requests).toHaveLength(1);

    await h.slack.waitFor(() => h.socket.connections.length === 2, 'the second connection', 12_000);
    await h.socket.waitForConnection();
    const ack = await h.socket.sendEnvelope('interactive', submission, {
      envelopeId: 'e-form',
      retryAttempt: 1,
    });
    expect(ack).toEqual({ envelope_id: 'e-form', payload: {} });
    await settle(h, 'call modal submitted again: the first submission was already recorded');
    expect(h.iqra.requests).toHaveLength(1);
  });

  it('stop() closes the socket normally (1000) and does not reconnect', async () => {
    const h = await start();
    const connection = await h.socket.waitForConnection();
    await h.running?.stop();
    h.running = undefined;
    await connection.ended;
    expect(connection.closeCodeFromApp).toBe(1000);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.socket.connections).toHaveLength(1);
    // The start-up check of the token and the one connection: none after stop().
    expect(h.slack.callsOf('apps.connections.open')).toHaveLength(2);
    const health = await fetch(`http://127.0.0.1:${h.port}/healthz`).catch((err: unknown) => err);
    expect(health).toBeInstanceOf(Error);
  });
});
