import type { CallEnd, Progress } from '../calls/progress.js';

/**
 * The app's durable record: every call request and its transitions, the intents already acted on, the Slack
 * messages still to deliver, and the running instances. One interface, two back ends (SQLite, PostgreSQL).
 * Times are Unix epoch milliseconds. JSON columns are stored as text and parsed by the store.
 */

/**
 * A call request's state. `received → sending → queued | failed | unknown`; `refused` when the request turned out
 * invalid after Slack was acked (e.g. a time in the past once read in the requester's zone). Later work adds
 * approval and tracking states; the column is free text so adding states needs no migration.
 */
export type CallState =
  | 'received'
  | 'pending_approval'
  | 'approved'
  | 'rejected'
  | 'expired'
  | 'sending'
  | 'queued'
  | 'failed'
  | 'unknown'
  | 'refused'
  /** IQRA_DRY_RUN: everything ran, nothing was sent to Iqra. */
  | 'dry_run'
  /** A batch's row waiting for its turn (batches are paced); `received` once its turn comes. */
  | 'waiting'
  /** A batch's row that was never sent: the batch was stopped, rejected or expired first. */
  | 'cancelled';

/**
 * With approvals: `received → pending_approval → approved → sending → …`, or `→ rejected | expired`.
 */
export const TERMINAL_STATES: readonly CallState[] = [
  'queued',
  'failed',
  'unknown',
  'refused',
  'rejected',
  'expired',
  'cancelled',
];

/**
 * How the request entered the app: the slash command, the call modal (from the command, the App Home or the
 * global shortcut), the "Call this number" message shortcut, or "Place the call again" on an earlier request.
 */
export type EntryPoint = 'command' | 'modal' | 'shortcut' | 'retry' | 'batch';

export interface NewCall {
  id: string;
  entryPoint: EntryPoint;
  teamId: string;
  channelId: string;
  userId: string;
  /** The thread the confirmation belongs in, when the request came from inside one. */
  threadTs?: string;
  /** Slack's response_url for telling the requester alone (valid 30 minutes, 5 posts). */
  responseUrl?: string;
  /** The earlier request this one places again. */
  retryOf?: string;
  /** The normalized request (recipient, agent, number, campaign, time phrase or resolved time, variables...). */
  request: Record<string, unknown>;
  /** E.164 recipient, for history and look-ups. */
  recipient: string;
  agentAlias: string;
  /** The instance handling the request now. */
  owner: string;
  /** A batch's row: the batch, and the row's line in the rep's list. Such calls have no messages of their own. */
  batchId?: string;
  batchLine?: number;
}

export interface CallRecord extends NewCall {
  state: CallState;
  /** The app's parent message for this call in `channelId`, once posted. */
  parentTs?: string;
  queueIds: string[];
  /** Iqra's code and message when it refused, and the app's reason and plain-words explanation of the outcome. */
  iqraCode?: string;
  iqraMessage?: string;
  outcomeReason?: string;
  userMessage?: string;
  httpStatus?: number;
  /** Approvals: where the approval request was posted, who decided and when, why (a rejection), and its deadline. */
  approvalChannel?: string;
  approvalTs?: string;
  decidedBy?: string;
  decidedAt?: number;
  decisionReason?: string;
  expiresAt?: number;
  /** Tracking, once Iqra queued the call: how far it got, how it ended, its session, and when to look next. */
  progress?: Progress;
  callEnd?: CallEnd;
  sessionId?: string;
  durationSeconds?: number;
  trackAt?: number;
  trackUnchanged?: number;
  /** The last time Iqra (a poll or a pushed event) told anything about the call. */
  trackedAt?: number;
  createdAt: number;
  updatedAt: number;
}

export interface CallTransition {
  requestId: string;
  /** A state, or (for tracking) a progress step. */
  from: CallState | Progress | null;
  to: CallState | Progress;
  at: number;
  /** Who or what caused it: `command`, `iqra`, `recovery`, ... plus any details. */
  detail: Record<string, unknown>;
}

/** Fields that change with a transition, or on their own (parentTs). Undefined fields are left as they are. */
export interface CallChanges {
  request?: Record<string, unknown>;
  queueIds?: string[];
  iqraCode?: string | null;
  iqraMessage?: string | null;
  outcomeReason?: string | null;
  userMessage?: string | null;
  httpStatus?: number | null;
  owner?: string;
  parentTs?: string;
  approvalChannel?: string;
  approvalTs?: string;
  decidedBy?: string;
  decidedAt?: number;
  decisionReason?: string | null;
  expiresAt?: number;
  progress?: Progress;
  callEnd?: CallEnd;
  sessionId?: string;
  durationSeconds?: number;
  trackAt?: number | null;
  trackUnchanged?: number;
  trackedAt?: number;
}

