import { readFileSync } from 'node:fs';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { confirmBatch } from './support/batches.js';
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

  it('counts the Slack errors the outbox works around: a removed channel, a removed log channel', async () => {
    app = await startTestApp({ env: { CALL_LOG_CHANNEL: 'C0CALLLOG1' } });
    const a = app;
    a.slack.handle('chat.postMessage', (args) =>
      args.channel === 'C0SALES01' ? { body: { ok: false, error: 'channel_not_found' } } : undefined,
    );
    a.slack.handle('chat.postMessage', (args) =>
      args.channel === 'C0CALLLOG1' ? { body: { ok: false, error: 'is_archived' } } : undefined,
    );
    await a.command('+14155552671');
    // The rep hears about the call alone, through the command's response_url.
    await a.slack.waitFor(() => a.slack.responses[0], 'the requester told alone');
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').find((c) => c.args.channel === 'C0CALLLOG1'),
      'the copy for the log channel',
    );
    await a.running.delivery.flush();
    const families = await scrape(`${a.url}/metrics`);
    // Once per refused post (a later step of the call, such as its tracking, posts again and is refused again).
    const refused = (channel: string) =>
      a.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === channel).length;
    expect(refused('C0SALES01')).toBeGreaterThanOrEqual(1);
    expect(value(families, 'iqra_calls_slack_api_errors_total', { error: 'channel_not_found' })).toBe(
      refused('C0SALES01'),
    );
    expect(value(families, 'iqra_calls_slack_api_errors_total', { error: 'is_archived' })).toBe(1);
  });

  it('counts a batch waiting for approval in iqra_calls_pending_approvals, until it is decided', async () => {
    app = await startTestApp({
      env: { CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001' },
      appOptions: { batchTickMs: 0, batchRefreshMs: 0 },
    });
    const a = app;
    const batchId = await confirmBatch(a, { batch_paste: '+14155551001\n+14155551002', batch_pace: '60' });
    expect((await a.store.getBatch(batchId))?.state).toBe('pending_approval');
    // One request for the approvers to decide (the batch), however many rows it has.
    expect(value(await scrape(`${a.url}/metrics`), 'iqra_calls_pending_approvals')).toBe(1);

    await a.running.delivery.flush();
    const ts = (await a.store.getBatch(batchId))?.parentTs ?? '';
    await a.interact(
      a.buttonPress({ actionId: 'batch_approve', value: batchId, user: 'U0BOSS001', message: { ts } }),
    );
    expect((await a.store.getBatch(batchId))?.state).toBe('running');
    expect(value(await scrape(`${a.url}/metrics`), 'iqra_calls_pending_approvals')).toBe(0);
  });

  it("labels a refused API key, however Iqra says so, so that the README's alert for it fires", async () => {
    // The alert as the README gives it: every call will fail until an admin acts.
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const alert = /iqra_calls_iqra_errors_total\{code=~"([^"]+)"\}\[5m\]\) > 0`:\s+every call will fail/.exec(
      readme,
    );
    expect(alert?.[1]).toBeDefined();
    const fires = new RegExp(`^(?:${alert?.[1]})$`);
    // The published reference answers a wrong key with HTTP 401 and no code.
    app = await startTestApp({ env: { IQRA_API_KEY: 'iu_not_the_key' } });
    const a = app;
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests.length === 1 || undefined, 'the first call');
    // Iqra's server answers HTTP 200 with a VALIDATE_API_KEY code, whose last segment says which check failed.
    for (const [i, last] of ['API_KEY_INVALID', 'KEY_NOT_FOUND', 'INVALID_FORMAT'].entries()) {
      a.iqra.script({
        code: `InitiateCall:ValidateUserAPIAndBusinessWithPermissions:VALIDATE_API_KEY:${last}`,
      });
      await a.command(`+1415555267${i + 2}`);
      await a.slack.waitFor(() => a.iqra.requests.length === i + 2 || undefined, `call ${i + 2}`);
    }
    await a.slack.waitFor(
      async () =>
        (await a.store.recentCalls('T0001', 'U0MARIA1', 10)).filter((c) => c.state === 'failed').length ===
          4 || undefined,
      'the four calls refused by Iqra',
    );
    const errors = (await scrape(`${a.url}/metrics`)).find((f) => f.name === 'iqra_calls_iqra_errors_total');
    const codes = (errors?.metrics ?? []).map((m) => String(m.labels?.code));
    expect(codes).toHaveLength(4);
    for (const code of codes) expect(code).toMatch(fires);
  });

  it('counts a call once when Iqra answers after another replica marked it unknown', async () => {
    app = await startTestApp();
    const a = app;
    // Iqra takes its time; meanwhile another replica, taking this one for dead, marks the call unknown (and counts it
    // there). Iqra's answer then corrects the record, without a second count here.
    a.iqra.script({ delayMs: 400 });
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests.length === 1 && true, 'the request reaching Iqra');
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    const id = String(call?.id);
    expect(call?.state).toBe('sending');
    expect(
      await a.store.transition(id, ['sending'], 'unknown', {}, Date.now(), { by: 'recovery' }),
    ).toBeDefined();
    const deadline = Date.now() + 5000;
    while ((await a.store.getCall(id))?.state !== 'queued') {
      if (Date.now() > deadline) throw new Error('the answer was never recorded');
      await new Promise((r) => setTimeout(r, 25));
    }
    const families = await scrape(`${a.url}/metrics`);
    expect(
      value(families, 'iqra_calls_calls_total', { outcome: 'queued', entry_point: 'command' }),
    ).toBeNaN();
    // A call answered while it was still `sending` counts as before.
    await a.command('+14155552672');
    await a.slack.waitFor(() => a.iqra.requests.length === 2 && true, 'the second request');
    const again = Date.now() + 5000;
    for (;;) {
      const n = value(await scrape(`${a.url}/metrics`), 'iqra_calls_calls_total', {
        outcome: 'queued',
        entry_point: 'command',
      });
      if (n === 1) break;
      if (Date.now() > again) throw new Error(`queued counted ${n} times`);
      await new Promise((r) => setTimeout(r, 25));
    }
  });

  it('is also served on METRICS_PORT when set', async () => {
    app = await startTestApp({ env: { METRICS_PORT: '0' } });
    const port = app.running.metricsPort;
    expect(port).toBeGreaterThan(0);
    const families = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(families.some((f) => f.name === 'iqra_calls_calls_total')).toBe(true);
  });
});
