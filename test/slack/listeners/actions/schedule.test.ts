import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** 13:00 UTC: 05:00 in Los Angeles, before the 08:00–21:00 window. */
const EARLY = new Date('2026-11-27T13:00:00.000Z');

/** The n-th answer the requester alone got after the ack (response_url). */
async function response(a: TestApp, index: number) {
  const reply = await a.slack.waitFor(() => a.slack.responses[index], `response ${index}`);
  return JSON.stringify(reply.body);
}

describe('"Schedule for <time>" on a call refused for calling hours', () => {
  it('a Schedule button pressed after its time places the call for now, checked again: not at once outside hours', async () => {
    let now = EARLY.getTime();
    app = await startTestApp({
      env: { CALLING_HOURS: '08:00-21:00' },
      now: () => new Date(now),
    });
    const a = app;
    await a.command('+14155552671');
    const value = String((await response(a, 0)).match(/"value":"(req_[^"]+)"/)?.[1]);
    expect(new Date(Number(value.split('|')[1])).toISOString()).toBe('2026-11-27T16:00:00.000Z');
    // Pressed at 22:00 in Los Angeles, long after 08:00 went by: a call now, and now is outside hours again.
    now = Date.parse('2026-11-28T06:00:00.000Z');
    await a.interact(
      a.buttonPress({ actionId: 'schedule_call', value, user: 'U0MARIA1', message: { ts: '1.1' } }),
    );
    expect(await response(a, 1)).toContain('That time has passed, so this is a call for now');
    const again = await response(a, 2);
    expect(again).toContain('outside calling hours');
    expect(again).toContain('"action_id":"schedule_call"');
    await new Promise((r) => setTimeout(r, 250));
    expect(a.iqra.requests).toHaveLength(0);
  });
});
