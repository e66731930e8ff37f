import type { webApi } from '@slack/bolt';
import { batchResultCsv } from '../calls/batch-progress.js';
import type { Logger } from '../log.js';
import type { BatchDesk, BatchSnapshot } from '../services/batch-desk.js';
import type { Job, Store } from '../store/store.js';
import { type BatchView, batchApprovalMessage, batchParentMessage } from './blocks/batch.js';
import { mrkdwnToPlain } from './blocks/mrkdwn.js';
import { deliveryFailure } from './delivery.js';
import { uploadTextFile } from './files.js';

export interface BatchBoardOptions {
  client: webApi.WebClient;
  store: Store;
  batches: BatchDesk;
  logger: Logger;
  now: () => Date;
  /** Who may approve, as mentions. */
  approvers: string;
  dryRun: boolean;
  /** The least time between two rewrites of one batch's message (ms). */
  refreshMs?: number;
}

/**
 * A batch's Slack side: its one message (posted, then rewritten in place as rows move on, at a pace Slack accepts),
 * its approval request, and the result file in its thread when it is done. Posting, the approval request and the
 * result go through the outbox (durable, retried); the progress rewrites in between are best effort, since the next
 * one shows the same thing newer.
 */
export class BatchBoard {
  private readonly dirty = new Set<string>();
  private readonly shown = new Map<string, string>();
  private readonly lastUpdate = new Map<string, number>();
  private heldUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly o: BatchBoardOptions) {}

  /** A batch changed: its message is rewritten at the next refresh. */
  changed(batchId: string): void {
    this.dirty.add(batchId);
  }

  start(periodMs: number): void {
    this.timer = setInterval(() => void this.refresh(), periodMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Rewrites the messages of batches that changed, each at most once per refreshMs. A refresh already running may have
   * read its batches before the latest change: this one waits for it, then looks again.
   */
  async refresh(): Promise<void> {
    while (this.refreshing) await this.refreshing;
    this.refreshing = this.refreshOnce().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    const now = Date.now();
    if (now < this.heldUntil) return;
    for (const batchId of [...this.dirty]) {
      if (now - (this.lastUpdate.get(batchId) ?? 0) < (this.o.refreshMs ?? 3000)) continue;
      this.dirty.delete(batchId);
      const snapshot = await this.o.batches.snapshot(batchId);
      // Not posted yet (the outbox posts it) or over: nothing to rewrite here.
      if (!snapshot?.batch.parentTs || snapshot.batch.state === 'done' || snapshot.batch.state === 'draft')
        continue;
      const message = batchParentMessage(this.viewOf(snapshot));
      const key = JSON.stringify(message.blocks);
      if (this.shown.get(batchId) === key) continue;
      try {
        await this.o.client.chat.update({
          channel: snapshot.batch.channelId,
          ts: snapshot.batch.parentTs,
          text: message.text,
          blocks: message.blocks,
        });
        this.shown.set(batchId, key);
        this.lastUpdate.set(batchId, Date.now());
      } catch (err) {
        const failure = deliveryFailure(err);
        this.dirty.add(batchId);
        if (failure.code === 'ratelimited') this.heldUntil = Date.now() + (failure.retryAfterMs ?? 1000);
        this.o.logger.warn('could not refresh a batch message', { batchId, slackError: failure.code });
        if (failure.code === 'ratelimited') return;
      }
    }
  }

  /** An outbox job for a batch: its message, its approval request, or its result. Throws to be retried. */
  async deliver(job: Job, pace: (channel: string) => Promise<void>): Promise<void> {
    const snapshot = await this.o.batches.snapshot(job.requestId);
    if (!snapshot) return;
    const step = job.payload.step;
    const { batch } = snapshot;
    const { client, store, now } = this.o;
    if (step === 'approval') {
      const message = batchApprovalMessage(this.viewOf(snapshot));
      await pace(job.channelId);
      if (batch.approvalTs) {
        await client.chat.update({ channel: job.channelId, ts: batch.approvalTs, ...message });
      } else {
        const posted = await client.chat.postMessage({
          channel: job.channelId,
          ...message,
          unfurl_links: false,
        });
        if (posted.ts) await store.updateBatch(batch.id, { approvalTs: posted.ts }, now().getTime());
      }
      return;
    }
    const parentTs = await this.postParent(snapshot, pace, step === 'result');
    if (step === 'result' && parentTs && job.payload.uploaded !== true) {
      const rows = this.o.batches.resultRows(snapshot);
      const counts = snapshot.counts;
      await uploadTextFile(client, {
        channelId: batch.channelId,
        threadTs: parentTs,
        filename: `${batch.id}-results.csv`,
        title: `Results of batch ${batch.id}`,
        content: batchResultCsv(
          rows.map((row) => (row.reason ? { ...row, reason: mrkdwnToPlain(row.reason) } : row)),
        ),
        initialComment: `Batch done: ${counts.completed} completed, ${counts.no_answer} no answer, ${counts.failed + counts.unknown} failed or unknown, ${skippedWords(counts.skipped, snapshot.duplicates)}, ${counts.cancelled} cancelled. Every row, with its queue id, outcome and reason, is in this file.`,
      });
      this.o.logger.info('batch result posted', { batchId: batch.id, rows: rows.length });
    }
  }

  /** Posts the batch's message, or rewrites it; returns its ts. */
  private async postParent(
    snapshot: BatchSnapshot,
    pace: (channel: string) => Promise<void>,
    finished: boolean,
  ): Promise<string | undefined> {
    const { batch } = snapshot;
    const message = batchParentMessage({ ...this.viewOf(snapshot), ...(finished ? { finished: true } : {}) });
    await pace(batch.channelId);
    if (batch.parentTs) {
      await this.o.client.chat.update({ channel: batch.channelId, ts: batch.parentTs, ...message });
      this.shown.set(batch.id, JSON.stringify(message.blocks));
      return batch.parentTs;
    }
    let posted: { ts?: string };
    try {
      posted = await this.o.client.chat.postMessage({
        channel: batch.channelId,
        ...message,
        unfurl_links: false,
      });
    } catch (err) {
      const failure = deliveryFailure(err);
      if (failure.transient) throw err;
      // The batch runs all the same; its requester is told where to follow it instead.
      this.o.logger.warn('could not post a batch in its channel; telling its requester', {
        batchId: batch.id,
        slackError: failure.code,
      });
      await this.o.client.chat.postMessage({
        channel: batch.userId,
        text: `⚠️ I couldn't post batch \`${batch.id}\` in <#${batch.channelId}> (Slack said \`${failure.code}\`): in a private channel, invite me first with \`/invite @Iqra Calls\`. The batch runs all the same; \`/call status ${batch.id}\` shows how far it got, and \`/call history\` lists it.`,
        unfurl_links: false,
      });
      return undefined;
    }
    if (posted.ts) await this.o.store.updateBatch(batch.id, { parentTs: posted.ts }, this.o.now().getTime());
    this.shown.set(batch.id, JSON.stringify(message.blocks));
    this.lastUpdate.set(batch.id, Date.now());
    return posted.ts;
  }

  viewOf(snapshot: BatchSnapshot): BatchView {
    const { batch, settings, counts } = snapshot;
    const approvalChannel = batch.approvalChannel;
    const approvalState =
      batch.state === 'pending_approval'
        ? 'pending'
        : batch.state === 'rejected'
          ? 'rejected'
          : batch.state === 'expired'
            ? 'expired'
            : batch.decidedBy
              ? 'approved'
              : undefined;
    return {
      id: batch.id,
      userId: batch.userId,
      state: batch.state,
      total: snapshot.total,
      calls: snapshot.calls.length,
      counts,
      channelId: batch.channelId,
      ...(settings.agentLabel ? { agentLabel: settings.agentLabel } : {}),
      pacePerMinute: settings.pacePerMinute,
      ...(settings.startAt !== undefined ? { startAt: settings.startAt } : {}),
      ...(snapshot.eta !== undefined ? { eta: snapshot.eta } : {}),
      ...(approvalState
        ? {
            approval: {
              state: approvalState,
              approvers: this.o.approvers,
              ...(batch.decidedBy ? { by: batch.decidedBy } : {}),
              ...(batch.decisionReason ? { reason: batch.decisionReason } : {}),
              buttonsHere: !approvalChannel || approvalChannel === batch.channelId,
            },
          }
        : {}),
      ...(batch.stoppedBy ? { stoppedBy: batch.stoppedBy } : {}),
      ...(batch.state === 'done' ? { finished: true } : {}),
      ...(this.o.dryRun ? { dryRun: true } : {}),
      ...(settings.fileName ? { fileName: settings.fileName } : {}),
      ...(snapshot.scheduledOutsideHours > 0
        ? { scheduledOutsideHours: snapshot.scheduledOutsideHours }
        : {}),
      ...(batch.heldReason && batch.nextAt !== undefined && batch.nextAt > this.o.now().getTime()
        ? {
            heldUntil: batch.nextAt,
            heldBy: batch.heldReason === 'limit' ? ('limit' as const) : ('iqra' as const),
          }
        : {}),
    };
  }
}

/**
 * The result comment's count of skipped rows: as the file's `status` column has them, duplicates included, which are
 * named (`4 skipped (3 as the same number as an earlier row)`), since the batch's message does not count them.
 */
function skippedWords(skipped: number, duplicates: number): string {
  if (duplicates === 0) return `${skipped} skipped`;
  return `${skipped + duplicates} skipped (${duplicates} as the same number as an earlier row)`;
}
