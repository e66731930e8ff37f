/**
 * Batches (issue 9): how far a batch has got. Each row of a batch is an ordinary call record; this reads those records
 * into the few states a rep follows on the batch's one message (waiting, queued, dialling, completed, no answer,
 * failed, ...), counts them, draws the progress bar, estimates when the last call goes out, and writes the result file
 * posted in the thread when the batch is over. Pure: no Slack, no HTTP, no store, no clock.
 */
import { type CallEnd, isFinal, type Progress } from './progress.js';

/** Where one row of a batch stands, in the terms of the batch's message. */
export type BatchRowState =
  | 'waiting'
  | 'queued'
  | 'dialling'
  | 'completed'
  | 'no_answer'
  | 'failed'
  | 'unknown'
  | 'skipped'
  | 'cancelled';

/** Display order: the rows still to go first, then how the others ended. */
export const BATCH_ROW_STATES: readonly BatchRowState[] = [
  'waiting',
  'queued',
  'dialling',
  'completed',
  'no_answer',
  'failed',
  'unknown',
  'skipped',
  'cancelled',
];

/** The states in words, for the message and the result file's `status` column. */
export const BATCH_ROW_WORDS: Record<BatchRowState, string> = {
  waiting: 'waiting',
  queued: 'queued',
  dialling: 'dialling',
  completed: 'completed',
  no_answer: 'no answer',
  failed: 'failed',
  unknown: 'status unknown',
  skipped: 'skipped',
  cancelled: 'cancelled',
};

/**
 * What a row's call record says. The store's state is free text (`waiting`, `received`, `approved`,
 * `pending_approval`, `sending`, `queued`, `failed`, `unknown`, `refused`, `cancelled`, `dry_run`, ...), so that
 * adding a state needs no migration; `progress` and `callEnd` follow a queued call.
 */
export interface BatchRowCall {
  state: string;
  progress?: Progress;
  callEnd?: CallEnd;
}

/** Not sent yet: waiting for the batch's pace, its approval, or the send in flight. */
const NOT_SENT = new Set(['waiting', 'received', 'approved', 'pending_approval', 'sending']);

/**
 * Ends that mean "nobody picked up", as far as the rep's next step goes (try again later): busy, declined and
 * voicemail count with no answer.
 */
const UNANSWERED = new Set<CallEnd>(['no_answer', 'busy_or_declined', 'voicemail']);

/**
 * States of the record that are the row's last word. `rejected` and `expired` are a single call's approval
 * outcomes; a batch is approved as a whole, but a row that ended that way was never placed all the same.
 */
const FINAL_STATES = new Set(['failed', 'unknown', 'refused', 'cancelled', 'dry_run', 'rejected', 'expired']);

/**
 * The row's state from its call record.
 *
 * - Not sent yet (`waiting`, `received`, `approved`, `pending_approval`, `sending`): waiting.
 * - Queued with Iqra: by its progress (scheduled or queued: queued; dialling or talking: dialling; ended: by how it
 *   ended; status unknown: unknown).
 * - `refused`: skipped (a guard stopped it at send time, e.g. the number joined the do-not-call list meanwhile).
 * - `dry_run` (IQRA_DRY_RUN): nothing was sent, and there is nothing more to wait for, so it counts as completed.
 * - A state this module does not know: unknown (said as "status unknown", which is the truth), and not final (see
 *   isRowFinal), so that a batch never reports itself done on a state it can't read.
 */
export function batchRowState(call: BatchRowCall): BatchRowState {
  const { state } = call;
  if (NOT_SENT.has(state)) return 'waiting';
  switch (state) {
    case 'queued':
      return queuedRowState(call);
    case 'failed':
      return 'failed';
    case 'unknown':
      return 'unknown';
    case 'refused':
      return 'skipped';
    case 'cancelled':
    case 'rejected':
    case 'expired':
      return 'cancelled';
    case 'dry_run':
      return 'completed';
    default:
      return 'unknown';
  }
}

function queuedRowState(call: BatchRowCall): BatchRowState {
  switch (call.progress) {
    case undefined:
    case 'scheduled':
    case 'queued':
      return 'queued';
    case 'dialling':
    case 'in_conversation':
      return 'dialling';
    case 'status_unknown':
      return 'unknown';
    case 'ended':
      if (call.callEnd === 'completed') return 'completed';
      if (call.callEnd !== undefined && UNANSWERED.has(call.callEnd)) return 'no_answer';
      // failed, expired, cancelled by Iqra, or an end nobody reported: the call did not happen.
      return 'failed';
  }
}

/**
 * Whether the row has said its last word: its record is in a final state, or Iqra's tracking stopped (the call ended,
 * or its status became unknown). The batch is done when every row is final.
 */
export function isRowFinal(call: BatchRowCall): boolean {
  return FINAL_STATES.has(call.state) || isFinal(call.progress);
}

export type BatchCounts = Record<BatchRowState, number>;

