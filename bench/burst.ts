import { join } from 'node:path';
import { clock, sleep } from './clock.js';
import type { BenchCommand } from './commands.js';
import { type LoadTarget, poolFor, type Sent, sendAll } from './load.js';
import { type Correctness, checkCorrectness, digits, type PhaseContext } from './phase.js';
import { ServerProcess, tempDir } from './processes.js';
import type { IqraArrival, PaceSettings, SlackPost } from './protocol.js';
import { readStoredCalls } from './store-after.js';

export const BURST_CHANNEL = 'C0BURST001';

export interface BurstResult {
  calls: number;
  accepted: number;
  /** Calls whose parent message and thread reply were both delivered. */
  delivered: number;
  /** Messages Slack accepted in the channel (parents and thread replies). */
  messages: number;
  /** From the first command to the last message accepted (ms). */
  deliveryMs: number;
  /** Accepted messages per second, first to last message. */
  messagesPerSecond: number;
  /** The most messages accepted in any one-second window. */
  maxInOneSecond: number;
  responses429: number;
  /** Messages sent while the channel was still inside a Retry-After the stand-in had sent. */
  insideRetryAfter: number;
  /** Parents or thread replies neither delivered nor waiting in the app's outbox, and Iqra requests never sent. */
  lost: number;
  /** Messages still waiting in the app's outbox when the bench stopped waiting (late, not lost). */
  pendingAtEnd: number;
  duplicated: number;
  threadRepliesDuplicated: number;
  pace: PaceSettings;
  /** Gave up waiting (the bound) before every message was delivered. */
  timedOut: boolean;
  /**
   * Every message the channel got, in order: seconds since the first, `P`arent or `T`hread reply, the status, and
   * `!` when it came while a Retry-After was running.
   */
  timeline: string[];
  correctness: Correctness;
  logFile?: string;
}

/**
 * N calls into one channel, sent at once: the app must deliver every call's parent message and thread reply at
 * Slack's pace, honouring 429 + Retry-After, losing and repeating none. The stand-in keeps the pace (a token bucket)
 * and, so that the app's handling of 429 is exercised and not only its own pacing, also answers every
 * `inject429Every`-th message with 429 + Retry-After.
 */
