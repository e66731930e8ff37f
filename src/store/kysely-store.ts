/**
 * The Store over Kysely: the same query code for SQLite (better-sqlite3) and PostgreSQL (pg). Dialect-specific bits
 * are limited to row locks (`FOR UPDATE`, `SKIP LOCKED`), which PostgreSQL needs for concurrency between replicas
 * and SQLite does not (one process holds the file, and Kysely runs one statement or transaction at a time on it).
 */
import {
  type ColumnType,
  type Generated,
  type Insertable,
  type Kysely,
  Migrator,
  type Selectable,
  sql,
  type Transaction,
  type Updateable,
} from 'kysely';
import type { CallEnd, Progress } from '../calls/progress.js';
import { type Logger, silentLogger } from '../log.js';
import { LATEST_MIGRATION, type StoreKind, StoreMigrationProvider } from './migrations.js';
import {
  type AuditEntry,
  type BatchChanges,
  type BatchRecord,
  type BatchState,
  type CallChanges,
  type CallRecord,
  type CallState,
  type CallTransition,
  type DncEntry,
  type EntryPoint,
  type Job,
  type JobKind,
  type NewBatch,
  type NewCall,
  type NewJob,
  type QuotaResult,
  type Store,
  StoreError,
} from './store.js';

export interface CallRequestsTable {
  id: string;
  state: string;
  entry_point: string;
  team_id: string;
  channel_id: string;
  user_id: string;
  thread_ts: string | null;
  parent_ts: string | null;
  response_url: string | null;
  retry_of: string | null;
  /** JSON object. */
  request: string;
  recipient: string;
  agent_alias: string;
  /** JSON array of strings. */
  queue_ids: ColumnType<string, string | undefined, string>;
  iqra_code: string | null;
  iqra_message: string | null;
  outcome_reason: string | null;
  user_message: string | null;
  http_status: number | null;
  owner: string;
  created_at: number;
  updated_at: number;
  approval_channel: ColumnType<string | null, string | null | undefined, string | null>;
  approval_ts: ColumnType<string | null, string | null | undefined, string | null>;
  decided_by: ColumnType<string | null, string | null | undefined, string | null>;
  decided_at: ColumnType<number | null, number | null | undefined, number | null>;
  decision_reason: ColumnType<string | null, string | null | undefined, string | null>;
  expires_at: ColumnType<number | null, number | null | undefined, number | null>;
  progress: ColumnType<string | null, string | null | undefined, string | null>;
  call_end: ColumnType<string | null, string | null | undefined, string | null>;
  session_id: ColumnType<string | null, string | null | undefined, string | null>;
  duration_seconds: ColumnType<number | null, number | null | undefined, number | null>;
  track_at: ColumnType<number | null, number | null | undefined, number | null>;
  track_unchanged: ColumnType<number | null, number | null | undefined, number | null>;
  tracked_at: ColumnType<number | null, number | null | undefined, number | null>;
  batch_id: ColumnType<string | null, string | null | undefined, string | null>;
  batch_line: ColumnType<number | null, number | null | undefined, number | null>;
}

type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;

export interface BatchesTable {
  id: string;
  state: string;
  team_id: string;
  channel_id: string;
  user_id: string;
  /** JSON object. */
  settings: string;
  /** JSON object. */
  rows: string;
  total: number;
  parent_ts: Nullable<string>;
  approval_channel: Nullable<string>;
  approval_ts: Nullable<string>;
  decided_by: Nullable<string>;
  decided_at: Nullable<number>;
  decision_reason: Nullable<string>;
  expires_at: Nullable<number>;
  next_at: Nullable<number>;
  held_reason: Nullable<string>;
  stopped_by: Nullable<string>;
  finished_at: Nullable<number>;
  created_at: number;
  updated_at: number;
}

export interface CallTransitionsTable {
  id: Generated<number>;
  request_id: string;
  from_state: string | null;
  to_state: string;
  at: number;
  /** JSON object. */
  detail: string;
}

export interface CallQueueIdsTable {
  queue_id: string;
  request_id: string;
}

export interface IntentsTable {
  key: string;
  request_id: string | null;
  created_at: number;
}

export interface InstancesTable {
  id: string;
  started_at: number;
  heartbeat_at: number;
}

export interface SlackJobsTable {
  id: Generated<number>;
  kind: string;
  request_id: string;
  channel_id: string;
  /** JSON object. */
  payload: string;
  state: string;
  attempts: number;
  run_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface DncNumbersTable {
  team_id: string;
  e164: string;
  reason: string | null;
  added_by: string;
  added_at: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  team_id: string;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  /** JSON object. */
  detail: string;
}

export interface QuotaUsesTable {
  id: Generated<number>;
  scope_key: string;
  at: number;
  request_id: string;
}

export interface Database {
  dnc_numbers: DncNumbersTable;
  audit_log: AuditLogTable;
  quota_uses: QuotaUsesTable;
  call_requests: CallRequestsTable;
  call_transitions: CallTransitionsTable;
  call_queue_ids: CallQueueIdsTable;
  intents: IntentsTable;
  instances: InstancesTable;
  slack_jobs: SlackJobsTable;
  batches: BatchesTable;
}

type Db = Kysely<Database> | Transaction<Database>;

/** Rows per statement when a batch's calls are recorded (well within SQLite's and PostgreSQL's parameter limits). */
const BATCH_INSERT_CHUNK = 200;
type CallRow = Selectable<CallRequestsTable>;
type JobRow = Selectable<SlackJobsTable>;

export interface KyselyStoreOptions {
  logger?: Logger;
  /** A log-safe name of the database (file path, or URL without password), for error messages. */
  description?: string;
  /**
   * Makes what was committed so far survive a power loss (SQLite under synchronous=NORMAL: an fsync of its WAL, off
   * the event loop). Awaited after the commits that must never be rolled back: the move to `sending`. None: every
   * commit is durable already (PostgreSQL) or cannot be (an in-memory database).
   */
  flushCommitted?: () => Promise<void>;
  /** Called once the database is closed (e.g. to close the WAL file `flushCommitted` holds open). */
  onClose?: () => Promise<void>;
}

/** The database server's time, in epoch milliseconds (PostgreSQL): one clock for every replica. */
const DATABASE_NOW_MS = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

export class KyselyStore implements Store {
  readonly singleProcess: boolean;
  private readonly logger: Logger;
  private readonly description: string;
  private closed = false;
  private readonly flushCommitted: (() => Promise<void>) | undefined;
  private readonly onClose: (() => Promise<void>) | undefined;
  private migrationSchema: Promise<string | undefined> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    readonly kind: StoreKind,
    options: KyselyStoreOptions = {},
  ) {
    this.singleProcess = kind === 'sqlite';
    this.logger = options.logger ?? silentLogger;
    this.description = options.description ?? kind;
    this.flushCommitted = options.flushCommitted;
    this.onClose = options.onClose;
  }

