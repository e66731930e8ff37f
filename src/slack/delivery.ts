import type { webApi } from '@slack/bolt';
import { request as httpRequest } from 'undici';
import { USAGE } from '../calls/command.js';
import { CallRequestError } from '../calls/errors.js';
import { describeInZone } from '../calls/when.js';
import type { Logger } from '../log.js';
import type { CallMetrics } from '../services/call-metrics.js';
import { outcomeOf, requestOf } from '../services/stored-request.js';
import type { CallRecord, Job, Store } from '../store/store.js';
import { TurnQueue, type Turns } from '../turns.js';
import {
  type ApprovalView,
  approvalRequestMessage,
  approversNotToldMessage,
  type CallReport,
  callDetailsMessage,
  callLogMessage,
  callParentMessage,
  commandErrorMessage,
  decisionMessage,
  type ProgressView,
  refusalMessage,
  type SlackMessage,
  type UndeliverableReason,
  undeliverableMessage,
} from './blocks/call-messages.js';
import { clip, LIMITS } from './blocks/mrkdwn.js';
import { callOutcomeMessage, type Turn } from './blocks/outcome.js';
import { SlackRequestTimeout } from './web-api-fetch.js';

/** How a Slack delivery failed: worth another try later (and when), or never. */
export interface DeliveryFailure {
  code: string;
  transient: boolean;
  retryAfterMs?: number;
}

const TRANSIENT_PLATFORM_ERRORS = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);

/**
 * Slack's answers refusing a message as it was built, for good: its blocks (invalid, too many, too long) or its size.
 * The same message would be refused again anywhere (in the requester's DM too), so its text alone is sent instead.
 */
const REFUSED_AS_BUILT = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_blocks_too_long',
  'msg_too_long',
  'invalid_attachments',
  'too_many_attachments',
]);

/** A message to post or to edit in place: what Slack's chat.postMessage and chat.update are given here. */
interface Outgoing {
  channel: string;
  text: string;
  blocks: SlackMessage['blocks'];
  thread_ts?: string;
  unfurl_links?: boolean;
}

/** Classifies a Web API (or response_url) failure. */
export function deliveryFailure(err: unknown): DeliveryFailure {
  const e = err as { code?: string; data?: { error?: string }; retryAfter?: number; statusCode?: number };
  if (e?.code === 'slack_webapi_rate_limited_error') {
    return { code: 'ratelimited', transient: true, retryAfterMs: (e.retryAfter ?? 1) * 1000 };
  }
  if (e?.code === 'slack_webapi_request_error') {
    // No answer in time (`SLACK_REQUEST_TIMEOUT_MS`) is retried like any network error, under its own code in the logs
    // and metrics. The request may have reached Slack: retrying an edit is harmless (it is rendered again from the
    // call as it is now), a post may show twice, which at least once allows; giving up could lose the message.
    const timedOut = (err as { original?: unknown }).original instanceof SlackRequestTimeout;
    return { code: timedOut ? 'timeout' : 'network_error', transient: true };
  }
  if (e?.code === 'slack_webapi_http_error') {
    const status = e.statusCode ?? 0;
    return { code: `http_${status}`, transient: status >= 500 || status === 429 || status === 408 };
  }
  const platform = e?.data?.error;
  if (typeof platform === 'string')
    return { code: platform, transient: TRANSIENT_PLATFORM_ERRORS.has(platform) };
  if (err instanceof ResponseUrlError) return { code: err.code, transient: err.transient };
  return { code: (err as Error)?.message ?? 'unknown_error', transient: true };
}

class ResponseUrlError extends Error {
  constructor(
    readonly code: string,
    readonly transient: boolean,
  ) {
    super(`response_url answered ${code}`);
  }
}

/** Posts to a response_url (Slack's webhook for telling the requester alone). */
export async function postToResponseUrl(url: string, message: Record<string, unknown>): Promise<void> {
  let res: Awaited<ReturnType<typeof httpRequest>>;
  try {
    res = await httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
  } catch {
    throw new ResponseUrlError('network_error', true);
  }
  await res.body.text().catch(() => '');
  if (res.statusCode >= 200 && res.statusCode < 300) return;
  throw new ResponseUrlError(`http_${res.statusCode}`, res.statusCode >= 500 || res.statusCode === 429);
}

