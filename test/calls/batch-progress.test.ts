import { describe, expect, it } from 'vitest';
import { readBatchTable } from '../../src/calls/batch.js';
import {
  BATCH_ROW_STATES,
  BATCH_ROW_WORDS,
  type BatchResultRow,
  type BatchRowCall,
  type BatchRowState,
  batchEta,
  batchResultCsv,
  batchRowState,
  countRows,
  doneRows,
  isRowFinal,
  progressBar,
} from '../../src/calls/batch-progress.js';

describe('batchRowState', () => {
  it.each<[BatchRowCall, BatchRowState]>([
    [{ state: 'waiting' }, 'waiting'],
    [{ state: 'received' }, 'waiting'],
    [{ state: 'approved' }, 'waiting'],
    [{ state: 'pending_approval' }, 'waiting'],
    [{ state: 'sending' }, 'waiting'],
    [{ state: 'queued' }, 'queued'],
    [{ state: 'queued', progress: 'scheduled' }, 'queued'],
    [{ state: 'queued', progress: 'queued' }, 'queued'],
    [{ state: 'queued', progress: 'dialling' }, 'dialling'],
    [{ state: 'queued', progress: 'in_conversation' }, 'dialling'],
    [{ state: 'queued', progress: 'ended', callEnd: 'completed' }, 'completed'],
    [{ state: 'queued', progress: 'ended', callEnd: 'no_answer' }, 'no_answer'],
    [{ state: 'queued', progress: 'ended', callEnd: 'busy_or_declined' }, 'no_answer'],
    [{ state: 'queued', progress: 'ended', callEnd: 'voicemail' }, 'no_answer'],
    [{ state: 'queued', progress: 'ended', callEnd: 'failed' }, 'failed'],
    [{ state: 'queued', progress: 'ended', callEnd: 'expired' }, 'failed'],
    [{ state: 'queued', progress: 'ended', callEnd: 'cancelled' }, 'failed'],
    [{ state: 'queued', progress: 'ended' }, 'failed'],
    [{ state: 'queued', progress: 'status_unknown' }, 'unknown'],
    [{ state: 'failed' }, 'failed'],
    [{ state: 'unknown' }, 'unknown'],
    [{ state: 'refused' }, 'skipped'],
    [{ state: 'cancelled' }, 'cancelled'],
    [{ state: 'dry_run' }, 'completed'],
    [{ state: 'rejected' }, 'cancelled'],
    [{ state: 'expired' }, 'cancelled'],
    [{ state: 'some_future_state' }, 'unknown'],
  ])('reads %j as %s', (call, expected) => {
    expect(batchRowState(call)).toBe(expected);
  });
});

describe('isRowFinal', () => {
  it.each(['failed', 'unknown', 'refused', 'cancelled', 'dry_run'])('is final in state %s', (state) => {
    expect(isRowFinal({ state })).toBe(true);
  });

  it.each(['waiting', 'received', 'approved', 'pending_approval', 'sending', 'queued'])(
    'is not final in state %s',
    (state) => {
      expect(isRowFinal({ state })).toBe(false);
    },
  );

  it('follows a queued call: final once it ended or its status became unknown', () => {
    expect(isRowFinal({ state: 'queued', progress: 'scheduled' })).toBe(false);
    expect(isRowFinal({ state: 'queued', progress: 'queued' })).toBe(false);
    expect(isRowFinal({ state: 'queued', progress: 'dialling' })).toBe(false);
    expect(isRowFinal({ state: 'queued', progress: 'in_conversation' })).toBe(false);
    expect(isRowFinal({ state: 'queued', progress: 'ended', callEnd: 'no_answer' })).toBe(true);
    expect(isRowFinal({ state: 'queued', progress: 'status_unknown' })).toBe(true);
  });

  it('does not call a batch done on a state it cannot read', () => {
    expect(isRowFinal({ state: 'some_future_state' })).toBe(false);
  });
});

describe('countRows', () => {
  it('counts every state, with zeros for the states no row is in', () => {
    const counts = countRows(['waiting', 'waiting', 'completed', 'skipped', 'waiting']);
    expect(counts).toEqual({
      waiting: 3,
      queued: 0,
      dialling: 0,
      completed: 1,
      no_answer: 0,
      failed: 0,
      unknown: 0,
      skipped: 1,
      cancelled: 0,
    });
    expect(Object.keys(counts).sort()).toEqual([...BATCH_ROW_STATES].sort());
  });

  it('counts rows read from call records, and the rows that are over', () => {
    const calls: BatchRowCall[] = [
      { state: 'waiting' },
      { state: 'queued', progress: 'dialling' },
      { state: 'queued', progress: 'ended', callEnd: 'voicemail' },
      { state: 'refused' },
      { state: 'cancelled' },
    ];
    const counts = countRows(calls.map(batchRowState));
    expect(counts.dialling).toBe(1);
    expect(counts.no_answer).toBe(1);
    expect(doneRows(counts)).toBe(3);
  });

  it('has a word for every state, in display order', () => {
    expect(BATCH_ROW_STATES.map((s) => BATCH_ROW_WORDS[s])).toEqual([
      'waiting',
      'queued',
      'dialling',
      'completed',
      'no answer',
      'failed',
      'status unknown',
      'skipped',
      'cancelled',
    ]);
  });
});

