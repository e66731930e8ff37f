import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function scrape(url: string): Promise<PrometheusFamily[]> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parsePrometheusTextFormat(await res.text());
}

function value(families: PrometheusFamily[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  const metric = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(metric?.value ?? metric?.count ?? Number.NaN);
}

describe('GET /metrics', () => {
  it('counts calls by outcome, refusals by guard, Iqra latency and errors, and pending approvals', async () => {
    app = await startTestApp({
      iqra: { mode: 'server' },
      env: {
        CALL_ADMINS: 'U0ADMIN01',
        CALL_APPROVAL: 'unlisted',
        CALL_APPROVERS: 'U0BOSS001',
        CALL_APPROVAL_EXEMPT: 'U0MARIA1',
      },
    });
    const a = app;
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests.length === 1 && true, 'the first call');
    a.iqra.script({ code: 'INSUFFICIENT_BALANCE' });
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests.length === 2 && true, 'the refused call');
    await a.command('dnc add +442071838750', { user: 'U0ADMIN01' });
    await a.command('+442071838750');
    await a.slack.waitFor(() => a.slack.responses[0], 'the do-not-call refusal');
    await a.command('+14155552671', { user: 'U0OTHER01' });
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').find((c) => String(c.args.text).includes('asks to call')),
      'the approval request',
    );
    await a.running.delivery.flush();

    const families = await scrape(`${a.url}/metrics`);
    expect(value(families, 'iqra_calls_calls_total', { outcome: 'queued', entry_point: 'command' })).toBe(1);
    expect(value(families, 'iqra_calls_calls_total', { outcome: 'failed', entry_point: 'command' })).toBe(1);
    expect(value(families, 'iqra_calls_calls_total', { outcome: 'refused', entry_point: 'command' })).toBe(1);
    expect(value(families, 'iqra_calls_refusals_total', { guard: 'dnc' })).toBe(1);
    expect(
      value(families, 'iqra_calls_iqra_errors_total', {
        operation: 'initiate',
        code: 'INSUFFICIENT_BALANCE',
      }),
    ).toBe(1);
    const latency = families.find((f) => f.name === 'iqra_calls_iqra_request_duration_seconds');
    expect(latency?.type).toBe('HISTOGRAM');
    // This parser keeps a histogram's buckets but drops its labels (and merges label sets): something was observed.
    const observed = (latency?.metrics ?? []).reduce((n, m) => n + Number(m.buckets?.['+Inf'] ?? 0), 0);
    expect(observed).toBeGreaterThanOrEqual(1);
    expect(value(families, 'iqra_calls_pending_approvals')).toBe(1);
    expect(families.some((f) => f.name === 'iqra_calls_process_resident_memory_bytes')).toBe(true);
  });

  it('counts Slack API errors and rate-limit waits', async () => {
    app = await startTestApp();
    const a = app;
    let limited = false;
    a.slack.handle('chat.postMessage', () => {
      if (limited) return undefined;
      limited = true;
      return { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } };
    });
    await a.command('+14155552671');
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts),
      'the confirmation',
      8000,
    );
    const families = await scrape(`${a.url}/metrics`);
    expect(value(families, 'iqra_calls_slack_rate_limit_waits_total')).toBe(1);
    expect(value(families, 'iqra_calls_slack_api_errors_total', { error: 'ratelimited' })).toBe(1);
  });

  it('is also served on METRICS_PORT when set', async () => {
    app = await startTestApp({ env: { METRICS_PORT: '0' } });
    const port = app.running.metricsPort;
    expect(port).toBeGreaterThan(0);
    const families = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(families.some((f) => f.name === 'iqra_calls_calls_total')).toBe(true);
  });
});