/** How many rows are in each state; every state is present, zero when no row is in it. */
export function countRows(states: Iterable<BatchRowState>): BatchCounts {
  const counts = Object.fromEntries(BATCH_ROW_STATES.map((s) => [s, 0])) as BatchCounts;
  for (const state of states) counts[state]++;
  return counts;
}

/** States in which a row is over, for the bar's "done" (everything but waiting, queued and dialling). */
export const DONE_ROW_STATES: readonly BatchRowState[] = [
  'completed',
  'no_answer',
  'failed',
  'unknown',
  'skipped',
  'cancelled',
];

/** The rows that are over: completed, no answer, failed, status unknown, skipped and cancelled. */
export function doneRows(counts: BatchCounts): number {
  return DONE_ROW_STATES.reduce((sum, state) => sum + counts[state], 0);
}

const FULL = '▓';
const EMPTY = '░';

/**
 * A progress bar in text, e.g. `▓▓▓▓▓▓▓▓░░░░░░░░░░░░ 40%`: `width` cells and the percentage, both rounded down, so
 * the bar is full and says 100% only when everything is done. `done` is clamped to 0..total; a batch of 0 rows shows
 * an empty bar at 0%.
 */
export function progressBar(done: number, total: number, width = 20): string {
  if (!Number.isInteger(width) || width < 1)
    throw new RangeError(`width must be a positive integer, not ${width}`);
  const share = total > 0 && Number.isFinite(done) ? Math.min(Math.max(done, 0), total) / total : 0;
  const cells = Math.floor(share * width);
  const percent = Math.floor(share * 100);
  return `${FULL.repeat(cells)}${EMPTY.repeat(width - cells)} ${percent}%`;
}

/**
 * When the last waiting row will be sent (epoch ms): the first goes at `firstAt` (the batch's next slot), or `now` if
 * that has passed, and one more every `60 / pacePerMinute` seconds after it. Undefined when nothing waits. An
 * estimate: Iqra may ask the batch to slow down, and rows scheduled for later calling hours go at their own time.
 */
export function batchEta(
  waiting: number,
  pacePerMinute: number,
  firstAt: number,
  now: number,
): number | undefined {
  if (!(pacePerMinute > 0) || !Number.isFinite(pacePerMinute)) {
    throw new RangeError(`pacePerMinute must be a positive number, not ${pacePerMinute}`);
  }
  if (!(waiting >= 1)) return undefined;
  const start = Math.max(firstAt, now);
  return start + Math.round(((Math.ceil(waiting) - 1) * 60_000) / pacePerMinute);
}

// ---------------------------------------------------------------------------------------------------------------
// The result file

/** One row of the result file. */
export interface BatchResultRow {
  /** The row's line in the list the rep gave, so the file lines up with theirs. */
  line: number;
  /** E.164, or the number cell as written for a row that was skipped before it could be read. */
  number: string;
  state: BatchRowState;
  queueId?: string;
  /** How the call ended, in words (`busy or declined`). */
  outcome?: string;
  durationSeconds?: number;
  /** Why the row was skipped or failed, in plain text. */
  reason?: string;
  requestId?: string;
}

export const BATCH_RESULT_HEADER = [
  'line',
  'number',
  'status',
  'queue_id',
  'outcome',
  'duration_seconds',
  'reason',
  'request_id',
] as const;

/**
 * The result file posted in the batch's thread: one row per line of the list, in line order, with the header
 * `line,number,status,queue_id,outcome,duration_seconds,reason,request_id`.
 *
 * - RFC 4180: CRLF line ends (the last row too); a cell with a comma, quote, CR or LF is quoted, its quotes doubled.
 *   A cell with spaces at either end is quoted too, so that no reader trims them.
 * - Spreadsheet formula injection: the file is opened in spreadsheets, and a cell such as `=HYPERLINK(...)` written
 *   by whoever made the list (a number cell of a skipped row is echoed as written) would run as a formula. A cell
 *   starting with `=`, `-`, `@`, a tab or CR, or a `+` not followed only by digits, gets a leading `'`, which
 *   spreadsheets read as "text". E.164 numbers (`+14155552671`) stay as they are.
 */
export function batchResultCsv(rows: readonly BatchResultRow[]): string {
  const sorted = [...rows].sort((a, b) => a.line - b.line);
  const lines = [BATCH_RESULT_HEADER.join(',')];
  for (const row of sorted) {
    const cells = [
      String(row.line),
      textCell(row.number),
      textCell(BATCH_ROW_WORDS[row.state]),
      textCell(row.queueId),
      textCell(row.outcome),
      row.durationSeconds === undefined ? '' : String(row.durationSeconds),
      textCell(row.reason),
      textCell(row.requestId),
    ];
    lines.push(cells.join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A cell that spreadsheets would run as a formula (see batchResultCsv). */
function isFormulaLike(text: string): boolean {
  if (/^[=\-@\t\r]/.test(text)) return true;
  return text.startsWith('+') && !/^\+\d+$/.test(text);
}

function textCell(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  const text = isFormulaLike(value) ? `'${value}` : value;
  if (/[",\r\n]/.test(text) || text.trim() !== text) return `"${text.replace(/"/g, '""')}"`;
  return text;
}
