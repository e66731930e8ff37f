import { afterEach, describe, expect, it } from 'vitest';
import { progressOf, startTestApp, type TestApp } from '../../support/test-app.js';

// `/call history` and `/call status`, through the real app: the app's clock runs 20 times faster than the wall
// clock so that the tracking of a call (polls seconds apart) passes in a few hundred milliseconds.
const NOW = new Date('2026-11-27T17:00:00.000Z');

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(): Promise<TestApp> {
  const t0 = Date.now();
  app = await startTestApp({
    iqra: { mode: 'server' },
    now: () => new Date(NOW.getTime() + (Date.now() - t0) * 20),
  });
  return app;
}

interface Answer {
  text: string;
  blocks: { type: string; text?: { text: string } }[];
}

async function answer(a: TestApp, text: string): Promise<Answer> {
  const sent = await a.command(text);
  expect(sent.status).toBe(200);
  expect(sent.body).toMatchObject({ response_type: 'ephemeral' });
  return sent.body as Answer;
}

/** Places a call that Iqra dials, that is talked on, and that ends with no answer; resolves once it has ended. */
async function endedWithNoAnswer(a: TestApp) {
  a.iqra.lifecycle([
    { status: 0 },
    { status: 3 },
    { status: 4, sessionStatus: 3, sessionId: 'sess000000000000000000c1' },
    { status: 4, sessionStatus: 6, sessionEndType: 4 },
  ]);
  await a.command('+14155552671');
  await a.slack.waitFor(
    () => a.slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts),
    'the confirmation',
  );
  const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
  if (!call) throw new Error('no call recorded');
  return progressOf(a, call.id, 'ended');
}

describe('/call status and /call history of a call Iqra dialled', () => {
  it('say how the call ended, and word each step of its progress', async () => {
    const a = await start();
    const call = await endedWithNoAnswer(a);

    const status = (await answer(a, `status ${call.id}`)).text;
    expect(status).toContain(
      `*Call \`${call.id}\`* to *+1 415 555 2671* with *sales*: ✅ queued → 📵 ended: no answer`,
    );
    expect(status).toContain('⏳ sending to Iqra → ✅ queued');
    expect(status).toContain('☎️ dialling → 🗣️ in conversation');
    expect(status).toContain('🗣️ in conversation → 📵 ended: no answer');
    expect(status).not.toMatch(/in_conversation|→ ended\b/);

    const history = (await answer(a, 'history')).text;
    expect(history).toContain('· sales · ✅ queued → 📵 ended: no answer');
  });
});

describe('/call status of an unknown id', () => {
  it('answers within Slack’s limits whatever was typed', async () => {
    const a = await start();
    const body = await answer(a, `status ${'<&>'.repeat(600)}`);
    expect(body.text).toContain('I found no call `&lt;&amp;&gt;');
    for (const block of body.blocks) expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
  });
});
