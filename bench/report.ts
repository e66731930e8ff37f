import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type { BurstResult } from './burst.js';
import type { BenchOptions } from './options.js';
import { type Correctness, type Load, loadLabel, type PhaseResult, type Target } from './phase.js';
import { duration, median, ms, ratio, type Summary, summarize, times } from './stats.js';

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  /** 1-minute load average when the run started and when it ended: other work on the machine shows here. */
  loadAtStart: number;
  loadAtEnd?: number;
}

export function machine(): Machine {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    nproc: cpus().length,
    cpuModel: model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadAtStart: loadavg()[0] ?? 0,
  };
}

/** One app at one load, all rounds together. */
export interface Aggregate {
  runs: number;
  commands: number;
  ack: Summary;
  /** p99 of each round, to show how much it moves between rounds. */
  ackP99ByRound: number[];
  /** Mean over rounds of accepted acks per second. */
  throughput: number;
  /** Commands answered "too busy, nothing was done" (load shedding), all rounds. */
  shed: number;
  errors: number;
  peakRssMB: number;
  /** CPU (user + system, all threads) per taken command, from the start of the load until the process was stopped. */
  cpuMsPerCommand: number;
  coldStartMs: number[];
  generatorLagMs: number;
  /** App only. */
  iqra?: Summary;
  /** App only; `Infinity` stands for a confirmation not posted by the time the app was stopped. */
  confirmation?: Summary;
  /** App only: share of the measured commands confirmed before the app was stopped. */
  confirmedShare?: number;
  correctness?: Correctness;
  logLinesPerCommand?: number;
}

export interface LoadReport {
  label: string;
  load: Load;
  bare: Aggregate;
  app: Aggregate;
  ackP99Ratio: number;
  throughputRatio: number;
}

export interface TargetResult {
  name: string;
  goal: string;
  measured: string;
  pass: boolean | undefined;
}

export interface BenchReport {
  generatedAt: string;
  machine: Machine;
  options: BenchOptions;
  appVersion: string;
  buildMs: number;
  totalMs: number;
  loads: LoadReport[];
  coldStart: { bareMs: number[]; appMs: number[]; bareMedianMs: number; appMedianMs: number; ratio: number };
  burst?: BurstResult;
  targets: TargetResult[];
  /** Lost or duplicated calls or confirmations, acks over 3 s: the bench exits non-zero when there is any. */
  correctnessFailures: string[];
  /** Processes whose log was kept for a look (something went wrong in them). */
  keptLogs: string[];
}