export interface SlackDeliveryOptions {
  store: Store;
  client: webApi.WebClient;
  logger: Logger;
  instanceId: string;
  now: () => Date;
  logChannel?: string;
  /** How often the outbox is polled when nothing kicks it. */
  pollMs?: number;
  /** Attempts before a delivery is given up. */
  maxAttempts?: number;
  respond?: (url: string, message: Record<string, unknown>) => Promise<void>;
  /** How approvals are described: who may approve (mentions), and how long a request may wait. */
  approval?: ApprovalContext;
  /** The least time between two messages in one channel (Slack's pace: about 1 per second). */
  minGapMs?: number;
  metrics?: CallMetrics;
  /** Told after each message about a call was delivered (the Home tab follows calls with it). */
  onDelivered?: (call: CallRecord) => void;
  /** Delivers a batch's job (its message, approval request or result); throws like the rest to be retried. */
  batchJob?: (job: Job, pace: (channel: string) => Promise<void>) => Promise<void>;
  /** Where each delivery waits its turn, behind the acks and the calls on their way to Iqra (one queue for the app). */
  turns?: Turns;
}

type Step = 'parent' | 'thread' | 'log';

/**
 * Jobs in hand at most, all channels together: about 20 to 40 calls confirmed a second. Slack itself allows a workspace
 * no more than several hundred messages a minute, so more would only meet its rate limits (and take the CPU that
 * acking and placing calls need).
 */
const MAX_IN_HAND = 40;
/** Jobs of one channel in hand at most (they go out one after another, at Slack's pace of about one a second). */
const MAX_IN_HAND_PER_CHANNEL = 4;
/** Jobs claimed from the store at a time. */
const CLAIM_BATCH = 20;
/** How long a claimed job is this instance's alone (another replica takes it over after that). */
const LEASE_MS = 60_000;

class Transient extends Error {
  constructor(
    readonly failure: DeliveryFailure,
    readonly step: Step,
    /** The channel Slack answered for, when not the job's (the log channel, the requester's DM). */
    readonly channel?: string,
    /** Not an answer from Slack: the app held the message back (a Retry-After still running); not counted. */
    readonly heldBack = false,
  ) {
    super(failure.code);
  }
}

/**
 * The outbox worker: delivers the Slack messages the store holds (a call's parent message, its thread reply, the
 * log copy, a refusal), retrying transient failures (rate limits, Slack errors, the network) with backoff and
 * Retry-After, after a restart too. Permanent failures fall back to telling the requester alone; a message Slack
 * refuses as built (its blocks) goes as its text alone, where it belonged. A call's jobs are claimed one at a time, in
 * the order they were recorded (see `Store.claimDueJobs`).
 */
