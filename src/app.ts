import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type CustomRoute, HTTPReceiver, LogLevel, SocketModeReceiver, type webApi } from '@slack/bolt';
import type { CallCatalog } from './calls/call-request.js';
import { recipientZones, warmRecipientZones } from './calls/recipient-zones.js';
import { newBatchId, newRequestId } from './calls/request-id.js';
import type { Config } from './config.js';
import { iqraEventsHandler } from './http/iqra-events.js';
import { IqraClient, type IqraClientOptions } from './iqra/client.js';
import { DryRunInitiator } from './iqra/dry-run.js';
import type { Logger } from './log.js';
import { PrometheusMetrics } from './metrics.js';
import { BatchDesk } from './services/batch-desk.js';
import { CallDesk } from './services/call-desk.js';
import { CallGuards } from './services/call-guards.js';
import { type CallReader, CallTracker } from './services/call-tracker.js';
import { doctorRunner } from './services/doctor.js';
import type { CallInitiator } from './services/place-call.js';
import { Audiences, mentionAudience } from './slack/audiences.js';
import { BatchBoard } from './slack/batch-board.js';
import { boltLogger } from './slack/bolt-logger.js';
import { type ApprovalContext, SlackDelivery } from './slack/delivery.js';
import { HomeTab } from './slack/home-tab.js';
import { registerListeners } from './slack/listeners/index.js';
import { LoadShedder, type OverloadLimits } from './slack/load-shedding.js';
import { SocketConnection } from './slack/socket-connection.js';
import { UserZones } from './slack/user-zones.js';
import { webApiFetch } from './slack/web-api-fetch.js';
import type { Store } from './store/store.js';
import { TurnQueue } from './turns.js';

export interface SlackAppOptions {
  config: Config;
  logger: Logger;
  /** Places calls and reads their progress (the Iqra client). */
  iqra: CallInitiator & CallReader;
  /** Opened and migrated. */
  store: Store;
  now?: () => Date;
  /** Identifies this process in the store; a new one for every start. */
  instanceId?: string;
  /** Web API client retries; tests turn them off. Default: a few retries within a minute. */
  retryConfig?: webApi.RetryOptions;
  /** How long Bolt waits for a listener to ack before answering 404 itself (Bolt's default is 3001 ms). */
  unhandledRequestTimeoutMillis?: number;
  /** Outbox polling period (ms). */
  deliveryPollMs?: number;
  /** How often this instance says it is alive, and how often others' abandoned requests are looked for (ms). */
  heartbeatMs?: number;
  /** After how long without a heartbeat another instance's requests are taken over (PostgreSQL). */
  instanceTimeoutMs?: number;
  /** How often approval requests are checked for expiry (ms). */
  approvalSweepMs?: number;
  /** The least time between two messages in one channel (ms; Slack's pace is about 1 per second). */
  slackMinGapMs?: number;
  /** How often due calls are looked for by tracking (ms). */
  trackingTickMs?: number;
  /** How often batches send their next row (ms); 0: never on a timer (tests call `batches.tick()`). */
  batchTickMs?: number;
  /** The least time between two rewrites of a batch's message (ms). */
  batchRefreshMs?: number;
  /** Overrides the overload limits of the settings (tests). */
  overload?: Partial<OverloadLimits>;
}

export interface RunningApp {
  app: App;
  /** The HTTP port actually listened on (useful with PORT=0). */
  port: number;
  instanceId: string;
  /** The port of the separate metrics server, when METRICS_PORT is set. */
  metricsPort?: number;
  desk: CallDesk;
  delivery: SlackDelivery;
  batches: BatchDesk;
  board: BatchBoard;
  /** Stops taking new work, finishes what is in flight (bounded), and leaves the rest safely recorded. */
  stop(): Promise<void>;
}

