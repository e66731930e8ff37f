import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iqraClientFor, type RunningApp, type SlackAppOptions, startSlackApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/log.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { type FakeIqra, type FakeIqraOptions, startFakeIqra } from './fake-iqra.js';
import { type FakeSlack, startFakeSlack } from './fake-slack.js';
import { postSigned, signedFormHeaders, slashCommandBody } from './slack-signature.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-1111-2222-testtoken';

/** Settings for a test app: HTTP mode on a free port, pointed at the stand-ins. Override any variable. */
export function testEnv(
  slack: FakeSlack,
  iqra: FakeIqra,
  overrides: Record<string, string | undefined> = {},
) {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    PORT: '0',
    SLACK_API_URL: slack.apiUrl,
    IQRA_API_KEY: iqra.apiKey,
    IQRA_BUSINESS_ID: iqra.businessId,
    IQRA_BASE_URL: iqra.url,
    IQRA_AGENTS: 'sales=agent_sales_01,support=agent_support_02',
    IQRA_DEFAULT_AGENT: 'sales',
    IQRA_NUMBERS: 'main=num_main_01',
    IQRA_CAMPAIGNS: 'sales=camp_sales_01',
    IQRA_TIMEOUT_MS: '2000',
    // Tests run at any hour: calling hours have tests of their own.
    CALLING_HOURS: '00:00-24:00',
    // A busy test machine can stall a test's event loop: load shedding by lag or load has tests of its own.
    OVERLOAD_LAG_MS: '0',
    OVERLOAD_BUSY_PERCENT: '0',
    ...overrides,
  };
}

export interface CommandOptions {
  user?: string;
  channel?: string;
  team?: string;
  /** More of Slack's fields, e.g. Enterprise Grid's `enterprise_id` and `enterprise_name`. */
  fields?: Record<string, string>;
  triggerId?: string;
  /** Extra headers, e.g. `x-slack-retry-num`. */
  headers?: Record<string, string>;
  /** Sign with this secret instead of the app's. */
  secret?: string;
  /** Request timestamp (unix seconds); default now. */
  timestamp?: number;
}

export interface TestApp {
  slack: FakeSlack;
  iqra: FakeIqra;
  config: Config;
  store: Store;
  running: RunningApp;
  logs: Record<string, unknown>[];
  url: string;
  /** Sends a Slack-signed `/call` slash command; resolves with Bolt's HTTP answer (the ack). */
  command(text: string, options?: CommandOptions): Promise<SentCommand>;
  /**
   * Sends a Slack-signed interactivity payload (`block_actions`, `view_submission`, ...); `headers` adds to the
   * signed ones, e.g. Slack's `x-slack-retry-num` on a redelivery.
   */
  interact(
    payload: Record<string, unknown>,
    options?: { headers?: Record<string, string> },
  ): Promise<{ status: number; body: string }>;
  /** A `block_actions` payload for a button press on a message the app posted. */
  buttonPress(options: {
    actionId: string;
    value: string;
    user: string;
    message: { ts: string; blocks?: unknown };
    channel?: string;
  }): Record<string, unknown>;
  close(): Promise<void>;
}

export interface SentCommand {
  status: number;
  /** The ack body, parsed when JSON. */
  body: unknown;
  responseUrl: string;
  triggerId: string;
}

let sequence = 0;