function sumCorrectness(list: Correctness[]): Correctness | undefined {
  if (list.length === 0) return undefined;
  const total: Correctness = {
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
  for (const c of list) {
    for (const key of Object.keys(total) as (keyof Correctness)[]) {
      if (key === 'examples') total.examples.push(...c.examples.slice(0, 8 - total.examples.length));
      else total[key] += c[key];
    }
  }
  return total;
}

function aggregate(results: PhaseResult[]): Aggregate {
  const isApp = results[0]?.target === 'app';
  const confirmationMs = results.flatMap((r) => r.confirmationMs);
  const correctness = sumCorrectness(results.flatMap((r) => (r.correctness ? [r.correctness] : [])));
  const commands = results.reduce((a, r) => a + r.measured, 0);
  return {
    runs: results.length,
    commands,
    ack: summarize(results.flatMap((r) => r.ackMs)),
    ackP99ByRound: results.map((r) => summarize(r.ackMs).p99),
    throughput: results.reduce((a, r) => a + r.throughput, 0) / Math.max(1, results.length),
    shed: results.reduce((a, r) => a + r.shed, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    peakRssMB: Math.max(...results.map((r) => r.peakRssBytes)) / 2 ** 20,
    cpuMsPerCommand:
      results.reduce((a, r) => a + r.cpuMs, 0) /
      Math.max(
        1,
        results.reduce((a, r) => a + r.measuredAccepted, 0),
      ),
    coldStartMs: results.map((r) => r.coldStartMs),
    generatorLagMs: Math.max(...results.map((r) => r.generatorLagMs)),
    ...(isApp
      ? {
          iqra: summarize(results.flatMap((r) => r.iqraMs)),
          confirmation: summarize(confirmationMs),
          confirmedShare: confirmationMs.filter(Number.isFinite).length / Math.max(1, confirmationMs.length),
          logLinesPerCommand:
            results.reduce((a, r) => a + r.logLines, 0) /
            Math.max(
              1,
              results.reduce((a, r) => a + (r.correctness?.accepted ?? 0), 0),
            ),
        }
      : {}),
    ...(correctness ? { correctness } : {}),
  };
}

const sameLoad = (a: Load, b: Load) =>
  a.kind === b.kind && (a.kind === 'rate' ? a.rate === (b as typeof a).rate : true);

export function summarizeRun(run: {
  options: BenchOptions;
  phases: PhaseResult[];
  burst?: BurstResult;
  machine: Machine;
  buildMs: number;
  totalMs: number;
  appVersion: string;
}): BenchReport {
  const loads: LoadReport[] = [];
  for (const phase of run.phases) {
    if (loads.some((l) => sameLoad(l.load, phase.load))) continue;
    const of = (target: Target) =>
      run.phases.filter((p) => p.target === target && sameLoad(p.load, phase.load));
    const bare = aggregate(of('bare'));
    const app = aggregate(of('app'));
    loads.push({
      label: loadLabel(phase.load),
      load: phase.load,
      bare,
      app,
      ackP99Ratio: ratio(app.ack.p99, bare.ack.p99),
      throughputRatio: ratio(app.throughput, bare.throughput),
    });
  }
  const bareCold = run.phases.filter((p) => p.target === 'bare').map((p) => p.coldStartMs);
  const appCold = run.phases.filter((p) => p.target === 'app').map((p) => p.coldStartMs);
  const coldStart = {
    bareMs: bareCold,
    appMs: appCold,
    bareMedianMs: median(bareCold),
    appMedianMs: median(appCold),
    ratio: ratio(median(appCold), median(bareCold)),
  };

  const at200 = loads.find((l) => l.load.kind === 'rate' && l.load.rate === 200);
  const at500 = loads.find((l) => l.load.kind === 'rate' && l.load.rate === 500);
  const sat = loads.find((l) => l.load.kind === 'saturation');
  const x = times;
  const never = (v: number) =>
    Number.isFinite(v) ? duration(v) : `none within ${duration(run.options.ackTimeoutMs)}`;
  const targets: TargetResult[] = [];
  if (at200) {
    targets.push({
      name: 'Ack p99 at 200/s',
      goal: '≤ 1.25 × bare',
      measured: `${never(at200.app.ack.p99)} vs ${never(at200.bare.ack.p99)}: ${x(at200.ackP99Ratio)}`,
      pass: at200.ackP99Ratio <= 1.25,
    });
    const iqra = at200.app.iqra;
    if (iqra) {
      targets.push({
        name: 'Command→Iqra p99 at 200/s',
        goal: '≤ ack p99 + 25 ms',
        measured: `${never(iqra.p99)} vs ${never(at200.app.ack.p99 + 25)}`,
        // Without an ack p99 (acks that never came) there is nothing to compare with: not met.
        pass: Number.isFinite(at200.app.ack.p99) && iqra.p99 <= at200.app.ack.p99 + 25,
      });
    }
  }
  if (sat) {
    targets.push({
      name: 'Saturation throughput',
      goal: '≥ 0.8 × bare',
      measured: `${sat.app.throughput.toFixed(0)}/s vs ${sat.bare.throughput.toFixed(0)}/s: ${x(sat.throughputRatio)}`,
      pass: sat.throughputRatio >= 0.8,
    });
  }
  if (at500) {
    targets.push({
      name: 'Peak RSS at 500/s',
      goal: '≤ 200 MB',
      measured: `${at500.app.peakRssMB.toFixed(0)} MB (bare ${at500.bare.peakRssMB.toFixed(0)} MB)`,
      pass: at500.app.peakRssMB <= 200,
    });
  }
  if (appCold.length && bareCold.length)
    targets.push({
      name: 'Cold start (median)',
      goal: '≤ 1.5 × bare',
      measured: `${duration(coldStart.appMedianMs, 0)} vs ${duration(coldStart.bareMedianMs, 0)}: ${x(coldStart.ratio)}`,
      pass: coldStart.ratio <= 1.5,
    });

  const correctnessFailures: string[] = [];
  let lost = 0;
  let duplicated = 0;
  let slow = 0;
  let placedAnyway = 0;
  let turnedAway = 0;
  for (const l of loads) {
    const c = l.app.correctness;
    if (!c) continue;
    const problems = [
      [c.iqraLost, 'calls never sent to Iqra'],
      [c.iqraDuplicated, 'calls sent to Iqra more than once'],
      [c.iqraWrongNumber, 'calls sent to the wrong number'],
      [c.confirmationLost, 'confirmations lost'],
      [c.confirmationDuplicated, 'confirmations posted twice'],
      [c.recordedTwice, 'commands recorded twice'],
      [c.acksOver3s, 'acks over 3 s or none'],
      [c.failed, 'commands answered with an HTTP error or a broken connection'],
    ] as const;
    for (const [count, what] of problems)
      if (count > 0) correctnessFailures.push(`${l.label}: ${count} ${what}`);
    lost += c.iqraLost + c.confirmationLost;
    duplicated += c.iqraDuplicated + c.confirmationDuplicated + c.recordedTwice;
    slow += c.acksOver3s;
    placedAnyway += c.placedAfterSlackGaveUp;
    turnedAway += c.shed;
  }
  const burst = run.burst;
  if (burst) {
    if (burst.lost > 0) correctnessFailures.push(`burst: ${burst.lost} lost`);
    if (burst.duplicated > 0) correctnessFailures.push(`burst: ${burst.duplicated} duplicated`);
    if (burst.correctness.acksOver3s > 0)
      correctnessFailures.push(`burst: ${burst.correctness.acksOver3s} acks over 3 s`);
    lost += burst.lost;
    duplicated += burst.duplicated;
    slow += burst.correctness.acksOver3s;
  }
  targets.push({
    name: 'Lost or duplicated, every load',
    goal: '0',
    measured: `${lost} lost, ${duplicated} duplicated`,
    pass: lost === 0 && duplicated === 0,
  });
  targets.push({
    name: 'Acks within 3 s, every load',
    goal: 'all',
    measured:
      `${slow} over 3 s or never${placedAnyway ? ` (${placedAnyway} of those calls placed all the same)` : ''}` +
      (turnedAway
        ? `; ${turnedAway} answered at once "too busy, nothing was placed" (${loads
            .filter((l) => l.app.correctness?.shed)
            .map((l) => `${l.app.correctness?.shed} at ${l.label}`)
            .join(', ')})`
        : ''),
    pass: slow === 0,
  });
  if (burst) {
    targets.push({
      name: `Burst of ${burst.calls} calls in one channel`,
      goal: 'all confirmed at Slack’s pace, Retry-After honoured',
      measured: `${burst.accepted}/${burst.calls} taken${burst.correctness.shed ? ` (${burst.correctness.shed} turned away busy)` : ''}, ${burst.delivered}/${burst.accepted} delivered in ${(burst.deliveryMs / 1000).toFixed(0)} s (${burst.messagesPerSecond.toFixed(2)} msg/s), ${burst.responses429} × 429, ${burst.insideRetryAfter} sent inside a Retry-After`,
      // Every call of the burst must have been taken: one turned away "busy" is not confirmed at Slack's pace.
      pass:
        burst.accepted === burst.calls &&
        burst.delivered === burst.accepted &&
        burst.insideRetryAfter === 0 &&
        !burst.timedOut,
    });
  }

  const keptLogs = [
    ...run.phases.flatMap((p) => (p.logFile ? [p.logFile] : [])),
    ...(burst?.logFile ? [burst.logFile] : []),
  ];
  return {
    generatedAt: new Date().toISOString(),
    machine: run.machine,
    options: run.options,
    appVersion: run.appVersion,
    buildMs: run.buildMs,
    totalMs: run.totalMs,
    loads,
    coldStart,
    ...(burst ? { burst } : {}),
    targets,
    correctnessFailures,
    keptLogs,
  };
}

const mb = (v: number) => `${v.toFixed(0)} MB`;
const pct = (s: Summary | undefined, p: 'p50' | 'p95' | 'p99') => (s ? ms(s[p]) : '—');

function confirmationCell(a: Aggregate): string {
  const s = a.confirmation;
  if (!s) return '—';
  const p = (v: number) => (Number.isFinite(v) ? ms(v) : 'not yet');
  const share = a.confirmedShare !== undefined ? ` (${(a.confirmedShare * 100).toFixed(0)}% by stop)` : '';
  return `${p(s.p50)} / ${p(s.p99)}${share}`;
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const o = r.options;
  const lines: string[] = [];
  const ack = (v: number) =>
    Number.isFinite(v) || Number.isNaN(v) ? ms(v) : `none in ${ms(o.ackTimeoutMs)}`;
  lines.push(
    `Machine: ${m.nproc} × ${m.cpuModel} (\`nproc\` ${m.nproc}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}. ` +
      `Run of ${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC: ${o.durationS} s per load after ${o.warmUpS} s of warm-up, ` +
      `${o.rounds} alternating round${o.rounds === 1 ? '' : 's'}, Iqra stand-in delay ${o.iqraDelayMs} ms, ` +
      `whole run ${(r.totalMs / 1000).toFixed(0)} s, 1-minute load average ${m.loadAtStart.toFixed(2)} before and ${(m.loadAtEnd ?? Number.NaN).toFixed(2)} after.`,
  );
  if (o.floor)
    lines.push(
      '',
      '**"app" below is the floor** (`npm run bench -- --floor`, `bench/floor-app.ts`), not the app: only the work no app keeping this product\'s promises can skip.',
    );
  lines.push('');
  lines.push(
    '| Load | | Ack p50 | p95 | p99 | max (ms) | Taken/s | Busy³ | No ack or error | Command→Iqra p50 / p99 | Command→confirmation p50 / p99 | Peak RSS |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const l of r.loads) {
    for (const [name, a] of [
      ['bare Bolt', l.bare],
      ['app', l.app],
    ] as const) {
      lines.push(
        `| ${l.label} | ${name} | ${ack(a.ack.p50)} | ${ack(a.ack.p95)} | ${ack(a.ack.p99)} | ${ack(a.ack.max)} | ${a.throughput.toFixed(0)} | ${a.shed} | ${a.errors} | ${a.iqra ? `${pct(a.iqra, 'p50')} / ${pct(a.iqra, 'p99')}` : '—'} | ${name === 'app' ? confirmationCell(a) : '—'} | ${mb(a.peakRssMB)} |`,
      );
    }
    lines.push(
      `| ${l.label} | **app / bare** | ${times(ratio(l.app.ack.p50, l.bare.ack.p50))} | ${times(ratio(l.app.ack.p95, l.bare.ack.p95))} | **${times(l.ackP99Ratio)}** | ${times(ratio(l.app.ack.max, l.bare.ack.max))} | **${times(l.throughputRatio)}** | | | | | ${times(ratio(l.app.peakRssMB, l.bare.peakRssMB))} |`,
    );
  }
  lines.push('');
  lines.push(
    `CPU per taken command (user + system time of the process, all its threads, from the start of the load until it was stopped, divided by the commands taken; the app's includes the work after the ack that it finished by then): ${r.loads
      .map(
        (l) =>
          `${l.label}: app ${l.app.cpuMsPerCommand.toFixed(2)} ms, bare ${l.bare.cpuMsPerCommand.toFixed(2)} ms`,
      )
      .join('; ')}.`,
  );
  lines.push('');
  lines.push(
    `Cold start (spawn → first \`/healthz\` 200, median of ${r.coldStart.appMs.length} starts each): app ${duration(r.coldStart.appMedianMs, 0)}, bare Bolt ${duration(r.coldStart.bareMedianMs, 0)} (${times(r.coldStart.ratio)}).`,
  );
  lines.push('');
  lines.push('| Target | Goal | Measured | |');
  lines.push('|---|---|---|---|');
  for (const t of r.targets)
    lines.push(
      `| ${t.name} | ${t.goal} | ${t.measured} | ${t.pass === undefined ? '—' : t.pass ? 'PASS' : 'FAIL'} |`,
    );
  lines.push('');
  lines.push(
    '| Load (app) | Accepted | Busy³ | Sent to Iqra exactly once | Not sent when stopped¹ | Confirmed once | Confirmation waiting in outbox² | Lost | Duplicated | Acks > 3 s or none (placed all the same) |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const l of r.loads) {
    const c = l.app.correctness;
    if (!c) continue;
    lines.push(
      `| ${l.label} | ${c.accepted} | ${c.shed} | ${c.iqraOnce} | ${c.iqraNotYetSent + c.iqraCutOff} | ${c.confirmed} | ${c.confirmationPending} | ${c.iqraLost + c.confirmationLost} | ${c.iqraDuplicated + c.confirmationDuplicated + c.recordedTwice} | ${c.acksOver3s} (${c.placedAfterSlackGaveUp}) |`,
    );
  }
  lines.push('');
  lines.push(
    '¹ Still queued in the app (recorded, sent at its next start) or being sent when the bench stopped it (marked "may ' +
      'or may not have been placed" at its next start, never re-sent): the app had not caught up within the grace period. ' +
      '² Recorded in the outbox and delivered at the next start: late, not lost. Lost and duplicated are counted from what ' +
      'reached the stand-ins and what the app’s database holds after it stopped. ' +
      '³ Answered at once "too busy, nothing was placed" (load shedding, README → Settings, `OVERLOAD_*`): not recorded, ' +
      'not placed, and the rep told to try again; not counted as taken (Taken/s), nor as an error. Their acks are in ' +
      'the ack latencies.',
  );
  const b = r.burst;
  if (b) {
    lines.push('');
    lines.push(
      `Burst: ${b.calls} calls sent at once into one channel; Slack stand-in pace ${b.pace.perSecond}/s per channel (bursts of ${b.pace.burst}), ` +
        `plus 429 + Retry-After ${b.pace.injectedRetryAfterS} s on every ${b.pace.inject429Every}th message. ` +
        `${b.delivered}/${b.accepted} calls fully confirmed (parent + thread reply), ${b.messages} messages in ${(b.deliveryMs / 1000).toFixed(1)} s ` +
        `(${b.messagesPerSecond.toFixed(2)} per second, at most ${b.maxInOneSecond} in any second), ${b.responses429} answered 429, ` +
        `${b.insideRetryAfter} sent while a Retry-After was running, ${b.lost} lost, ${b.duplicated} duplicated` +
        `${b.pendingAtEnd ? `, ${b.pendingAtEnd} still in the outbox when the bench stopped waiting` : ''}.`,
    );
  }
  if (r.correctnessFailures.length) {
    lines.push('');
    lines.push(`**Correctness failures:** ${r.correctnessFailures.join('; ')}.`);
  }
  return `${lines.join('\n')}\n`;
}
