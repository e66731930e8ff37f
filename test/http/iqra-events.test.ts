import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

// POST /iqra/events on the real app (Bolt's HTTP receiver, its custom route), against the fake Slack and Iqra.
const SECRET = 'a-very-long-shared-secret-0123456789';
const NOW = new Date('2026-11-27T17:00:00.000Z');

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(): Promise<TestApp> {
  app = await startTestApp({ env: { IQRA_WEBHOOK_SECRET: SECRET }, now: () => NOW });
  return app;
}

function push(a: TestApp, body: unknown, authorization: string | undefined, query = '?event=ended') {
  return fetch(`${a.url}/iqra/events${query}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization !== undefined ? { authorization } : {}),
    },
    body: JSON.stringify(body),
  });
}

// A queue id no call has: an accepted event answers 200 `unknown_call`, a refused one 401.
const UNKNOWN = { call_queue_id: 'ffffffffffffffffffffffff', call_queue_status: 'Failed' };

describe('POST /iqra/events: the shared secret', () => {
  it('takes the Bearer scheme in any case, and after more than one space or a tab', async () => {
    const a = await start();
    for (const auth of [
      `Bearer ${SECRET}`,
      `bearer ${SECRET}`,
      `BEARER ${SECRET}`,
      `bEaReR ${SECRET}`,
      `Bearer   ${SECRET}`,
      `Bearer\t${SECRET}`,
    ]) {
      const res = await push(a, UNKNOWN, auth);
      expect({ auth, status: res.status }).toEqual({ auth, status: 200 });
      expect(await res.json()).toMatchObject({ ok: true, result: 'unknown_call' });
    }
  });

  it('compares the secret itself exactly: another case, a prefix, an extra character or another scheme is refused', async () => {
    const a = await start();
    for (const auth of [
      undefined,
      '',
      'bearer',
      'bearer ',
      `bearer${SECRET}`,
      `bearer ${SECRET.toUpperCase()}`,
      `BEARER ${SECRET.slice(0, -1)}`,
      `bearer ${SECRET}x`,
      `bearer ${SECRET} ${SECRET}`,
      `Token ${SECRET}`,
      `Basic ${Buffer.from(`x:${SECRET}`).toString('base64')}`,
      `xBearer ${SECRET}`,
    ]) {
      const res = await push(a, UNKNOWN, auth);
      expect({ auth, status: res.status }).toEqual({ auth, status: 401 });
    }
  });

  it('applies an event sent with a lower-case scheme to its call', async () => {
    const a = await start();
    await a.command('+14155552671');
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts),
      'the confirmation',
    );
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    const res = await push(
      a,
      { call_queue_id: call?.queueIds[0], call_queue_status: 'ProcessingBackend' },
      `bearer ${SECRET}`,
      '?event=initiated',
    );
    expect(await res.json()).toMatchObject({ ok: true, result: 'applied' });
    expect((await a.store.getCall(call?.id ?? ''))?.progress).toBe('dialling');
  });
});

describe('POST /iqra/events: the body', () => {
  it('answers 413 to a body over the limit, and the connection stays usable for the next event', async () => {
    const a = await start();
    const big = { ...UNKNOWN, conversation_turns: 'a'.repeat(2_000_000) };
    const res = await push(a, big, `Bearer ${SECRET}`);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ ok: false });
    // The sender's next event (its HTTP client reuses connections) is read as usual.
    const next = await push(a, UNKNOWN, `Bearer ${SECRET}`);
    expect(next.status).toBe(200);
    expect(await next.json()).toMatchObject({ ok: true, result: 'unknown_call' });
  });
});
