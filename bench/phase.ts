import { join } from 'node:path';
import { BUSY_MESSAGE } from '../src/slack/load-shedding.js';
import { clock, sleep } from './clock.js';
import type { BenchCommand } from './commands.js';
import { fixedRate, type LoadTarget, poolFor, type Sent, saturate } from './load.js';
import { cpuMsOf, ServerProcess, tempDir } from './processes.js';
import type { IqraArrival, SlackPost } from './protocol.js';
import type { StandIns } from './stand-ins-client.js';
import { readStoredCalls, type StoredCall } from './store-after.js';

/** The app's "too busy, nothing was done" answer (load shedding): not taken, nothing must follow, not an error. */
export function isBusyAnswer(s: Sent): boolean {
  if (s.status !== 200 || s.accepted || !s.detail) return false;
  try {
    return (JSON.parse(s.detail) as { text?: unknown }).text === BUSY_MESSAGE;
  } catch {
    return s.detail.includes(BUSY_MESSAGE.slice(0, 40));
  }
}

export type Target = 'app' | 'bare';

/** Commands per second during the warm-up, whatever the load measured after it. */
export const WARM_UP_RATE = 50;
export type Load = { kind: 'rate'; rate: number } | { kind: 'saturation'; concurrency: number };

export function loadLabel(load: Load): string {
  return load.kind === 'rate' ? `${load.rate}/s` : `saturation (${load.concurrency} concurrent)`;
}

export interface Correctness {
  /** Commands acked 200 with an empty body (warm-up included). */
  accepted: number;
  /** Acked with a message (refused, or "could not record"): not taken, so nothing must follow. */
  refusedInAck: number;
  /** Answered "too busy, nothing was done" (the app shedding load): not taken, nothing must follow. */
  shed: number;
  /** Non-200 answers, and connections that broke before an ack (not a late ack: that is `acksOver3s`). */
  failed: number;
  acksOver3s: number;
  /**
   * Commands acked after 3 s or not at all, that were placed all the same: Slack would have told the rep that the
   * command failed, so a rep who tries again has the customer dialled twice.
   */
  placedAfterSlackGaveUp: number;
  /** Accepted commands with exactly one Iqra request, to the right number. */
  iqraOnce: number;
  /** Accepted, recorded, and not sent yet when the app stopped (`received`): sent at its next start. */
  iqraNotYetSent: number;
  /**
   * Being sent when the bench stopped the app, and not arrived at Iqra: the app marks them "may or may not have been
   * placed" at its next start (never re-sent). A consequence of stopping a busy app, counted apart from losses.
   */
  iqraCutOff: number;
  iqraLost: number;
  iqraDuplicated: number;
  iqraWrongNumber: number;
  /** Refused after the ack (e.g. a time that could not be read): no Iqra request, the rep is told privately. */
  refusedAfterAck: number;
  /** Accepted commands whose parent message was posted exactly once. */
  confirmed: number;
  /** Not posted yet when the app stopped, but waiting in its outbox (or not sent yet): delayed, not lost. */
  confirmationPending: number;
  confirmationLost: number;
  confirmationDuplicated: number;
  /** Commands recorded twice (two call requests for one command). */
  recordedTwice: number;
  /** What went wrong, a few examples. */
  examples: string[];
}

export interface PhaseResult {
  target: Target;
  load: Load;
  round: number;
  coldStartMs: number;
  /** Acks of the measured commands: from each command's slot to its ack read in full (ms); Infinity: none came. */
  ackMs: number[];
  measured: number;
  measuredAccepted: number;
  /** Measured commands answered "too busy, nothing was done" (load shedding). */
  shed: number;
  /** Measured commands neither taken nor turned away busy: refused, HTTP errors, no ack. */
  errors: number;
  /** Measured acks per second. */
  throughput: number;
  /** How late the generator was at worst (open loop). */
  generatorLagMs: number;
  peakRssBytes: number;
  /** CPU time (user + system) the process used from the start of the measured load until it was stopped. */
  cpuMs: number;
  /** App only: command → its Iqra request arriving at the stand-in (ms), measured commands. */
  iqraMs: number[];
  /** App only: command → its parent message at the Slack stand-in (ms); Infinity when not posted by the end. */
  confirmationMs: number[];
  correctness?: Correctness;
  slack429: number;
  usersInfo: number;
  logLines: number;
  stopMs: number;
  killed: boolean;
  /** The whole run: start, warm-up, load, grace, stop (ms). */
  wallMs: number;
  /** Kept for a look when something went wrong. */
  logFile?: string;
}

