import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CallMetrics } from './services/call-metrics.js';
import type { Store } from './store/store.js';

/**
 * The app's Prometheus metrics (prom-client): calls by outcome and entry point, refusals by guard, Iqra request
 * latency and errors by code, Slack API errors and rate-limit waits, tracking polls, pending approvals, and the
 * process metrics prom-client collects.
 */
export class PrometheusMetrics implements CallMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'outcome' | 'entry_point'>;
  private readonly refusals: Counter<'guard'>;
  private readonly iqraLatency: Histogram<'operation' | 'result'>;
  private readonly iqraErrors: Counter<'operation' | 'code'>;
  private readonly slackErrors: Counter<'error'>;
  private readonly rateLimitWaits: Counter;
  private readonly rateLimitSeconds: Counter;
  private readonly polls: Counter<'result'>;
  private readonly shed: Counter<'reason'>;

  constructor(store: Store) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'iqra_calls_' });
    this.calls = new Counter({
      name: 'iqra_calls_calls_total',
      help: 'Call requests that reached an end state, by outcome and entry point.',
      labelNames: ['outcome', 'entry_point'],
      registers,
    });
    this.refusals = new Counter({
      name: 'iqra_calls_refusals_total',
      help: 'Calls stopped by a guard, by guard.',
      labelNames: ['guard'],
      registers,
    });
    this.iqraLatency = new Histogram({
      name: 'iqra_calls_iqra_request_duration_seconds',
      help: 'Requests to Iqra, by operation and result.',
      labelNames: ['operation', 'result'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.iqraErrors = new Counter({
      name: 'iqra_calls_iqra_errors_total',
      help: 'Failed requests to Iqra, by operation and code (the last segment of Iqra code, or the reason).',
      labelNames: ['operation', 'code'],
      registers,
    });
    this.slackErrors = new Counter({
      name: 'iqra_calls_slack_api_errors_total',
      help: 'Slack Web API failures, by Slack error code.',
      labelNames: ['error'],
      registers,
    });
    this.rateLimitWaits = new Counter({
      name: 'iqra_calls_slack_rate_limit_waits_total',
      help: 'Slack deliveries that had to wait out a rate limit.',
      registers,
    });
    this.rateLimitSeconds = new Counter({
      name: 'iqra_calls_slack_rate_limit_wait_seconds_total',
      help: 'Seconds Slack deliveries were told to wait.',
      registers,
    });
    this.polls = new Counter({
      name: 'iqra_calls_tracking_polls_total',
      help: 'Polls of Iqra queue entries while following calls, by result.',
      labelNames: ['result'],
      registers,
    });
    this.shed = new Counter({
      name: 'iqra_calls_commands_shed_total',
      help: 'Slash commands answered "busy, nothing done" because the app was overloaded, by reason (lag, busy, unacked, backlog).',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'iqra_calls_pending_approvals',
      help: 'Call requests and batches waiting for approval.',
      registers,
      async collect() {
        try {
          // A batch waits for one decision, whatever its size: it counts once (its rows wait as `waiting`).
          const [calls, batches] = await Promise.all([
            store.callsInStates(['pending_approval'], 10_000),
            store.batchesInStates(['pending_approval'], 10_000),
          ]);
          this.set(calls.length + batches.length);
        } catch {
          // The store is down: /healthz says so; the gauge keeps its last value.
        }
      },
    });
  }

  callEnded(outcome: string, entryPoint: string): void {
    this.calls.inc({ outcome, entry_point: entryPoint });
  }

  refused(guard: string): void {
    this.refusals.inc({ guard });
  }

  iqraRequest(operation: 'initiate' | 'queue_entry' | 'conversation', seconds: number, result: string): void {
    this.iqraLatency.observe({ operation, result: result === 'ok' ? 'ok' : 'error' }, seconds);
    if (result !== 'ok') this.iqraErrors.inc({ operation, code: codeLabel(result) });
  }

  slackError(code: string): void {
    // A failure with no Slack error code is known by its message, which can say anything: counted as `other`.
    this.slackErrors.inc({ error: codeLabel(code) });
  }

  slackRateLimited(waitMs: number): void {
    this.rateLimitWaits.inc();
    this.rateLimitSeconds.inc(waitMs / 1000);
  }

  trackingPoll(result: string): void {
    this.polls.inc({ result });
  }

  /** A slash command turned away because the app was overloaded (see slack/load-shedding.ts). */
  commandShed(reason: string): void {
    this.shed.inc({ reason });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * An error code as a label: Iqra's and Slack's codes are words (`INSUFFICIENT_BALANCE`, `HTTP_500`, `channel_not_found`);
 * anything else is `other`, for a code can echo the request (`NUMBER_+14155552671`) and /metrics is not scrubbed like
 * the logs are.
 */
function codeLabel(code: string): string {
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(code) && !/\d{5,}/.test(code) ? code : 'other';
}