/** The Iqra client the settings describe. `extra` adds a logger, or a fake clock and sleep in tests. */
export function iqraClientFor(
  config: Config,
  extra: Partial<Pick<IqraClientOptions, 'logger' | 'sleep' | 'now' | 'random'>> = {},
): IqraClient {
  return new IqraClient({
    baseUrl: config.iqra.baseUrl,
    businessId: config.iqra.businessId,
    apiKey: config.iqra.apiKey,
    format: config.iqra.requestFormat,
    callWindowMinutes: config.iqra.callWindowMinutes,
    timeoutMs: config.iqra.timeoutMs,
    ...extra,
  });
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

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Builds the Bolt app on the transport the settings choose (Socket Mode with an app token, Bolt's HTTP receiver on
 * PORT otherwise), wires the call desk, the Slack outbox and the listeners, recovers what a previous process left,
 * and starts. `GET /healthz` answers 200 once the app is ready and while its store answers, 503 otherwise; in Socket
 * Mode also 503 while the connection to Slack has been down longer than a routine reconnect takes.
 */
export async function startSlackApp(options: SlackAppOptions): Promise<RunningApp> {
  const { config, logger, store } = options;
  const now = options.now ?? (() => new Date());
  const instanceId = options.instanceId ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
  let ready = false;
  /** Socket Mode: the connection to Slack, which /healthz reports on. */
  let connection: SocketConnection | undefined;
  const health: CustomRoute = {
    path: '/healthz',
    method: ['GET'],
    handler: (_req, res) => {
      const answer = (status: number, body: Record<string, unknown>) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (!ready) return answer(503, { ok: false, reason: 'starting or stopping' });
      // Nothing reaches the app while it is not connected: say so, once a routine reconnect should have succeeded.
      const unconnected = connection?.problem();
      if (unconnected) return answer(503, { ok: false, slack: connection?.state, reason: unconnected });
      const slack = connection ? { slack: connection.state } : {};
      within(store.ping(), 2000).then(
        () => answer(200, { ok: true, store: 'ok', ...slack }),
        () => answer(503, { ok: false, store: 'unreachable' }),
      );
    },
  };
  const retryConfig = options.retryConfig ?? { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 5000 };
  // Iqra's pushed events (campaign custom tools), when IQRA_WEBHOOK_SECRET is set; wired once tracking exists.
  let iqraEvents: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  const metrics = new PrometheusMetrics(store);
  const serveMetrics = (_req: IncomingMessage, res: ServerResponse) => {
    metrics.render().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(body);
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  };
  const routes: CustomRoute[] = [health];
  // HTTP mode: /metrics on PORT too (METRICS_PORT keeps it off the public port); Socket Mode: only on METRICS_PORT.
  if (config.slack.mode === 'http') routes.push({ path: '/metrics', method: ['GET'], handler: serveMetrics });
  if (config.tracking.webhookSecret) {
    routes.push({
      path: '/iqra/events',
      method: ['POST'],
      handler: (req, res) => {
        if (!iqraEvents) {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: false, error: 'starting' }));
          return;
        }
        void iqraEvents(req, res);
      },
    });
  }
  const level = config.logLevel === 'debug' ? LogLevel.DEBUG : LogLevel.INFO;
  const slackLogger = boltLogger(logger.child({ component: 'slack' }), level);
  const receiver =
    config.slack.mode === 'socket'
      ? new SocketModeReceiver({
          appToken: config.slack.appToken ?? '',
          logger: slackLogger,
          customRoutes: routes,
          installerOptions: {
            port: config.slack.port,
            // The Socket Mode client's own Web API client (apps.connections.open) must use SLACK_API_URL too.
            clientOptions: { slackApiUrl: config.slack.apiUrl, retryConfig },
          },
        })
      : new HTTPReceiver({
          signingSecret: config.slack.signingSecret ?? '',
          endpoints: '/slack/events',
          customRoutes: routes,
          logger: slackLogger,
          ...(options.unhandledRequestTimeoutMillis
            ? { unhandledRequestTimeoutMillis: options.unhandledRequestTimeoutMillis }
            : {}),
        });

  if (receiver instanceof SocketModeReceiver)
    connection = new SocketConnection(receiver.client, logger.child({ component: 'slack' }));

  const app = new App({
    token: config.slack.botToken,
    receiver,
    logger: slackLogger,
    deferInitialization: true,
    clientOptions: {
      slackApiUrl: config.slack.apiUrl,
      // Rate limits are waited out by the outbox (from the store), not inside a request.
      rejectRateLimitedCalls: true,
      retryConfig,
      fetch: webApiFetch(),
    },
    // No conversation store: the app keeps nothing per conversation in Bolt, and looking one up is work per event.
    convoStore: false,
  });
  try {
    await app.init();
  } catch (err) {
    throw new SlackStartError(err);
  }
  if (config.slack.mode === 'socket') await checkAppToken(app.client, config.slack.appToken ?? '');

  const zones = new UserZones(config.calls.defaultTimeZone, logger.child({ component: 'user-zones' }));
  const audiences = new Audiences(logger.child({ component: 'audiences' }));
  const approvalContext: ApprovalContext = {
    approvers: mentionAudience(config.approval.approvers) || 'an approver',
    ttlHours: Math.round(config.approval.ttlMs / 3_600_000),
  };
  const homeTab = new HomeTab({
    store,
    client: app.client,
    audiences,
    approvers: config.approval.approvers,
    approvalsOn: config.approval.mode !== 'off',
    catalog: callCatalog(config),
    maxScheduleDays: config.calls.maxScheduleDays,
    logger: logger.child({ component: 'home-tab' }),
    now,
    batches: (teamId, userId) => batches.recent(teamId, userId, 5),
  });
  // One queue of turns for all the work after acks, so that the acks go first and calls go before messages.
  const turns = new TurnQueue();
  const delivery = new SlackDelivery({
    turns,
    metrics,
    store,
    client: app.client,
    logger: logger.child({ component: 'outbox' }),
    instanceId,
    now,
    ...(config.calls.logChannel ? { logChannel: config.calls.logChannel } : {}),
    ...(options.deliveryPollMs ? { pollMs: options.deliveryPollMs } : {}),
    ...(options.slackMinGapMs !== undefined ? { minGapMs: options.slackMinGapMs } : {}),
    approval: approvalContext,
    onDelivered: (call) => void homeTab.changed(call),
    batchJob: (job, pace) => board.deliver(job, pace),
  });
  const tracker = new CallTracker({
    turns,
    metrics,
    store,
    reader: options.iqra,
    logger: logger.child({ component: 'tracking' }),
    now,
    onOutbox: () => delivery.kick(),
    maxRequestsPerMinute: config.tracking.maxRequestsPerMinute,
    limitMs: config.tracking.limitMs,
    transcripts: config.tracking.transcripts,
    onBatchRow: (batchId) => batches.rowChanged(batchId),
    ...(options.trackingTickMs ? { tickMs: options.trackingTickMs } : {}),
  });
  if (config.tracking.webhookSecret) {
    iqraEvents = iqraEventsHandler(
      config.tracking.webhookSecret,
      tracker,
      logger.child({ component: 'iqra-events' }),
    );
  }
  const instanceTimeoutMs = options.instanceTimeoutMs ?? config.instanceTimeoutMs;
  const guards = new CallGuards({
    store,
    mayCall: async (userId) => {
      const allowed = config.guards.allowedUsers;
      if (!allowed) return 'allowed';
      const membership = await audiences.membership(app.client, allowed, userId);
      return membership === 'member' ? 'allowed' : membership === 'unknown' ? 'unknown' : 'not_allowed';
    },
    isAdmin: (userId) => audiences.includes(app.client, config.guards.admins, userId),
    allowedChannels: config.guards.allowedChannels,
    askWhom: mentionAudience(config.guards.admins) || 'whoever runs the app',
    window: config.guards.window,
    zonesOf: (e164) => recipientZones(e164, config.calls.defaultTimeZone),
    limits: {
      perUserPerHour: config.guards.perUserPerHour,
      perWorkspacePerHour: config.guards.perWorkspacePerHour,
    },
    maxScheduleDays: config.calls.maxScheduleDays,
    now,
  });
  if (config.iqra.dryRun) {
    logger.warn(
      'DRY RUN: IQRA_DRY_RUN=true, so no call will be sent to Iqra; every confirmation shows what would have been sent',
    );
  }
  // What a dry run sends: nothing. Also used for requests made during a dry run and processed after it was turned off.
  const dryRunInitiator = new DryRunInitiator({
    format: config.iqra.requestFormat,
    callWindowMinutes: config.iqra.callWindowMinutes,
    now,
  });
  const desk = new CallDesk({
    turns,
    guards,
    metrics,
    store,
    iqra: config.iqra.dryRun ? dryRunInitiator : options.iqra,
    dryRun: config.iqra.dryRun,
    dryRunInitiator,
    zoneOf: (userId) => zones.zoneOf(app.client, userId),
    onOutbox: () => delivery.kick(),
    onBatchRow: (batchId, hold) => batches.rowChanged(batchId, hold),
    batchWindowSlot: (batchId, requestId, window) => batches.nextWindowSlot(batchId, requestId, window),
    logger,
    now,
    instanceId,
    maxScheduleDays: config.calls.maxScheduleDays,
    defaultTimeZone: config.calls.defaultTimeZone,
    instanceTimeoutMs,
    approval: {
      mode: config.approval.mode,
      ttlMs: config.approval.ttlMs,
      ...(config.approval.channel ? { channel: config.approval.channel } : {}),
      isExempt: (userId) => audiences.includes(app.client, config.approval.exempt, userId),
      hasOtherApprover: (userId) => audiences.hasOtherThan(app.client, config.approval.approvers, userId),
      approversNamed: mentionAudience(config.approval.approvers),
    },
  });

  const batches: BatchDesk = new BatchDesk({
    store,
    desk,
    guards,
    catalog: callCatalog(config),
    zoneOf: (userId) => zones.zoneOf(app.client, userId),
    zonesOf: (e164) => recipientZones(e164, config.calls.defaultTimeZone),
    logger: logger.child({ component: 'batches' }),
    now,
    instanceId,
    newRequestId,
    newBatchId,
    maxScheduleDays: config.calls.maxScheduleDays,
    defaultTimeZone: config.calls.defaultTimeZone,
    maxRows: config.calls.batchMax,
    approval: {
      mode: config.approval.mode,
      ttlMs: config.approval.ttlMs,
      ...(config.approval.channel ? { channel: config.approval.channel } : {}),
      isExempt: (userId) => audiences.includes(app.client, config.approval.exempt, userId),
    },
    onOutbox: () => delivery.kick(),
    onChange: (batchId) => board.changed(batchId),
  });
  const board: BatchBoard = new BatchBoard({
    client: app.client,
    store,
    batches,
    logger: logger.child({ component: 'batch-board' }),
    now,
    approvers: approvalContext.approvers,
    dryRun: config.iqra.dryRun,
    ...(options.batchRefreshMs !== undefined ? { refreshMs: options.batchRefreshMs } : {}),
  });
  // Before any listener: while overloaded, slash commands are answered "busy, nothing done" and not recorded.
  let shedLoggedAt = 0;
  let shedSinceLog = 0;
  const shedder = new LoadShedder({
    limits: { ...config.overload, ...options.overload },
    backlog: () => desk.busy,
    metrics,
    // One line per 5 seconds of shedding, not one per command: under overload, logging is work too.
    onShed: (reason, detail) => {
      shedSinceLog += 1;
      const at = Date.now();
      if (at - shedLoggedAt < 5000) return;
      logger.warn('commands turned away: overloaded', { reason, commands: shedSinceLog, ...detail });
      shedLoggedAt = at;
      shedSinceLog = 0;
    },
  });
  app.use(shedder.middleware);

  registerListeners(app, {
    batches,
    board,
    botToken: config.slack.botToken,
    catalog: callCatalog(config),
    maxScheduleDays: config.calls.maxScheduleDays,
    defaultTimeZone: config.calls.defaultTimeZone,
    zones,
    desk,
    store,
    logger,
    now,
    newRequestId,
    audiences,
    approvers: config.approval.approvers,
    approvalContext,
    homeTab,
    admins: config.guards.admins,
    adminMentions: mentionAudience(config.guards.admins),
    defaultRegion: config.calls.defaultRegion,
    doctor: doctorRunner({ config, store, logger }),
  });
  app.error(async (error) => {
    logger.error('unhandled error in a Slack listener', { error });
  });

  await store.heartbeat(instanceId, now().getTime());
  const heartbeatMs = options.heartbeatMs ?? Math.max(500, Math.floor(instanceTimeoutMs / 6));
  const heartbeat = setInterval(() => {
    store
      .heartbeat(instanceId, now().getTime())
      .then(() => (store.singleProcess ? undefined : desk.recover()))
      .catch((err: unknown) => logger.warn('heartbeat or recovery sweep failed', { error: err }));
  }, heartbeatMs);
  heartbeat.unref();
  // Approval requests past their deadline (or their call's time) expire; every replica may do it, once each.
  const expiry = setInterval(() => {
    desk.expireApprovals().catch((err: unknown) => logger.warn('expiring approvals failed', { error: err }));
  }, options.approvalSweepMs ?? 30_000);
  expiry.unref();
  const batchTickMs = options.batchTickMs ?? 1000;
  const batchTick =
    batchTickMs > 0
      ? setInterval(() => {
          batches.tick().catch((err: unknown) => logger.warn('batch step failed', { error: err }));
        }, batchTickMs)
      : undefined;
  batchTick?.unref();
  board.start(Math.min(1000, options.batchRefreshMs ?? 1000));

  /** Undoes what started so far, when the start fails: the timers, the batch board, Bolt. */
  const stopStarted = async () => {
    clearInterval(heartbeat);
    clearInterval(expiry);
    clearInterval(batchTick);
    board.stop();
    await app.stop().catch(() => {});
  };
  let port = config.slack.port;
  try {
    if (config.slack.mode === 'socket') {
      // Bolt's Socket Mode receiver listens on PORT (for /healthz) without handling a failure to, which would crash
      // the process with a stack trace. Its server is private: when it is there, its failure to listen ends the start.
      const health = (receiver as unknown as { httpServer?: Server }).httpServer;
      const starting = app.start();
      starting.catch(() => {});
      await Promise.race([starting, health ? listenFailure(health) : starting]);
    } else {
      const server = (await app.start(config.slack.port)) as Server;
      port = (server.address() as AddressInfo).port;
    }
  } catch (err) {
    await stopStarted();
    throw new SlackStartError(err, (err as ListenError).listenFailed ? 'health' : config.slack.mode);
  }
  let metricsServer: Server | undefined;
  let metricsPort: number | undefined;
  if (config.slack.metricsPort !== undefined) {
    metricsServer = createServer((req, res) => {
      if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') serveMetrics(req, res);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    const server = metricsServer;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.slack.metricsPort, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await stopStarted();
      throw new SlackStartError(err, 'metrics');
    }
    metricsPort = (server.address() as AddressInfo).port;
  }
  delivery.start();
  tracker.start();
  const recovered = await desk.recover();
  await desk
    .expireApprovals()
    .catch((err: unknown) => logger.warn('expiring approvals failed', { error: err }));
  if (recovered.interrupted || recovered.resumed)
    logger.warn('recovered call requests left by a previous run', recovered);
  ready = true;
  shedder.start();
  // The recipients' zone data is read on first use; read it now, so that the first call does not wait for it.
  warmRecipientZones().catch((err: unknown) =>
    logger.error('could not read the phone number time-zone data', { error: err }),
  );

  return {
    app,
    port,
    instanceId,
    desk,
    delivery,
    batches,
    board,
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    stop: async () => {
      // Whatever is still unfinished after this (a slow Iqra poll, a Slack post that hangs) stays in the store for the
      // next start: stopping waits for it no longer than this.
      const deadline = Date.now() + 11_000;
      const untilDeadline = <T>(step: Promise<T>) =>
        within(step, Math.max(0, deadline - Date.now())).catch((err: unknown) =>
          logger.warn('a step of stopping did not finish in time', { error: err }),
        );
      metricsServer?.close();
      ready = false;
      clearInterval(heartbeat);
      clearInterval(expiry);
      clearInterval(batchTick);
      board.stop();
      shedder.stop();
      // No new requests; then let the calls being sent to Iqra finish, and their confirmations go out.
      await app
        .stop()
        .catch((err: unknown) => logger.warn('stopping the Slack receiver failed', { error: err }));
      const drained = await desk.drain(8000);
      if (!drained)
        logger.warn(
          'stopped while calls were still being sent; they will be marked unknown at the next start',
        );
      await untilDeadline(tracker.stop());
      await within(delivery.flush(), Math.min(3000, Math.max(0, deadline - Date.now()))).catch(() => {});
      await untilDeadline(delivery.stop());
      await untilDeadline(homeTab.stop());
      if (drained) await store.removeInstance(instanceId).catch(() => {});
    },
  };
}