export class SlackDelivery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly respond: (url: string, message: Record<string, unknown>) => Promise<void>;
  private readonly turns: Turns;
  /** The jobs being delivered now (a job claimed again, its lease having run out meanwhile, is not delivered twice). */
  private readonly held = new Set<number>();

  constructor(private readonly o: SlackDeliveryOptions) {
    this.respond = o.respond ?? postToResponseUrl;
    this.turns = o.turns ?? new TurnQueue();
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Something was added to the outbox: deliver it now. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      this.wakeRun?.();
      return;
    }
    this.schedule(0);
  }

  /** Stops polling after the batch in hand; pending deliveries stay in the store for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Delivers everything due now (used by tests and at shutdown). */
  async flush(): Promise<void> {
    await this.running;
    await this.runOnce();
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((err: unknown) => this.o.logger.error('outbox run failed', { error: err }))
        .finally(() => {
          this.running = undefined;
          const again = this.again;
          this.again = false;
          this.schedule(again ? 0 : (this.o.pollMs ?? 1000));
        });
    }, ms);
    this.timer.unref?.();
  }

  /**
   * Delivers what is due until nothing is left: each channel's jobs one after another, in order (Slack's pace is per
   * channel), different channels side by side. More jobs are claimed as soon as there is room, so that a channel
   * waiting for its pace holds up no other. A channel has at most a few jobs in hand at a time (its others wait in the
   * store, unleased), so that few wait in hand long enough for their lease to run out. One that does (Slack slow to
   * answer, or its turn long in coming) is claimed again, which renews its lease, but is not delivered a second time.
   */
  private async runOnce(): Promise<void> {
    const channels = new Map<string, { tail: Promise<void>; inHand: number }>();
    let inHand = 0;
    let wake: (() => void) | undefined;
    for (;;) {
      if (!this.stopped && inHand < MAX_IN_HAND) {
        const full = [...channels].filter(([, c]) => c.inHand >= MAX_IN_HAND_PER_CHANNEL).map(([id]) => id);
        const limit = Math.min(CLAIM_BATCH, MAX_IN_HAND - inHand);
        const jobs = await this.o.store.claimDueJobs(
          this.o.instanceId,
          this.o.now().getTime(),
          limit,
          LEASE_MS,
          full,
        );
        for (const job of jobs) {
          if (this.held.has(job.id)) continue;
          this.held.add(job.id);
          const channel = channels.get(job.channelId) ?? { tail: Promise.resolve(), inHand: 0 };
          channels.set(job.channelId, channel);
          channel.inHand += 1;
          inHand += 1;
          channel.tail = channel.tail
            .then(() => (this.stopped ? undefined : this.deliver(job)))
            .catch((err: unknown) =>
              this.o.logger.error('outbox delivery failed', { job: job.id, error: err }),
            )
            .finally(() => {
              this.held.delete(job.id);
              channel.inHand -= 1;
              inHand -= 1;
              if (channel.inHand === 0 && channels.get(job.channelId) === channel)
                channels.delete(job.channelId);
              wake?.();
            });
        }
        // As many as asked for: there may be more due right away.
        if (jobs.length === limit) continue;
      }
      if (inHand === 0) return;
      // Until a delivery ends (room for more) or something new is in the outbox.
      await new Promise<void>((resolve) => {
        wake = resolve;
        this.wakeRun = resolve;
      });
      wake = undefined;
      this.wakeRun = undefined;
    }
  }

  private wakeRun: (() => void) | undefined;

  private async deliver(job: Job): Promise<void> {
    const { store, now, logger } = this.o;
    await this.turns.turn('later');
    const log = logger.child({ requestId: job.requestId, job: job.id, kind: job.kind });
    if (job.kind === 'batch') {
      try {
        if (this.o.batchJob) await this.o.batchJob(job, (channel) => this.pace(channel));
        await store.completeJob(job.id, now().getTime());
      } catch (err) {
        await this.failed(job, err, log);
      }
      return;
    }
    const call = await store.getCall(job.requestId);
    if (!call) {
      await store.killJob(job.id, now().getTime(), 'call request not found');
      return;
    }
    try {
      if (job.kind === 'refusal') await this.deliverRefusal(job, call, log);
      else if (job.kind === 'approval') await this.deliverApprovalRequest(call, log);
      else if (job.kind === 'decision') await this.deliverDecision(call, log);
      else if (job.kind === 'outcome') await this.deliverOutcome(job, call, log);
      else await this.deliverAnnouncement(job, call, log);
      // Slack answered: what it said is recorded on a turn of its own.
      await this.turns.turn('later');
      await store.completeJob(job.id, now().getTime());
      this.o.onDelivered?.(call);
    } catch (err) {
      await this.failed(job, err, log);
    }
  }

  /**
   * A Web API failure that will not be retried and is worked around here (the requester told alone, a copy or a reply
   * left out): counted in /metrics like those retried (`failed`), for a removed channel or a revoked token must show.
   */
  private workedAround(failure: DeliveryFailure): void {
    this.o.metrics?.slackError(failure.code);
  }

  /** Posts a message (see `send`). */
  private post(message: Outgoing, log: Logger): Promise<{ ts?: string }> {
    return this.send('chat.postMessage', message, log);
  }

  /** Edits a message in place (see `send`). */
  private update(message: Outgoing & { ts: string }, log: Logger): Promise<{ ts?: string }> {
    return this.send('chat.update', message, log);
  }

  /**
   * A post or an edit; when Slack refuses the message as built, for good (its blocks, its size), its text alone
   * (shortened to the fallback's length) is sent instead, in the same place: the message then reaches its readers
   * plainer rather than not at all (or, retried as it was, only its requester, refused again). Logged, and counted as
   * a worked-around Slack error. A failure of the text alone is thrown as any other.
   */
  private async send(
    method: 'chat.postMessage' | 'chat.update',
    message: Outgoing & { ts?: string },
    log: Logger,
  ): Promise<{ ts?: string }> {
    const { client } = this.o;
    try {
      return method === 'chat.update'
        ? await client.chat.update({ ...message, ts: message.ts ?? '' })
        : await client.chat.postMessage(message);
    } catch (err) {
      const failure = deliveryFailure(err);
      if (!REFUSED_AS_BUILT.has(failure.code) || message.blocks.length === 0) throw err;
      this.workedAround(failure);
      log.warn('Slack refused the message as built; sending its text alone', {
        slackError: failure.code,
        method,
        channel: message.channel,
      });
      const text = clip(message.text, LIMITS.fallbackText);
      if (method === 'chat.update') {
        // An edit without blocks would keep the message's old ones: an empty list removes them.
        return client.chat.update({ ...message, ts: message.ts ?? '', text, blocks: [] });
      }
      const { blocks: _refused, ...plain } = message;
      return client.chat.postMessage({ ...plain, text });
    }
  }

  /** A delivery failed: retried later (with backoff, or Slack's Retry-After) when it may work then, else given up. */
  private async failed(job: Job, err: unknown, log: Logger): Promise<void> {
    const { store, now } = this.o;
    const failure = err instanceof Transient ? err.failure : deliveryFailure(err);
    const heldBack = err instanceof Transient && err.heldBack;
    if (!heldBack) this.o.metrics?.slackError(failure.code);
    if (failure.code === 'ratelimited') {
      if (!heldBack) this.o.metrics?.slackRateLimited(failure.retryAfterMs ?? 1000);
      // The whole channel waits, not only this message: Slack's Retry-After is for the channel (the one that answered
      // so, which for the log copy or a direct message is not the job's).
      const limited = (err instanceof Transient && err.channel) || job.channelId;
      this.blockedUntil.set(limited, Date.now() + (failure.retryAfterMs ?? 1000));
    }
    const step = err instanceof Transient ? err.step : ((job.payload.step as Step | undefined) ?? 'parent');
    const attempts = job.attempts + 1;
    if (!failure.transient || attempts >= (this.o.maxAttempts ?? 25)) {
      log.error('Slack delivery given up', { slackError: failure.code, attempts });
      await store.killJob(job.id, now().getTime(), failure.code);
      return;
    }
    const backoff = Math.min(300_000, 1000 * 2 ** Math.min(attempts - 1, 8)) * (0.5 + Math.random() / 2);
    const wait = Math.max(failure.retryAfterMs ?? 0, backoff);
    log.warn('Slack delivery will be retried', {
      slackError: failure.code,
      attempts,
      waitMs: Math.round(wait),
    });
    await store.retryJob(job.id, now().getTime() + wait, now().getTime(), failure.code, {
      ...job.payload,
      step,
    });
  }

  private async deliverRefusal(job: Job, call: CallRecord, log: Logger): Promise<void> {
    const text = String(job.payload.message ?? call.userMessage ?? 'The request was refused.');
    if (!job.payload.guard) {
      // A mistake in the request (e.g. its time), found after the ack: the command's usage helps.
      await this.tellRequester(call, commandErrorMessage(new CallRequestError('when', text), USAGE), log);
      return;
    }
    const nextAllowed =
      typeof job.payload.nextAllowed === 'number' ? new Date(job.payload.nextAllowed) : undefined;
    const zone = requestOf(call)?.request.requesterTimeZone ?? 'UTC';
    await this.tellRequester(
      call,
      refusalMessage(
        text,
        nextAllowed
          ? { requestId: call.id, at: nextAllowed, label: describeInZone(nextAllowed, zone) }
          : undefined,
      ),
      log,
    );
  }

  /**
   * The approval request in the approval channel: posted with its buttons, or rewritten once decided. A channel that
   * refuses the request for good (see `approvalElsewhere`) does not keep it from the approvers.
   */
  private async deliverApprovalRequest(call: CallRecord, log: Logger): Promise<void> {
    const report = this.report(call);
    const channel = call.approvalChannel;
    if (!report || !channel) return;
    const message = approvalRequestMessage(report);
    await this.pace(channel);
    try {
      if (call.approvalTs) {
        await this.update({ channel, ts: call.approvalTs, text: message.text, blocks: message.blocks }, log);
      } else {
        const posted = await this.post({ channel, text: message.text, blocks: message.blocks }, log);
        if (posted.ts)
          await this.o.store.updateCall(call.id, { approvalTs: posted.ts }, this.o.now().getTime());
      }
    } catch (err) {
      const failure = deliveryFailure(err);
      if (failure.transient) throw new Transient(failure, 'parent');
      this.workedAround(failure);
      // Only a request still waiting needs its approvers; a rewrite after the decision is only tidying up.
      if (!call.approvalTs && call.state === 'pending_approval' && channel !== call.channelId) {
        await this.approvalElsewhere(call, report, channel, failure.code, log);
        return;
      }
      log.error('could not post the approval request in CALL_APPROVAL_CHANNEL', { slackError: failure.code });
    }
  }

  /**
   * CALL_APPROVAL_CHANNEL refused a waiting request for good (the bot not in it, the channel archived or gone): the
   * request, with its buttons and its approvers mentioned, goes to the call's own thread instead, and is followed
   * there from then on (its approval channel becomes the call's; the decision rewrites it). When the call has no
   * message in its channel either, or that post is refused too, the requester is told alone that no approver was told
   * (approvers still find the request on the app's Home tab). Logged as a warning naming the setting.
   */
  private async approvalElsewhere(
    call: CallRecord,
    report: CallReport,
    approvalChannel: string,
    slackError: string,
    log: Logger,
  ): Promise<void> {
    const { store, now } = this.o;
    const root = call.threadTs ?? call.parentTs;
    log.warn(
      root
        ? "could not post the approval request in CALL_APPROVAL_CHANNEL; posting it in the call's thread instead"
        : 'could not post the approval request in CALL_APPROVAL_CHANNEL, and the call has no message in its channel; telling the requester alone',
      { slackError, approvalChannel },
    );
    if (root) {
      const message = approvalRequestMessage(report, { approvalChannel, slackError });
      try {
        const posted = await this.postInThread(call, root, message, log);
        await store.updateCall(
          call.id,
          { approvalChannel: call.channelId, ...(posted.ts ? { approvalTs: posted.ts } : {}) },
          now().getTime(),
        );
        return;
      } catch (err) {
        const failure = deliveryFailure(err);
        if (failure.transient) throw new Transient(failure, 'parent', call.channelId);
        this.workedAround(failure);
        log.warn(
          "could not post the approval request in the call's thread either; telling the requester alone",
          {
            slackError: failure.code,
          },
        );
      }
    }
    await this.tellRequester(call, approversNotToldMessage(report, approvalChannel, slackError), log);
  }

  /**
   * Who decided, in the call's thread (or to the requester alone when the call has no message in the channel). An
   * approval request that went to the call's thread instead of CALL_APPROVAL_CHANNEL is rewritten there first (its
   * buttons go): an edit, which a retry may repeat, before the reply, which it must not.
   */
  private async deliverDecision(call: CallRecord, log: Logger): Promise<void> {
    const report = this.report(call);
    if (!report) return;
    if (call.approvalTs && call.approvalChannel === call.channelId) {
      const request = approvalRequestMessage(report);
      await this.pace(call.channelId);
      try {
        await this.update(
          { channel: call.channelId, ts: call.approvalTs, text: request.text, blocks: request.blocks },
          log,
        );
      } catch (err) {
        const failure = deliveryFailure(err);
        if (failure.transient) throw new Transient(failure, 'thread');
        this.workedAround(failure);
        log.warn("could not rewrite the approval request in the call's thread", { slackError: failure.code });
      }
    }
    await this.replyInThread(call, decisionMessage(report), log);
  }

  /** The call ended: one reply in its thread with the outcome, the duration and (CALL_TRANSCRIPTS=full) the words. */
  private async deliverOutcome(job: Job, call: CallRecord, log: Logger): Promise<void> {
    const report = this.report(call);
    if (!report) return;
    const turns = Array.isArray(job.payload.turns) ? (job.payload.turns as Turn[]) : undefined;
    await this.replyInThread(call, callOutcomeMessage(report, turns), log);
  }

  /**
   * A reply in the call's thread, at the channel's pace. A transient failure is retried (the `thread` step); when
   * the call has no message to reply to, or Slack refuses the reply for good, the requester is told alone.
   */
  private async replyInThread(call: CallRecord, message: SlackMessage, log: Logger): Promise<void> {
    const root = call.threadTs ?? call.parentTs;
    if (!root) {
      await this.tellRequester(call, message, log);
      return;
    }
    try {
      await this.postInThread(call, root, message, log);
    } catch (err) {
      const failure = deliveryFailure(err);
      if (failure.transient) throw new Transient(failure, 'thread');
      this.workedAround(failure);
      await this.tellRequester(call, message, log);
    }
  }

  /** A message posted under `root` in the call's channel, at the channel's pace. */
  private async postInThread(call: CallRecord, root: string, message: SlackMessage, log: Logger) {
    await this.pace(call.channelId);
    return this.post(
      {
        channel: call.channelId,
        thread_ts: root,
        text: message.text,
        blocks: message.blocks,
        unfurl_links: false,
      },
      log,
    );
  }

  private readonly lastPost = new Map<string, number>();
  private readonly blockedUntil = new Map<string, number>();

  /**
   * Slack's pace: about one message (post or update) per second per channel, and none before a Retry-After Slack gave
   * for it is over; a 429 still reschedules the job from the store. Each caller takes the next free moment before it
   * waits, so that messages for one channel from jobs of different channels side by side (direct messages to a
   * requester) are spaced too, not only those of the channel's own jobs, which run one after another. (Copies to
   * CALL_LOG_CHANNEL do not wait here: see `deliverAnnouncement`.)
   */
  private async pace(channel: string): Promise<void> {
    const gap = this.o.minGapMs ?? 1000;
    for (;;) {
      const now = Date.now();
      const last = this.lastPost.get(channel);
      const slot = Math.max(now, last === undefined ? now : last + gap, this.blockedUntil.get(channel) ?? 0);
      this.lastPost.set(channel, slot);
      if (slot <= now) return;
      await new Promise((r) => setTimeout(r, slot - now));
      // A rate limit answered meanwhile (to another message for this channel) holds this one too.
      if ((this.blockedUntil.get(channel) ?? 0) <= Date.now()) return;
    }
  }

  private report(call: CallRecord): CallReport | undefined {
    return reportOf(call, this.o.approval ?? { approvers: 'an approver', ttlHours: 24 });
  }

  private async deliverAnnouncement(job: Job, call: CallRecord, log: Logger): Promise<void> {
    const report = this.report(call);
    if (!report) throw new Transient({ code: 'call_not_resolved', transient: false }, 'parent');
    const { store, now } = this.o;
    const channel = call.channelId;
    let step: Step = (job.payload.step as Step | undefined) ?? 'parent';
    let parentTs = call.parentTs;

    if (step === 'parent') {
      const parent = callParentMessage(report);
      await this.pace(channel);
      try {
        if (parentTs) {
          await this.update({ channel, ts: parentTs, text: parent.text, blocks: parent.blocks }, log);
        } else {
          const posted = await this.post(
            {
              channel,
              text: parent.text,
              blocks: parent.blocks,
              unfurl_links: false,
              ...(call.threadTs ? { thread_ts: call.threadTs } : {}),
            },
            log,
          );
          parentTs = posted.ts;
          if (parentTs) await store.updateCall(call.id, { parentTs }, now().getTime());
        }
      } catch (err) {
        const failure = deliveryFailure(err);
        if (failure.transient) throw new Transient(failure, 'parent');
        this.workedAround(failure);
        await this.channelUnusable(job, call, report, failure.code, log);
      }
      step = parentTs && job.payload.parentOnly !== true ? 'thread' : 'log';
    }

    if (step === 'thread' && parentTs) {
      const details = callDetailsMessage(report);
      await this.pace(channel);
      try {
        await this.post(
          {
            channel,
            thread_ts: call.threadTs ?? parentTs,
            text: details.text,
            blocks: details.blocks,
            unfurl_links: false,
          },
          log,
        );
      } catch (err) {
        const failure = deliveryFailure(err);
        if (failure.transient) throw new Transient(failure, 'thread');
        this.workedAround(failure);
        log.warn('could not post the call details in the thread', { slackError: failure.code });
      }
    }
    // The log channel gets the call once, when it has an outcome (or was rejected, expired or refused): not every step
    // before, and not the live progress after (dialling, in conversation, ended), which moves the parent message in
    // place.
    const logChannel = this.o.logChannel;
    // A call refused by a guard has a message in its channel only when it was stopped after waiting for approval.
    const settled =
      report.outcome !== undefined ||
      call.state === 'rejected' ||
      call.state === 'expired' ||
      call.state === 'refused';
    // Once per call: every message job renders the call as it is now, so a job recorded before the call settled (the
    // decision's rewrite, delivered after the approved call was queued) sees it settled too. Recorded once posted: a
    // crash in between copies it twice rather than never.
    const logged = loggedKey(call.id);
    if (
      logChannel &&
      logChannel !== channel &&
      settled &&
      job.payload.progress !== true &&
      !(await store.intentClaimed(logged))
    ) {
      const copy = callLogMessage(report);
      // Every call's copy goes to this one channel, from jobs of many channels delivered side by side. Not waited for
      // here (a wait would hold this delivery, and so the confirmations of other channels, behind the log channel's
      // pace): a copy sent too soon is answered 429 and this step is tried again after its Retry-After; while one
      // runs, the copy is not sent at all.
      const blocked = (this.blockedUntil.get(logChannel) ?? 0) - Date.now();
      if (blocked > 0)
        throw new Transient(
          { code: 'ratelimited', transient: true, retryAfterMs: blocked },
          'log',
          logChannel,
          true,
        );
      try {
        await this.post(
          { channel: logChannel, text: copy.text, blocks: copy.blocks, unfurl_links: false },
          log,
        );
      } catch (err) {
        const failure = deliveryFailure(err);
        if (failure.transient) throw new Transient(failure, 'log', logChannel);
        this.workedAround(failure);
        log.warn('could not copy the call to CALL_LOG_CHANNEL', { slackError: failure.code });
      }
      await store.claimIntent(logged, now().getTime(), call.id);
    }
  }

  /**
   * Slack refused the call's message in its channel for good (the bot is not a member, a DM between people, the
   * message was deleted). The requester is told alone, once, with the call's details and why; after that only the
   * call's last word (see `isLastWord`), not every step in between: a response_url takes 5 posts, and each step would
   * be a message of its own. Whether they were told is kept in the store (across restarts and replicas), recorded
   * once told: a crash in between tells them twice rather than never.
   */
  private async channelUnusable(
    job: Job,
    call: CallRecord,
    report: CallReport,
    slackError: string,
    log: Logger,
  ): Promise<void> {
    const { store, now } = this.o;
    const told = toldAloneKey(call.id);
    if (!(await store.intentClaimed(told))) {
      log.warn('could not post the call in its channel; telling the requester alone', { slackError });
      await this.tellRequester(
        call,
        undeliverableMessage(report, undeliverableReason(call.channelId, slackError), slackError),
        log,
      );
      await store.claimIntent(told, now().getTime(), call.id);
    } else if (isLastWord(job, call)) {
      await this.tellRequester(call, callParentMessage(report), log);
    } else {
      log.info('the call still cannot be posted in its channel; its requester was told already', {
        slackError,
      });
    }
  }

  /** The requester alone: through the command's response_url, else a direct message from the app. */
  private async tellRequester(call: CallRecord, message: SlackMessage, log: Logger): Promise<void> {
    if (call.responseUrl) {
      try {
        await this.respond(call.responseUrl, {
          response_type: 'ephemeral',
          replace_original: false,
          ...message,
        });
        return;
      } catch (err) {
        const failure = deliveryFailure(err);
        // An expired or used-up response_url (30 minutes, 5 posts) will not work later either: fall through to a DM.
        if (failure.transient && failure.code !== 'http_404') throw new Transient(failure, 'parent');
      }
    }
    await this.pace(call.userId);
    try {
      await this.post(
        { channel: call.userId, text: message.text, blocks: message.blocks, unfurl_links: false },
        log,
      );
    } catch (err) {
      const failure = deliveryFailure(err);
      if (failure.transient) throw new Transient(failure, 'parent', call.userId);
      throw err;
    }
  }
}

