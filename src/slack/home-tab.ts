import type { webApi } from '@slack/bolt';
import type { Audience } from '../calls/approval.js';
import type { CallCatalog } from '../calls/call-request.js';
import type { Logger } from '../log.js';
import type { BatchSummary } from '../services/batch-desk.js';
import type { CallRecord, Store } from '../store/store.js';
import type { Audiences } from './audiences.js';
import { HOME_PENDING_APPROVALS, HOME_RECENT_CALLS, homeView } from './blocks/home.js';

export interface HomeTabOptions {
  store: Store;
  /** The bot's Web API client (views.publish; usergroups.users.list for approvers named by group). */
  client: webApi.WebClient;
  audiences: Audiences;
  /** Who may approve calls (CALL_APPROVERS). */
  approvers: Audience;
  /** Whether calls may need approval at all (CALL_APPROVAL is not `off`): otherwise no approvals section. */
  approvalsOn: boolean;
  catalog: CallCatalog;
  maxScheduleDays: number;
  logger: Logger;
  now: () => Date;
  /** The user's latest batches, when batches are on. */
  batches?: (teamId: string, userId: string) => Promise<BatchSummary[]>;
  /** The least time between two publications of one user's Home tab on changes (ms). Default 2 s. */
  debounceMs?: number;
  /** How long a user who opened the Home tab is kept up to date (ms). Default 24 h. */
  viewerTtlMs?: number;
}

interface Viewer {
  teamId: string;
  userId: string;
  /** Forgotten after this time (epoch ms, the app's clock), unless they open the tab again. */
  until: number;
}

/** One user's publications: never two at once, and on changes at most one per `debounceMs`. */
interface Pace {
  /** When the last publication started (monotonic ms). */
  lastAt?: number;
  /** A publication is due (on a change); later changes until then are covered by it. */
  timer?: NodeJS.Timeout;
  /** Settles the promise `idle()` waits on for the due publication. */
  settle?: () => void;
  /** Publications for one user run one after the other, so an older view never lands after a newer one. */
  chain: Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

const key = (teamId: string, userId: string) => `${teamId}/${userId}`;

/** Whether an approver's list of pending approvals may have changed with this call. */
function touchesApprovals(call: CallRecord): boolean {
  return (
    call.state === 'pending_approval' ||
    call.state === 'approved' ||
    call.state === 'rejected' ||
    call.state === 'expired' ||
    // It waited for approval once (the deadline is set then), and may have moved on since (approved → queued …).
    call.expiresAt !== undefined ||
    call.decidedBy !== undefined
  );
}

/**
 * The App Home's Home tab, kept live: published when a user opens it, and published again when one of their calls
 * changes (and, for approvers, when a call waiting for approval does), at most once per `debounceMs` per user.
 *
 * The users to keep up to date ("viewers": those who opened the tab in the last 24 hours) are remembered in memory
 * only: after a restart, or on another replica, nobody is a viewer until they open the Home tab again (which Slack
 * tells the app every time). Their tab is then simply as of the last publication, never wrong for long.
 *
 * Nothing here throws: a failed read or publication is logged, and the next change or opening tries again.
 */
export class HomeTab {
  private readonly viewers = new Map<string, Viewer>();
  private readonly paces = new Map<string, Pace>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly debounceMs: number;
  private readonly viewerTtlMs: number;
  private stopped = false;

  constructor(private readonly o: HomeTabOptions) {
    this.debounceMs = o.debounceMs ?? 2000;
    this.viewerTtlMs = o.viewerTtlMs ?? DAY_MS;
  }

  /** The user opened the Home tab: publish it now, and keep it up to date for 24 hours. */
  async opened(userId: string, teamId: string): Promise<void> {
    if (this.stopped) return;
    this.forgetExpired();
    this.viewers.set(key(teamId, userId), {
      teamId,
      userId,
      until: this.o.now().getTime() + this.viewerTtlMs,
    });
    await this.publish(userId, teamId);
  }

  /**
   * A call changed (its state, its progress, its approval): republish, soon, the Home tab of its requester and of the
   * approvers when the call is or was waiting for approval, for those who opened their Home tab. Resolves once those
   * publications are scheduled (not published); never rejects, so callers need not wait: `void homeTab.changed(call)`.
   */
  changed(call: CallRecord): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const scheduled = this.audienceOf(call)
      .then((viewers) => {
        for (const viewer of viewers) this.schedule(viewer);
      })
      .catch((err: unknown) => {
        this.o.logger.warn('could not refresh Home tabs after a change', { requestId: call.id, error: err });
      });
    this.track(scheduled);
    return scheduled;
  }

