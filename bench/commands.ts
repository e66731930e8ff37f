import { callCatalog } from '../src/app.js';
import { draftCallRequest } from '../src/calls/call-request.js';
import { parseCallCommand } from '../src/calls/command.js';
import { resolveWhen } from '../src/calls/when.js';
import { loadConfig } from '../src/config.js';

/** One `/call` the bench sends. */
export interface BenchCommand {
  /** Unique in the run; sent as the `BenchId` dynamic variable, so the Iqra request can be matched to it. */
  n: number;
  text: string;
  /** The number as the app must send it to Iqra; unique in the run (the confirmation is matched by it). */
  e164: string;
  channel: string;
  user: string;
  triggerId: string;
}

/** Bench users; a few have a Slack time zone (users.info `tz`), the others fall back to DEFAULT_TIMEZONE. */
export const USERS = Array.from({ length: 40 }, (_, i) => `U0BENCH${String(i).padStart(3, '0')}`);
export const USER_ZONES: Record<string, string> = Object.fromEntries(
  USERS.flatMap((user, i) => {
    const zone = ['America/Los_Angeles', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', undefined][
      i % 5
    ];
    return zone ? [[user, zone]] : [];
  }),
);

/**
 * Channels the load is spread over. Slack's pace is about one message per second per channel and each call gets two
 * (the parent and its thread reply), so 2000 channels leave room for 500 calls per second without the pace being
 * what limits the confirmations.
 */
export const CHANNEL_COUNT = 2000;
const channelOf = (n: number) => `C0B${String(n % CHANNEL_COUNT).padStart(6, '0')}`;

const US_AREAS = ['415', '212', '312', '617', '206', '303', '512', '702', '646', '818'];
/** Exchanges 200–899 except the N11 service codes, which are not valid. */
const EXCHANGES = Array.from({ length: 700 }, (_, i) => String(200 + i)).filter((e) => !/^[2-9]11$/.test(e));

/** A distinct valid number for every n: US numbers mostly, London numbers for one command in five. */
function numberFor(n: number): { e164: string; national: string; kind: 'us' | 'uk' } {
  if (n % 5 === 4) {
    const k = Math.floor(n / 5);
    const local = `7${String(k % 10_000_000).padStart(7, '0')}`; // 020 7xxx xxxx
    return { e164: `+4420${local}`, national: `20 ${local.slice(0, 4)} ${local.slice(4)}`, kind: 'uk' };
  }
  const k = n - Math.floor(n / 5); // n = 5q + r (r < 4) → 4q + r: one k per US n
  const area = US_AREAS[k % US_AREAS.length] ?? '415';
  const rest = Math.floor(k / US_AREAS.length);
  const ex = EXCHANGES[rest % EXCHANGES.length] ?? '555';
  const line = String(Math.floor(rest / EXCHANGES.length) % 10_000).padStart(4, '0');
  return { e164: `+1${area}${ex}${line}`, national: `${area}${ex}${line}`, kind: 'us' };
}

/** The number as a rep would type it: E.164, spaced, national, dotted, 00-prefixed, or pasted as a Slack phone link. */
function written(n: number): string {
  const { e164, national, kind } = numberFor(n);
  if (kind === 'uk') return n % 2 ? `0044 ${national}` : `+44 ${national}`;
  const a = national.slice(0, 3);
  const b = national.slice(3, 6);
  const c = national.slice(6);
  switch (Math.floor(n / 5) % 5) {
    case 0:
      return e164;
    case 1:
      return `+1 (${a}) ${b}-${c}`;
    case 2:
      return `(${a}) ${b}-${c}`;
    case 3:
      return `${a}.${b}.${c}`;
    default:
      return `<tel:${e164}|+1 ${a}-${b}-${c}>`;
  }
}

const AGENTS = ['', '', '', 'agent=sales', 'agent=sales', 'agent=support', 'agent=SALES', 'agent=support'];
const FROMS = ['', '', 'from=main'];
const CAMPAIGNS = ['', '', '', 'campaign=sales'];
const TIMES = [
  '',
  '',
  '',
  '',
  'at now',
  'at "in 2 hours"',
  'at "tomorrow 10am"',
  'at friday 3pm',
  'at=“in 45 minutes”',
  'when="next monday 9:30am"',
];
const VARIABLES = [
  'CustomerName="Jane Doe"',
  'CustomerName=“Ana María López” Plan=gold',
  'Plan=silver Source=campaign-42',
  '',
  'OrderId=A-1029 meta.Source=slack-bench',
];

/** The n-th command of the run: a deterministic mix of numbers, agents, caller ids, campaigns, times and variables. */
export function commandFor(n: number, runId: string): BenchCommand {
  const { e164 } = numberFor(n);
  const parts = [
    written(n),
    AGENTS[n % AGENTS.length],
    FROMS[n % FROMS.length],
    CAMPAIGNS[Math.floor(n / 3) % CAMPAIGNS.length],
    TIMES[Math.floor(n / 2) % TIMES.length],
    VARIABLES[n % VARIABLES.length],
    `BenchId=${n}`,
  ].filter((p) => p);
  return {
    n,
    text: parts.join(' '),
    e164,
    channel: channelOf(n),
    user: USERS[n % USERS.length] ?? 'U0BENCH000',
    triggerId: `${100_000 + n}.${runId}.b${n.toString(36)}`,
  };
}

/**
 * Checks, with the app's own code and settings, that the mix is what the bench thinks: every command is a complete,
 * valid call (number, choices, variables, time in its requester's zone), each to its own number, with its BenchId.
 */
export function checkMix(count: number, runId: string, appEnv: Record<string, string>): void {
  const config = loadConfig(appEnv);
  const catalog = callCatalog(config);
  const seen = new Set<string>();
  const now = new Date();
  // Every command of the first `count`, then a sample of the rest of what a long run uses.
  const ns = [
    ...Array.from({ length: count }, (_, n) => n),
    ...Array.from({ length: 2000 }, (_, i) => count + i * 211),
  ];
  for (const n of ns) {
    const command = commandFor(n, runId);
    const what = `bench command ${n} (${command.text})`;
    const parsed = parseCallCommand(command.text);
    if (parsed.kind !== 'call') throw new Error(`${what} is not a call`);
    const draft = draftCallRequest(
      parsed,
      catalog,
      { teamId: 'T0001', channelId: command.channel, userId: command.user },
      `req_bench${n}`,
    );
    if (draft.recipient.e164 !== command.e164)
      throw new Error(`${what} reads as ${draft.recipient.e164}, not ${command.e164}`);
    if (seen.has(command.e164)) throw new Error(`${what} repeats the number ${command.e164}`);
    seen.add(command.e164);
    if (parsed.variables.BenchId !== String(n)) throw new Error(`${what} lost its BenchId`);
    resolveWhen(parsed.when, {
      now,
      timeZone: USER_ZONES[command.user] ?? config.calls.defaultTimeZone,
      maxScheduleDays: config.calls.maxScheduleDays,
    });
  }
}