/**
 * `batch`: a batch's message (its parent message, approval request or result file; `requestId` is the batch id).
 * `announce`: the call's parent message (posted, or updated in place) and its thread reply. `refusal`: the requester
 * is told why a request was refused. `approval`: the approval request with its buttons (posted or rewritten).
 * `decision`: a thread reply saying who approved or rejected, or that the request expired. `outcome`: the reply in
 * the call's thread when it ended: outcome, duration and (per CALL_TRANSCRIPTS) the conversation.
 */
export type JobKind = 'announce' | 'refusal' | 'approval' | 'decision' | 'outcome' | 'batch';

/** A Slack delivery still to make (the outbox): retried from the store until done, after a restart too. */
export interface NewJob {
  kind: JobKind;
  requestId: string;
  /** Slack channel the job posts to, so that deliveries to one channel can be paced. */
  channelId: string;
  payload: Record<string, unknown>;
  /** Not before this time. Default: now. */
  runAt?: number;
}

export interface Job extends Required<NewJob> {
  id: number;
  state: 'pending' | 'done' | 'dead';
  attempts: number;
  lastError?: string;
  leaseOwner?: string;
  leaseUntil?: number;
  createdAt: number;
  updatedAt: number;
}

/**
 * A batch (a list of calls placed from one form): `draft` (previewed, not confirmed) → `pending_approval` →
 * `running` → `done`; `stopped` when its requester (or an admin) stopped the rest (rows already sent go on; it
 * becomes `done` when they end); `rejected` / `expired` when its approval did not come.
 */
export type BatchState =
  | 'draft'
  | 'pending_approval'
  | 'running'
  | 'stopped'
  | 'done'
  | 'rejected'
  | 'expired';

export interface NewBatch {
  id: string;
  teamId: string;
  channelId: string;
  userId: string;
  /** The batch-wide choices: pace, start, agent, time zone, what to do with rows outside calling hours... */
  settings: Record<string, unknown>;
  /** What the preview found: the rows to place (stored requests) and those skipped, with their reasons. */
  rows: Record<string, unknown>;
  /** Rows the batch will place (its calls), once confirmed. */
  total: number;
}

export interface BatchRecord extends NewBatch {
  state: BatchState;
  parentTs?: string;
  approvalChannel?: string;
  approvalTs?: string;
  decidedBy?: string;
  decidedAt?: number;
  decisionReason?: string;
  expiresAt?: number;
  /** The earliest time the next row may be sent (the pace, a start time, or a wait Iqra or a limit asked for). */
  nextAt?: number;
  /** Why the batch waits until nextAt, when it is not only the pace (Iqra's 429, an hourly limit). */
  heldReason?: string;
  stoppedBy?: string;
  /** When every row had ended (state `done`). */
  finishedAt?: number;
  createdAt: number;
  updatedAt: number;
}

export interface BatchChanges {
  settings?: Record<string, unknown>;
  rows?: Record<string, unknown>;
  total?: number;
  parentTs?: string;
  approvalChannel?: string;
  approvalTs?: string;
  decidedBy?: string;
  decidedAt?: number;
  decisionReason?: string | null;
  expiresAt?: number;
  nextAt?: number | null;
  heldReason?: string | null;
  stoppedBy?: string;
  finishedAt?: number;
}

/** Batches and their rows (each row is a call record with `batchId`, so it has every guarantee a call has). */
export interface BatchStore {
  createBatch(batch: NewBatch, now: number): Promise<void>;
  getBatch(id: string): Promise<BatchRecord | undefined>;
  /** Compare-and-set on the batch's state, like `transition` for calls. */
  transitionBatch(
    id: string,
    from: readonly BatchState[],
    to: BatchState,
    changes: BatchChanges,
    now: number,
  ): Promise<BatchRecord | undefined>;
  updateBatch(id: string, changes: BatchChanges, now: number): Promise<void>;
  /**
   * Records the batch's calls in state `waiting`, in one transaction, each under the intent key
   * `batch:<batch id>:<line>`: a row already recorded (a retried confirmation) is left alone. Returns how many were
   * recorded now.
   */
  addBatchCalls(batchId: string, calls: readonly NewCall[], now: number): Promise<number>;
  /**
   * Claims the batch's next sending slot: sets nextAt to `nextAt` only if it is still `expected` (compare-and-set),
   * so that of several replicas ticking at once exactly one sends the next row. Clears heldReason.
   */
  claimBatchSlot(id: string, expected: number | null, nextAt: number, now: number): Promise<boolean>;
  /** The batch's waiting row with the lowest line. */
  nextWaitingCall(batchId: string): Promise<CallRecord | undefined>;
  /** Every row of the batch, by line. */
  batchCalls(batchId: string): Promise<CallRecord[]>;
  /**
   * Moves every row not yet sent (`waiting`, or `received`: taken for its slot, not yet `sending`) to `cancelled`, in
   * one transaction, giving back what they counted against the hourly limits. Returns how many.
   */
  cancelWaitingCalls(batchId: string, now: number, detail: Record<string, unknown>): Promise<number>;
  batchesInStates(states: readonly BatchState[], limit: number, teamId?: string): Promise<BatchRecord[]>;
  /** Forgets previews never confirmed, created before `before`. Returns how many. */
  deleteDrafts(before: number): Promise<number>;
  /** The requester's latest batches, newest first (drafts left out). */
  recentBatches(teamId: string, userId: string, limit: number): Promise<BatchRecord[]>;
}

