import { afterEach, describe, expect, it } from 'vitest';
import { readBatchTable } from '../../../src/calls/batch.js';
import { BATCH_MODAL, BATCH_PREVIEW_MODAL } from '../../../src/slack/blocks/batch.js';
import { pressStop, stopBatch } from '../../support/batches.js';
import {
  appHomeOpenedEvent,
  GRID,
  inEnterpriseGrid,
  openedViews,
  type SentView,
  sendEvent,
  viewBlockAction,
  viewSubmission,
} from '../../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../../support/test-app.js';

/** A Friday, 17:00 UTC: within 08:00–21:00 for US numbers all day. */
const T0 = Date.parse('2026-11-27T17:00:00.000Z');

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function clock(start = T0) {
  let at = start;
  return {
    now: () => new Date(at),
    advance(ms: number) {
      at += ms;
    },
    get at() {
      return at;
    },
  };
}

async function start(o: { env?: Record<string, string>; now?: () => Date } = {}): Promise<TestApp> {
  app = await startTestApp({
    env: o.env ?? {},
    ...(o.now ? { now: o.now } : {}),
    appOptions: { batchTickMs: 0, batchRefreshMs: 0 },
  });
  return app;
}

/** The views the app put in place of a modal with views.update, newest last. */
function updatedViews(a: TestApp): SentView[] {
  return a.slack.callsOf('views.update').map((c) => c.args.view as SentView);
}

function text(view: SentView): string {
  return JSON.stringify(view.blocks);
}

/** `/call batch`, then the form submitted with `input`; resolves with the form's ack and the view shown after. */
async function submitList(a: TestApp, input: Record<string, string | null>) {
  const opened = openedViews(a).length;
  const ack = await a.command('batch', { channel: 'C0SALES01' });
  expect(ack.status).toBe(200);
  const form = await a.slack.waitFor(() => openedViews(a)[opened]?.view, 'the batch form');
  expect(form?.callback_id).toBe(BATCH_MODAL);
  if (!form) throw new Error('no form');
  const before = updatedViews(a).length;
  const submitted = await a.interact(viewSubmission(a, form, { input, viewId: 'V0BATCHFORM' }));
  const shown = await a.slack.waitFor(
    () => (updatedViews(a).length > before ? updatedViews(a).at(-1) : undefined),
    'the preview (views.update)',
  );
  return { submitted, shown };
}

/** A two-row batch confirmed and waiting for approval, and the reject form U0BOSS001 opened on its message. */
async function rejectFormOpened(a: TestApp) {
  const { shown } = await submitList(a, { batch_paste: '+14155551001\n+14155551002', batch_pace: '60' });
  await a.interact(viewSubmission(a, shown));
  const batchId = shown.private_metadata ?? '';
  await a.running.delivery.flush();
  const ts = (await a.store.getBatch(batchId))?.parentTs ?? '';
  await a.interact(
    a.buttonPress({ actionId: 'batch_reject', value: batchId, user: 'U0BOSS001', message: { ts } }),
  );
  const form = await a.slack.waitFor(
    () => openedViews(a).find((v) => v.view.callback_id === 'reject_batch_modal')?.view,
    'the reject form',
  );
  return { batchId, ts, form };
}

const LIST = [
  'phone,CustomerName,agent',
  '+14155550101,Ada,sales',
  '(415) 555-0102,"Lovelace, Ada",support',
  '+1 415 555 0101,Duplicate,sales',
  'not-a-number,Bob,sales',
  '',
  '+14155550103,Cy,',
  '+14155550104,Dee,nosuchagent',
].join('\r\n');

