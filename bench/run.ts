/**
 * `npm run bench`: the app against a bare Bolt app on the same HTTP receiver, side by side, on this machine (issue
 * #7). See README.md → Performance, and `npm run bench -- --help`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { BOT_TOKEN, SIGNING_SECRET } from '../test/support/test-app.js';
import { runBurst } from './burst.js';
import { clock } from './clock.js';
import { checkMix, commandFor, USER_ZONES } from './commands.js';
import { readOptions } from './options.js';
import { type Load, loadLabel, type PhaseContext, type PhaseResult, runPhase, type Target } from './phase.js';
import { buildApp, buildBareApp, root } from './processes.js';
import type { PaceSettings } from './protocol.js';
import { type BenchReport, machine, renderMarkdown, summarizeRun } from './report.js';
import { StandIns } from './stand-ins-client.js';

/** Slack's documented pace for chat.postMessage: about one message per second per channel, short bursts allowed. */
export const SLACK_PACE: PaceSettings = { perSecond: 1, burst: 3, inject429Every: 0, injectedRetryAfterS: 0 };

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2));
  const started = clock();
  const host = machine();
  const log = (line: string) => {
    const t = ((clock() - started) / 1000).toFixed(1).padStart(6);
    process.stdout.write(`[${t} s] ${line}\n`);
  };
  const runId = Date.now().toString(36);
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });

  log(
    `building ${options.floor ? 'the floor (bench/floor-app.ts)' : 'the app (npm run build)'} and the bare Bolt app`,
  );
  const appRoot = options.appRoot ?? root;
  const buildMs = options.floor ? 0 : buildApp(appRoot);
  const bareEntry = buildBareApp();
  const appEntry = options.floor ? buildBareApp('floor-app') : join(appRoot, 'dist', 'index.js');

  const standIns = await StandIns.start({
    iqraDelayMs: options.iqraDelayMs,
    pace: SLACK_PACE,
    userZones: USER_ZONES,
  });
  const stopAll = () => standIns.kill();
  process.on('exit', stopAll);

  const { ready } = standIns;
  const appEnv = (databasePath: string): Record<string, string> => ({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: ready.slackApiUrl,
    IQRA_API_KEY: ready.iqraApiKey,
    IQRA_BUSINESS_ID: ready.iqraBusinessId,
    IQRA_BASE_URL: ready.iqraUrl,
    IQRA_AGENTS: 'sales=agent_sales_01,support=agent_support_02',
    IQRA_DEFAULT_AGENT: 'sales',
    IQRA_NUMBERS: 'main=num_main_01',
    IQRA_CAMPAIGNS: 'sales=camp_sales_01',
    CALLING_HOURS: '00:00-24:00',
    CALL_LIMIT_PER_USER_PER_HOUR: '10000',
    CALL_LIMIT_PER_WORKSPACE_PER_HOUR: '100000',
    DATABASE_PATH: databasePath,
    LOG_LEVEL: 'info',
  });
  const bareEnv = (): Record<string, string> => ({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: ready.slackApiUrl,
  });
  checkMix(2000, runId, appEnv(':memory:'));

  let n = 0;
  const cpuProfDir = options.cpuProf ? join(resultsDir, 'profiles') : undefined;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const ctx: PhaseContext = {
    standIns,
    appEntry,
    bareEntry,
    appEnv,
    bareEnv,
    signingSecret: SIGNING_SECRET,
    nextCommand: (channel) => {
      const command = commandFor(n++, runId);
      return channel ? { ...command, channel } : command;
    },
    durationS: options.durationS,
    warmUpS: options.warmUpS,
    graceS: options.graceS,
    connections: options.connections,
    ackTimeoutMs: options.ackTimeoutMs,
    ...(cpuProfDir ? { cpuProfDir } : {}),
    log,
  };

  const loads: Load[] = [
    ...options.rates.map((rate): Load => ({ kind: 'rate', rate })),
    ...(options.concurrency > 0 ? [{ kind: 'saturation', concurrency: options.concurrency } as const] : []),
  ];
  const phases: PhaseResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const load of loads) {
      const order: Target[] = round % 2 === 1 ? ['app', 'bare'] : ['bare', 'app'];
      for (const target of order) {
        const result = await runPhase(ctx, target, load, round);
        phases.push(result);
        log(describePhase(result));
      }
    }
  }

  let burst: BenchReport['burst'];
  if (options.burst > 0) {
    log(`burst: ${options.burst} calls into one channel, confirmed at Slack's pace`);
    burst = await runBurst(ctx, options.burst, SLACK_PACE);
    log(
      `burst: ${burst.delivered}/${burst.calls} confirmed, ${burst.messages} messages in ${(burst.deliveryMs / 1000).toFixed(1)} s, ${burst.responses429} × 429, ${burst.insideRetryAfter} sent inside a Retry-After, lost ${burst.lost}, duplicated ${burst.duplicated}`,
    );
  }
  await standIns.stop();

  const report: BenchReport = summarizeRun({
    options,
    phases,
    ...(burst ? { burst } : {}),
    machine: { ...host, loadAtEnd: loadavg()[0] ?? 0 },
    buildMs,
    totalMs: clock() - started,
    appVersion: (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version,
  });
  const markdown = renderMarkdown(report);
  writeFileSync(join(resultsDir, `${options.out}.md`), markdown);
  writeFileSync(join(resultsDir, `${options.out}.json`), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${markdown}\n`);
  log(
    `results: bench/results/${options.out}.md and .json (${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB)`,
  );
  return report.correctnessFailures.length > 0 ? 1 : 0;
}

function describePhase(r: PhaseResult): string {
  const sorted = [...r.ackMs].sort((a, b) => a - b);
  const p99 = sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
  const c = r.correctness;
  return [
    `round ${r.round} ${r.target.padEnd(4)} ${loadLabel(r.load).padEnd(26)}`,
    `cold ${r.coldStartMs.toFixed(0)} ms`,
    `${r.measured} cmds, ${r.throughput.toFixed(0)}/s, ack p99 ${Number.isFinite(p99) ? `${p99.toFixed(1)} ms` : 'none'}, busy ${r.shed}, errors ${r.errors}`,
    `RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MB`,
    `CPU ${(r.cpuMs / 1000).toFixed(1)} s, ${(r.cpuMs / Math.max(1, r.measuredAccepted)).toFixed(2)} ms/cmd`,
    `stop ${(r.stopMs / 1000).toFixed(1)} s, ${(r.wallMs / 1000).toFixed(1)} s in all`,
    c
      ? `Iqra ${c.iqraOnce}/${c.accepted - c.refusedAfterAck}, confirmed ${c.confirmed} (+${c.confirmationPending} pending), lost ${c.iqraLost + c.confirmationLost}, dup ${c.iqraDuplicated + c.confirmationDuplicated}`
      : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