export interface Store extends GuardStore, BatchStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * SQLite: the database file is held by this one process (others get a clear error at start-up), so a request
   * owned by another instance id was left by a process that is gone. PostgreSQL: several replicas share the database.
   */
  readonly singleProcess: boolean;

  /** Applies pending migrations (safe when several replicas start at once). */
  migrate(): Promise<void>;
  /** The latest migration applied, and the latest this code knows. */
  schemaVersion(): Promise<{ applied: string | undefined; latest: string }>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * In one transaction: claims `intentKey` and, when it was free, records the call in state `received` with its
   * first transition. When the key was already claimed, records nothing and returns the request id that claimed it.
   * Exactly one of any number of concurrent callers (in any process) gets `created: true`.
   */
  recordCall(
    intentKey: string,
    call: NewCall,
    now: number,
  ): Promise<{ created: boolean; requestId: string | undefined }>;

  /** Claims an intent that records no call (e.g. a button press). True exactly once per key. */
  claimIntent(intentKey: string, now: number, requestId?: string): Promise<boolean>;
  /** Whether an intent was claimed already (by recordCall or claimIntent). */
  intentClaimed(intentKey: string): Promise<boolean>;

  /**
   * Compare-and-set: moves the call to `to` only if its state is one of `from`, applies `changes`, and records the
   * transition, in one transaction. Returns the updated record, or undefined when the state was not one of `from`.
   * Of concurrent callers with the same `from`, exactly one succeeds. `messages`: the Slack messages the move calls
   * for, as outbox jobs made from the updated record, recorded in the same transaction, so that a move is never
   * recorded without its messages (a crash between two commits would have lost them) and costs one commit.
   */
  transition(
    id: string,
    from: readonly CallState[],
    to: CallState,
    changes: CallChanges,
    now: number,
    detail?: Record<string, unknown>,
    messages?: (record: CallRecord) => readonly NewJob[],
  ): Promise<CallRecord | undefined>;

  /**
   * Compare-and-set on tracking progress: applies `changes` (which set `progress`) only if the call's progress is one
   * of `from` (`null` = not tracked yet), and records the step. Returns the updated record, or undefined.
   * `jobs` (the Slack messages that say so) are added to the outbox in the same transaction, only when it moves.
   */
  advanceProgress(
    id: string,
    from: readonly (Progress | null)[],
    changes: CallChanges,
    now: number,
    detail?: Record<string, unknown>,
    jobs?: readonly NewJob[],
  ): Promise<CallRecord | undefined>;

  /**
   * Leases up to `limit` queued calls whose next look is due (trackAt ≤ now), soonest first, by moving their trackAt
   * to `now + leaseMs`, so that one replica polls each call.
   */
  claimDueTracking(now: number, limit: number, leaseMs: number): Promise<CallRecord[]>;

  /** Calls in any of `states`, oldest first, at most `limit`, for a team (the App Home, approvals to decide). */
  callsInStates(states: readonly CallState[], limit: number, teamId?: string): Promise<CallRecord[]>;

  /** Changes fields without a state change (e.g. the parent message's ts once posted). */
  updateCall(id: string, changes: CallChanges, now: number): Promise<void>;

  getCall(id: string): Promise<CallRecord | undefined>;
  findCallByQueueId(queueId: string): Promise<CallRecord | undefined>;
  /** The requester's latest calls in a workspace, newest first (a batch's rows left out: they are listed with it). */
  recentCalls(teamId: string, userId: string, limit: number): Promise<CallRecord[]>;
  transitions(id: string): Promise<CallTransition[]>;
  /** Calls in any of `states` whose owner is not one of `liveOwners`, oldest first (for recovery). */
  orphanedCalls(states: readonly CallState[], liveOwners: readonly string[]): Promise<CallRecord[]>;

  /**
   * Records this instance as alive (insert or refresh), at `now`; on PostgreSQL at the database server's time instead,
   * so that replicas whose clocks disagree still agree on who is alive.
   */
  heartbeat(instanceId: string, now: number): Promise<void>;
  /**
   * Instances whose last heartbeat is at most `timeoutMs` old: before `now`, or on PostgreSQL before the database
   * server's time (the clock the heartbeats were written with).
   */
  liveInstances(now: number, timeoutMs: number): Promise<string[]>;
  /** Forgets an instance that stopped cleanly. */
  removeInstance(instanceId: string): Promise<void>;

  enqueueJob(job: NewJob, now: number): Promise<number>;
  /**
   * Leases up to `limit` pending jobs that are due (runAt ≤ now) and not leased by a live lease, oldest first, to
   * `owner` until `now + leaseMs`. A job is leased to at most one owner at a time, across processes. Jobs of the
   * channels in `skipChannels` are left alone (the caller has enough of theirs in hand). A call's (`requestId`) jobs
   * are taken in order: one is not taken while an earlier pending job of the same call (a lower id) is not done, due
   * or not, leased or not; a dead job holds nothing back. PostgreSQL: a job held by
   * another owner that is still a registered instance is not taken even when its lease looks over (the clocks of
   * replicas may disagree), nor is any job of a call (`requestId`) another owner holds a job of.
   */
  claimDueJobs(
    owner: string,
    now: number,
    limit: number,
    leaseMs: number,
    skipChannels?: readonly string[],
  ): Promise<Job[]>;
  /** Frees the leases held by owners not in `liveOwners` (instances that are gone), so the jobs go out now. */
  releaseJobLeases(liveOwners: readonly string[], now: number): Promise<number>;
  /** Marks a leased job done. */
  completeJob(id: number, now: number): Promise<void>;
  /** Puts a job back for later (transient failure), with its new payload (progress) and the error. */
  retryJob(
    id: number,
    runAt: number,
    now: number,
    error: string,
    payload?: Record<string, unknown>,
  ): Promise<void>;
  /** Gives up on a job (permanent failure). */
  killJob(id: number, now: number, error: string): Promise<void>;
  /** Pending jobs (for tests, health and shutdown). */
  pendingJobs(): Promise<Job[]>;
}