describe('/call batch', () => {
  it('opens a form with a file upload, a paste box, the pace and the channel', async () => {
    const a = await start();
    const ack = await a.command('batch', { channel: 'C0SALES01' });
    expect(ack.status).toBe(200);
    const form = await a.slack.waitFor(() => openedViews(a)[0]?.view, 'the batch form');
    expect(form?.callback_id).toBe(BATCH_MODAL);
    const types = form?.blocks.map((b) => b.element?.type).filter(Boolean);
    expect(types).toEqual(expect.arrayContaining(['file_input', 'plain_text_input', 'number_input']));
    const channel = form?.blocks.find((b) => b.element?.type === 'conversations_select');
    expect(channel?.element?.initial_conversation).toBe('C0SALES01');
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('refuses an empty form on the form itself, and records nothing', async () => {
    const a = await start();
    await a.command('batch', { channel: 'C0SALES01' });
    const form = await a.slack.waitFor(() => openedViews(a)[0]?.view, 'the batch form');
    const res = await a.interact(viewSubmission(a, form, { input: {} }));
    const answer = JSON.parse(res.body) as { response_action: string; errors: Record<string, string> };
    expect(answer.response_action).toBe('errors');
    expect(Object.values(answer.errors).join(' ')).toContain('paste the numbers');
    expect(await a.store.batchesInStates(['draft', 'running'], 10)).toHaveLength(0);
  });

  it('previews an uploaded CSV: valid rows, skipped rows with their reasons, duplicates collapsed', async () => {
    const a = await start({ now: () => new Date(T0) });
    const fileId = a.slack.addFile({ name: 'webinar.csv', content: `\uFEFF${LIST}` });
    const { submitted, shown } = await submitList(a, { batch_file: fileId, batch_pace: '10' });
    // Pushed on top of the form, so that Back returns to it; rewritten by its external id once checked.
    expect(JSON.parse(submitted.body)).toMatchObject({ response_action: 'push' });
    const pushed = (JSON.parse(submitted.body) as { view: { external_id: string } }).view.external_id;
    expect(a.slack.callsOf('views.update').at(-1)?.args.external_id).toBe(pushed);
    expect(JSON.stringify(shown.close)).toContain('Back');
    expect(shown.callback_id).toBe(BATCH_PREVIEW_MODAL);
    const body = text(shown);
    expect(body).toContain('3 of 6 rows will be called');
    expect(body).toContain('Line 5');
    expect(body).toContain('Line 8');
    expect(body).toContain('nosuchagent');
    expect(body).toContain('1 duplicate');
    // Downloaded with the bot token, as Slack requires; nothing sent to Iqra, no call recorded.
    expect(a.slack.callsOf('files.info')[0]?.args.file).toBe(fileId);
    expect(a.iqra.requests).toHaveLength(0);
    const batchId = shown.private_metadata ?? '';
    expect(await a.store.getBatch(batchId)).toMatchObject({ state: 'draft', total: 3 });
    expect(await a.store.batchCalls(batchId)).toHaveLength(0);
  });

  it('refuses someone who may not place calls before reading the list', async () => {
    const a = await start({ env: { CALL_ALLOWED_USERS: 'U0BOSS001' } });
    const fileId = a.slack.addFile({ name: 'list.csv', content: LIST });
    const { shown } = await submitList(a, { batch_file: fileId, batch_pace: '10' });
    expect(text(shown)).toContain('not among the people who may place calls');
    expect(a.slack.fileDownloads).toHaveLength(0);
    expect(await a.store.batchesInStates(['draft'], 10)).toHaveLength(0);
  });

  it('says plainly when the uploaded file is not a CSV, and records nothing', async () => {
    const a = await start();
    const fileId = a.slack.addFile({ name: 'leads.xlsx', content: 'PK\u0003\u0004 not a csv' });
    const { shown } = await submitList(a, { batch_file: fileId, batch_pace: '10' });
    expect(text(shown)).toContain('Save it as CSV');
    expect(JSON.stringify(shown.close)).toContain('Back');
    expect(await a.store.batchesInStates(['draft'], 10)).toHaveLength(0);
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('records the rows once however often the preview is confirmed, and only by the rep who uploaded it', async () => {
    const a = await start({ now: () => new Date(T0) });
    const { shown } = await submitList(a, { batch_paste: '+14155551001\n+14155551002', batch_pace: '60' });
    const batchId = shown.private_metadata ?? '';
    const other = await a.interact(viewSubmission(a, shown, { user: 'U0OTHER01' }));
    expect(other.body).toContain('Only the person who uploaded this list');
    expect((await a.store.getBatch(batchId))?.state).toBe('draft');
    const first = await a.interact(viewSubmission(a, shown, { viewId: 'V0PREVIEW', hash: '1.a' }));
    const again = await a.interact(viewSubmission(a, shown, { viewId: 'V0PREVIEW', hash: '1.a' }));
    expect(JSON.parse(first.body)).toMatchObject({ response_action: 'clear' });
    expect(again.body).toContain('already confirmed');
    expect(await a.store.batchCalls(batchId)).toHaveLength(2);
  });

  it('says what is wrong with the list, with Back to the form to fix it', async () => {
    const a = await start();
    const { shown } = await submitList(a, {
      batch_paste: 'phone,Customer Name\n+14155550101,Ada',
      batch_pace: '10',
    });
    expect(shown.callback_id).not.toBe(BATCH_PREVIEW_MODAL);
    expect(text(shown)).toContain('Customer Name');
    expect(JSON.stringify(shown.close)).toContain('Back');
    expect(await a.store.batchesInStates(['draft'], 10)).toHaveLength(0);
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('places every valid row once at the pace, shows progress in one message, and posts the result file', async () => {
    const c = clock();
    const a = await start({ now: c.now });
    // Line 2 completes, line 3 is not answered, line 7 completes.
    for (const endType of [5, 4, 5])
      a.iqra.lifecycle([{ status: 4, sessionStatus: 6, sessionEndType: endType }]);
    const fileId = a.slack.addFile({ name: 'webinar.csv', content: LIST });
    const { shown } = await submitList(a, { batch_file: fileId, batch_pace: '6' });
    const confirm = await a.interact(viewSubmission(a, shown));
    expect(JSON.parse(confirm.body)).toMatchObject({ response_action: 'clear' });
    const batchId = shown.private_metadata ?? '';

    // The parent message is posted once, in the channel the form chose.
    await a.running.delivery.flush();
    const parents = () =>
      a.slack.callsOf('chat.postMessage').filter((m) => JSON.stringify(m.args.blocks).includes(batchId));
    expect(parents()).toHaveLength(1);
    expect(parents()[0]?.args.channel).toBe('C0SALES01');
    // 3 calls from a list of 6 rows (2 skipped at the preview, 1 duplicate collapsed): the progress counts the 5.
    expect(JSON.stringify(parents()[0]?.args.blocks)).toContain('3 calls');
    expect(JSON.stringify(parents()[0]?.args.blocks)).toContain('*2/5* done');
    const parentTs = (await a.store.getBatch(batchId))?.parentTs;
    expect(parentTs).toBeDefined();

    // 6 calls a minute: one every 10 s of the (fake) clock, whatever the ticks in between.
    const sentAt: number[] = [];
    for (let second = 0; second <= 40; second++) {
      const before = a.iqra.requests.length;
      await a.running.batches.tick();
      if (a.iqra.requests.length > before) sentAt.push(c.at - T0);
      c.advance(1000);
    }
    expect(sentAt).toEqual([0, 10_000, 20_000]);
    const numbers = a.iqra.requests.map((r) => r.fields.RecipientNumber);
    expect(new Set(numbers).size).toBe(3);
    expect(a.iqra.requests[1]?.fields['DynamicVariables[CustomerName]']).toBe('Lovelace, Ada');

    // No per-call messages: only the batch's own.
    expect(a.slack.callsOf('chat.postMessage')).toHaveLength(1);

    // The calls end (tracking), the batch finishes, and the result goes in its thread.
    c.advance(10 * 60_000);
    const done = await waitUntil(async () => {
      await a.running.batches.tick();
      return (await a.store.getBatch(batchId))?.state === 'done';
    });
    expect(done).toBe(true);
    await a.running.delivery.flush();
    const upload = await a.slack.waitFor(() => a.slack.uploads[0], 'the result file');
    expect(upload.channelId).toBe('C0SALES01');
    expect(upload.threadTs).toBe(parentTs);
    const result = readBatchTable(upload.content.toString('utf8'));
    expect(result.header).toEqual([
      'line',
      'number',
      'status',
      'queue_id',
      'outcome',
      'duration_seconds',
      'reason',
      'request_id',
    ]);
    const byLine = new Map(result.rows.map((r) => [r.cells[0], r.cells]));
    expect(byLine.get('2')?.[2]).toBe('completed');
    expect(byLine.get('2')?.[3]).toBe(a.iqra.issuedQueueIds[0]);
    expect(byLine.get('3')?.[2]).toBe('no answer');
    expect(byLine.get('5')?.[2]).toBe('skipped');
    expect(byLine.get('8')?.[6]).toContain('nosuchagent');
    // Plain text in the file: no Slack markup.
    expect(byLine.get('8')?.[6]).not.toMatch(/[`*]|&lt;|<[@#!]/);
    // Line 4 repeats line 2's number: not called, and in the file all the same, saying why.
    expect(byLine.get('4')?.slice(1, 3)).toEqual(['+14155550101', 'skipped']);
    expect(byLine.get('4')?.[6]).toBe('Not called: the same number as line 2.');
    expect(result.rows.map((r) => r.cells[0])).toEqual(['2', '3', '4', '5', '7', '8']);
  });

  it('"Stop the rest" cancels rows not sent, leaves sent ones alone, and only for the rep or an admin', async () => {
    const c = clock();
    const a = await start({ now: c.now });
    const rows = Array.from({ length: 10 }, (_, i) => `+1415555${String(1000 + i)}`).join('\n');
    const { shown } = await submitList(a, { batch_paste: rows, batch_pace: '60' });
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    await a.running.delivery.flush();
    for (let i = 0; i < 3; i++) {
      await a.running.batches.tick();
      c.advance(1000);
    }
    expect(a.iqra.requests).toHaveLength(3);
    const parentTs = (await a.store.getBatch(batchId))?.parentTs ?? '';

    const stranger = await pressStop(a, batchId, parentTs, 'U0STRANGER');
    expect(stranger.status).toBe(200);
    await a.slack.waitFor(
      () => a.slack.responses.find((r) => String(r.body.text).includes('Only <@U0MARIA1>')),
      'refusal',
    );
    expect((await a.store.getBatch(batchId))?.state).toBe('running');

    await stopBatch(a, batchId, parentTs, 'Stopped. 7 calls');
    for (let i = 0; i < 5; i++) {
      await a.running.batches.tick();
      c.advance(1000);
    }
    expect(a.iqra.requests).toHaveLength(3);
    const states = (await a.store.batchCalls(batchId)).map((call) => call.state);
    expect(states.filter((s) => s === 'cancelled')).toHaveLength(7);
    expect(states.filter((s) => s === 'queued')).toHaveLength(3);
  });
});

describe('the result file', () => {
  it('has every row of the list, by line: duplicates, and rows skipped at the preview or at confirm', async () => {
    // 22:00 UTC: 14:00 in California, 22:00 in London (outside 08:00–20:00).
    const c = clock(Date.parse('2026-11-27T22:00:00.000Z'));
    const a = await start({ env: { CALL_ADMINS: 'U0MARIA1', CALLING_HOURS: '08:00-20:00' }, now: c.now });
    for (let i = 0; i < 2; i++) a.iqra.lifecycle([{ status: 4, sessionStatus: 6, sessionEndType: 5 }]);
    await a.command('dnc add +14155551002 asked us to stop');
    const list = [
      '+14155551001',
      '(415) 555-1001', // line 2: the same number as line 1
      'nope', // line 3: not a number
      '+14155551002', // line 4: on the do-not-call list
      '+1 415 555 1002', // line 5: the same number as line 4, itself skipped
      '',
      '+442071838750', // line 7: outside calling hours, skipped by the rep's choice
      '+14155551003',
      '1-415-555-1003', // line 9: the same number as line 8
    ].join('\n');
    const { shown } = await submitList(a, { batch_paste: list, batch_pace: '60' });
    expect(text(shown)).toContain('2 of 8 rows will be called');
    await a.interact(viewSubmission(a, shown, { input: { batch_outside: 'skip' } }));
    const batchId = shown.private_metadata ?? '';
    const done = await waitUntil(async () => {
      await a.running.batches.tick();
      c.advance(60_000);
      return (await a.store.getBatch(batchId))?.state === 'done';
    });
    expect(done).toBe(true);
    expect(a.iqra.issuedQueueIds).toHaveLength(2);
    await a.running.delivery.flush();
    const upload = await a.slack.waitFor(() => a.slack.uploads[0], 'the result file');
    const result = readBatchTable(upload.content.toString('utf8'));
    const rows = result.rows.map((r) => ({ line: r.cells[0], number: r.cells[1], status: r.cells[2] }));
    expect(rows).toEqual([
      { line: '1', number: '+14155551001', status: 'completed' },
      { line: '2', number: '+14155551001', status: 'skipped' },
      { line: '3', number: 'nope', status: 'skipped' },
      { line: '4', number: '+14155551002', status: 'skipped' },
      { line: '5', number: '+14155551002', status: 'skipped' },
      { line: '7', number: '+442071838750', status: 'skipped' },
      { line: '8', number: '+14155551003', status: 'completed' },
      { line: '9', number: '+14155551003', status: 'skipped' },
    ]);
    const reason = new Map(result.rows.map((r) => [r.cells[0], r.cells[6]]));
    expect(reason.get('2')).toBe('Not called: the same number as line 1.');
    expect(reason.get('3')).toContain('is not a phone number');
    expect(reason.get('4')).toContain('do-not-call list');
    expect(reason.get('5')).toBe('Not called: the same number as line 4.');
    expect(reason.get('7')).toMatch(/calling hours/i);
    expect(reason.get('9')).toBe('Not called: the same number as line 8.');
    // The comment with the file counts them too.
    expect(upload.initialComment).toContain('6 skipped (3 as the same number as an earlier row)');
  });

  it('reports a pasted list’s first line that is neither a number nor a column name, instead of dropping it', async () => {
    const c = clock();
    const a = await start({ now: c.now });
    a.iqra.lifecycle([{ status: 4, sessionStatus: 6, sessionEndType: 5 }]);
    const { shown } = await submitList(a, { batch_paste: 'John\n+14155551001', batch_pace: '60' });
    const preview = text(shown);
    expect(preview).toContain('1 of 2 rows will be called');
    expect(preview).toContain('Line 1');
    expect(preview).toContain('John');
    expect(preview).toContain('If this first line names the column, call it `phone`');
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    const done = await waitUntil(async () => {
      await a.running.batches.tick();
      c.advance(60_000);
      return (await a.store.getBatch(batchId))?.state === 'done';
    });
    expect(done).toBe(true);
    await a.running.delivery.flush();
    const upload = await a.slack.waitFor(() => a.slack.uploads[0], 'the result file');
    const result = readBatchTable(upload.content.toString('utf8'));
    expect(result.rows.map((r) => r.cells.slice(0, 3))).toEqual([
      ['1', 'John', 'skipped'],
      ['2', '+14155551001', 'completed'],
    ]);
    expect(result.rows[0]?.cells[6]).toContain('John is not a phone number');
  });

  it('still drops a pasted list’s first line that names the column', async () => {
    const a = await start({ now: () => new Date(T0) });
    for (const header of ['phone', 'Phone Number', 'Numbers', 'Mobile phone #']) {
      const { shown } = await submitList(a, {
        batch_paste: `${header}\n+14155551001\n+14155551002`,
        batch_pace: '60',
      });
      expect(text(shown)).toContain('2 of 2 rows will be called');
      expect(text(shown)).not.toContain('Skipped');
    }
  });
});

describe('"Stop the rest" while a row is being sent', () => {
  it('a row Iqra turns away after Stop is cancelled too, and the batch still finishes with its result', async () => {
    const c = clock();
    const a = await start({ now: c.now });
    a.iqra.lifecycle([{ status: 4, sessionStatus: 6, sessionEndType: 5 }]);
    const rows = Array.from({ length: 4 }, (_, i) => `+1415555${String(1000 + i)}`).join('\n');
    const { shown } = await submitList(a, { batch_paste: rows, batch_pace: '60' });
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    await a.running.delivery.flush();
    const parentTs = (await a.store.getBatch(batchId))?.parentTs ?? '';

    // Row 1 goes out; row 2 is with Iqra, slowly, when the rep presses Stop, and Iqra then turns it away (429 until
    // the client's retries run out): nothing was placed for it.
    await a.running.batches.tick();
    c.advance(1000);
    const busy = { status: 429, body: { message: 'slow down' }, headers: { 'retry-after': '1' } };
    // biome-ignore lint/suspicious/noThenProperty: the fake Iqra's word for the answer given after the delay.
    a.iqra.script({ delayMs: 400, then: busy }, busy, busy);
    const sending = a.running.batches.tick();
    const [, second] = await a.store.batchCalls(batchId);
    await waitUntil(async () => (await a.store.getCall(second?.id ?? ''))?.state === 'sending');
    await stopBatch(a, batchId, parentTs);
    await sending;
    expect(a.iqra.issuedQueueIds).toHaveLength(1);

    // The row Iqra turned away is not left waiting in a stopped batch: it is cancelled, nothing more is sent, and
    // once the one placed call ends the batch is done, with its result file.
    const done = await waitUntil(async () => {
      await a.running.batches.tick();
      c.advance(10 * 60_000);
      return (await a.store.getBatch(batchId))?.state === 'done';
    });
    expect((await a.store.batchCalls(batchId)).map((call) => call.state)).toEqual([
      'queued',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect(done).toBe(true);
    expect(a.iqra.issuedQueueIds).toHaveLength(1);
    await a.running.delivery.flush();
    const upload = await a.slack.waitFor(() => a.slack.uploads[0], 'the result file');
    expect(upload.content.toString('utf8')).toContain('cancelled');
    // Its message, rewritten one last time, still says it was stopped, by whom, and how many rows were cancelled.
    const last = a.slack
      .callsOf('chat.update')
      .filter((u) => u.args.ts === parentTs)
      .at(-1);
    expect(JSON.stringify(last?.args.blocks)).toContain(
      'Stopped by <@U0MARIA1>: 3 rows not sent were cancelled',
    );
    expect(JSON.stringify(last?.args.blocks)).toContain('The result file is in the thread');
  });
});

describe('batch approval, calling hours and history', () => {
  const APPROVAL = { CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001' };

  it('asks for one approval for the whole batch; nothing is sent until an approver approves', async () => {
    const c = clock();
    const a = await start({ env: APPROVAL, now: c.now });
    const { shown } = await submitList(a, {
      batch_paste: '+14155551001\n+14155551002\n+14155551003',
      batch_pace: '60',
    });
    expect(text(shown)).toContain('U0BOSS001');
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    await a.running.delivery.flush();
    expect((await a.store.getBatch(batchId))?.state).toBe('pending_approval');
    const parent = a.slack
      .callsOf('chat.postMessage')
      .find((m) => JSON.stringify(m.args.blocks).includes(batchId));
    // One approval message (the batch's own, with its buttons), not one per row.
    expect(a.slack.callsOf('chat.postMessage')).toHaveLength(1);
    expect(JSON.stringify(parent?.args.blocks)).toContain('batch_approve');
    for (let i = 0; i < 3; i++) {
      await a.running.batches.tick();
      c.advance(1000);
    }
    expect(a.iqra.requests).toHaveLength(0);

    const ts = (await a.store.getBatch(batchId))?.parentTs ?? '';
    // The rep can't approve their own batch.
    await a.interact(
      a.buttonPress({ actionId: 'batch_approve', value: batchId, user: 'U0MARIA1', message: { ts } }),
    );
    await a.slack.waitFor(
      () => a.slack.responses.find((r) => String(r.body.text).includes('Only the approvers')),
      'refusal',
    );
    await a.interact(
      a.buttonPress({ actionId: 'batch_approve', value: batchId, user: 'U0BOSS001', message: { ts } }),
    );
    await waitUntil(async () => (await a.store.getBatch(batchId))?.state === 'running');
    expect(await a.store.getBatch(batchId)).toMatchObject({ state: 'running', decidedBy: 'U0BOSS001' });
    for (let i = 0; i < 4; i++) {
      await a.running.batches.tick();
      c.advance(1000);
    }
    expect(a.iqra.requests).toHaveLength(3);
    // Rows are not sent through per-call approval again.
    const states = (await a.store.batchCalls(batchId)).map((call) => call.state);
    expect(states).toEqual(['queued', 'queued', 'queued']);
  });

  it('with CALL_APPROVAL=scheduled, a batch starting now whose rows name their own later time waits for approval', async () => {
    const c = clock();
    const a = await start({ env: { CALL_APPROVAL: 'scheduled', CALL_APPROVERS: 'U0BOSS001' }, now: c.now });
    // A single call for tomorrow needs approval in this mode: so does a list of calls for tomorrow.
    const { shown } = await submitList(a, {
      batch_paste: 'phone,when\n+14155551001,tomorrow 10am\n+14155551002,tomorrow 11am',
      batch_pace: '60',
    });
    expect(text(shown)).toContain('2 of 2 rows will be called');
    expect(text(shown)).toContain('needs approval');
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    expect((await a.store.getBatch(batchId))?.state).toBe('pending_approval');
    for (let i = 0; i < 3; i++) {
      await a.running.batches.tick();
      c.advance(1000);
    }
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('with CALL_APPROVAL=scheduled, a batch of calls for now starts without approval', async () => {
    const c = clock();
    const a = await start({ env: { CALL_APPROVAL: 'scheduled', CALL_APPROVERS: 'U0BOSS001' }, now: c.now });
    const { shown } = await submitList(a, { batch_paste: '+14155551001\n+14155551002', batch_pace: '60' });
    expect(text(shown)).not.toContain('needs approval');
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    expect((await a.store.getBatch(batchId))?.state).toBe('running');
    await a.running.batches.tick();
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('with CALL_APPROVAL_CHANNEL, asks there, and rewrites that message with the decision', async () => {
    const c = clock();
    const a = await start({ env: { ...APPROVAL, CALL_APPROVAL_CHANNEL: 'C0APPROVE1' }, now: c.now });
    const { shown } = await submitList(a, { batch_paste: '+14155551001', batch_pace: '60' });
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    await a.running.delivery.flush();
    const posts = a.slack.callsOf('chat.postMessage');
    const ask = posts.find((m) => m.args.channel === 'C0APPROVE1');
    const parent = posts.find((m) => m.args.channel === 'C0SALES01');
    expect(JSON.stringify(ask?.args.blocks)).toContain('batch_approve');
    expect(JSON.stringify(parent?.args.blocks)).not.toContain('batch_approve');
    const approvalTs = (await a.store.getBatch(batchId))?.approvalTs ?? '';
    expect(approvalTs).not.toBe('');
    await a.interact(
      a.buttonPress({
        actionId: 'batch_approve',
        value: batchId,
        user: 'U0BOSS001',
        channel: 'C0APPROVE1',
        message: { ts: approvalTs },
      }),
    );
    await waitUntil(async () => (await a.store.getBatch(batchId))?.state === 'running');
    await a.running.delivery.flush();
    const rewritten = a.slack
      .callsOf('chat.update')
      .filter((u) => u.args.channel === 'C0APPROVE1' && u.args.ts === approvalTs);
    expect(rewritten.length).toBeGreaterThan(0);
    expect(JSON.stringify(rewritten.at(-1)?.args.blocks)).not.toContain('batch_approve');
    expect(JSON.stringify(rewritten.at(-1)?.args.blocks)).toContain('U0BOSS001');
  });

  /** A list confirmed with the form's agent, and its approval request in CALL_APPROVAL_CHANNEL (its blocks). */
  async function approvalAskedFor(list: string, agent: string) {
    const a = await start({
      env: { ...APPROVAL, CALL_APPROVAL_CHANNEL: 'C0APPROVE1' },
      now: () => new Date(T0),
    });
    const { shown } = await submitList(a, { batch_paste: list, batch_pace: '60', batch_agent: agent });
    await a.interact(viewSubmission(a, shown));
    await a.running.delivery.flush();
    const ask = a.slack.callsOf('chat.postMessage').find((m) => m.args.channel === 'C0APPROVE1');
    return { a, asked: JSON.stringify(ask?.args.blocks) };
  }

  it('does not name one agent to the approver when the list’s rows choose their own', async () => {
    // The form pre-selects the default agent (sales); the list sends one row to the support agent.
    const { a, asked } = await approvalAskedFor(
      'phone,agent\n+14155551001,sales\n+14155551002,support',
      'sales',
    );
    expect(asked).toContain('2 calls');
    expect(asked).not.toContain('with *sales*');
    expect(asked).toContain('per row');
    const parent = a.slack.callsOf('chat.postMessage').find((m) => m.args.channel === 'C0SALES01');
    expect(JSON.stringify(parent?.args.blocks)).not.toContain('agent *sales*');
  });

  it('names the agent when every row of the list goes to it', async () => {
    const { asked } = await approvalAskedFor('phone,agent\n+14155551001,support\n+14155551002,', 'support');
    expect(asked).toContain('with *support*');
  });

  it('rejecting the batch (with a reason the rep sees) cancels every row', async () => {
    const a = await start({ env: APPROVAL, now: () => new Date(T0) });
    // Reject asks for a reason first; nothing is decided until the form is sent.
    const { batchId, ts, form } = await rejectFormOpened(a);
    expect((await a.store.getBatch(batchId))?.state).toBe('pending_approval');
    await a.interact(
      viewSubmission(a, form, { input: { reject_reason: 'Not before the new year.' }, user: 'U0BOSS001' }),
    );
    await waitUntil(async () => (await a.store.getBatch(batchId))?.state === 'rejected');
    expect(await a.store.getBatch(batchId)).toMatchObject({
      decidedBy: 'U0BOSS001',
      decisionReason: 'Not before the new year.',
    });
    await a.running.delivery.flush();
    const rewritten = a.slack.callsOf('chat.update').filter((u) => u.args.ts === ts);
    expect(JSON.stringify(rewritten.at(-1)?.args.blocks)).toContain('Not before the new year.');
    expect((await a.store.batchCalls(batchId)).map((call) => call.state)).toEqual(['cancelled', 'cancelled']);
    await a.running.batches.tick();
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('a reject form sent after the batch was approved, or by someone who may not approve, changes nothing', async () => {
    const a = await start({
      env: { ...APPROVAL, CALL_APPROVERS: 'U0BOSS001,U0BOSS002,U0MARIA1' },
      now: () => new Date(T0),
    });
    const { batchId, ts, form } = await rejectFormOpened(a);
    // The requester cannot send it (a forged submission; she is an approver too), nor can anyone who is not one.
    for (const user of ['U0MARIA1', 'U0NOBODY1']) {
      const res = await a.interact(viewSubmission(a, form, { input: { reject_reason: 'No.' }, user }));
      expect(JSON.stringify(JSON.parse(res.body))).toContain('can’t reject this batch');
    }
    expect((await a.store.getBatch(batchId))?.state).toBe('pending_approval');
    // Meanwhile the other approver approves; the first one's form, sent late, is told so and rejects nothing.
    await a.interact(
      a.buttonPress({ actionId: 'batch_approve', value: batchId, user: 'U0BOSS002', message: { ts } }),
    );
    await waitUntil(async () => (await a.store.getBatch(batchId))?.state === 'running');
    const late = await a.interact(
      viewSubmission(a, form, { input: { reject_reason: 'Too late.' }, user: 'U0BOSS001' }),
    );
    expect(JSON.stringify(JSON.parse(late.body))).toContain('already decided');
    expect(await a.store.getBatch(batchId)).toMatchObject({ state: 'running', decidedBy: 'U0BOSS002' });
    expect((await a.store.batchCalls(batchId)).map((call) => call.state)).not.toContain('cancelled');
  });

  it('schedules rows outside calling hours for the callee’s next window, when the rep chooses so', async () => {
    // 05:00 UTC: 21:00 in California, past the 08:00–20:00 window.
    const at = Date.parse('2026-11-27T05:00:00.000Z');
    const a = await start({ env: { CALLING_HOURS: '08:00-20:00' }, now: () => new Date(at) });
    const { shown } = await submitList(a, { batch_paste: '+14155551001\n+14155551002', batch_pace: '60' });
    const preview = text(shown);
    expect(preview).toContain('batch_outside');
    expect(preview).toContain('Line 1');
    await a.interact(viewSubmission(a, shown, { input: { batch_outside: 'schedule' } }));
    const batchId = shown.private_metadata ?? '';
    await a.running.batches.tick();
    expect(a.iqra.requests).toHaveLength(1);
    // 08:00 in Los Angeles, the next morning.
    expect(a.iqra.requests[0]?.fields.ScheduledTime).toBe('2026-11-27T16:00:00.000Z');
    expect((await a.store.batchCalls(batchId))[0]?.state).toBe('queued');
    // The second row at the pace after it (60 a minute), not at the same moment.
    const second = (await a.store.batchCalls(batchId))[1];
    const secondWhen = (second?.request as { when?: { at?: string } } | undefined)?.when;
    expect(secondWhen?.at).toBe('2026-11-27T16:00:01.000Z');
    // The batch's message says so.
    await a.running.delivery.flush();
    a.running.board.changed(batchId);
    await a.running.board.refresh();
    const update = a.slack.callsOf('chat.update').at(-1);
    expect(JSON.stringify(update?.args.blocks)).toContain("scheduled for the callee's next calling window");
  });

  it('staggers rows found outside calling hours only when sent after those moved at confirm time', async () => {
    // 19:59:53 in Los Angeles, 7 seconds before the end of the 08:00–20:00 window: at 20 calls a minute, rows 1–3
    // are due before 20:00 and rows 4–5 after, so only those two are moved when the batch is confirmed.
    const c = clock(Date.parse('2026-11-27T03:59:53.000Z'));
    const a = await start({ env: { CALLING_HOURS: '08:00-20:00' }, now: c.now });
    const rows = Array.from({ length: 5 }, (_, i) => `+1415555${String(1001 + i)}`).join('\n');
    const { shown } = await submitList(a, { batch_paste: rows, batch_pace: '20' });
    await a.interact(viewSubmission(a, shown, { input: { batch_outside: 'schedule' } }));
    const batchId = shown.private_metadata ?? '';
    // The batch is slow (the app was busy, or restarted): its first slot comes after 20:00, and rows 1–3, inside
    // calling hours at confirm time, are found outside only as they are sent.
    c.advance(17_000);
    for (let i = 0; i < 5; i++) {
      await a.running.batches.tick();
      c.advance(3000);
    }
    expect(a.iqra.requests.map((r) => r.fields.RecipientNumber)).toEqual([
      '+14155551001',
      '+14155551002',
      '+14155551003',
      '+14155551004',
      '+14155551005',
    ]);
    // 08:00 in Los Angeles the next morning, one row every 3 seconds: rows 4–5 in the first two slots (moved at
    // confirm time), rows 1–3 in the slots after them; never two at the same moment.
    expect(a.iqra.requests.map((r) => r.fields.ScheduledTime)).toEqual([
      '2026-11-27T16:00:06.000Z',
      '2026-11-27T16:00:09.000Z',
      '2026-11-27T16:00:12.000Z',
      '2026-11-27T16:00:00.000Z',
      '2026-11-27T16:00:03.000Z',
    ]);
    expect((await a.store.batchCalls(batchId)).map((call) => call.state)).toEqual(Array(5).fill('queued'));
  });

  it('skips them instead when the rep chooses so', async () => {
    const at = Date.parse('2026-11-27T05:00:00.000Z');
    const a = await start({ env: { CALLING_HOURS: '08:00-20:00' }, now: () => new Date(at) });
    const { shown } = await submitList(a, {
      batch_paste: '+14155551001\n+442071838750\n+14155551002',
      batch_pace: '60',
    });
    const res = await a.interact(viewSubmission(a, shown, { input: { batch_outside: 'skip' } }));
    const batchId = shown.private_metadata ?? '';
    // London at 05:00 is outside 08:00-20:00 too: nothing can be placed.
    expect(JSON.parse(res.body)).toMatchObject({ response_action: 'update' });
    expect(res.body).toContain('No row of this list can be called');
    expect(await a.store.batchCalls(batchId)).toHaveLength(0);
  });

  it('pauses at an hourly limit and goes on when the hour frees up, instead of skipping the row', async () => {
    const c = clock();
    const a = await start({ env: { CALL_LIMIT_PER_USER_PER_HOUR: '2' }, now: c.now });
    const { shown } = await submitList(a, {
      batch_paste: '+14155551001\n+14155551002\n+14155551003',
      batch_pace: '60',
    });
    expect(text(shown)).toContain('CALL_LIMIT_PER_USER_PER_HOUR');
    // 3 calls at 2 an hour: the last one an hour after the first.
    expect(text(shown)).toContain('1 hour');
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    for (let i = 0; i < 10; i++) {
      await a.running.batches.tick();
      c.advance(1000);
    }
    expect(a.iqra.requests).toHaveLength(2);
    const held = await a.store.getBatch(batchId);
    expect(held?.heldReason).toBe('limit');
    expect((await a.store.batchCalls(batchId)).map((call) => call.state)).toEqual([
      'queued',
      'queued',
      'waiting',
    ]);
    // The message says why it waits.
    a.running.board.changed(batchId);
    await a.running.board.refresh();
    const update = a.slack.callsOf('chat.update').at(-1);
    expect(JSON.stringify(update?.args.blocks)).toContain('hourly call limit');
    // The app's own limit, not Iqra: the rep is not sent to Iqra about it.
    expect(JSON.stringify(update?.args.blocks)).not.toContain('Iqra asked');
    c.advance(60 * 60_000);
    await a.running.batches.tick();
    expect(a.iqra.requests).toHaveLength(3);
  });

  it('lists batches in /call history, and /call status <batch id> shows one', async () => {
    const a = await start({ now: () => new Date(T0) });
    const { shown } = await submitList(a, {
      batch_paste: '+14155551001\n+14155551002\nnope',
      batch_pace: '60',
    });
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    const history = await a.command('history');
    expect(JSON.stringify(history.body)).toContain(batchId);
    expect(JSON.stringify(history.body)).toContain('1/3 over');
    const status = await a.command(`status ${batchId}`);
    expect(JSON.stringify(status.body)).toContain(batchId);
    expect(JSON.stringify(status.body)).toContain('waiting');
    const other = await a.command(`status ${batchId}`, { user: 'U0OTHER01' });
    expect(JSON.stringify(other.body)).not.toContain('waiting');
  });

  it('tells the rep privately when the batch cannot be posted in its channel, and runs it all the same', async () => {
    const a = await start({ now: () => new Date(T0) });
    a.slack.failNext('chat.postMessage', 'not_in_channel', 'C0PRIVATE1');
    const { shown } = await submitList(a, {
      batch_paste: '+14155551001',
      batch_pace: '60',
      batch_channel: 'C0PRIVATE1',
    });
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    await a.running.delivery.flush();
    const dm = a.slack.callsOf('chat.postMessage').find((m) => m.args.channel === 'U0MARIA1');
    expect(String(dm?.args.text)).toContain('/invite @Iqra Calls');
    expect(String(dm?.args.text)).toContain(batchId);
    await a.running.batches.tick();
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('in a dry run, sends nothing and still finishes with its result file', async () => {
    const c = clock();
    const a = await start({ env: { IQRA_DRY_RUN: 'true' }, now: c.now });
    const { shown } = await submitList(a, { batch_paste: '+14155551001\n+14155551002', batch_pace: '60' });
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    const done = await waitUntil(async () => {
      await a.running.batches.tick();
      c.advance(1000);
      return (await a.store.getBatch(batchId))?.state === 'done';
    });
    expect(done).toBe(true);
    expect((await a.store.batchCalls(batchId)).map((call) => call.state)).toEqual(['dry_run', 'dry_run']);
    expect(a.iqra.requests).toHaveLength(0);
    await a.running.delivery.flush();
    const upload = await a.slack.waitFor(() => a.slack.uploads[0], 'the result file');
    expect(upload.content.toString('utf8')).toContain('+14155551002');
  });

  it('lists the rep’s batches on the App Home', async () => {
    const a = await start({ now: () => new Date(T0) });
    const { shown } = await submitList(a, { batch_paste: '+14155551001\n+14155551002', batch_pace: '60' });
    await a.interact(viewSubmission(a, shown));
    const batchId = shown.private_metadata ?? '';
    await sendEvent(a, appHomeOpenedEvent());
    const published = await a.slack.waitFor(() => a.slack.callsOf('views.publish').at(-1), 'the Home tab');
    const home = JSON.stringify((published.args.view as SentView).blocks);
    expect(home).toContain('Your batches');
    expect(home).toContain(batchId);
    expect(home).toContain('0/2 over');
  });

  it('opens the batch form from the App Home’s New batch button', async () => {
    const a = await start();
    await a.interact(
      a.buttonPress({ actionId: 'batch_new', value: '', user: 'U0MARIA1', message: { ts: '1.1' } }),
    );
    const form = await a.slack.waitFor(() => openedViews(a)[0]?.view, 'the batch form');
    expect(form.callback_id).toBe(BATCH_MODAL);
  });

  it('tells the rep in a direct message when Slack refuses to open the form from the Home tab’s New batch', async () => {
    const a = await start();
    await sendEvent(a, appHomeOpenedEvent());
    const published = await a.slack.waitFor(() => a.slack.callsOf('views.publish').at(-1), 'the Home tab');
    a.slack.failNext('views.open', 'expired_trigger_id');
    // The button as Slack sends it from the Home tab: a view container, and no response_url to answer through.
    const press = viewBlockAction(published.args.view as SentView, {
      blockId: 'home_actions',
      actionId: 'batch_new',
      action: { type: 'button', text: { type: 'plain_text', text: 'New batch' } },
    });
    expect((await a.interact(press)).status).toBe(200);
    const told = await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').find((c) => c.args.channel === 'U0MARIA1'),
      'the direct message',
    );
    expect(String(told.args.text)).toContain("I couldn't open the batch form");
    expect(String(told.args.text)).toContain('expired_trigger_id');
  });
});

describe('a batch in an Enterprise Grid organisation', () => {
  it('checks the rows against the do-not-call list of the workspace it is placed in, not the rep’s home workspace', async () => {
    // The rep's home workspace is T0HOME01; they work in T0001, where the admin listed the number.
    const a = await start({ env: { CALL_ADMINS: 'U0MARIA1' }, now: () => new Date(T0) });
    const grid = { enterprise_id: GRID.enterpriseId, enterprise_name: GRID.enterpriseName };
    const listed = await a.command('dnc add +14155551002 asked us to stop', { fields: grid });
    expect(JSON.stringify(listed.body)).toContain('do-not-call');
    await a.command('batch', { channel: 'C0SALES01', fields: grid });
    const form = await a.slack.waitFor(() => openedViews(a)[0]?.view, 'the batch form');
    const submission = viewSubmission(a, form, {
      input: { batch_paste: '+14155551001\n+14155551002', batch_pace: '60' },
    });
    await a.interact(inEnterpriseGrid(submission, { userTeamId: 'T0HOME01' }));
    const shown = await a.slack.waitFor(() => updatedViews(a).at(-1), 'the preview (views.update)');
    expect(text(shown)).toContain('1 of 2 rows will be called');
    expect(text(shown)).toContain('On the do-not-call list');
    const batchId = shown.private_metadata ?? '';
    // The batch is the workspace's: `/call history` there lists it.
    await a.interact(inEnterpriseGrid(viewSubmission(a, shown), { userTeamId: 'T0HOME01' }));
    expect(JSON.stringify((await a.command('history', { fields: grid })).body)).toContain(batchId);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
