import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { type FakeIqra, startFakeIqra } from '../support/fake-iqra.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { openedViews, type SentView, viewSubmission } from '../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const T0 = Date.parse('2026-11-27T17:00:00.000Z');

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

describe('a 500-row batch', () => {
  it('places every valid row exactly once through Iqra’s 429s and a restart in the middle', async () => {
    let at = T0;
    const now = () => new Date(at);
    const store: Store = await openStore({
      kind: 'sqlite',
      path: join(mkdtempSync(join(tmpdir(), 'iqra-batch-')), 'calls.sqlite'),
    });
    await store.migrate();
    const slack: FakeSlack = await startFakeSlack();
    const iqra: FakeIqra = await startFakeIqra();
    cleanup.push(
      () => store.close(),
      () => slack.close(),
      () => iqra.close(),
    );
    const startApp = async () => {
      const app = await startTestApp({
        store,
        slack,
        fakeIqra: iqra,
        now,
        env: {
          CALL_BATCH_MAX: '1000',
          CALL_LIMIT_PER_USER_PER_HOUR: '1000',
          CALL_LIMIT_PER_WORKSPACE_PER_HOUR: '1000',
        },
        appOptions: { batchTickMs: 0, batchRefreshMs: 0 },
      });
      let closed = false;
      cleanup.push(async () => {
        if (!closed) await app.close();
      });
      return {
        app,
        close: async () => {
          closed = true;
          await app.close();
        },
      };
    };

    let current = await startApp();
    const a: () => TestApp = () => current.app;
    const numbers = Array.from({ length: 500 }, (_, i) => `+1415555${String(1000 + i)}`);
    const csv = [
      'phone;CustomerName',
      ...numbers.map((n, i) => `${n};Customer ${i}`),
      numbers[7],
      'bogus',
    ].join('\n');
    const fileId = slack.addFile({ name: 'crm-export.csv', content: csv });

    await a().command('batch', { channel: 'C0SALES01' });
    const form = await slack.waitFor(() => openedViews(a())[0]?.view, 'the batch form');
    await a().interact(
      viewSubmission(a(), form, { input: { batch_file: fileId, batch_pace: '60' }, viewId: 'V0BATCH' }),
    );
    const preview = await slack.waitFor(
      () => slack.callsOf('views.update').at(-1)?.args.view as SentView | undefined,
      'the preview',
    );
    expect(JSON.stringify(preview.blocks)).toContain('500 of 502 rows will be called');
    await a().interact(viewSubmission(a(), preview));
    const batchId = preview.private_metadata ?? '';
    expect(await store.getBatch(batchId)).toMatchObject({ state: 'running', total: 500 });

    const sentAt: number[] = [];
    let heldSeen = false;
    for (let tick = 0; tick < 800; tick++) {
      if (tick === 100) {
        // Iqra turns the next request away three times: the client's own retries run out, the row goes back to
        // waiting, and the whole batch pauses.
        iqra.script(
          { status: 429, body: { message: 'slow down' }, headers: { 'retry-after': '1' } },
          { status: 429, body: { message: 'slow down' }, headers: { 'retry-after': '1' } },
          { status: 429, body: { message: 'slow down' }, headers: { 'retry-after': '1' } },
        );
      }
      // One 429 the client's retry absorbs.
      if (tick === 200) iqra.script({ status: 429, headers: { 'retry-after': '1' } });
      if (tick === 300) {
        await current.close();
        current = await startApp();
      }
      const before = iqra.requests.length;
      await a().running.batches.tick();
      if (iqra.requests.length > before) sentAt.push(at);
      if ((await store.getBatch(batchId))?.heldReason === 'iqra') heldSeen = true;
      at += 1000;
      if (iqra.issuedQueueIds.length === 500 && (await store.nextWaitingCall(batchId)) === undefined) break;
    }

    const calls = await store.batchCalls(batchId);
    expect(calls).toHaveLength(500);
    expect(calls.every((call) => call.state === 'queued' && call.queueIds.length === 1)).toBe(true);
    expect(new Set(calls.map((call) => call.queueIds[0])).size).toBe(500);
    expect(new Set(calls.map((call) => call.recipient))).toEqual(new Set(numbers));
    // Exactly one accepted request per row: 500 queue ids handed out, 4 requests turned away.
    expect(iqra.issuedQueueIds).toHaveLength(500);
    expect(iqra.requests).toHaveLength(504);
    expect(heldSeen).toBe(true);
    // The pause: a minute without a request after the exhausted 429s; otherwise one request a second at most.
    const gaps = sentAt.slice(1).map((t, i) => t - (sentAt[i] ?? t));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
    expect(gaps.filter((g) => g >= 60_000)).toHaveLength(1);
  }, 120_000);
});