describe('progressBar', () => {
  it('draws an empty bar at 0%', () => {
    expect(progressBar(0, 50)).toBe(`${'░'.repeat(20)} 0%`);
  });

  it('draws a partial bar, rounding down', () => {
    expect(progressBar(20, 50)).toBe('▓▓▓▓▓▓▓▓░░░░░░░░░░░░ 40%');
    expect(progressBar(1, 3, 10)).toBe('▓▓▓░░░░░░░ 33%');
  });

  it('says 100% and fills the bar only when everything is done', () => {
    expect(progressBar(499, 500)).toBe(`${'▓'.repeat(19)}░ 99%`);
    expect(progressBar(500, 500)).toBe(`${'▓'.repeat(20)} 100%`);
  });

  it('clamps done to the total, and below at zero', () => {
    expect(progressBar(70, 50)).toBe(`${'▓'.repeat(20)} 100%`);
    expect(progressBar(-3, 50)).toBe(`${'░'.repeat(20)} 0%`);
  });

  it('shows an empty bar for a batch without rows', () => {
    expect(progressBar(0, 0)).toBe(`${'░'.repeat(20)} 0%`);
    expect(progressBar(5, 0, 4)).toBe('░░░░ 0%');
  });

  it('refuses a width that is not a positive integer', () => {
    expect(() => progressBar(1, 2, 0)).toThrow(RangeError);
    expect(() => progressBar(1, 2, 2.5)).toThrow(RangeError);
  });
});

describe('batchEta', () => {
  const now = Date.parse('2026-11-30T14:00:00Z');

  it('places the last of 25 waiting rows 2.4 minutes after the first, at 10 a minute', () => {
    const firstAt = now + 30_000;
    expect(batchEta(25, 10, firstAt, now)).toBe(firstAt + 2.4 * 60_000);
  });

  it('starts from now when the next slot has passed', () => {
    expect(batchEta(25, 10, now - 600_000, now)).toBe(now + 144_000);
  });

  it('is the first slot itself for one waiting row', () => {
    expect(batchEta(1, 10, now + 5_000, now)).toBe(now + 5_000);
  });

  it('is undefined when nothing waits', () => {
    expect(batchEta(0, 10, now, now)).toBeUndefined();
  });

  it('refuses a pace that is not positive', () => {
    expect(() => batchEta(3, 0, now, now)).toThrow(RangeError);
  });
});

describe('batchResultCsv', () => {
  const rows: BatchResultRow[] = [
    {
      line: 9,
      number: '=HYPERLINK("http://evil.example","x")',
      state: 'skipped',
      reason: 'This is not a phone number, the number must start with +',
    },
    {
      line: 2,
      number: '+14155552671',
      state: 'completed',
      queueId: 'q_1',
      outcome: 'completed',
      durationSeconds: 204,
      requestId: 'req_a',
    },
    {
      line: 4,
      number: '+442071838750',
      state: 'no_answer',
      queueId: 'q_2',
      outcome: 'busy or declined',
      durationSeconds: 0,
      requestId: 'req_b',
    },
    { line: 5, number: '+1 415 555', state: 'skipped', reason: 'Line break\nand "quotes"' },
    { line: 6, number: '@SUM(A1)', state: 'failed', reason: '-1 is no reason' },
    { line: 7, number: '+', state: 'unknown', reason: ' spaced ' },
    { line: 8, number: '\tTAB', state: 'cancelled', reason: 'Stopped by the rep' },
  ];

  it('writes the header, rows in line order, CRLF line ends and RFC 4180 quoting', () => {
    const csv = batchResultCsv(rows);
    expect(csv.split('\r\n')).toEqual([
      'line,number,status,queue_id,outcome,duration_seconds,reason,request_id',
      '2,+14155552671,completed,q_1,completed,204,,req_a',
      '4,+442071838750,no answer,q_2,busy or declined,0,,req_b',
      `5,'+1 415 555,skipped,,,,"Line break\nand ""quotes""",`,
      "6,'@SUM(A1),failed,,,,'-1 is no reason,",
      `7,'+,status unknown,,,," spaced ",`,
      "8,'\tTAB,cancelled,,,,Stopped by the rep,",
      `9,"'=HYPERLINK(""http://evil.example"",""x"")",skipped,,,,"This is not a phone number, the number must start with +",`,
      '',
    ]);
  });

  it('keeps E.164 numbers as they are, and neutralises anything a spreadsheet would run', () => {
    const csv = batchResultCsv(rows);
    expect(csv).toContain(',+14155552671,');
    for (const cell of ['=HYPERLINK', '@SUM', '-1 is', '\tTAB']) {
      expect(csv).not.toMatch(new RegExp(`(^|,|")${cell.replace(/[()]/g, '\\$&')}`, 'm'));
    }
  });

  it('writes only the header for no rows', () => {
    expect(batchResultCsv([])).toBe(
      'line,number,status,queue_id,outcome,duration_seconds,reason,request_id\r\n',
    );
  });

  it('reads back with readBatchTable, cell for cell', () => {
    const table = readBatchTable(batchResultCsv(rows));
    expect(table.header).toEqual([
      'line',
      'number',
      'status',
      'queue_id',
      'outcome',
      'duration_seconds',
      'reason',
      'request_id',
    ]);
    const sorted = [...rows].sort((a, b) => a.line - b.line);
    const neutralised = (text: string) =>
      /^[=\-@\t\r]/.test(text) || (text.startsWith('+') && !/^\+\d+$/.test(text)) ? `'${text}` : text;
    expect(table.rows.map((r) => r.cells)).toEqual(
      sorted.map((r) => [
        String(r.line),
        neutralised(r.number),
        BATCH_ROW_WORDS[r.state],
        r.queueId ?? '',
        r.outcome ?? '',
        r.durationSeconds === undefined ? '' : String(r.durationSeconds),
        r.reason ? neutralised(r.reason) : '',
        r.requestId ?? '',
      ]),
    );
  });
});