/** Starts the stand-ins and the real app (Bolt App + HTTPReceiver on port 0), wired like `npm start` does. */
export async function startTestApp(
  options: {
    env?: Record<string, string | undefined>;
    iqra?: FakeIqraOptions;
    now?: () => Date;
    /** Share stand-ins or a store with another app (two replicas); by default each app gets its own. */
    slack?: FakeSlack;
    fakeIqra?: FakeIqra;
    store?: Store;
    /** Anything else startSlackApp takes (timers, for instance). */
    appOptions?: Partial<SlackAppOptions>;
  } = {},
): Promise<TestApp> {
  const slack = options.slack ?? (await startFakeSlack());
  const iqra = options.fakeIqra ?? (await startFakeIqra(options.iqra));
  const config = loadConfig(
    testEnv(slack, iqra, {
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'iqra-calls-')), 'calls.sqlite'),
      ...options.env,
    }),
  );
  const ownStore = !options.store;
  const store = options.store ?? (await openStore(config.store));
  if (ownStore) await store.migrate();
  const logs: Record<string, unknown>[] = [];
  const logger: Logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) });
  const client = iqraClientFor(config, { sleep: async () => {}, logger });
  const running = await startSlackApp({
    config,
    logger,
    iqra: client,
    store,
    retryConfig: { retries: 0 },
    deliveryPollMs: 100,
    // Slack's pace (1 message per second per channel) has a test of its own; the others need not wait for it.
    slackMinGapMs: 0,
    trackingTickMs: 50,
    ...options.appOptions,
    ...(options.now ? { now: options.now } : {}),
  });
  const url = `http://127.0.0.1:${running.port}`;
  return {
    slack,
    iqra,
    config,
    store,
    running,
    logs,
    url,
    async command(text, o = {}) {
      sequence += 1;
      const triggerId = o.triggerId ?? `${1000 + sequence}.98765.${Date.now().toString(16)}${sequence}`;
      const responseUrl = slack.responseUrl(`cmd-${sequence}`);
      const body = slashCommandBody({
        text,
        triggerId,
        responseUrl,
        ...(o.user ? { user: o.user } : {}),
        ...(o.channel ? { channel: o.channel } : {}),
        ...(o.team ? { team: o.team } : {}),
        ...(o.fields ? { fields: o.fields } : {}),
      });
      const res = await postSigned(url, body, o.secret ?? SIGNING_SECRET, {
        ...(o.headers ? { headers: o.headers } : {}),
        ...(o.timestamp ? { timestamp: o.timestamp } : {}),
      });
      const raw = await res.text();
      let parsed: unknown = raw;
      try {
        parsed = raw ? JSON.parse(raw) : '';
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, responseUrl, triggerId };
    },
    async interact(payload, o = {}) {
      const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
      const res = await fetch(`${url}/slack/events`, {
        method: 'POST',
        headers: { ...signedFormHeaders(SIGNING_SECRET, body), ...o.headers },
        body,
      });
      return { status: res.status, body: await res.text() };
    },
    buttonPress(o) {
      sequence += 1;
      const channel = o.channel ?? 'C0SALES01';
      return {
        type: 'block_actions',
        team: { id: 'T0001', domain: 'acme' },
        user: { id: o.user, username: o.user.toLowerCase(), team_id: 'T0001' },
        api_app_id: 'A0IQRA001',
        token: 'legacy-verification-token',
        container: { type: 'message', message_ts: o.message.ts, channel_id: channel, is_ephemeral: false },
        trigger_id: `${2000 + sequence}.98765.button${sequence}`,
        channel: { id: channel, name: 'sales' },
        message: { type: 'message', ts: o.message.ts, text: 'message', blocks: o.message.blocks ?? [] },
        response_url: slack.responseUrl(`action-${sequence}`),
        actions: [
          {
            type: 'button',
            action_id: o.actionId,
            block_id: 'place_again',
            value: o.value,
            text: { type: 'plain_text', text: 'button' },
            action_ts: `${Date.now() / 1000}`,
          },
        ],
      };
    },
    async close() {
      await running.stop();
      await client.close();
      if (ownStore) await store.close().catch(() => {});
      if (!options.slack) await slack.close();
      if (!options.fakeIqra) await iqra.close();
    },
  };
}

/** The call once its tracking has reached `progress` (polled from the store, for up to 8 s). */
export async function progressOf(a: TestApp, id: string, progress: string) {
  const deadline = Date.now() + 8000;
  for (;;) {
    const call = await a.store.getCall(id);
    if (call?.progress === progress) return call;
    if (Date.now() > deadline) throw new Error(`never reached ${progress}: ${call?.progress}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
