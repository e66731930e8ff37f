import Database from 'better-sqlite3';

/** What the app's SQLite file says about one call, read after the app has exited. */
export interface StoredCall {
  id: string;
  state: string;
  /** Its parent message's ts once Slack accepted it (the app records it). */
  parentTs: string | undefined;
  /** An `announce` job (the parent and its thread reply) still waiting in the outbox: delivered at the next start. */
  announcePending: boolean;
  /** An `announce` job given up (dead). */
  announceDead: boolean;
}

/**
 * Reads the app's database once it has stopped (SQLite is opened in exclusive mode while the app runs), so that a
 * call not confirmed yet can be told apart from a lost one: still in the outbox means delayed, not lost. Keyed by
 * recipient (E.164), which is unique per bench command.
 */
export function readStoredCalls(path: string): Map<string, StoredCall[]> {
  const db = new Database(path, { fileMustExist: true });
  try {
    const jobs = new Map<string, { pending: boolean; dead: boolean }>();
    for (const row of db
      .prepare("SELECT request_id AS requestId, state FROM slack_jobs WHERE kind = 'announce'")
      .all() as { requestId: string; state: string }[]) {
      const job = jobs.get(row.requestId) ?? { pending: false, dead: false };
      if (row.state === 'pending') job.pending = true;
      if (row.state === 'dead') job.dead = true;
      jobs.set(row.requestId, job);
    }
    const calls = new Map<string, StoredCall[]>();
    for (const row of db
      .prepare('SELECT id, state, recipient, parent_ts AS parentTs FROM call_requests')
      .all() as { id: string; state: string; recipient: string; parentTs: string | null }[]) {
      const job = jobs.get(row.id);
      const list = calls.get(row.recipient) ?? [];
      list.push({
        id: row.id,
        state: row.state,
        parentTs: row.parentTs ?? undefined,
        announcePending: job?.pending ?? false,
        announceDead: job?.dead ?? false,
      });
      calls.set(row.recipient, list);
    }
    return calls;
  } finally {
    db.close();
  }
}
