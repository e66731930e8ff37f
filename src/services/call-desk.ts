import type { CallRequest, CallRequestDraft } from '../calls/call-request.js';
import { CallRequestError } from '../calls/errors.js';
import { isValidTimeZone, resolveWhen, type When } from '../calls/when.js';
import { type Logger, maskPhone } from '../log.js';
import type { CallRecord, EntryPoint, Store } from '../store/store.js';
import { type CallInitiator, placeCall } from './place-call.js';
import { draftOf, requestOf, storeDraft, storeRequest, type ZoneSource } from './stored-request.js';

export interface RequesterZone {
  timeZone: string;
  source: ZoneSource;
}

export interface CallDeskDeps {
  store: Store;
  iqra: CallInitiator;
  /** The requester's time zone (their Slack profile's, or the default). */
  zoneOf: (userId: string) => Promise<RequesterZone>;
  /** Called after a Slack delivery was added to the outbox, so that it goes out at once. */
  onOutbox: () => void;
  logger: Logger;
  now: () => Date;
  instanceId: string;
  maxScheduleDays: number;
  defaultTimeZone: string;
  /** How long an instance may miss heartbeats before its requests are recovered by another (PostgreSQL). */
  instanceTimeoutMs?: number;
}

export interface ReceiveOptions {
  entryPoint: EntryPoint;
  responseUrl?: string;
  threadTs?: string;
  retryOf?: string;
}

/** What a request being taken over after a crash is told. */
export const INTERRUPTED_MESSAGE =
  "The app stopped while it was asking Iqra for this call, so the call may or may not have been placed. It was not sent again, so that nobody is dialled twice. Check Iqra's dashboard, and if the call is not there, press *Place the call again*.";

/**
 * The one path every call takes, whatever its entry point: recorded before Slack is acked (`receive`), then timed,
 * sent to Iqra exactly once and its outcome recorded (`process`), and its Slack messages put in the outbox. After a
 * crash, `recover` sends what was recorded but never sent, and marks what was caught mid-send as `unknown`.
 */
export class CallDesk {
  private readonly inFlight = new Set<Promise<void>>();
  private accepting = true;

  constructor(private readonly deps: CallDeskDeps) {}

  /**
   * Records the request under its intent key, atomically. `created: false` means the same intent was already
   * recorded (a redelivery, a double click, another replica): nothing more must happen.
   */
  async receive(intentKey: string, draft: CallRequestDraft, options: ReceiveOptions) {
    const { store, now, instanceId } = this.deps;
    return store.recordCall(
      intentKey,
      {
        id: draft.requestId,
        entryPoint: options.entryPoint,
        teamId: draft.origin.teamId,
        channelId: draft.origin.channelId,
        userId: draft.origin.userId,
        ...(options.threadTs ? { threadTs: options.threadTs } : {}),
        ...(options.responseUrl ? { responseUrl: options.responseUrl } : {}),
        ...(options.retryOf ? { retryOf: options.retryOf } : {}),
        request: storeDraft(draft),
        recipient: draft.recipient.e164,
        agentAlias: draft.agent.alias,
        owner: instanceId,
      },
      now().getTime(),
    );
  }

  /** Records a request whose time is already known (e.g. placed again), under its intent key. */
  async receiveResolved(
    intentKey: string,
    request: CallRequest,
    zoneSource: ZoneSource,
    options: ReceiveOptions,
  ) {
    const result = await this.receive(intentKey, request, options);
    if (result.created) {
      await this.deps.store.updateCall(
        request.requestId,
        { request: storeRequest(request, zoneSource) },
        this.deps.now().getTime(),
      );
    }
    return result;
  }