export interface PhaseContext {
  standIns: StandIns;
  appEntry: string;
  bareEntry: string;
  appEnv: (databasePath: string) => Record<string, string>;
  bareEnv: () => Record<string, string>;
  signingSecret: string;
  /** The next command of the run; in `channel` when given. */
  nextCommand: (channel?: string) => BenchCommand;
  durationS: number;
  warmUpS: number;
  graceS: number;
  connections: number;
  ackTimeoutMs: number;
  cpuProfDir?: string;
  log: (line: string) => void;
}

/** Starts a fresh process of `target`, loads it, waits for the work after the acks, stops it, and checks it all. */
export async function runPhase(ctx: PhaseContext, target: Target, load: Load, round: number) {
  const began = clock();
  const dir = tempDir();
  const databasePath = join(dir, 'calls.sqlite');
  const server = await ServerProcess.start({
    name: target,
    entry: target === 'app' ? ctx.appEntry : ctx.bareEntry,
    env: target === 'app' ? ctx.appEnv(databasePath) : ctx.bareEnv(),
    dir,
    ...(target === 'app' && ctx.cpuProfDir
      ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${ctx.cpuProfDir}`] }
      : {}),
  });
  await ctx.standIns.collect(); // start from a clean record
  const iqra: IqraArrival[] = [];
  const posts: SlackPost[] = [];
  let usersInfo = 0;
  const collect = async () => {
    const records = await ctx.standIns.collect();
    iqra.push(...records.iqra);
    posts.push(...records.slack);
    usersInfo += records.counts.usersInfo;
  };

  const loadTarget: LoadTarget = {
    url: server.url,
    ackTimeoutMs: ctx.ackTimeoutMs,
    signingSecret: ctx.signingSecret,
    responseUrl: (n) => `${ctx.standIns.ready.slackUrl}/respond/cmd-${n}`,
  };
  const pool = poolFor(server.url, load.kind === 'rate' ? ctx.connections : load.concurrency);
  const next = () => ctx.nextCommand();
  const sent: Sent[] = [];
  try {
    if (ctx.warmUpS > 0) {
      // A gentle warm-up (the JIT, the connections, the users' zones), then a pause for its after-ack work to finish,
      // so that the measured load starts on a warm process with nothing queued.
      const warm = await fixedRate(pool, loadTarget, next, WARM_UP_RATE, ctx.warmUpS * 1000, true);
      sent.push(...warm.results);
      await sleep(500);
    }
    const cpuAtStart = cpuMsOf(server.pid);
    let elapsedMs: number;
    let generatorLagMs = 0;
    if (load.kind === 'rate') {
      const run = await fixedRate(pool, loadTarget, next, load.rate, ctx.durationS * 1000);
      sent.push(...run.results);
      elapsedMs = run.elapsedMs;
      generatorLagMs = run.maxLagMs;
    } else {
      const run = await saturate(pool, loadTarget, next, load.concurrency, ctx.durationS * 1000);
      sent.push(...run.results);
      elapsedMs = run.elapsedMs;
    }
    const measured = sent.filter((s) => !s.warmUp);
    const measuredAccepted = measured.filter((s) => s.accepted).length;
    const shed = measured.filter(isBusyAnswer).length;
    const errors = measured.filter((s) => !s.accepted && !isBusyAnswer(s)).length;

    await pool.destroy().catch(() => {});
    const accepted = sent.filter((s) => s.accepted);
    if (target === 'app') {
      // The work after the acks: each accepted command's Iqra request, then its confirmation (at the outbox's and
      // Slack's pace). Waited for, within the grace period, before the app is stopped.
      const ns = new Set(accepted.map((s) => s.command.n));
      const keys = new Set(accepted.map((s) => digits(s.command.e164)));
      const deadline = clock() + ctx.graceS * 1000;
      for (;;) {
        await collect();
        const sentToIqra = new Set(iqra.map((a) => Number(a.benchId)).filter((n) => ns.has(n))).size;
        const confirmed = new Set(
          posts.filter((p) => p.status === 200 && !p.threadTs && keys.has(p.key ?? '')).map((p) => p.key),
        ).size;
        if ((sentToIqra >= ns.size && confirmed >= keys.size) || clock() >= deadline) break;
        await sleep(200);
      }
    }
    server.sample();
    const peakRssBytes = server.peakRss();
    // CPU used from the start of the measured load to now (its after-ack work waited for, within the grace period).
    const cpuAtEnd = cpuMsOf(server.pid);
    const cpuMs = cpuAtStart !== undefined && cpuAtEnd !== undefined ? cpuAtEnd - cpuAtStart : Number.NaN;
    const stopped = await server.stop(20_000);
    await collect();
    const log = server.log();
    const logLines = log.split('\n').filter((l) => l.startsWith('{')).length;

    const result: PhaseResult = {
      target,
      load,
      round,
      coldStartMs: server.coldStartMs,
      // A command not acked within the bench's ack timeout counts as never acked (Infinity).
      ackMs: measured.map((s) => (s.status === 0 ? Number.POSITIVE_INFINITY : s.done - s.intended)),
      measured: measured.length,
      measuredAccepted,
      shed,
      errors,
      throughput: (measuredAccepted * 1000) / elapsedMs,
      generatorLagMs,
      peakRssBytes,
      cpuMs,
      iqraMs: [],
      confirmationMs: [],
      slack429: posts.filter((p) => p.status === 429).length,
      usersInfo,
      logLines,
      stopMs: stopped.stopMs,
      killed: stopped.killed,
      wallMs: 0,
    };
    if (target === 'app') {
      const stored = readStoredCalls(databasePath);
      const check = checkCorrectness(sent, iqra, posts, stored);
      result.correctness = check.correctness;
      result.iqraMs = check.iqraMs;
      result.confirmationMs = check.confirmationMs;
    }
    const bad =
      result.correctness &&
      (result.correctness.iqraLost +
        result.correctness.iqraDuplicated +
        result.correctness.confirmationLost +
        result.correctness.confirmationDuplicated +
        result.correctness.acksOver3s +
        result.correctness.recordedTwice +
        result.correctness.iqraWrongNumber >
        0 ||
        result.correctness.failed > 0);
    if (bad || stopped.killed) result.logFile = server.logFile;
    else server.cleanUp();
    result.wallMs = clock() - began;
    return result;
  } finally {
    server.kill();
    await pool.close().catch(() => {});
  }
}

export function digits(text: string): string {
  return text.replace(/\D/g, '');
}

/** Matches every accepted command to its Iqra request (BenchId) and its parent message (the number), and checks. */
export function checkCorrectness(
  sent: Sent[],
  iqra: IqraArrival[],
  posts: SlackPost[],
  stored: Map<string, StoredCall[]>,
): { correctness: Correctness; iqraMs: number[]; confirmationMs: number[] } {
  const arrivals = new Map<number, IqraArrival[]>();
  for (const a of iqra) {
    const n = Number(a.benchId);
    if (!Number.isInteger(n)) continue;
    arrivals.set(n, [...(arrivals.get(n) ?? []), a]);
  }
  const parents = new Map<string, SlackPost[]>();
  for (const p of posts) {
    if (p.status !== 200 || p.threadTs || !p.key) continue;
    parents.set(p.key, [...(parents.get(p.key) ?? []), p]);
  }
  const c: Correctness = {
    accepted: 0,
    refusedInAck: 0,
    shed: 0,
    failed: 0,
    acksOver3s: 0,
    placedAfterSlackGaveUp: 0,
    iqraOnce: 0,
    iqraNotYetSent: 0,
    iqraCutOff: 0,
    iqraLost: 0,
    iqraDuplicated: 0,
    iqraWrongNumber: 0,
    refusedAfterAck: 0,
    confirmed: 0,
    confirmationPending: 0,
    confirmationLost: 0,
    confirmationDuplicated: 0,
    recordedTwice: 0,
    examples: [],
  };
  const example = (text: string) => {
    if (c.examples.length < 8) c.examples.push(text);
  };
  const iqraMs: number[] = [];
  const confirmationMs: number[] = [];
  for (const s of sent) {
    if (s.done - s.sent > 3000) {
      c.acksOver3s += 1;
      if ((arrivals.get(s.command.n)?.length ?? 0) > 0) c.placedAfterSlackGaveUp += 1;
      example(
        s.status === 0
          ? `command ${s.command.n}: ${s.detail ?? 'no ack'}`
          : `command ${s.command.n} acked after ${Math.round(s.done - s.sent)} ms`,
      );
    }
    if (!s.accepted) {
      if (isBusyAnswer(s)) {
        c.shed += 1;
      } else if (s.status === 200) {
        c.refusedInAck += 1;
        example(`command ${s.command.n} answered in its ack: ${s.detail ?? ''}`);
      } else if (s.status !== 0 || s.done - s.sent <= 3000) {
        // An HTTP error, or a connection that broke before Slack's 3 s (no ack in time is counted above).
        c.failed += 1;
        example(`command ${s.command.n} failed: ${s.status ? `HTTP ${s.status}` : ''} ${s.detail ?? ''}`);
      }
      continue;
    }
    c.accepted += 1;
    const n = s.command.n;
    const records = stored.get(s.command.e164) ?? [];
    if (records.length > 1) {
      c.recordedTwice += 1;
      example(`command ${n} was recorded ${records.length} times`);
    }
    const record = records[0];
    const state = record?.state;
    if (state === 'refused') {
      c.refusedAfterAck += 1;
      example(`command ${n} was refused after its ack`);
      continue;
    }

    const got = arrivals.get(n) ?? [];
    if (got.length === 1) {
      c.iqraOnce += 1;
      if (!s.warmUp) iqraMs.push((got[0]?.at ?? Number.NaN) - s.intended);
    } else if (got.length > 1) {
      c.iqraDuplicated += 1;
      example(`command ${n} reached Iqra ${got.length} times`);
    } else if (state === 'received') {
      c.iqraNotYetSent += 1;
    } else if (state === 'sending' || state === 'unknown') {
      c.iqraCutOff += 1;
    } else {
      c.iqraLost += 1;
      example(`command ${n} (state ${state ?? 'not recorded'}) never reached Iqra`);
    }
    if (got.some((a) => a.recipient !== s.command.e164)) {
      c.iqraWrongNumber += 1;
      example(
        `command ${n} reached Iqra for ${got.map((a) => a.recipient).join(', ')}, not ${s.command.e164}`,
      );
    }

    const posted = parents.get(digits(s.command.e164)) ?? [];
    if (posted.length >= 1) {
      c.confirmed += posted.length === 1 ? 1 : 0;
      if (posted.length > 1) {
        c.confirmationDuplicated += 1;
        example(`command ${n}'s parent message was posted ${posted.length} times`);
      }
      if (!s.warmUp) confirmationMs.push((posted[0]?.at ?? Number.NaN) - s.intended);
    } else {
      if (!s.warmUp) confirmationMs.push(Number.POSITIVE_INFINITY);
      const waiting =
        record !== undefined &&
        !record.parentTs &&
        (record.announcePending || state === 'received' || state === 'sending' || state === 'unknown');
      if (waiting) c.confirmationPending += 1;
      else {
        c.confirmationLost += 1;
        example(
          `command ${n}'s confirmation is lost (state ${state ?? 'not recorded'}, parent ${record?.parentTs ?? 'none'}, outbox ${record?.announceDead ? 'gave up' : 'empty'})`,
        );
      }
    }
  }
  return { correctness: c, iqraMs, confirmationMs };
}