export async function runBurst(
  ctx: PhaseContext,
  calls: number,
  slackPace: PaceSettings,
): Promise<BurstResult> {
  const pace: PaceSettings = { ...slackPace, inject429Every: 8, injectedRetryAfterS: 2 };
  await ctx.standIns.setPace(pace);
  const dir = tempDir();
  const databasePath = join(dir, 'calls.sqlite');
  const server = await ServerProcess.start({
    name: 'app',
    entry: ctx.appEntry,
    env: ctx.appEnv(databasePath),
    dir,
  });
  await ctx.standIns.collect();
  const iqra: IqraArrival[] = [];
  const posts: SlackPost[] = [];
  const collect = async () => {
    const records = await ctx.standIns.collect();
    iqra.push(...records.iqra);
    posts.push(...records.slack);
  };
  const target: LoadTarget = {
    url: server.url,
    ackTimeoutMs: ctx.ackTimeoutMs,
    signingSecret: ctx.signingSecret,
    responseUrl: (n) => `${ctx.standIns.ready.slackUrl}/respond/burst-${n}`,
  };
  const pool = poolFor(server.url, 50);
  try {
    const commands: BenchCommand[] = Array.from({ length: calls }, () => ctx.nextCommand(BURST_CHANNEL));
    const started = clock();
    const sent: Sent[] = await sendAll(pool, target, commands);
    const keys = new Set(sent.filter((s) => s.accepted).map((s) => digits(s.command.e164)));
    // At one message per second, each call's two messages take about two seconds; allow half as much again, and
    // time for the injected Retry-Afters.
    const deadline = clock() + ((2 * keys.size) / pace.perSecond) * 1500 + 30_000;
    let timedOut = false;
    for (;;) {
      await collect();
      const ok = posts.filter(
        (p) => p.status === 200 && p.channel === BURST_CHANNEL && keys.has(p.key ?? ''),
      );
      const parents = new Set(ok.filter((p) => !p.threadTs).map((p) => p.key));
      const threads = new Set(ok.filter((p) => p.threadTs).map((p) => p.key));
      if (parents.size >= keys.size && threads.size >= keys.size) break;
      if (clock() > deadline) {
        timedOut = true;
        break;
      }
      await sleep(250);
    }
    // A little longer, so that a late duplicate would be seen.
    await sleep(1500);
    const stopped = await server.stop(20_000);
    await collect();
    const stored = readStoredCalls(databasePath);
    const { correctness } = checkCorrectness(sent, iqra, posts, stored);

    const inChannel = posts.filter((p) => p.channel === BURST_CHANNEL);
    const ok = inChannel.filter((p) => p.status === 200).sort((a, b) => a.at - b.at);
    const first = ok[0]?.at ?? started;
    const last = ok[ok.length - 1]?.at ?? started;
    let maxInOneSecond = 0;
    for (let i = 0, j = 0; i < ok.length; i++) {
      while ((ok[i]?.at ?? 0) - (ok[j]?.at ?? 0) >= 1000) j++;
      maxInOneSecond = Math.max(maxInOneSecond, i - j + 1);
    }
    const threadsByKey = new Map<string, number>();
    for (const p of ok) if (p.threadTs && p.key) threadsByKey.set(p.key, (threadsByKey.get(p.key) ?? 0) + 1);
    const parentsByKey = new Map<string, number>();
    for (const p of ok) if (!p.threadTs && p.key) parentsByKey.set(p.key, (parentsByKey.get(p.key) ?? 0) + 1);
    let delivered = 0;
    let threadRepliesDuplicated = 0;
    let threadRepliesLost = 0;
    let threadRepliesPending = 0;
    for (const s of sent) {
      if (!s.accepted) continue;
      const key = digits(s.command.e164);
      const t = threadsByKey.get(key) ?? 0;
      if (t > 1) threadRepliesDuplicated += 1;
      if (t === 0 && (parentsByKey.get(key) ?? 0) > 0) {
        // The parent is there, its reply is not: still in the outbox (late), or lost.
        if (stored.get(s.command.e164)?.[0]?.announcePending) threadRepliesPending += 1;
        else threadRepliesLost += 1;
      }
      if (t >= 1 && (parentsByKey.get(key) ?? 0) >= 1) delivered += 1;
    }
    const result: BurstResult = {
      calls,
      accepted: keys.size,
      delivered,
      messages: ok.length,
      deliveryMs: last - started,
      messagesPerSecond: ok.length > 1 ? ((ok.length - 1) * 1000) / (last - first) : Number.NaN,
      maxInOneSecond,
      responses429: inChannel.filter((p) => p.status === 429).length,
      insideRetryAfter: inChannel.filter((p) => p.insideRetryAfter).length,
      lost: correctness.confirmationLost + correctness.iqraLost + threadRepliesLost,
      pendingAtEnd: correctness.confirmationPending + threadRepliesPending,
      duplicated: correctness.confirmationDuplicated + correctness.iqraDuplicated + threadRepliesDuplicated,
      threadRepliesDuplicated,
      pace,
      timedOut,
      timeline: inChannel.map(
        (p) =>
          `${((p.at - first) / 1000).toFixed(2)} ${p.threadTs ? 'T' : 'P'}${p.key?.slice(-7) ?? ''} ${p.status}${p.retryAfterS ? ` retry-after ${p.retryAfterS}` : ''}${p.insideRetryAfter ? ' !' : ''}`,
      ),
      correctness,
    };
    if (result.lost > 0 || result.duplicated > 0 || timedOut || stopped.killed)
      result.logFile = server.logFile;
    else server.cleanUp();
    return result;
  } finally {
    server.kill();
    await pool.close().catch(() => {});
    await ctx.standIns.setPace(slackPace);
  }
}