/** The intent recorded once a call's requester was told alone that its channel cannot be used. */
const toldAloneKey = (requestId: string) => `slack:told-alone:${requestId}`;
/** The intent recorded once a call was copied to CALL_LOG_CHANNEL (or the copy was refused for good). */
const loggedKey = (requestId: string) => `slack:logged:${requestId}`;

/**
 * Whether an announcement carries the call's final result that no other message will: a step of its progress marked
 * so by the tracker (no outcome reply follows), or an end without tracking (not placed, unknown, a dry run). A
 * rejection, an expiry and a refusal have messages of their own (the decision, the refusal); the outcome reply is
 * always told.
 */
function isLastWord(job: Job, call: CallRecord): boolean {
  if (job.payload.progress === true) return job.payload.lastWord === true;
  return call.state === 'failed' || call.state === 'unknown' || call.state === 'dry_run';
}

function undeliverableReason(channelId: string, code: string): UndeliverableReason {
  if (channelId.startsWith('D')) return 'direct_message';
  if (code === 'not_in_channel' || code === 'channel_not_found') return 'not_in_channel';
  // Inviting the bot would not help with these: nobody can post in an archived channel, and a channel where only
  // some members may post refuses the bot whether it is a member or not.
  if (code === 'is_archived') return 'archived';
  if (code === 'restricted_action') return 'restricted';
  return 'slack_error';
}

