import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Seconds of measured load per app, load level and round. */
  durationS: number;
  rounds: number;
  /** Fixed rates (commands per second). */
  rates: number[];
  /** Closed-loop senders for the saturation run (0: no saturation run). */
  concurrency: number;
  /** Seconds of warm-up load before each measured run (fresh process each time), excluded from latencies. */
  warmUpS: number;
  /** After the load, how long to wait for confirmations before stopping the app (they may lag at Slack's pace). */
  graceS: number;
  /** Calls in the one-channel burst (0: none). */
  burst: number;
  iqraDelayMs: number;
  /** How long the generator waits for an ack (ms); Slack waits 3 s. */
  ackTimeoutMs: number;
  /** Keep-alive connections of the open-loop generator. */
  connections: number;
  /** Runs the app with `node --cpu-prof`, profiles written to bench/results/profiles/. */
  cpuProf: boolean;
  /** The checkout whose app is measured (built there, run as `node <appRoot>/dist/index.js`); default this one. */
  appRoot: string | undefined;
  /** Results file name under bench/results/ (without extension). */
  out: string;
  quick: boolean;
  full: boolean;
  /** Measures the floor (bench/floor-app.ts) in the app's place: the least work that keeps the product's promises. */
  floor: boolean;
}

const HELP = `npm run bench [-- options]

  --quick              a short smoke run (CI): 2 s per load, 1 round, a 5-call burst; writes bench/results/quick.*
  --full               the issue's full size: 20 s per load, 3 rounds, a 300-call burst (about 25 minutes)
  --duration <s>       seconds of load per app, load and round (default 5)
  --rounds <n>         alternating rounds (default 2)
  --rates <list>       fixed rates per second (default 50,200,500), or none
  --concurrency <n>    closed-loop senders for the saturation run, 0 for none (default 32)
  --warmup <s>         warm-up before each run, not measured (default 1)
  --grace <s>          wait for confirmations after the load, before stopping the app (default 2)
  --burst <n>          calls in the one-channel burst, 0 for none (default 10; --full: 300)
  --iqra-delay <ms>    the Iqra stand-in's answer delay (default 50)
  --ack-timeout <ms>   how long to wait for an ack before giving up (default 5000; Slack gives up after 3000)
  --connections <n>    keep-alive connections of the open-loop generator (default 256)
  --cpu-prof           run the app with node --cpu-prof (profiles in bench/results/profiles/)
  --out <name>         results file name under bench/results/ (default latest; quick with --quick)
  --app-root <dir>     measure the app of another checkout (e.g. a branch with a fix), built there
  --floor              measure bench/floor-app.ts in the app's place: only the work no app can skip (the number
                       checked, the request recorded before the ack, sent to Iqra, its answer recorded, the
                       confirmation and its reply posted); no burst unless asked; writes bench/results/floor.*
`;

function numberList(text: string): number[] {
  if (text.trim() === 'none') return [];
  const list = text.split(',').map((t) => Number(t.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0))
    throw new Error(`--rates: expected positive numbers separated by commas, got "${text}"`);
  return list;
}

function positive(name: string, text: string | undefined, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new Error(`--${name}: expected a ${allowZero ? 'non-negative' : 'positive'} number, got "${text}"`);
  return value;
}

export function readOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      rates: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      grace: { type: 'string' },
      burst: { type: 'string' },
      'iqra-delay': { type: 'string' },
      connections: { type: 'string' },
      'ack-timeout': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      out: { type: 'string' },
      'app-root': { type: 'string' },
      floor: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (values.quick && values.full) throw new Error('--quick and --full exclude each other');
  if (values.floor && values['app-root']) throw new Error('--floor and --app-root exclude each other');
  const base = values.quick
    ? { durationS: 2, rounds: 1, warmUpS: 0.5, graceS: 1, burst: 5 }
    : values.full
      ? { durationS: 20, rounds: 3, warmUpS: 2, graceS: 5, burst: 300 }
      : { durationS: 5, rounds: 2, warmUpS: 1, graceS: 2, burst: 10 };
  return {
    durationS: positive('duration', values.duration, base.durationS),
    rounds: Math.round(positive('rounds', values.rounds, base.rounds)),
    rates: values.rates ? numberList(values.rates) : [50, 200, 500],
    concurrency: Math.round(positive('concurrency', values.concurrency, 32, true)),
    warmUpS: positive('warmup', values.warmup, base.warmUpS, true),
    graceS: positive('grace', values.grace, base.graceS, true),
    // The floor has no outbox: a post Slack refuses is not tried again, so the burst (429s on purpose) says nothing.
    burst: Math.round(positive('burst', values.burst, values.floor ? 0 : base.burst, true)),
    iqraDelayMs: positive('iqra-delay', values['iqra-delay'], 50, true),
    connections: Math.round(positive('connections', values.connections, 256)),
    ackTimeoutMs: positive('ack-timeout', values['ack-timeout'], 5000),
    cpuProf: values['cpu-prof'] ?? false,
    appRoot: values['app-root'],
    out: values.out ?? (values.floor ? 'floor' : values.quick ? 'quick' : 'latest'),
    quick: values.quick ?? false,
    full: values.full ?? false,
    floor: values.floor ?? false,
  };
}
