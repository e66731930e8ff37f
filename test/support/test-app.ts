import { type RunningApp, startSlackApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { IqraClient } from '../../src/iqra/client.js';
import { createLogger, type Logger } from '../../src/log.js';
import { type FakeIqra, type FakeIqraOptions, startFakeIqra } from './fake-iqra.js';
import { type FakeSlack, startFakeSlack } from './fake-slack.js';
import { signedFormHeaders } from './slack-signature.js';

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
    ...overrides,
  };
}

export interface CommandOptions {
  user?: string;
  channel?: string;
  team?: string;
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
  running: RunningApp;
  logs: Record<string, unknown>[];
  url: string;
  /** Sends a Slack-signed `/call` slash command; resolves with Bolt's HTTP answer (the ack). */
  command(text: string, options?: CommandOptions): Promise<SentCommand>;
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
  options: { env?: Record<string, string | undefined>; iqra?: FakeIqraOptions; now?: () => Date } = {},
): Promise<TestApp> {
  const slack = await startFakeSlack();
  const iqra = await startFakeIqra(options.iqra);
  const config = loadConfig(testEnv(slack, iqra, options.env));
  const logs: Record<string, unknown>[] = [];
  const logger: Logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) });
  const client = new IqraClient({
    baseUrl: config.iqra.baseUrl,
    businessId: config.iqra.businessId,
    apiKey: config.iqra.apiKey,
    format: config.iqra.requestFormat,
    callWindowMinutes: config.iqra.callWindowMinutes,
    timeoutMs: config.iqra.timeoutMs,
    sleep: async () => {},
    logger,
  });
  const running = await startSlackApp({
    config,
    logger,
    iqra: client,
    retryConfig: { retries: 0 },
    ...(options.now ? { now: options.now } : {}),
  });
  const url = `http://127.0.0.1:${running.port}`;
  return {
    slack,
    iqra,
    config,
    running,
    logs,
    url,
    async command(text, o = {}) {
      sequence += 1;
      const triggerId = o.triggerId ?? `${1000 + sequence}.98765.${Date.now().toString(16)}${sequence}`;
      const responseUrl = slack.responseUrl(`cmd-${sequence}`);
      const body = new URLSearchParams({
        token: 'legacy-verification-token',
        team_id: o.team ?? 'T0001',
        team_domain: 'acme',
        channel_id: o.channel ?? 'C0SALES01',
        channel_name: 'sales',
        user_id: o.user ?? 'U0MARIA1',
        user_name: 'maria',
        command: '/call',
        text,
        api_app_id: 'A0IQRA001',
        is_enterprise_install: 'false',
        response_url: responseUrl,
        trigger_id: triggerId,
      }).toString();
      const res = await fetch(`${url}/slack/events`, {
        method: 'POST',
        headers: { ...signedFormHeaders(o.secret ?? SIGNING_SECRET, body, o.timestamp), ...o.headers },
        body,
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
    async close() {
      await running.stop();
      await client.close();
      await slack.close();
      await iqra.close();
    },
  };
}
