import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../../../support/fake-slack.js';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const replies = (a: TestApp): SlackApiCall[] =>
  a.slack.callsOf('chat.postMessage').filter((c) => c.args.thread_ts);

async function unknownCall(a: TestApp) {
  a.iqra.script({ status: 500, body: 'boom' });
  await a.command('+14155552671 CustomerName=Ada');
  const reply = await a.slack.waitFor(() => replies(a)[0], 'the thread reply');
  const parent = a.slack.callsOf('chat.postMessage').find((c) => !c.args.thread_ts) as SlackApiCall;
  const requestId = String(a.iqra.requests[0]?.fields['Metadata[RequestId]']);
  return { reply, parentTs: String(reply.args.thread_ts), parent, requestId };
}

describe('"Place the call again"', () => {
  it('is offered on a call whose outcome is unknown', async () => {
    app = await startTestApp();
    const { reply, requestId } = await unknownCall(app);
    expect(JSON.stringify(reply.args.blocks)).toContain(`"value":"${requestId}"`);
  });

  it('refuses when the outcome is known by now (another replica recorded Iqra’s answer), and sends nothing more', async () => {
    app = await startTestApp();
    const { requestId, parentTs } = await unknownCall(app);
    await app.store.transition(requestId, ['unknown'], 'queued', {}, Date.now());
    const res = await app.interact(
      app.buttonPress({
        actionId: 'place_call_again',
        value: requestId,
        user: 'U0MARIA1',
        message: { ts: `${parentTs}9` },
      }),
    );
    expect(res.status).toBe(200);
    const answer = await app.slack.waitFor(() => app?.slack.responses[0], 'the answer');
    expect(JSON.stringify(answer.body)).toContain('is not in doubt any more');
    await new Promise((r) => setTimeout(r, 250));
    expect(app.iqra.requests).toHaveLength(1);
  });

  it('refuses anyone but the requester, and sends nothing', async () => {
    app = await startTestApp();
    const { requestId, parentTs } = await unknownCall(app);
    const res = await app.interact(
      app.buttonPress({
        actionId: 'place_call_again',
        value: requestId,
        user: 'U0SOMEONE',
        message: { ts: `${parentTs}9` },
      }),
    );
    expect(res.status).toBe(200);
    const answer = await app.slack.waitFor(() => app?.slack.responses[0], 'the refusal');
    expect(JSON.stringify(answer.body)).toContain('Only <@U0MARIA1>');
    await new Promise((r) => setTimeout(r, 200));
    expect(app.iqra.requests).toHaveLength(1);
  });

  it('places a new, deliberate request once, in the same thread, however often it is pressed', async () => {
    app = await startTestApp();
    const { requestId, parentTs } = await unknownCall(app);
    const press = () =>
      app?.interact(
        app.buttonPress({
          actionId: 'place_call_again',
          value: requestId,
          user: 'U0MARIA1',
          message: { ts: `${parentTs}9` },
        }),
      );
    await Promise.all([press(), press()]);
    await app.slack.waitFor(() => (app?.iqra.requests.length ?? 0) >= 2 && true, 'the new Iqra request');
    const again = app.iqra.requests[1];
    expect(again?.fields.RecipientNumber).toBe('+14155552671');
    expect(again?.fields['DynamicVariables[CustomerName]']).toBe('Ada');
    const newId = String(again?.fields['Metadata[RequestId]']);
    expect(newId).not.toBe(requestId);
    // Its confirmation goes in the first call's thread.
    const inThread = await app.slack.waitFor(
      () => replies(app as TestApp).find((c) => JSON.stringify(c.args).includes('queued a call')),
      'the new confirmation',
    );
    expect(inThread.args.thread_ts).toBe(parentTs);
    await press();
    const already = await app.slack.waitFor(
      () => app?.slack.responses.find((r) => JSON.stringify(r.body).includes('already placed again')),
      'the "already" answer',
    );
    expect(JSON.stringify(already.body)).toContain(newId);
    expect(app.iqra.requests).toHaveLength(2);
    const record = await app.store.getCall(newId);
    expect(record).toMatchObject({ entryPoint: 'retry', retryOf: requestId, state: 'queued' });
  });
});