  private get isPostgres(): boolean {
    return this.kind === 'postgres';
  }

  // ---- schema ----

  /**
   * On PostgreSQL, Kysely looks for its migration table in every schema it can see unless told which one; pin it to
   * the connection's current schema so that databases with several schemas (and tests) keep their own history.
   */
  private async migrator(): Promise<Migrator> {
    if (!this.migrationSchema) {
      this.migrationSchema = this.isPostgres
        ? sql<{ schema: string | null }>`select current_schema() as schema`
            .execute(this.db)
            .then((r) => r.rows[0]?.schema ?? undefined)
        : Promise.resolve(undefined);
    }
    const schema = await this.migrationSchema.catch((err: unknown) => {
      this.migrationSchema = undefined;
      throw err;
    });
    return new Migrator({
      db: this.db,
      provider: new StoreMigrationProvider(this.kind),
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
  }

  async migrate(): Promise<void> {
    const migrator = await this.migrator();
    const { error, results } = await migrator.migrateToLatest();
    for (const r of results ?? []) {
      if (r.status === 'Success')
        this.logger.info('database migration applied', { migration: r.migrationName });
      if (r.status === 'Error')
        this.logger.error('database migration failed', { migration: r.migrationName });
    }
    if (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new StoreError(`Could not update the database schema (${this.description}): ${message}`, {
        cause: error,
      });
    }
  }

  async schemaVersion(): Promise<{ applied: string | undefined; latest: string }> {
    const migrator = await this.migrator();
    const applied = (await migrator.getMigrations())
      .filter((m) => m.executedAt !== undefined)
      .map((m) => m.name);
    return { applied: applied[applied.length - 1], latest: LATEST_MIGRATION };
  }

  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.db);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new StoreError(`Cannot reach the database (${this.description}): ${message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
    await this.onClose?.();
  }

  // ---- calls ----

  /**
   * Group commit: the calls recorded while the previous batch was being written (or in the same turn of the event
   * loop) are written together, in one transaction, with one statement per table. Each caller's promise settles only
   * once the transaction holding its call has committed, so a call is never acknowledged before it is recorded.
   */
  recordCall(intentKey: string, call: NewCall, now: number): Promise<RecordResult> {
    return new Promise<RecordResult>((resolve, reject) => {
      this.recordQueue.push({ intentKey, call, now, resolve, reject });
      this.recording ??= this.writeRecords();
    });
  }

  private readonly recordQueue: PendingRecord[] = [];
  private recording: Promise<void> | undefined;

  private async writeRecords(): Promise<void> {
    // Let the requests recorded in the same run of the event loop's callbacks join the first batch. Not later (a
    // setImmediate would): the ack waits for this commit, and it must not wait for unrelated work queued meanwhile.
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    try {
      while (this.recordQueue.length > 0) {
        const batch = this.recordQueue.splice(0, RECORD_BATCH_MAX);
        let results: RecordResult[] | undefined;
        try {
          results = await this.recordBatch(batch);
        } catch {
          // One bad call must not fail the others: write each in a transaction of its own.
        }
        for (const [i, pending] of batch.entries()) {
          const result = results?.[i];
          if (result) pending.resolve(result);
          else await this.recordOne(pending).then(pending.resolve, pending.reject);
        }
      }
    } finally {
      this.recording = undefined;
      // A call queued after the loop saw an empty queue, but before `recording` was cleared, starts a new writer.
      if (this.recordQueue.length > 0) this.recording = this.writeRecords();
    }
  }

  /** Several calls in one transaction: one insert per table, whatever their number. Results in the batch's order. */
  private recordBatch(batch: readonly PendingRecord[]): Promise<RecordResult[]> {
    return this.db.transaction().execute(async (trx) => {
      // The first call of the batch for a key is the one that may claim it; the others are redeliveries.
      const first = new Map<string, PendingRecord>();
      for (const pending of batch) if (!first.has(pending.intentKey)) first.set(pending.intentKey, pending);
      const candidates = [...first.values()];
      const claimedRows = await trx
        .insertInto('intents')
        .values(candidates.map((p) => ({ key: p.intentKey, request_id: p.call.id, created_at: p.now })))
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .execute();
      const claimed = new Set(claimedRows.map((r) => r.key));
      const created = candidates.filter((p) => claimed.has(p.intentKey));
      if (created.length > 0) {
        await trx
          .insertInto('call_requests')
          .values(created.map((p) => newCallRow(p.call, p.now)))
          .execute();
        await trx
          .insertInto('call_transitions')
          .values(created.map((p) => receivedTransition(p.call, p.now)))
          .execute();
      }
      const taken = candidates.filter((p) => !claimed.has(p.intentKey)).map((p) => p.intentKey);
      const holders = new Map<string, string | null>();
      if (taken.length > 0) {
        const rows = await trx
          .selectFrom('intents')
          .select(['key', 'request_id'])
          .where('key', 'in', taken)
          .execute();
        for (const row of rows) holders.set(row.key, row.request_id);
      }
      return batch.map((pending): RecordResult => {
        const winner = first.get(pending.intentKey);
        if (claimed.has(pending.intentKey)) {
          return winner === pending
            ? { created: true, requestId: pending.call.id }
            : { created: false, requestId: winner?.call.id };
        }
        return { created: false, requestId: holders.get(pending.intentKey) ?? undefined };
      });
    });
  }

  private recordOne({ intentKey, call, now }: PendingRecord): Promise<RecordResult> {
    return this.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .insertInto('intents')
        .values({ key: intentKey, request_id: call.id, created_at: now })
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .executeTakeFirst();
      if (!claimed) {
        const intent = await trx
          .selectFrom('intents')
          .select('request_id')
          .where('key', '=', intentKey)
          .executeTakeFirst();
        return { created: false, requestId: intent?.request_id ?? undefined };
      }
      await trx.insertInto('call_requests').values(newCallRow(call, now)).execute();
      await trx.insertInto('call_transitions').values(receivedTransition(call, now)).execute();
      return { created: true, requestId: call.id };
    });
  }

  async claimIntent(intentKey: string, now: number, requestId?: string): Promise<boolean> {
    const claimed = await this.db
      .insertInto('intents')
      .values({ key: intentKey, request_id: requestId ?? null, created_at: now })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    return claimed !== undefined;
  }

  async intentClaimed(intentKey: string): Promise<boolean> {
    const intent = await this.db
      .selectFrom('intents')
      .select('key')
      .where('key', '=', intentKey)
      .executeTakeFirst();
    return intent !== undefined;
  }

  async transition(
    id: string,
    from: readonly CallState[],
    to: CallState,
    changes: CallChanges,
    now: number,
    detail: Record<string, unknown> = {},
    messages?: (record: CallRecord) => readonly NewJob[],
  ): Promise<CallRecord | undefined> {
    if (from.length === 0) return undefined;
    const record = await this.transitionIn(id, from, to, changes, now, detail, messages);
    // The move to `sending` is flushed to disk before the caller sends anything, so that a power loss can never roll
    // it back to `received` and have recovery send a call Iqra already has.
    if (record && to === 'sending') await this.flushCommitted?.();
    return record;
  }

  private transitionIn(
    id: string,
    from: readonly CallState[],
    to: CallState,
    changes: CallChanges,
    now: number,
    detail: Record<string, unknown>,
    messages: ((record: CallRecord) => readonly NewJob[]) | undefined,
  ): Promise<CallRecord | undefined> {
    return this.db.transaction().execute(async (trx) => {
      // Lock the row (PostgreSQL) so that the state read here is the one the update replaces.
      const current = await trx
        .selectFrom('call_requests')
        .select('state')
        .where('id', '=', id)
        .$if(this.isPostgres, (q) => q.forUpdate())
        .executeTakeFirst();
      if (!current || !from.includes(current.state as CallState)) return undefined;
      const row = await trx
        .updateTable('call_requests')
        .set({ ...changeColumns(changes), state: to, updated_at: now })
        .where('id', '=', id)
        .where('state', 'in', [...from])
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await trx
        .insertInto('call_transitions')
        .values({
          request_id: id,
          from_state: current.state,
          to_state: to,
          at: now,
          detail: JSON.stringify(detail),
        })
        .execute();
      if (changes.queueIds !== undefined) await replaceQueueIds(trx, id, changes.queueIds);
      const record = toCallRecord(row);
      for (const job of messages?.(record) ?? []) {
        await trx.insertInto('slack_jobs').values(jobRow(job, now)).execute();
      }
      return record;
    });
  }

  async advanceProgress(
    id: string,
    from: readonly (Progress | null)[],
    changes: CallChanges,
    now: number,
    detail: Record<string, unknown> = {},
    jobs: readonly NewJob[] = [],
  ): Promise<CallRecord | undefined> {
    const known = from.filter((p): p is Progress => p !== null);
    const untracked = from.includes(null);
    return this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('call_requests')
        .select('progress')
        .where('id', '=', id)
        .$if(this.isPostgres, (q) => q.forUpdate())
        .executeTakeFirst();
      if (!current) return undefined;
      const ok = current.progress === null ? untracked : known.includes(current.progress as Progress);
      if (!ok) return undefined;
      const row = await trx
        .updateTable('call_requests')
        .set({ ...changeColumns(changes), updated_at: now })
        .where('id', '=', id)
        .where((eb) =>
          current.progress === null
            ? eb('progress', 'is', null)
            : eb('progress', '=', current.progress as string),
        )
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      if (changes.progress !== undefined && changes.progress !== current.progress) {
        await trx
          .insertInto('call_transitions')
          .values({
            request_id: id,
            from_state: current.progress,
            to_state: changes.progress,
            at: now,
            detail: JSON.stringify({ kind: 'progress', ...detail }),
          })
          .execute();
      }
      for (const job of jobs) await trx.insertInto('slack_jobs').values(jobRow(job, now)).execute();
      return toCallRecord(row);
    });
  }

  async claimDueTracking(now: number, limit: number, leaseMs: number): Promise<CallRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.db.transaction().execute(async (trx) => {
      const due = await trx
        .selectFrom('call_requests')
        .select('id')
        .where('state', '=', 'queued')
        .where('track_at', 'is not', null)
        .where('track_at', '<=', now)
        .orderBy('track_at', 'asc')
        .limit(limit)
        .$if(this.isPostgres, (q) => q.forUpdate().skipLocked())
        .execute();
      if (due.length === 0) return [];
      return trx
        .updateTable('call_requests')
        .set({ track_at: now + leaseMs })
        .where(
          'id',
          'in',
          due.map((d) => d.id),
        )
        .where('track_at', '<=', now)
        .returningAll()
        .execute();
    });
    return rows.map(toCallRecord).sort((a, b) => (a.trackAt ?? 0) - (b.trackAt ?? 0));
  }

  async callsInStates(states: readonly CallState[], limit: number, teamId?: string): Promise<CallRecord[]> {
    if (states.length === 0 || limit <= 0) return [];
    const rows = await this.db
      .selectFrom('call_requests')
      .selectAll()
      .where('state', 'in', [...states])
      .$if(teamId !== undefined, (q) => q.where('team_id', '=', teamId ?? ''))
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toCallRecord);
  }

  // ---- guards: do-not-call list, audit, quotas ----

  async addDnc(
    teamId: string,
    entries: readonly { e164: string; reason?: string }[],
    by: string,
    now: number,
  ): Promise<{ added: string[]; duplicates: string[] }> {
    const added: string[] = [];
    const duplicates: string[] = [];
    const seen = new Set<string>();
    await this.db.transaction().execute(async (trx) => {
      for (const entry of entries) {
        if (seen.has(entry.e164)) {
          duplicates.push(entry.e164);
          continue;
        }
        seen.add(entry.e164);
        const row = await trx
          .insertInto('dnc_numbers')
          .values({
            team_id: teamId,
            e164: entry.e164,
            reason: entry.reason ?? null,
            added_by: by,
            added_at: now,
          })
          .onConflict((oc) => oc.columns(['team_id', 'e164']).doNothing())
          .returning('e164')
          .executeTakeFirst();
        (row ? added : duplicates).push(entry.e164);
      }
    });
    return { added, duplicates };
  }

  async removeDnc(teamId: string, e164: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('dnc_numbers')
      .where('team_id', '=', teamId)
      .where('e164', '=', e164)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async findDnc(teamId: string, e164: string): Promise<DncEntry | undefined> {
    const row = await this.db
      .selectFrom('dnc_numbers')
      .selectAll()
      .where('team_id', '=', teamId)
      .where('e164', '=', e164)
      .executeTakeFirst();
    return row ? toDnc(row) : undefined;
  }

  async listDnc(teamId: string, limit: number): Promise<{ entries: DncEntry[]; total: number }> {
    const rows = await this.db
      .selectFrom('dnc_numbers')
      .selectAll()
      .where('team_id', '=', teamId)
      .orderBy('added_at', 'desc')
      .orderBy('e164', 'asc')
      .limit(Math.max(0, limit))
      .execute();
    const count = await this.db
      .selectFrom('dnc_numbers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('team_id', '=', teamId)
      .executeTakeFirst();
    return { entries: rows.map(toDnc), total: Number(count?.n ?? 0) };
  }

  async audit(entry: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        team_id: entry.teamId,
        at: entry.at,
        actor: entry.actor,
        action: entry.action,
        target: entry.target ?? null,
        detail: JSON.stringify(entry.detail),
      })
      .execute();
  }

  async auditLog(teamId: string, limit: number): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .where('team_id', '=', teamId)
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.max(0, limit))
      .execute();
    return rows.map((row) => ({
      teamId: row.team_id,
      at: row.at,
      actor: row.actor,
      action: row.action,
      ...(row.target !== null ? { target: row.target } : {}),
      detail: parseObject(row.detail),
    }));
  }

  async releaseQuota(requestId: string): Promise<void> {
    await this.db.deleteFrom('quota_uses').where('request_id', '=', requestId).execute();
  }

  async claimQuota(
    scopes: readonly { key: string; limit: number }[],
    windowMs: number,
    now: number,
    requestId: string,
  ): Promise<QuotaResult> {
    const ordered = [...scopes].sort((a, b) => a.key.localeCompare(b.key));
    return this.db.transaction().execute(async (trx) => {
      // PostgreSQL: one claimer per scope at a time, across replicas (SQLite: one connection, one transaction).
      if (this.isPostgres) {
        for (const scope of ordered) {
          await sql`select pg_advisory_xact_lock(hashtext(${scope.key}))`.execute(trx);
        }
      }
      // The request already counts within the window (two replicas checked it, one of them thought gone): one call
      // is counted once.
      // By the request alone (its index; a request has a use or two): the scopes' own index would read the hour's uses.
      const uses = await trx
        .selectFrom('quota_uses')
        .select(['scope_key', 'at'])
        .where('request_id', '=', requestId)
        .execute();
      const keys = new Set(ordered.map((s) => s.key));
      if (uses.some((u) => keys.has(u.scope_key) && Number(u.at) > now - windowMs))
        return { ok: true as const };
      for (const scope of ordered) {
        if (scope.limit <= 0)
          return { ok: false as const, key: scope.key, limit: scope.limit, retryAt: now + windowMs };
        // The limit-th most recent use in the window, if there is one: then the scope is full, and a place frees up
        // when that use leaves the window. One row read (by the index), not every use of the hour.
        const nth = await trx
          .selectFrom('quota_uses')
          .select('at')
          .where('scope_key', '=', scope.key)
          .where('at', '>', now - windowMs)
          .orderBy('at', 'desc')
          .limit(1)
          .offset(Math.max(0, scope.limit - 1))
          .executeTakeFirst();
        if (nth)
          return { ok: false as const, key: scope.key, limit: scope.limit, retryAt: nth.at + windowMs };
      }
      for (const scope of ordered) {
        await trx
          .insertInto('quota_uses')
          .values({ scope_key: scope.key, at: now, request_id: requestId })
          .execute();
      }
      return { ok: true as const };
    });
  }

  async updateCall(id: string, changes: CallChanges, now: number): Promise<void> {
    const columns = changeColumns(changes);
    if (Object.keys(columns).length === 0) return;
    const update = (db: Db) =>
      db
        .updateTable('call_requests')
        .set({ ...columns, updated_at: now })
        .where('id', '=', id)
        .returning('id')
        .executeTakeFirst();
    // One statement is atomic on its own; a transaction only when the queue ids are replaced with it.
    if (changes.queueIds === undefined) {
      await update(this.db);
      return;
    }
    const queueIds = changes.queueIds;
    await this.db.transaction().execute(async (trx) => {
      if (await update(trx)) await replaceQueueIds(trx, id, queueIds);
    });
  }

  async getCall(id: string): Promise<CallRecord | undefined> {
    const row = await this.db.selectFrom('call_requests').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toCallRecord(row) : undefined;
  }

  async findCallByQueueId(queueId: string): Promise<CallRecord | undefined> {
    const row = await this.db
      .selectFrom('call_queue_ids')
      .innerJoin('call_requests', 'call_requests.id', 'call_queue_ids.request_id')
      .selectAll('call_requests')
      .where('call_queue_ids.queue_id', '=', queueId)
      .executeTakeFirst();
    return row ? toCallRecord(row) : undefined;
  }

  async recentCalls(teamId: string, userId: string, limit: number): Promise<CallRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .selectFrom('call_requests')
      .selectAll()
      .where('team_id', '=', teamId)
      .where('user_id', '=', userId)
      // A batch's rows are listed with their batch, not one by one.
      .where('batch_id', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toCallRecord);
  }

  async transitions(id: string): Promise<CallTransition[]> {
    const rows = await this.db
      .selectFrom('call_transitions')
      .selectAll()
      .where('request_id', '=', id)
      .orderBy('id', 'asc')
      .execute();
    return rows.map((r) => ({
      requestId: r.request_id,
      from: r.from_state === null ? null : (r.from_state as CallState),
      to: r.to_state as CallState,
      at: r.at,
      detail: parseObject(r.detail),
    }));
  }

  async orphanedCalls(states: readonly CallState[], liveOwners: readonly string[]): Promise<CallRecord[]> {
    if (states.length === 0) return [];
    const rows = await this.db
      .selectFrom('call_requests')
      .selectAll()
      .where('state', 'in', [...states])
      .$if(liveOwners.length > 0, (q) => q.where('owner', 'not in', [...liveOwners]))
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toCallRecord);
  }

  // ---- instances ----

  async heartbeat(instanceId: string, now: number): Promise<void> {
    // PostgreSQL: the database's clock, the one every replica reads, not this replica's (which may be off).
    const at = this.isPostgres ? DATABASE_NOW_MS : now;
    await this.db
      .insertInto('instances')
      .values({ id: instanceId, started_at: at, heartbeat_at: at })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({ heartbeat_at: (eb) => eb.ref('excluded.heartbeat_at') }),
      )
      .execute();
  }

  async liveInstances(now: number, timeoutMs: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('instances')
      .select('id')
      .where(
        'heartbeat_at',
        '>=',
        this.isPostgres ? sql<number>`${DATABASE_NOW_MS} - ${timeoutMs}` : now - timeoutMs,
      )
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async removeInstance(instanceId: string): Promise<void> {
    await this.db.deleteFrom('instances').where('id', '=', instanceId).execute();
  }

  // ---- jobs (the Slack outbox) ----
  // `attempts` counts failed attempts: retryJob and killJob add one; a lease alone does not. Job updates apply to
  // pending jobs only, so that a late retry or completion never brings a done or dead job back.

  async enqueueJob(job: NewJob, now: number): Promise<number> {
    const row = await this.db
      .insertInto('slack_jobs')
      .values(jobRow(job, now))
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async claimDueJobs(
    owner: string,
    now: number,
    limit: number,
    leaseMs: number,
    skipChannels: readonly string[] = [],
  ): Promise<Job[]> {
    if (limit <= 0) return [];
    const rows = await this.db.transaction().execute(async (trx) => {
      // PostgreSQL: one claim at a time across replicas (a claim is two short statements), so that the check below,
      // that no other replica holds a job of the same call, sees the leases the claim before it took.
      if (this.isPostgres) await sql`select pg_advisory_xact_lock(hashtext('slack_jobs:claim'))`.execute(trx);
      // Held by another replica: its lease has not run out, or that replica is still registered, however long ago the
      // lease looks to have run out (replicas' clocks may disagree by more than a lease). A replica gone silent has its
      // leases freed by recovery (judged by the database's clock); one stopped cleanly is no longer registered.
      const heldByOther = sql<boolean>`held.lease_owner is not null and held.lease_owner <> ${owner} and (held.lease_until > ${now} or held.lease_owner in (select id from instances))`;
      // PostgreSQL: lock the chosen rows and skip rows another replica is claiming right now; a row whose lease
      // was just taken is re-checked against the condition once its lock is released, and drops out.
      const due = await trx
        .selectFrom('slack_jobs')
        .select('id')
        .where('state', '=', 'pending')
        .where('run_at', '<=', now)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
        // A call's messages go out in the order they were recorded: only its oldest pending job may be taken, whether
        // the ones before it are due or not (one waiting out a backoff holds the reply that must follow it, which
        // would otherwise find no message to reply to). Pending ones only: a job given up (dead) holds nothing back.
        // One pass over the pending jobs (not one per candidate): slack_jobs has no index on request_id.
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('slack_jobs as head')
            .select((h) => h.fn.min<number>('head.id').as('id'))
            .where('head.state', '=', 'pending')
            .groupBy('head.request_id'),
        )
        // PostgreSQL: not while another replica holds this job, or another job of the same call: a call's messages go
        // out one after another (the first posts the call's message, the next rewrites it), from one replica at a
        // time, not two at once.
        .$if(this.isPostgres, (q) =>
          q.where(
            sql<boolean>`not exists (select 1 from slack_jobs held where held.request_id = slack_jobs.request_id and held.state = 'pending' and ${heldByOther})`,
          ),
        )
        .$if(skipChannels.length > 0, (q) => q.where('channel_id', 'not in', [...skipChannels]))
        .orderBy('id', 'asc')
        .limit(limit)
        .$if(this.isPostgres, (q) => q.forUpdate().skipLocked())
        .execute();
      if (due.length === 0) return [];
      return trx
        .updateTable('slack_jobs')
        .set({ lease_owner: owner, lease_until: now + leaseMs, updated_at: now })
        .where(
          'id',
          'in',
          due.map((d) => d.id),
        )
        .where('state', '=', 'pending')
        .returningAll()
        .execute();
    });
    return rows.map(toJob).sort((a, b) => a.id - b.id);
  }

  async releaseJobLeases(liveOwners: readonly string[], now: number): Promise<number> {
    const result = await this.db
      .updateTable('slack_jobs')
      .set({ lease_owner: null, lease_until: null, updated_at: now })
      .where('state', '=', 'pending')
      .where('lease_owner', 'is not', null)
      .$if(liveOwners.length > 0, (q) => q.where('lease_owner', 'not in', [...liveOwners]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async completeJob(id: number, now: number): Promise<void> {
    await this.db
      .updateTable('slack_jobs')
      .set({ state: 'done', lease_until: null, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .execute();
  }

  async retryJob(
    id: number,
    runAt: number,
    now: number,
    error: string,
    payload?: Record<string, unknown>,
  ): Promise<void> {
    await this.db
      .updateTable('slack_jobs')
      .set((eb) => ({
        run_at: runAt,
        attempts: eb('attempts', '+', 1),
        last_error: error,
        lease_owner: null,
        lease_until: null,
        updated_at: now,
        ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
      }))
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .execute();
  }

  async killJob(id: number, now: number, error: string): Promise<void> {
    await this.db
      .updateTable('slack_jobs')
      .set((eb) => ({
        state: 'dead',
        attempts: eb('attempts', '+', 1),
        last_error: error,
        lease_until: null,
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .execute();
  }

  async pendingJobs(): Promise<Job[]> {
    const rows = await this.db
      .selectFrom('slack_jobs')
      .selectAll()
      .where('state', '=', 'pending')
      .orderBy('run_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toJob);
  }

  // ---- batches ----

  async createBatch(batch: NewBatch, now: number): Promise<void> {
    await this.db
      .insertInto('batches')
      .values({
        id: batch.id,
        state: 'draft',
        team_id: batch.teamId,
        channel_id: batch.channelId,
        user_id: batch.userId,
        settings: JSON.stringify(batch.settings),
        rows: JSON.stringify(batch.rows),
        total: batch.total,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  async getBatch(id: string): Promise<BatchRecord | undefined> {
    const row = await this.db.selectFrom('batches').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toBatchRecord(row) : undefined;
  }

  async transitionBatch(
    id: string,
    from: readonly BatchState[],
    to: BatchState,
    changes: BatchChanges,
    now: number,
  ): Promise<BatchRecord | undefined> {
    if (from.length === 0) return undefined;
    // One UPDATE with the state in its WHERE: atomic on both back ends (PostgreSQL re-checks the row it locks).
    const row = await this.db
      .updateTable('batches')
      .set({ ...batchColumns(changes), state: to, updated_at: now })
      .where('id', '=', id)
      .where('state', 'in', [...from])
      .returningAll()
      .executeTakeFirst();
    return row ? toBatchRecord(row) : undefined;
  }

  async updateBatch(id: string, changes: BatchChanges, now: number): Promise<void> {
    const columns = batchColumns(changes);
    if (Object.keys(columns).length === 0) return;
    await this.db
      .updateTable('batches')
      .set({ ...columns, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  async addBatchCalls(batchId: string, calls: readonly NewCall[], now: number): Promise<number> {
    if (calls.length === 0) return 0;
    // A few statements per chunk of rows rather than three per row: a 500-row batch is confirmed while Slack waits.
    return this.db.transaction().execute(async (trx) => {
      let recorded = 0;
      for (let i = 0; i < calls.length; i += BATCH_INSERT_CHUNK) {
        const chunk = calls.slice(i, i + BATCH_INSERT_CHUNK);
        const keyOf = (call: NewCall) => `batch:${batchId}:${call.batchLine ?? call.id}`;
        const claimed = await trx
          .insertInto('intents')
          .values(chunk.map((call) => ({ key: keyOf(call), request_id: call.id, created_at: now })))
          .onConflict((oc) => oc.column('key').doNothing())
          .returning('key')
          .execute();
        const fresh = new Set(claimed.map((c) => c.key));
        const added = chunk.filter((call) => fresh.has(keyOf(call)));
        if (added.length === 0) continue;
        await trx
          .insertInto('call_requests')
          .values(added.map((call) => ({ ...newCallRow({ ...call, batchId }, now), state: 'waiting' })))
          .execute();
        await trx
          .insertInto('call_transitions')
          .values(
            added.map((call) => ({
              request_id: call.id,
              from_state: null,
              to_state: 'waiting',
              at: now,
              detail: JSON.stringify({ by: 'batch', batchId }),
            })),
          )
          .execute();
        recorded += added.length;
      }
      return recorded;
    });
  }

  async claimBatchSlot(id: string, expected: number | null, nextAt: number, now: number): Promise<boolean> {
    const row = await this.db
      .updateTable('batches')
      .set({ next_at: nextAt, held_reason: null, updated_at: now })
      .where('id', '=', id)
      .where((eb) => (expected === null ? eb('next_at', 'is', null) : eb('next_at', '=', expected)))
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async nextWaitingCall(batchId: string): Promise<CallRecord | undefined> {
    const row = await this.db
      .selectFrom('call_requests')
      .selectAll()
      .where('batch_id', '=', batchId)
      .where('state', '=', 'waiting')
      .orderBy('batch_line', 'asc')
      .orderBy('id', 'asc')
      .limit(1)
      .executeTakeFirst();
    return row ? toCallRecord(row) : undefined;
  }

  async batchCalls(batchId: string): Promise<CallRecord[]> {
    const rows = await this.db
      .selectFrom('call_requests')
      .selectAll()
      .where('batch_id', '=', batchId)
      .orderBy('batch_line', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toCallRecord);
  }

  async cancelWaitingCalls(batchId: string, now: number, detail: Record<string, unknown>): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      // `received` too: a row taken for its slot but not yet sent (its move to `sending` is a compare-and-set from
      // `received`, so whichever of the two comes first wins, in any replica). Rows already `sending` are left alone.
      const rows = await trx
        .selectFrom('call_requests')
        .select(['id', 'state'])
        .where('batch_id', '=', batchId)
        .where('state', 'in', ['waiting', 'received'])
        .orderBy('id', 'asc')
        .$if(this.isPostgres, (q) => q.forUpdate())
        .execute();
      if (rows.length === 0) return 0;
      const cancelled = await trx
        .updateTable('call_requests')
        .set({ state: 'cancelled', updated_at: now })
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .where('state', 'in', ['waiting', 'received'])
        .returning('id')
        .execute();
      if (cancelled.length === 0) return 0;
      const from = new Map(rows.map((r) => [r.id, r.state]));
      await trx
        .insertInto('call_transitions')
        .values(
          cancelled.map(({ id }) => ({
            request_id: id,
            from_state: from.get(id) ?? 'waiting',
            to_state: 'cancelled',
            at: now,
            detail: JSON.stringify(detail),
          })),
        )
        .execute();
      // A row taken for its slot may have counted against the hourly limits already: nothing was placed.
      await trx
        .deleteFrom('quota_uses')
        .where(
          'request_id',
          'in',
          cancelled.map((c) => c.id),
        )
        .execute();
      return cancelled.length;
    });
  }

  async batchesInStates(
    states: readonly BatchState[],
    limit: number,
    teamId?: string,
  ): Promise<BatchRecord[]> {
    if (states.length === 0 || limit <= 0) return [];
    const rows = await this.db
      .selectFrom('batches')
      .selectAll()
      .where('state', 'in', [...states])
      .$if(teamId !== undefined, (q) => q.where('team_id', '=', teamId ?? ''))
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toBatchRecord);
  }

  async deleteDrafts(before: number): Promise<number> {
    const deleted = await this.db
      .deleteFrom('batches')
      .where('state', '=', 'draft')
      .where('created_at', '<', before)
      .returning('id')
      .execute();
    return deleted.length;
  }

  async recentBatches(teamId: string, userId: string, limit: number): Promise<BatchRecord[]> {
    if (limit <= 0) return [];
    const rows = await this.db
      .selectFrom('batches')
      .selectAll()
      .where('team_id', '=', teamId)
      .where('user_id', '=', userId)
      .where('state', '!=', 'draft')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toBatchRecord);
  }
}

function batchColumns(changes: BatchChanges): Updateable<BatchesTable> {
  const set: Updateable<BatchesTable> = {};
  if (changes.settings !== undefined) set.settings = JSON.stringify(changes.settings);
  if (changes.rows !== undefined) set.rows = JSON.stringify(changes.rows);
  if (changes.total !== undefined) set.total = changes.total;
  if (changes.parentTs !== undefined) set.parent_ts = changes.parentTs;
  if (changes.approvalChannel !== undefined) set.approval_channel = changes.approvalChannel;
  if (changes.approvalTs !== undefined) set.approval_ts = changes.approvalTs;
  if (changes.decidedBy !== undefined) set.decided_by = changes.decidedBy;
  if (changes.decidedAt !== undefined) set.decided_at = changes.decidedAt;
  if (changes.decisionReason !== undefined) set.decision_reason = changes.decisionReason;
  if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt;
  if (changes.nextAt !== undefined) set.next_at = changes.nextAt;
  if (changes.heldReason !== undefined) set.held_reason = changes.heldReason;
  if (changes.stoppedBy !== undefined) set.stopped_by = changes.stoppedBy;
  if (changes.finishedAt !== undefined) set.finished_at = changes.finishedAt;
  return set;
}

function toBatchRecord(row: Selectable<BatchesTable>): BatchRecord {
  const record: BatchRecord = {
    id: row.id,
    state: row.state as BatchState,
    teamId: row.team_id,
    channelId: row.channel_id,
    userId: row.user_id,
    settings: parseObject(row.settings),
    rows: parseObject(row.rows),
    total: row.total,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.parent_ts !== null) record.parentTs = row.parent_ts;
  if (row.approval_channel !== null) record.approvalChannel = row.approval_channel;
  if (row.approval_ts !== null) record.approvalTs = row.approval_ts;
  if (row.decided_by !== null) record.decidedBy = row.decided_by;
  if (row.decided_at !== null) record.decidedAt = row.decided_at;
  if (row.decision_reason !== null) record.decisionReason = row.decision_reason;
  if (row.expires_at !== null) record.expiresAt = row.expires_at;
  if (row.next_at !== null) record.nextAt = row.next_at;
  if (row.held_reason !== null) record.heldReason = row.held_reason;
  if (row.stopped_by !== null) record.stoppedBy = row.stopped_by;
  if (row.finished_at !== null) record.finishedAt = row.finished_at;
  return record;
}

// ---- rows ↔ records ----

/** At most this many calls are recorded in one transaction (about 20 parameters each). */
const RECORD_BATCH_MAX = 200;

type RecordResult = { created: boolean; requestId: string | undefined };

interface PendingRecord {
  intentKey: string;
  call: NewCall;
  now: number;
  resolve: (result: RecordResult) => void;
  reject: (err: unknown) => void;
}

function receivedTransition(call: NewCall, now: number): Insertable<CallTransitionsTable> {
  return {
    request_id: call.id,
    from_state: null,
    to_state: 'received',
    at: now,
    detail: JSON.stringify({ by: call.entryPoint }),
  };
}

function newCallRow(call: NewCall, now: number): Insertable<CallRequestsTable> {
  return {
    id: call.id,
    state: 'received',
    entry_point: call.entryPoint,
    team_id: call.teamId,
    channel_id: call.channelId,
    user_id: call.userId,
    thread_ts: call.threadTs ?? null,
    parent_ts: null,
    response_url: call.responseUrl ?? null,
    retry_of: call.retryOf ?? null,
    request: JSON.stringify(call.request),
    recipient: call.recipient,
    agent_alias: call.agentAlias,
    queue_ids: '[]',
    owner: call.owner,
    batch_id: call.batchId ?? null,
    batch_line: call.batchLine ?? null,
    created_at: now,
    updated_at: now,
  };
}

/** A new pending job of the outbox. */
function jobRow(job: NewJob, now: number): Insertable<SlackJobsTable> {
  return {
    kind: job.kind,
    request_id: job.requestId,
    channel_id: job.channelId,
    payload: JSON.stringify(job.payload),
    state: 'pending',
    attempts: 0,
    run_at: job.runAt ?? now,
    lease_owner: null,
    lease_until: null,
    last_error: null,
    created_at: now,
    updated_at: now,
  };
}

/** The columns a `CallChanges` sets; undefined fields are left out (unchanged), null clears. */
function changeColumns(changes: CallChanges): Updateable<CallRequestsTable> {
  const set: Updateable<CallRequestsTable> = {};
  if (changes.request !== undefined) set.request = JSON.stringify(changes.request);
  if (changes.queueIds !== undefined) set.queue_ids = JSON.stringify(changes.queueIds);
  if (changes.iqraCode !== undefined) set.iqra_code = changes.iqraCode;
  if (changes.iqraMessage !== undefined) set.iqra_message = changes.iqraMessage;
  if (changes.outcomeReason !== undefined) set.outcome_reason = changes.outcomeReason;
  if (changes.userMessage !== undefined) set.user_message = changes.userMessage;
  if (changes.httpStatus !== undefined) set.http_status = changes.httpStatus;
  if (changes.owner !== undefined) set.owner = changes.owner;
  if (changes.parentTs !== undefined) set.parent_ts = changes.parentTs;
  if (changes.approvalChannel !== undefined) set.approval_channel = changes.approvalChannel;
  if (changes.approvalTs !== undefined) set.approval_ts = changes.approvalTs;
  if (changes.decidedBy !== undefined) set.decided_by = changes.decidedBy;
  if (changes.decidedAt !== undefined) set.decided_at = changes.decidedAt;
  if (changes.decisionReason !== undefined) set.decision_reason = changes.decisionReason;
  if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt;
  if (changes.progress !== undefined) set.progress = changes.progress;
  if (changes.callEnd !== undefined) set.call_end = changes.callEnd;
  if (changes.sessionId !== undefined) set.session_id = changes.sessionId;
  if (changes.durationSeconds !== undefined) set.duration_seconds = changes.durationSeconds;
  if (changes.trackAt !== undefined) set.track_at = changes.trackAt;
  if (changes.trackUnchanged !== undefined) set.track_unchanged = changes.trackUnchanged;
  if (changes.trackedAt !== undefined) set.tracked_at = changes.trackedAt;
  return set;
}

/** The call's queue ids become exactly `queueIds` (a queue id belongs to one call: the latest to claim it). */
async function replaceQueueIds(db: Db, requestId: string, queueIds: readonly string[]): Promise<void> {
  await db.deleteFrom('call_queue_ids').where('request_id', '=', requestId).execute();
  const unique = [...new Set(queueIds)];
  if (unique.length === 0) return;
  await db
    .insertInto('call_queue_ids')
    .values(unique.map((queueId) => ({ queue_id: queueId, request_id: requestId })))
    .onConflict((oc) =>
      oc.column('queue_id').doUpdateSet({ request_id: (eb) => eb.ref('excluded.request_id') }),
    )
    .execute();
}

function toCallRecord(row: CallRow): CallRecord {
  const record: CallRecord = {
    id: row.id,
    state: row.state as CallState,
    entryPoint: row.entry_point as EntryPoint,
    teamId: row.team_id,
    channelId: row.channel_id,
    userId: row.user_id,
    request: parseObject(row.request),
    recipient: row.recipient,
    agentAlias: row.agent_alias,
    owner: row.owner,
    queueIds: parseStringArray(row.queue_ids),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.thread_ts !== null) record.threadTs = row.thread_ts;
  if (row.response_url !== null) record.responseUrl = row.response_url;
  if (row.retry_of !== null) record.retryOf = row.retry_of;
  if (row.parent_ts !== null) record.parentTs = row.parent_ts;
  if (row.iqra_code !== null) record.iqraCode = row.iqra_code;
  if (row.iqra_message !== null) record.iqraMessage = row.iqra_message;
  if (row.outcome_reason !== null) record.outcomeReason = row.outcome_reason;
  if (row.user_message !== null) record.userMessage = row.user_message;
  if (row.http_status !== null) record.httpStatus = row.http_status;
  if (row.approval_channel !== null) record.approvalChannel = row.approval_channel;
  if (row.approval_ts !== null) record.approvalTs = row.approval_ts;
  if (row.decided_by !== null) record.decidedBy = row.decided_by;
  if (row.decided_at !== null) record.decidedAt = row.decided_at;
  if (row.decision_reason !== null) record.decisionReason = row.decision_reason;
  if (row.expires_at !== null) record.expiresAt = row.expires_at;
  if (row.progress !== null) record.progress = row.progress as Progress;
  if (row.call_end !== null) record.callEnd = row.call_end as CallEnd;
  if (row.session_id !== null) record.sessionId = row.session_id;
  if (row.duration_seconds !== null) record.durationSeconds = row.duration_seconds;
  if (row.track_at !== null) record.trackAt = row.track_at;
  if (row.track_unchanged !== null) record.trackUnchanged = row.track_unchanged;
  if (row.tracked_at !== null) record.trackedAt = row.tracked_at;
  if (row.batch_id !== null) record.batchId = row.batch_id;
  if (row.batch_line !== null) record.batchLine = row.batch_line;
  return record;
}

function toDnc(row: Selectable<DncNumbersTable>): DncEntry {
  return {
    e164: row.e164,
    ...(row.reason !== null ? { reason: row.reason } : {}),
    addedBy: row.added_by,
    addedAt: row.added_at,
  };
}

function toJob(row: JobRow): Job {
  const job: Job = {
    id: row.id,
    kind: row.kind as JobKind,
    requestId: row.request_id,
    channelId: row.channel_id,
    payload: parseObject(row.payload),
    runAt: row.run_at,
    state: row.state as Job['state'],
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.last_error !== null) job.lastError = row.last_error;
  if (row.lease_owner !== null) job.leaseOwner = row.lease_owner;
  if (row.lease_until !== null) job.leaseUntil = row.lease_until;
  return job;
}

function parseObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function parseStringArray(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