  /** Publishes the user's Home tab now (after any publication for them in flight). Never throws. */
  publish(userId: string, teamId: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const pace = this.paceOf(key(teamId, userId));
    if (pace.timer) this.cancel(pace);
    pace.lastAt = performance.now();
    const run = pace.chain.then(() => this.render(userId, teamId));
    pace.chain = run;
    this.track(run);
    return run;
  }

  /** Resolves once no publication is due or in flight (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops publishing: due publications are dropped, those in flight are waited for. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const pace of this.paces.values()) this.cancel(pace);
    await this.idle();
  }

  /** Remembered viewers (for tests and logs). */
  viewerCount(): number {
    this.forgetExpired();
    return this.viewers.size;
  }

  /** Who should see this change: the requester, and the approvers when the call touches approvals. */
  private async audienceOf(call: CallRecord): Promise<Viewer[]> {
    this.forgetExpired();
    const targets: Viewer[] = [];
    const requester = this.viewers.get(key(call.teamId, call.userId));
    if (requester) targets.push(requester);
    if (!this.o.approvalsOn || !touchesApprovals(call)) return targets;
    for (const viewer of this.viewers.values()) {
      if (viewer === requester || viewer.teamId !== call.teamId) continue;
      if (await this.o.audiences.includes(this.o.client, this.o.approvers, viewer.userId))
        targets.push(viewer);
    }
    return targets;
  }

  /** A publication for `viewer` within `debounceMs` of their last one; changes until then are covered by it. */
  private schedule(viewer: Viewer): void {
    if (this.stopped) return;
    const pace = this.paceOf(key(viewer.teamId, viewer.userId));
    if (pace.timer) return;
    const wait =
      pace.lastAt === undefined ? 0 : Math.max(0, pace.lastAt + this.debounceMs - performance.now());
    this.track(
      new Promise<void>((resolve) => {
        pace.settle = resolve;
        pace.timer = setTimeout(() => {
          pace.timer = undefined;
          pace.settle = undefined;
          // The viewer may have been forgotten meanwhile (24 h passed): then there is nobody to show it to.
          if (this.viewers.has(key(viewer.teamId, viewer.userId)))
            void this.publish(viewer.userId, viewer.teamId);
          resolve();
        }, wait);
        pace.timer.unref();
      }),
    );
  }

  private cancel(pace: Pace): void {
    clearTimeout(pace.timer);
    pace.timer = undefined;
    pace.settle?.();
    pace.settle = undefined;
  }

  private paceOf(k: string): Pace {
    let pace = this.paces.get(k);
    if (!pace) {
      pace = { chain: Promise.resolve() };
      this.paces.set(k, pace);
    }
    return pace;
  }

  private forgetExpired(): void {
    const now = this.o.now().getTime();
    for (const [k, viewer] of this.viewers) {
      if (viewer.until > now) continue;
      this.viewers.delete(k);
      const pace = this.paces.get(k);
      if (pace && !pace.timer) this.paces.delete(k);
    }
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }

  /** Reads what the user's tab shows and publishes it. Logs, never throws. */
  private async render(userId: string, teamId: string): Promise<void> {
    const { store, client, logger } = this.o;
    let calls: CallRecord[] = [];
    let approvals: CallRecord[] | undefined;
    let batches: BatchSummary[] = [];
    let unavailable = false;
    try {
      const approver =
        this.o.approvalsOn && (await this.o.audiences.includes(client, this.o.approvers, userId));
      [calls, approvals] = await Promise.all([
        store.recentCalls(teamId, userId, HOME_RECENT_CALLS),
        // One more than shown, to tell whether more are waiting.
        approver ? store.callsInStates(['pending_approval'], HOME_PENDING_APPROVALS + 1, teamId) : undefined,
      ]);
      batches = (await this.o.batches?.(teamId, userId)) ?? [];
    } catch (err) {
      unavailable = true;
      logger.warn('could not read the calls for the Home tab', { userId, error: err });
    }
    const view = homeView({
      catalog: this.o.catalog,
      maxScheduleDays: this.o.maxScheduleDays,
      userId,
      calls,
      ...(approvals ? { approvals } : {}),
      ...(batches.length ? { batches } : {}),
      ...(unavailable ? { unavailable } : {}),
      now: this.o.now().getTime(),
    });
    try {
      await client.views.publish({ user_id: userId, view });
      logger.debug('Home tab published', { userId, calls: calls.length, approvals: approvals?.length });
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
      logger.warn('could not publish the Home tab', { userId, slackError: code });
    }
  }
}
