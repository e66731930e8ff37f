/**
 * Turns for the work that happens after Slack has been answered: processing a recorded call, recording Iqra's answer,
 * posting the Slack messages, tracking. Each piece of it waits for a turn, and the queue gives one turn per turn of
 * the event loop. Between two turns the loop reads its I/O, so a command that arrives while a backlog is being worked
 * off is read, recorded and acked before the next piece of the backlog runs, instead of after all of it (Slack gives
 * an ack 3 seconds; the backlog can wait).
 *
 * Two priorities: `call` (a recorded call on its way to Iqra, and Iqra's answer being recorded) goes before `later`
 * (Slack messages, tracking), first in first out within each.
 */
export type TurnPriority = 'call' | 'later';

export interface Turns {
  /** Resolves on a later turn of the event loop, after the I/O already waiting and the turns given out before. */
  turn(priority?: TurnPriority): Promise<void>;
}

export class TurnQueue implements Turns {
  private readonly queues: Record<TurnPriority, (() => void)[]> = { call: [], later: [] };
  private scheduled = false;

  turn(priority: TurnPriority = 'later'): Promise<void> {
    return new Promise<void>((resolve) => {
      this.queues[priority].push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.next);
      }
    });
  }

  /** Pieces of work waiting for a turn. */
  get waiting(): number {
    return this.queues.call.length + this.queues.later.length;
  }

  private readonly next = (): void => {
    // One turn, then the event loop goes round (I/O first) before the next: setImmediate from within an immediate
    // runs on the loop's next turn.
    const resolve = this.queues.call.shift() ?? this.queues.later.shift();
    resolve?.();
    if (this.waiting > 0) setImmediate(this.next);
    else this.scheduled = false;
  };
}