  /** Processes a recorded request in the background; `drain` waits for it. */
  start(requestId: string): void {
    if (!this.accepting) return;
    const work = this.process(requestId)
      .catch((err: unknown) =>
        this.deps.logger.error('processing a call request failed', { requestId, error: err }),
      )
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  /** Resolves the time, sends the request to Iqra once, records the outcome, and queues the Slack messages. */
  async process(requestId: string): Promise<void> {
    const { store, logger, now, instanceId } = this.deps;
    const log = logger.child({ requestId });
    const record = await store.getCall(requestId);
    if (record?.state !== 'received') return;

    const resolved = requestOf(record) ?? (await this.resolve(record, log));
    if (!resolved) return;
    const { request, zoneSource } = resolved;

    const sending = await store.transition(
      requestId,
      ['received'],
      'sending',
      { request: storeRequest(request, zoneSource), owner: instanceId },
      now().getTime(),
      { by: 'iqra', recipient: maskPhone(request.recipient.e164) },
    );
    if (!sending) {
      log.info('call request already taken by another worker');
      return;
    }
    log.info('call transition', { from: 'received', to: 'sending' });
    const outcome = await placeCall(request, this.deps.iqra, log);
    const changes =
      outcome.state === 'queued'
        ? { queueIds: outcome.queueIds }
        : {
            outcomeReason: outcome.error.reason,
            userMessage: outcome.error.userMessage,
            iqraCode: outcome.error.code ?? null,
            iqraMessage: outcome.error.iqraMessage ?? null,
            httpStatus: outcome.error.httpStatus ?? null,
          };
    // `unknown` too: another replica may have given up on this instance while Iqra was answering; the answer wins.
    const done = await store.transition(
      requestId,
      ['sending', 'unknown'],
      outcome.state,
      changes,
      now().getTime(),
      {
        by: 'iqra',
        attempts: outcome.state === 'queued' ? outcome.attempts : outcome.error.attempts,
      },
    );
    log.info('call transition', { from: 'sending', to: outcome.state, recorded: Boolean(done) });
    await this.announce(sending);
  }

  /** Reads the time phrase in the requester's zone; a mistake ends the request as `refused`, told to the requester. */
  private async resolve(
    record: CallRecord,
    log: Logger,
  ): Promise<{ request: CallRequest; zoneSource: ZoneSource } | undefined> {
    const { store, now } = this.deps;
    const draft = draftOf(record);
    const zone = await this.deps.zoneOf(record.userId);
    const valid = isValidTimeZone(zone.timeZone);
    const timeZone = valid ? zone.timeZone : this.deps.defaultTimeZone;
    const zoneSource: ZoneSource = valid ? zone.source : 'default';
    let when: When;
    try {
      // Read relative to when the rep asked, not to when a recovering instance gets to it.
      when = resolveWhen(draft.whenPhrase, {
        now: new Date(record.createdAt),
        timeZone,
        maxScheduleDays: this.deps.maxScheduleDays,
      });
    } catch (err) {
      if (!(err instanceof CallRequestError)) throw err;
      const refused = await store.transition(
        record.id,
        ['received'],
        'refused',
        { outcomeReason: `invalid_${err.field}`, userMessage: err.userMessage },
        now().getTime(),
        { by: 'validation', field: err.field },
      );
      log.info('call transition', { from: 'received', to: 'refused', field: err.field });
      if (refused) await this.enqueue(refused, 'refusal', { field: err.field, message: err.userMessage });
      return undefined;
    }
    // A scheduled time that passed while the request waited (a restart) means: call now.
    if (when.kind === 'scheduled' && when.at.getTime() <= now().getTime()) when = { kind: 'now' };
    return { request: { ...draft, when, requesterTimeZone: timeZone }, zoneSource };
  }

  private async announce(record: CallRecord): Promise<void> {
    await this.enqueue(record, 'announce', { step: 'parent' });
  }

  private async enqueue(record: CallRecord, kind: 'announce' | 'refusal', payload: Record<string, unknown>) {
    await this.deps.store.enqueueJob(
      { kind, requestId: record.id, channelId: record.channelId, payload },
      this.deps.now().getTime(),
    );
    this.deps.onOutbox();
  }

  /**
   * Takes over requests left by an instance that is gone: `sending` ones become `unknown` (never re-sent
   * automatically) and their requester is told; `received` ones are processed now.
   */
  async recover(): Promise<{ interrupted: number; resumed: number }> {
    const { store, now, instanceId, logger } = this.deps;
    const live = store.singleProcess
      ? [instanceId]
      : [
          instanceId,
          ...(await store.liveInstances(now().getTime() - (this.deps.instanceTimeoutMs ?? 30_000))),
        ];
    const released = await store.releaseJobLeases(live, now().getTime());
    if (released > 0) this.deps.onOutbox();
    const orphans = await store.orphanedCalls(['received', 'sending'], live);
    let interrupted = 0;
    let resumed = 0;
    for (const call of orphans) {
      if (call.state === 'sending') {
        const marked = await store.transition(
          call.id,
          ['sending'],
          'unknown',
          { outcomeReason: 'INTERRUPTED', userMessage: INTERRUPTED_MESSAGE, owner: instanceId },
          now().getTime(),
          { by: 'recovery', previousOwner: call.owner },
        );
        if (marked) {
          interrupted += 1;
          logger.warn('call transition', {
            requestId: call.id,
            from: 'sending',
            to: 'unknown',
            reason: 'INTERRUPTED',
          });
          await this.announce(marked);
        }
      } else {
        resumed += 1;
        logger.info('resuming a call request recorded before a restart', { requestId: call.id });
        this.start(call.id);
      }
    }
    return { interrupted, resumed };
  }

  /** Stops taking new work and waits (up to `timeoutMs`) for requests being sent to Iqra to finish. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.accepting = false;
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([
      Promise.allSettled([...this.inFlight]).then(() => true as const),
      timeout,
    ]);
    clearTimeout(timer);
    return finished;
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /** For tests and status: the stored record. */
  get store(): Store {
    return this.deps.store;
  }
}