/** apps.connections.open's refusals of the app-level token itself: asking again cannot change them. */
const APP_TOKEN_REFUSALS = new Set([
  'missing_scope',
  'not_allowed_token_type',
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
]);

/**
 * Asks `apps.connections.open` once with the app-level token before the Socket Mode client does: that client retries
 * `missing_scope` and `not_allowed_token_type` forever, so the app would never be ready nor say why. Anything else
 * (the network, a rate limit, Slack failing) is left to the client, which retries it as before.
 */
async function checkAppToken(client: webApi.WebClient, appToken: string): Promise<void> {
  try {
    await client.apiCall('apps.connections.open', { token: appToken });
  } catch (err) {
    const code = (err as { data?: { error?: unknown } }).data?.error;
    if (typeof code === 'string' && APP_TOKEN_REFUSALS.has(code)) throw new SlackStartError(err, 'socket');
  }
}

type ListenError = Error & { listenFailed?: true };

/** Rejects (marked `listenFailed`) if the server fails to start listening; never settles once it listens. */
function listenFailure(server: Server): Promise<never> {
  return new Promise<never>((_, reject) => {
    const failed = (err: ListenError) => {
      err.listenFailed = true;
      reject(err);
    };
    server.once('error', failed);
    server.once('listening', () => server.off('error', failed));
  });
}

