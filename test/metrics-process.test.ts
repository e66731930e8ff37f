import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { processesPerTest } from './support/app-process.js';
import { startFakeIqra } from './support/fake-iqra.js';
import { startFakeSlack } from './support/fake-slack.js';
import { postSigned, slashCommandBody } from './support/slack-signature.js';
import { BOT_TOKEN, SIGNING_SECRET, testEnv } from './support/test-app.js';

const { start, closeAfter } = processesPerTest();

describe('GET /metrics of the app as started by a user', () => {
  it('counts a call caught by a crash while being sent as "unknown" once the restart marks it so', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra();
    closeAfter(slack, iqra);
    const env = {
      ...testEnv(slack, iqra),
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'iqra-metrics-')), 'calls.sqlite'),
    };
    iqra.script({ delayMs: 60_000 });
    const first = start(env);
    const port = await first.ready();
    const body = slashCommandBody({
      text: '+14155552671',
      triggerId: '777.888.metrics',
      responseUrl: slack.responseUrl('metrics'),
    });
    await postSigned(`http://127.0.0.1:${port}`, body, SIGNING_SECRET);
    await slack.waitFor(() => iqra.requests[0], 'the request reaching Iqra');
    first.signal('SIGKILL');
    await first.exited;

    const second = start(env);
    const again = await second.ready();
    await slack.waitFor(
      () =>
        slack.callsOf('chat.postMessage').find((c) => String(c.args.text).includes('Place the call again')),
      'the "unknown" notice',
      10_000,
    );
    const text = await (await fetch(`http://127.0.0.1:${again}/metrics`)).text();
    const calls = parsePrometheusTextFormat(text).find((f) => f.name === 'iqra_calls_calls_total');
    const unknown = calls?.metrics.find(
      (m) => m.labels?.outcome === 'unknown' && m.labels?.entry_point === 'command',
    );
    expect(Number(unknown?.value)).toBe(1);
    // No number and no secret in any label.
    for (const secret of ['4155552671', BOT_TOKEN, SIGNING_SECRET, iqra.apiKey])
      expect(text).not.toContain(secret);
    expect(iqra.requests).toHaveLength(1);
  }, 60_000);
});
