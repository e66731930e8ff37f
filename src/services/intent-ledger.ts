/**
 * Remembers which intents (a slash command's trigger_id, later a button press or a view submission) have already
 * been acted on, so that a redelivery never places a second call. `claim` answers true exactly once per key.
 */
export interface IntentLedger {
  claim(key: string): Promise<boolean>;
}

/** An in-process ledger: enough for one process; a durable, shared one comes with the store. */
export class MemoryIntentLedger implements IntentLedger {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs = 24 * 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string): Promise<boolean> {
    const now = this.now();
    if (this.seen.size > 10_000) {
      for (const [k, at] of this.seen) if (now - at > this.ttlMs) this.seen.delete(k);
    }
    const at = this.seen.get(key);
    if (at !== undefined && now - at <= this.ttlMs) return false;
    this.seen.set(key, now);
    return true;
  }
}