/**
 * Slack refused a token at start-up (or could not be reached), or the app could not listen on PORT or METRICS_PORT.
 */
export class SlackStartError extends Error {
  override readonly name = 'SlackStartError';
  readonly slackError: string;
  constructor(cause: unknown, stage: 'token' | 'socket' | 'http' | 'health' | 'metrics' = 'token') {
    const code =
      (cause as { data?: { error?: string }; code?: string })?.data?.error ??
      (cause as { code?: string })?.code;
    const detail = code ?? (cause as Error)?.message ?? 'unknown error';
    const rejected =
      code === 'invalid_auth' ||
      code === 'not_authed' ||
      code === 'token_revoked' ||
      code === 'account_inactive';
    const message =
      stage === 'socket'
        ? code === 'missing_scope'
          ? `Slack refused SLACK_APP_TOKEN (missing_scope): give the app-level token the connections:write scope (Basic Information → App-Level Tokens: create one with that scope).`
          : code === 'not_allowed_token_type'
            ? `Slack refused SLACK_APP_TOKEN (not_allowed_token_type): it must be an app-level token (xapp-…) with the connections:write scope, from Basic Information → App-Level Tokens, not the bot token.`
            : rejected || code === 'token_expired'
              ? `Slack refused SLACK_APP_TOKEN (${code}): create an app-level token with the connections:write scope (Basic Information → App-Level Tokens).`
              : `Could not open the Socket Mode connection (${detail}): check SLACK_APP_TOKEN, the network and SLACK_API_URL.`
        : stage === 'http'
          ? `Could not listen for Slack's requests (${detail}): is PORT free?`
          : stage === 'health'
            ? `Could not listen on PORT for /healthz (${detail}): is that port free? Choose another one.`
            : stage === 'metrics'
              ? `Could not listen on METRICS_PORT (${detail}): is that port free? Choose another one, or leave METRICS_PORT empty.`
              : rejected
                ? `Slack rejected SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions again, and reinstall the app if it was revoked.`
                : `Could not reach Slack to check SLACK_BOT_TOKEN (${detail}): check the network and SLACK_API_URL.`;
    super(message, { cause });
    this.slackError = code ?? 'unknown';
  }
}
