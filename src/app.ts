import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type CustomRoute, HTTPReceiver, LogLevel, SocketModeReceiver, type webApi } from '@slack/bolt';
import type { CallCatalog } from './calls/call-request.js';
import { newRequestId } from './calls/request-id.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { type IntentLedger, MemoryIntentLedger } from './services/intent-ledger.js';
import type { CallInitiator } from './services/place-call.js';
import { boltLogger } from './slack/bolt-logger.js';
import { registerListeners } from './slack/listeners/index.js';
import { UserZones } from './slack/user-zones.js';

export interface SlackAppOptions {
  config: Config;
  logger: Logger;
  iqra: CallInitiator;
  ledger?: IntentLedger;
  now?: () => Date;
  /** Web API client retries; tests turn them off. Default: a few retries within a few minutes. */
  retryConfig?: webApi.RetryOptions;
  /** How long Bolt waits for a listener to ack before answering 404 itself (Bolt's default is 3001 ms). */
  unhandledRequestTimeoutMillis?: number;
}

export interface RunningApp {
  app: App;
  /** The HTTP port actually listened on (useful with PORT=0). */
  port: number;
  stop(): Promise<void>;
}

export function callCatalog(config: Config): CallCatalog {
  return {
    agents: config.iqra.agents,
    numbers: config.iqra.numbers,
    campaigns: config.iqra.campaigns,
    campaignRequired: config.iqra.requestFormat === 'config',
    defaultRegion: config.calls.defaultRegion,
  };
}

/**
 * Builds the Bolt app on the transport the settings choose (Socket Mode with an app token, Bolt's HTTP receiver on
 * PORT otherwise), registers the listeners and starts it. `GET /healthz` answers 200 once the app is ready.
 */
export async function startSlackApp(options: SlackAppOptions): Promise<RunningApp> {
  const { config, logger } = options;
  let ready = false;
  const health: CustomRoute = {
    path: '/healthz',
    method: ['GET'],
    handler: (_req, res) => {
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: ready }));
    },
  };
  const level = config.logLevel === 'debug' ? LogLevel.DEBUG : LogLevel.INFO;
  const slackLogger = boltLogger(logger.child({ component: 'slack' }), level);
  const receiver =
    config.slack.mode === 'socket'
      ? new SocketModeReceiver({
          appToken: config.slack.appToken ?? '',
          logger: slackLogger,
          customRoutes: [health],
          installerOptions: { port: config.slack.port },
        })
      : new HTTPReceiver({
          signingSecret: config.slack.signingSecret ?? '',
          endpoints: '/slack/events',
          customRoutes: [health],
          logger: slackLogger,
          ...(options.unhandledRequestTimeoutMillis
            ? { unhandledRequestTimeoutMillis: options.unhandledRequestTimeoutMillis }
            : {}),
        });

  const app = new App({
    token: config.slack.botToken,
    receiver,
    logger: slackLogger,
    deferInitialization: true,
    clientOptions: {
      slackApiUrl: config.slack.apiUrl,
      retryConfig: options.retryConfig ?? { retries: 3, factor: 2, minTimeout: 1000, maxTimeout: 30_000 },
    },
  });
  try {
    await app.init();
  } catch (err) {
    throw new SlackStartError(err);
  }

  registerListeners(app, {
    catalog: callCatalog(config),
    maxScheduleDays: config.calls.maxScheduleDays,
    defaultTimeZone: config.calls.defaultTimeZone,
    ...(config.calls.logChannel ? { logChannel: config.calls.logChannel } : {}),
    iqra: options.iqra,
    ledger: options.ledger ?? new MemoryIntentLedger(),
    zones: new UserZones(config.calls.defaultTimeZone, logger.child({ component: 'user-zones' })),
    logger,
    now: options.now ?? (() => new Date()),
    newRequestId,
  });
  app.error(async (error) => {
    logger.error('unhandled error in a Slack listener', { error });
  });

  let port = config.slack.port;
  if (config.slack.mode === 'socket') {
    await app.start();
  } else {
    const server = (await app.start(config.slack.port)) as Server;
    port = (server.address() as AddressInfo).port;
  }
  ready = true;
  return {
    app,
    port,
    stop: async () => {
      ready = false;
      await app.stop();
    },
  };
}

/** Slack refused the bot token at start-up (or could not be reached). */
export class SlackStartError extends Error {
  override readonly name = 'SlackStartError';
  readonly slackError: string;
  constructor(cause: unknown) {
    const code =
      (cause as { data?: { error?: string }; code?: string })?.data?.error ??
      (cause as { code?: string })?.code;
    super(
      code === 'invalid_auth' ||
        code === 'not_authed' ||
        code === 'token_revoked' ||
        code === 'account_inactive'
        ? `Slack rejected SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions again, and reinstall the app if it was revoked.`
        : `Could not reach Slack to check SLACK_BOT_TOKEN (${code ?? 'unknown error'}): check the network and SLACK_API_URL.`,
      { cause },
    );
    this.slackError = code ?? 'unknown';
  }
}
