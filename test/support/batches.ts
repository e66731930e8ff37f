import { BATCH_STOP_ACTION } from '../../src/slack/blocks/batch.js';
import { openedViews, type SentView, viewSubmission } from './slack-payloads.js';
import type { TestApp } from './test-app.js';

/**
 * A batch as a rep makes one: `/call batch` in #sales, the form submitted with `input` (`batch_paste`, `batch_pace`,
 * …), then its preview confirmed. Resolves with the batch's id (the preview's private_metadata).
 */
export async function confirmBatch(a: TestApp, input: Record<string, string | null>): Promise<string> {
  const opened = openedViews(a).length;
  await a.command('batch', { channel: 'C0SALES01' });
  const form = await a.slack.waitFor(() => openedViews(a)[opened]?.view, 'the batch form');
  const updated = a.slack.callsOf('views.update').length;
  await a.interact(viewSubmission(a, form, { input, viewId: 'V0BATCHFORM' }));
  const preview = await a.slack.waitFor(
    () =>
      a.slack.callsOf('views.update').length > updated
        ? (a.slack.callsOf('views.update').at(-1)?.args.view as SentView | undefined)
        : undefined,
    'the preview',
  );
  await a.interact(viewSubmission(a, preview));
  return preview.private_metadata ?? '';
}

/** "Stop the rest" pressed on a batch's message, by the rep who started it unless `user` says otherwise. */
export function pressStop(a: TestApp, batchId: string, parentTs: string, user = 'U0MARIA1') {
  return a.interact(
    a.buttonPress({ actionId: BATCH_STOP_ACTION, value: batchId, user, message: { ts: parentTs } }),
  );
}

/** Stop pressed by the rep who started the batch, and the answer they get, which starts with `answer`. */
export async function stopBatch(a: TestApp, batchId: string, parentTs: string, answer = 'Stopped.') {
  await pressStop(a, batchId, parentTs);
  return a.slack.waitFor(
    () => a.slack.responses.find((r) => String(r.body.text).startsWith(answer)),
    `the answer "${answer}…" to Stop`,
  );
}
