/**
 * Load shedding for slash commands. Slack gives an app 3 seconds to ack a command; an app that is past what it can do
 * acks late, Slack tells the rep the command failed, and a rep who then types it again may have the customer dialled
 * twice (the late command is recorded and placed all the same). So when the app is overloaded, a command is answered
 * at once with "busy, nothing was done" and not recorded at all: the rep knows to try again, and nothing happens twice.
 *
 * Overloaded means any of: the event loop runs late (everything waits), it has had no idle moment to speak of for a
 * second (requests queue up in front of it, unseen), too many commands are in hand and not yet acked, or too many
 * recorded calls are being worked on (a new one would wait too long).
 */
import type { AnyMiddlewareArgs, Middleware, SlackCommandMiddlewareArgs } from '@slack/bolt';

export interface OverloadLimits {
  /** Event-loop delay (ms) over which commands are turned away; 0: never for that reason. */
  maxLagMs: number;
  /** Share of the last second the event loop was busy (0–1) from which commands are turned away; 0: never. */
  maxUtilization: number;
  /** Commands in hand (received, not yet acked) over which more are turned away; 0: never for that reason. */
  maxUnacked: number;
  /** Calls recorded and not yet done with Iqra over which commands are turned away; 0: never for that reason. */
  maxBacklog: number;
}

export type ShedReason = 'lag' | 'busy' | 'unacked' | 'backlog';

export const BUSY_MESSAGE =
  "⏳ I'm too busy to take this right now, so I did nothing with it: *no call was placed*. Please try again in a minute.";

export interface LoadShedderOptions {
  limits: OverloadLimits;
  /** Calls being worked on after their ack (recorded, not yet done with Iqra). */
  backlog: () => number;
  metrics?: { commandShed(reason: ShedReason): void };
  onShed?: (
    reason: ShedReason,
    detail: { lagMs: number; utilization: number; unacked: number; backlog: number },
  ) => void;
}

/** How often the event loop is sampled (ms). */
const SAMPLE_MS = 50;
/** The utilization is that of the last second (ms). */
const UTILIZATION_WINDOW_MS = 1000;

export class LoadShedder {
  private unacked = 0;
  /** How late the last sampling timer ran (ms): how long everything else had to wait. */
  private lagMs = 0;
  /** The share of the last second the event loop spent working (not waiting for I/O). */
  private utilization = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: LoadShedderOptions) {}

  /** Starts measuring the event loop: how late a timer runs, and how busy the loop was over the last second. */
  start(): void {
    const { maxLagMs, maxUtilization } = this.o.limits;
    if (this.timer || (maxLagMs <= 0 && maxUtilization <= 0)) return;
    let last = performance.now();
    let elu = performance.eventLoopUtilization();
    const window: { active: number; idle: number }[] = [];
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lagMs = Math.max(0, now - last - SAMPLE_MS);
      last = now;
      const delta = performance.eventLoopUtilization(elu);
      elu = performance.eventLoopUtilization();
      window.push({ active: delta.active, idle: delta.idle });
      // The samples of the last second (a long stall is one long sample).
      let span = window.reduce((sum, w) => sum + w.active + w.idle, 0);
      while (
        window.length > 1 &&
        span - ((window[0]?.active ?? 0) + (window[0]?.idle ?? 0)) >= UTILIZATION_WINDOW_MS
      ) {
        const dropped = window.shift();
        span -= (dropped?.active ?? 0) + (dropped?.idle ?? 0);
      }
      // Judged on a whole second only: the first moments after start (compiling, warming up) say nothing of load.
      if (span < UTILIZATION_WINDOW_MS) return;
      const active = window.reduce((sum, w) => sum + w.active, 0);
      const idle = span - active;
      this.utilization = active + idle > 0 ? active / (active + idle) : 0;
    }, SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.lagMs = 0;
    this.utilization = 0;
  }

  /** Why a command arriving now would be turned away, if it would. */
  overloaded(): ShedReason | undefined {
    const { maxLagMs, maxUtilization, maxUnacked, maxBacklog } = this.o.limits;
    if (maxUnacked > 0 && this.unacked >= maxUnacked) return 'unacked';
    if (maxBacklog > 0 && this.o.backlog() >= maxBacklog) return 'backlog';
    if (maxLagMs > 0 && this.lagMs >= maxLagMs) return 'lag';
    if (maxUtilization > 0 && this.utilization >= maxUtilization) return 'busy';
    return undefined;
  }

  /** Global Bolt middleware: turns slash commands away while overloaded; everything else passes. */
  readonly middleware: Middleware<AnyMiddlewareArgs> = async (args) => {
    const command = (args.body as { command?: unknown }).command;
    if (typeof command !== 'string' || !('ack' in args)) return args.next();
    const { ack } = args as unknown as SlackCommandMiddlewareArgs;
    const reason = this.overloaded();
    if (reason) {
      this.o.metrics?.commandShed(reason);
      this.o.onShed?.(reason, {
        lagMs: Math.round(this.lagMs),
        utilization: Math.round(this.utilization * 100) / 100,
        unacked: this.unacked,
        backlog: this.o.backlog(),
      });
      await ack({ response_type: 'ephemeral', text: BUSY_MESSAGE });
      return;
    }
    this.unacked += 1;
    try {
      await args.next();
    } finally {
      this.unacked -= 1;
    }
  };
}