/** A number on the workspace's do-not-call list. */
export interface DncEntry {
  e164: string;
  reason?: string;
  addedBy: string;
  addedAt: number;
}

/** Something an admin (or a guard) did, for `/call audit`. */
export interface AuditEntry {
  teamId: string;
  at: number;
  /** The user who acted, or `app` for the app's own guards. */
  actor: string;
  /** `refused:<guard>`, `override:<guard>`, `dnc:add`, `dnc:remove`, `dnc:import`, ... */
  action: string;
  /** What it was about: a request id, a number (E.164), ... */
  target?: string;
  detail: Record<string, unknown>;
}

export type QuotaResult = { ok: true } | { ok: false; key: string; limit: number; retryAt: number };

export interface GuardStore {
  /** Adds numbers (E.164) to the list; those already on it are left as they are and reported as duplicates. */
  addDnc(
    teamId: string,
    entries: readonly { e164: string; reason?: string }[],
    by: string,
    now: number,
  ): Promise<{ added: string[]; duplicates: string[] }>;
  removeDnc(teamId: string, e164: string): Promise<boolean>;
  findDnc(teamId: string, e164: string): Promise<DncEntry | undefined>;
  /** The list, newest first, and how many there are in all. */
  listDnc(teamId: string, limit: number): Promise<{ entries: DncEntry[]; total: number }>;

  audit(entry: AuditEntry): Promise<void>;
  /** The latest entries, newest first. */
  auditLog(teamId: string, limit: number): Promise<AuditEntry[]>;

  /**
   * Counts one use against each scope (e.g. a user's hourly calls, a workspace's) if every scope has fewer than its
   * limit within the last `windowMs`; otherwise counts nothing and says which scope is full and when it frees up.
   * Atomic across processes (one caller at a time per scope). A request that already counts within the window is
   * allowed without counting again.
   */
  claimQuota(
    scopes: readonly { key: string; limit: number }[],
    windowMs: number,
    now: number,
    requestId: string,
  ): Promise<QuotaResult>;
  /** Gives back what `requestId` counted against the limits: it ended without a call, or a batch row will be sent again. */
  releaseQuota(requestId: string): Promise<void>;
}

/** The database could not be opened or used, with a message for the operator. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}