export interface ApprovalContext {
  approvers: string;
  ttlHours: number;
}

/** Where a stored call stands with its approval, if it needed one. */
function approvalOf(call: CallRecord, context: ApprovalContext): ApprovalView | undefined {
  const base = {
    approvers: context.approvers,
    buttonsHere: call.approvalChannel === call.channelId,
    ttlHours: context.ttlHours,
    ...(call.expiresAt !== undefined ? { expiresAt: call.expiresAt } : {}),
    ...(call.decidedBy ? { decidedBy: call.decidedBy } : {}),
    ...(call.decidedAt !== undefined ? { decidedAt: call.decidedAt } : {}),
  };
  switch (call.state) {
    case 'pending_approval':
      return { ...base, state: 'pending' };
    case 'rejected':
      return { ...base, state: 'rejected', ...(call.decisionReason ? { reason: call.decisionReason } : {}) };
    case 'expired':
      return {
        ...base,
        state: 'expired',
        expiredBecause: call.decisionReason === 'time_passed' ? 'time_passed' : 'ttl',
      };
    default:
      return call.decidedBy ? { ...base, state: 'approved' } : undefined;
  }
}

/** The report a call's messages are rendered from, read back from the store. */
export function reportOf(call: CallRecord, context: ApprovalContext): CallReport | undefined {
  const resolved = requestOf(call);
  if (!resolved) return undefined;
  const outcome = outcomeOf(call);
  const approval = approvalOf(call, context);
  const refused = call.state === 'refused' ? (call.userMessage ?? 'a guard stopped it.') : undefined;
  const progress: ProgressView | undefined = call.progress
    ? {
        progress: call.progress,
        ...(call.callEnd ? { end: call.callEnd } : {}),
        ...(call.durationSeconds !== undefined ? { durationSeconds: call.durationSeconds } : {}),
        ...(call.progress === 'status_unknown' && call.userMessage ? { note: call.userMessage } : {}),
      }
    : undefined;
  return {
    request: resolved.request,
    zoneSource: resolved.zoneSource,
    ...(progress ? { progress } : {}),
    ...(refused !== undefined ? { refused } : {}),
    ...(outcome ? { outcome } : {}),
    ...(approval ? { approval } : {}),
  };
}
