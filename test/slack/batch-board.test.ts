import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countRows } from '../../src/calls/batch-progress.js';
import { silentLogger } from '../../src/log.js';
import type { BatchDesk, BatchSnapshot } from '../../src/services/batch-desk.js';
import { BatchBoard } from '../../src/slack/batch-board.js';
import type { BatchRecord, Store } from '../../src/store/store.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';

const T0 = Date.parse('2026-11-27T17:00:00.000Z');

/** A running batch of 3 calls, posted in its channel; `held` when an hourly limit holds it. */
function snapshot(held: boolean): BatchSnapshot {
  const batch: BatchRecord = {
    id: 'B0TEST01',
    teamId: 'T0001',
    channelId: 'C0SALES01',
    userId: 'U0REP01',
    settings: {},
    rows: {},
    total: 3,
    state: 'running',
    parentTs: '1700000000.000100',
    createdAt: T0,
    updatedAt: T0,
    ...(held ? { heldReason: 'limit', nextAt: T0 + 30 * 60_000 } : {}),
  };
  return {
    batch,
    settings: {
      pacePerMinute: 10,
      startLabel: 'now',
      timeZone: 'America/New_York',
      zoneSource: 'slack',
      given: 3,
      duplicates: 0,
      approvalNeeded: false,
    },
    calls: [],
    counts: countRows(['waiting', 'waiting', 'waiting']),
    total: 3,
    scheduledOutsideHours: 0,
    duplicates: 0,
  };
}

let slack: FakeSlack;
beforeEach(async () => {
  slack = await startFakeSlack();
});
afterEach(async () => {
  await slack.close();
});

describe('BatchBoard.refresh', () => {
  it('asked again while a refresh is running, waits for it and rewrites the message with what changed since', async () => {
    let held = false;
    let reads = 0;
    let releaseFirstRead: () => void = () => {};
    const firstRead = new Promise<void>((resolve) => {
      releaseFirstRead = resolve;
    });
    // The first refresh reads the batch before it is held, and is slow to get its answer.
    const batches = {
      snapshot: async () => {
        reads += 1;
        const seen = snapshot(held);
        if (reads === 1) await firstRead;
        return seen;
      },
    } as unknown as BatchDesk;
    const board = new BatchBoard({
      client: new webApi.WebClient('xoxb-test', {
        slackApiUrl: slack.apiUrl,
        retryConfig: { retries: 0 },
        logLevel: webApi.LogLevel.ERROR,
      }),
      store: {} as Store,
      batches,
      logger: silentLogger,
      now: () => new Date(T0),
      approvers: '<@U0BOSS01>',
      dryRun: false,
      refreshMs: 0,
    });

    board.changed('B0TEST01');
    const first = board.refresh();
    await slack.waitFor(() => reads === 1, 'the first read');
    // The batch is held at an hourly limit, and the one holding it asks for a refresh.
    held = true;
    board.changed('B0TEST01');
    const second = board.refresh();
    releaseFirstRead();
    await Promise.all([first, second]);

    const updates = slack.callsOf('chat.update');
    expect(reads).toBe(2);
    expect(updates).toHaveLength(2);
    expect(JSON.stringify(updates[0]?.args.blocks)).not.toMatch(/hourly call limit/);
    // The last word is the batch as it is now: held.
    expect(JSON.stringify(updates[1]?.args.blocks)).toMatch(/hourly call limit/);
    expect(updates[1]?.args.ts).toBe('1700000000.000100');
  });
});
