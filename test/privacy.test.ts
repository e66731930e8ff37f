import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { startTestApp, type TestApp } from './support/test-app.js';

// The customer's number, in any form: its digits in order, whatever sits between them.
const UNMASKED = /4\D{0,3}1\D{0,3}5\D{0,3}5\D{0,3}5\D{0,3}5|４１５/;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('phone numbers stay out of logs and metrics', () => {
  it('a refused command is logged without what the rep typed, which can be the number in a form no scrubbing knows', async () => {
    app = await startTestApp();
    const a = app;
    // Full-width digits are read as digits (and quoted so): one short of a number, it is refused.
    for (const [typed, shown] of [
      ['+14155552671abc', '+14155552671abc'],
      ['＋１４１５５５５２６７', '+1415555267'],
      ['+1/415/555/2671', '+1/415/555/2671'],
    ]) {
      const sent = await a.command(`${typed} agent=sales`);
      // The rep who asked still sees what was wrong with what they typed.
      expect(JSON.stringify(sent.body)).toContain(shown);
    }
    const refused = a.logs.filter((l) => l.msg === 'command refused');
    expect(refused).toHaveLength(3);
    for (const line of refused) {
      expect(line).toMatchObject({ field: 'recipient' });
      expect(String(line.reason)).toMatch(/is not a (phone|valid) number/);
      expect(JSON.stringify(line)).not.toMatch(UNMASKED);
    }
  });

  it('an Iqra code that echoes the number is counted in /metrics under `other`, not as a label', async () => {
    app = await startTestApp({ iqra: { mode: 'server' } });
    const a = app;
    a.iqra.script({ code: 'InitiateCall:NUMBER_+14155552671_INVALID' });
    await a.command('+14155552671 agent=sales');
    await a.slack.waitFor(() => a.logs.find((l) => l.msg === 'call outcome unknown'), 'the outcome');
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toContain('iqra_calls_iqra_errors_total{operation="initiate",code="other"} 1');
    expect(metrics).not.toMatch(UNMASKED);
  });
});

describe('log lines nested deeper than the scrubber goes', () => {
  it('leave the deeper part out instead of writing it unscrubbed', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.warn('deep', {
      a: { b: { c: { d: { to: '+14155552671', password: 'hunter2' } } } },
      list: [[[['+14155552671']]]],
      near: { b: { to: '+14155552671' } },
    });
    const line = lines[0] ?? '';
    expect(line).not.toMatch(UNMASKED);
    expect(line).not.toContain('hunter2');
    expect(JSON.parse(line).a.b.c.d).toBe('[nested too deep]');
    // What the scrubber reaches is still written, masked.
    expect(JSON.parse(line).near.b.to).toBe('+*******2671');
  });
});
