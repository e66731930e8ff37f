import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallRequest } from '../../src/calls/call-request.js';
import { storeDraft, storeRequest } from '../../src/services/stored-request.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const NOW = new Date('2026-11-27T17:00:00.000Z');

const request: CallRequest = {
  requestId: 'req_left0behind1',
  origin: { teamId: 'T0001', channelId: 'C0SALES01', userId: 'U0MARIA1' },
  recipient: { e164: '+14155552671', display: '+1 415 555 2671', country: 'US' },
  agent: { alias: 'sales', id: 'agent_sales_01' },
  number: { alias: 'main', id: 'num_main_01' },
  campaign: { alias: 'sales', id: 'camp_sales_01' },
  variables: { CustomerName: 'Ada' },
  metadata: {},
  when: { kind: 'now' },
  requesterTimeZone: 'America/Los_Angeles',
};

let app: TestApp | undefined;
let store: Store | undefined;
afterEach(async () => {
  await app?.close();
  await store?.close();
  app = undefined;
  store = undefined;
});

async function seededStore(): Promise<Store> {
  store = await openStore({
    kind: 'sqlite',
    path: join(mkdtempSync(join(tmpdir(), 'iqra-desk-')), 'calls.sqlite'),
  });
  await store.migrate();
  return store;
}

async function recordLeftBehind(s: Store, id: string, state: 'received' | 'sending', whenPhrase?: string) {
  const draft = { ...request, requestId: id, ...(whenPhrase ? { whenPhrase } : {}) };
  await s.recordCall(
    `command:${id}`,
    {
      id,
      entryPoint: 'command',
      teamId: 'T0001',
      channelId: 'C0SALES01',
      userId: 'U0MARIA1',
      request: state === 'sending' ? storeRequest(draft, 'slack') : storeDraft(draft),
      recipient: '+14155552671',
      agentAlias: 'sales',
      owner: 'a-process-that-died',
    },
    NOW.getTime() - 60_000,
  );
  if (state === 'sending') {
    await s.transition(id, ['received'], 'sending', {}, NOW.getTime() - 59_000, { by: 'iqra' });
  }
}

describe('recovery at start-up', () => {
  it('sends a request that was recorded but never sent, once', async () => {
    const s = await seededStore();
    await recordLeftBehind(s, 'req_neversent01', 'received', 'in 2 hours');
    app = await startTestApp({ store: s, now: () => NOW });
    app.slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
    await app.slack.waitFor(
      () => app?.slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts),
      'the thread reply',
    );
    expect(app.iqra.requests).toHaveLength(1);
    // The phrase is read relative to when the rep asked (a minute before NOW), not to the restart.
    expect(app.iqra.requests[0]?.fields.ScheduledTime).toBe('2026-11-27T18:59:00.000Z');
    expect((await s.getCall('req_neversent01'))?.state).toBe('queued');
    const steps = (await s.transitions('req_neversent01')).map((t) => t.to);
    expect(steps).toEqual(['received', 'sending', 'queued']);
  });

  it('marks a request caught mid-send as unknown, never re-sends it, and offers "Place the call again"', async () => {
    const s = await seededStore();
    await recordLeftBehind(s, 'req_midsend0001', 'sending');
    app = await startTestApp({ store: s, now: () => NOW });
    const thread = await app.slack.waitFor(
      () => app?.slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts),
      'the thread reply',
    );
    const parent = app.slack.callsOf('chat.postMessage').find((c) => !c.args.thread_ts);
    expect(String(parent?.args.text)).toContain('may or may not have been placed');
    const blocks = JSON.stringify(thread.args.blocks);
    expect(blocks).toContain('The app stopped while it was asking Iqra for this call');
    expect(blocks).toContain('"action_id":"place_call_again"');
    expect(blocks).toContain('"value":"req_midsend0001"');
    await new Promise((r) => setTimeout(r, 200));
    expect(app.iqra.requests).toHaveLength(0);
    const call = await s.getCall('req_midsend0001');
    expect(call).toMatchObject({ state: 'unknown', outcomeReason: 'INTERRUPTED' });
    expect((await s.transitions('req_midsend0001')).at(-1)?.detail).toMatchObject({
      by: 'recovery',
      previousOwner: 'a-process-that-died',
    });
  });

  it('leaves requests of this very instance alone', async () => {
    const s = await seededStore();
    app = await startTestApp({ store: s, now: () => NOW });
    await recordLeftBehind(s, 'req_notorphan01', 'received');
    await s.transition(
      'req_notorphan01',
      ['received'],
      'received',
      { owner: app.running.instanceId },
      NOW.getTime(),
    );
    const again = await app.running.desk.recover();
    expect(again).toEqual({ interrupted: 0, resumed: 0 });
  });
});

describe('the work after an ack', () => {
  it('starts only after the callbacks already waiting in the event loop, then sends the call once', async () => {
    const s = await seededStore();
    // The real store, with its reads of a call noted: the desk's first step is reading the call it was given.
    const reads: string[] = [];
    const watched = new Proxy(s, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property === 'getCall') {
          return (id: string) => {
            reads.push(id);
            return target.getCall(id);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    app = await startTestApp({ store: watched, now: () => NOW });
    app.slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
    await recordLeftBehind(s, 'req_afterack01', 'received');

    let readsWhenWaitingCallbackRan: number | undefined;
    setImmediate(() => {
      readsWhenWaitingCallbackRan = reads.filter((id) => id === 'req_afterack01').length;
    });
    const work = app.running.desk.start('req_afterack01');
    expect(reads).not.toContain('req_afterack01');
    await work;

    expect(readsWhenWaitingCallbackRan).toBe(0);
    expect(reads).toContain('req_afterack01');
    expect(app.iqra.requests).toHaveLength(1);
    expect((await s.getCall('req_afterack01'))?.state).toBe('queued');
  });
});
