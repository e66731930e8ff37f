import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import {
  APPROVAL_MODES,
  type ApprovalMode,
  type Audience,
  isEmptyAudience,
  parseAudience,
} from './calls/approval.js';
import { type CallingWindow, parseCallingDays, parseCallingHours } from './calls/calling-hours.js';
import { Directory, type DirectoryEntry, type DirectoryKind, parseAliasList } from './calls/directory.js';
import { isSupportedRegion } from './calls/phone.js';
import { isValidTimeZone } from './calls/when.js';
import type { IqraRequestFormat } from './iqra/client.js';
import { type LogLevel, scrub } from './log.js';

/**
 * A wrong value as an error may show it: tokens and keys (a secret pasted into the wrong setting) left out, anything
 * that looks like one (a long run of letters and digits: a signing secret) too, and cut short.
 */
function given(input: unknown): string {
  const text = scrub(String(input)).replace(/[A-Za-z0-9_]{24,}/g, '[redacted]');
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Every setting the app reads, parsed once at start-up. Nothing else in the app reads `process.env`. */
export interface Config {
  slack: {
    botToken: string;
    /** Socket Mode when an app-level token is set; Bolt's HTTP receiver otherwise. */
    mode: 'socket' | 'http';
    appToken?: string;
    signingSecret?: string;
    port: number;
    /** A separate port for GET /metrics (needed in Socket Mode; optional in HTTP mode, where PORT serves it too). */
    metricsPort?: number;
    /** Web API base URL, always ending in `/`. */
    apiUrl: string;
  };
  iqra: {
    apiKey: string;
    businessId: string;
    baseUrl: string;
    requestFormat: IqraRequestFormat;
    agents: Directory;
    numbers: Directory;
    campaigns: Directory;
    callWindowMinutes: number;
    timeoutMs: number;
    /** IQRA_DRY_RUN: every path runs, guards included, and nothing is sent to Iqra. */
    dryRun: boolean;
  };
  calls: {
    defaultRegion: CountryCode;
    defaultTimeZone: string;
    maxScheduleDays: number;
    logChannel?: string;
    /** CALL_BATCH_MAX: the most rows one batch may have. */
    batchMax: number;
  };
  guards: {
    /** Who may place calls (users and user groups); undefined = everyone in the workspace. */
    allowedUsers?: Audience;
    /** Channels calls may be placed from; empty = any. */
    allowedChannels: string[];
    /** Who manages the do-not-call list, reads the audit log and may `force`. */
    admins: Audience;
    window: CallingWindow;
    perUserPerHour: number;
    perWorkspacePerHour: number;
  };
  tracking: {
    /** One budget for all of Iqra's tracking requests (per replica). */
    maxRequestsPerMinute: number;
    /** What the call's thread gets when it ends: nothing, the outcome, or the outcome and the conversation. */
    transcripts: 'off' | 'outcome' | 'full';
    /** A call not ended this long after its start is marked "status unknown". */
    limitMs: number;
    /** Shared secret for `POST /iqra/events` (Iqra's campaign custom tools); unset = the endpoint is off. */
    webhookSecret?: string;
  };
  approval: {
    mode: ApprovalMode;
    approvers: Audience;
    exempt: Audience;
    /** Where approval requests are posted; the request's own channel when unset. */
    channel?: string;
    ttlMs: number;
  };
  /** SQLite (embedded, one process) unless DATABASE_URL names a PostgreSQL database (several replicas). */
  store: { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };
  /** PostgreSQL: how long a replica may miss heartbeats before another takes over its unfinished requests. */
  instanceTimeoutMs: number;
  /** When slash commands are answered "busy, nothing done" instead of taken (0: never for that reason). */
  overload: { maxLagMs: number; maxUtilization: number; maxUnacked: number; maxBacklog: number };
  logLevel: LogLevel;
}

/** The settings were missing or wrong. `problems` names each variable; no secret value appears in them. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Variables whose values must never be printed, even when they are wrong. */
export const SECRET_SETTINGS = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'IQRA_API_KEY',
  'DATABASE_URL',
  'IQRA_WEBHOOK_SECRET',
] as const;

export const DEFAULT_DATABASE_PATH = './data/iqra-calls.sqlite';

type Env = Record<string, string | undefined>;

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalText = z.preprocess(blankToUndefined, z.string().trim().optional());
const requiredText = (what: string) =>
  z.preprocess(blankToUndefined, z.string({ error: `is required: ${what}` }).trim());

function integer(min: number, max: number, fallback: number) {
  return z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(/^\d+$/, {
        error: (i) => `must be a whole number from ${min} to ${max} (got "${given(i.input)}")`,
      })
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .default(fallback),
  );
}

function isHttpUrl(v: string): boolean {
  return /^https?:\/\/[^\s/]+/i.test(v) && URL.canParse(v);
}

function url(fallback: string) {
  return z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .refine(isHttpUrl, {
        error: (i) => `must be an http(s) URL with its scheme, such as ${fallback} (got "${given(i.input)}")`,
      })
      .default(fallback),
  );
}

/**
 * `/api/v1` (any version, any case) in a base URL's path, and whatever follows it: `/api/v1/`, or the whole endpoint
 * copied from Iqra's API reference (`/api/v1/business/12345/call/initiate`). `/api/v1-beta` (a proxy's) is not it.
 */
const API_VERSION_PATH = /\/api\/v\d+(?:[/?#].*)?$/i;

const schema = z.object({
  SLACK_BOT_TOKEN: requiredText('the Bot User OAuth Token (xoxb-…) from OAuth & Permissions').refine(
    (v) => v.startsWith('xoxb-'),
    'must be a bot token starting with "xoxb-" (OAuth & Permissions → Bot User OAuth Token)',
  ),
  SLACK_APP_TOKEN: optionalText.refine(
    (v) => v === undefined || v.startsWith('xapp-'),
    'must be an app-level token starting with "xapp-" (Basic Information → App-Level Tokens, scope connections:write)',
  ),
  SLACK_SIGNING_SECRET: optionalText,
  PORT: integer(0, 65535, 3000),
  METRICS_PORT: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(/^\d+$/, {
        error: (i) => `must be a port number from 0 to 65535 (got "${given(i.input)}")`,
      })
      .transform(Number)
      .pipe(z.number().max(65535, 'must be at most 65535'))
      .optional(),
  ),
  SLACK_API_URL: url('https://slack.com/api/'),
  IQRA_API_KEY: requiredText('your Iqra API key (Iqra dashboard → API keys)'),
  IQRA_BUSINESS_ID: requiredText('the numeric id of your Iqra business').refine(
    (v) => /^\d+$/.test(v),
    'must be the numeric business id (digits only), as in /api/v1/business/{id}',
  ),
  // The client adds /api/v1/business/… itself: a base with /api/v1 (copied from Iqra's API docs) would make every
  // request go to /api/v1/api/v1/… and fail. Any other path (a proxy's prefix) is kept.
  IQRA_BASE_URL: url('https://app.iqra.bot')
    .refine((v) => !(isHttpUrl(v) && API_VERSION_PATH.test(v)), {
      error: (i) => {
        const typed = String(i.input).trim();
        const extra = API_VERSION_PATH.exec(typed)?.[0].replace(/\/+$/, '') ?? '/api/v1';
        return `must be the server's address without ${given(extra)}, such as ${given(
          typed.replace(API_VERSION_PATH, ''),
        )} (the app adds /api/v1/business/… itself)`;
      },
    })
    // The app appends /api/v1/business/… to it: after a query or a fragment that path would never reach the server.
    .refine((v) => !(isHttpUrl(v) && !API_VERSION_PATH.test(v) && /[?#]/.test(v)), {
      error: (i) =>
        `must not have a query (?…) or a fragment (#…), since the app adds /api/v1/business/… after it: use just the address, such as ${given(
          String(i.input)
            .trim()
            .replace(/[?#].*$/, ''),
        )}`,
    }),
  IQRA_REQUEST_FORMAT: z.preprocess(
    (v) => (typeof blankToUndefined(v) === 'string' ? String(v).trim().toLowerCase() : undefined),
    z.enum(['both', 'fields', 'config'], { error: 'must be one of: both, fields, config' }).default('both'),
  ),
  IQRA_AGENTS: optionalText,
  IQRA_DEFAULT_AGENT: optionalText,
  IQRA_NUMBERS: optionalText,
  IQRA_DEFAULT_NUMBER: optionalText,
  IQRA_CAMPAIGNS: optionalText,
  IQRA_DEFAULT_CAMPAIGN: optionalText,
  IQRA_CALL_WINDOW_MINUTES: integer(1, 7 * 24 * 60, 60),
  IQRA_TIMEOUT_MS: integer(1000, 120_000, 10_000),
  IQRA_DRY_RUN: z.preprocess(
    (v) => (typeof blankToUndefined(v) === 'string' ? String(v).trim().toLowerCase() : undefined),
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'must be true or false' })
      .default('false')
      .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
  ),
  DEFAULT_PHONE_REGION: z.preprocess(
    (v) => (typeof blankToUndefined(v) === 'string' ? String(v).trim().toUpperCase() : undefined),
    z
      .string()
      .refine(isSupportedRegion, {
        error: (i) => `must be a two-letter country code such as US, GB or DE (got "${given(i.input)}")`,
      })
      .default('US'),
  ),
  DEFAULT_TIMEZONE: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .refine(isValidTimeZone, {
        error: (i) =>
          `must be an IANA time zone such as America/New_York or Europe/London (got "${given(i.input)}")`,
      })
      .default('UTC'),
  ),
  CALL_LOG_CHANNEL: optionalText.refine(
    (v) => v === undefined || /^[CG][A-Z0-9]{6,}$/.test(v),
    'must be a channel ID such as C0123ABCDEF (open the channel → its name → the ID is at the bottom of "About")',
  ),
  CALL_MAX_SCHEDULE_DAYS: integer(1, 365, 30),
  CALL_BATCH_MAX: integer(1, 5000, 500),
  INSTANCE_TIMEOUT_SECONDS: integer(3, 3600, 30),
  OVERLOAD_LAG_MS: integer(0, 60_000, 500),
  OVERLOAD_BUSY_PERCENT: integer(0, 100, 97),
  OVERLOAD_MAX_UNACKED: integer(0, 100_000, 1000),
  OVERLOAD_MAX_BACKLOG: integer(0, 1_000_000, 300),
  IQRA_MAX_REQUESTS_PER_MINUTE: integer(1, 6000, 50),
  CALL_ALLOWED_USERS: optionalText,
  CALL_ALLOWED_CHANNELS: optionalText,
  CALL_ADMINS: optionalText,
  CALLING_HOURS: optionalText,
  CALLING_DAYS: optionalText,
  CALL_LIMIT_PER_USER_PER_HOUR: integer(1, 10_000, 30),
  CALL_LIMIT_PER_WORKSPACE_PER_HOUR: integer(1, 100_000, 300),
  CALL_TRANSCRIPTS: z.preprocess(
    (v) => (typeof blankToUndefined(v) === 'string' ? String(v).trim().toLowerCase() : undefined),
    z.enum(['off', 'outcome', 'full'], { error: 'must be one of: off, outcome, full' }).default('outcome'),
  ),
  CALL_TRACKING_LIMIT_HOURS: integer(1, 168, 6),
  IQRA_WEBHOOK_SECRET: optionalText.refine(
    (v) => v === undefined || v.length >= 16,
    'must be at least 16 characters: generate one, e.g. with `openssl rand -hex 32`',
  ),
  CALL_APPROVAL: z.preprocess(
    (v) => (typeof blankToUndefined(v) === 'string' ? String(v).trim().toLowerCase() : undefined),
    z
      .enum(APPROVAL_MODES as [ApprovalMode, ...ApprovalMode[]], {
        error: 'must be one of: off, always, scheduled, unlisted',
      })
      .default('off'),
  ),
  CALL_APPROVERS: optionalText,
  CALL_APPROVAL_EXEMPT: optionalText,
  CALL_APPROVAL_CHANNEL: optionalText.refine(
    (v) => v === undefined || /^[CG][A-Z0-9]{6,}$/.test(v),
    'must be a channel ID such as C0123ABCDEF (open the channel → its name → the ID is at the bottom of "About")',
  ),
  CALL_APPROVAL_TTL_HOURS: integer(1, 720, 24),
  // A URL here (the PostgreSQL one, put in the wrong setting) would be taken for a file name: a SQLite file would be
  // made at a path spelling out the URL, its password shown wherever the path is. The value is never echoed.
  DATABASE_PATH: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .refine((v) => !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(v), {
        error:
          'must be the path of a SQLite file, such as ./data/iqra-calls.sqlite, not a URL: put a PostgreSQL URL in DATABASE_URL instead (and leave DATABASE_PATH empty)',
      })
      .default(DEFAULT_DATABASE_PATH),
  ),
  DATABASE_URL: optionalText.refine(
    (v) => v === undefined || (/^postgres(ql)?:\/\//.test(v) && URL.canParse(v)),
    'must be a PostgreSQL URL such as postgres://user:password@host:5432/database (leave it empty to use SQLite)',
  ),
  LOG_LEVEL: z.preprocess(
    (v) => (typeof blankToUndefined(v) === 'string' ? String(v).trim().toLowerCase() : undefined),
    z
      .enum(['debug', 'info', 'warn', 'error'], { error: 'must be one of: debug, info, warn, error' })
      .default('info'),
  ),
});

/** Every variable the app reads (for the README and .env.example, which must name them all). */
export const SETTING_NAMES: readonly string[] = Object.keys(schema.shape);

function directory(
  kind: DirectoryKind,
  listVar: string,
  list: string | undefined,
  defaultVar: string,
  defaultName: string | undefined,
  problems: string[],
  singleIsDefault = true,
): Directory {
  const { entries, problems: listProblems } = parseAliasList(list ?? '');
  for (const p of listProblems) problems.push(`${listVar}: ${p}`);
  let fallback: DirectoryEntry | undefined = singleIsDefault && entries.length === 1 ? entries[0] : undefined;
  if (defaultName !== undefined) {
    const wanted = defaultName.toLowerCase();
    fallback = entries.find((e) => e.alias.toLowerCase() === wanted || e.id === defaultName);
    if (!fallback) {
      const known = entries.length ? entries.map((e) => e.alias).join(', ') : `nothing (${listVar} is empty)`;
      problems.push(`${defaultVar}: "${defaultName}" is not in ${listVar} (configured: ${known})`);
    }
  }
  return new Directory(kind, entries, fallback);
}

/**
 * Reads the settings from `env`. Throws a ConfigError that lists every problem at once, each naming its variable.
 */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const unquoted = withoutQuotes(env, problems);
  for (const name of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'IQRA_API_KEY']) {
    // Such a value is one word: a space or line break inside is left from copying it (e.g. wrapped in two lines).
    if (/\s/.test(unquoted[name]?.trim() ?? '')) {
      problems.push(`${name}: contains a space or a line break: copy it again, in one piece`);
    }
  }
  const parsed = schema.safeParse(unquoted);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'settings');
      problems.push(`${name}: ${issue.message}`);
    }
  }
  // Keep going with what could be read, so that cross-setting problems are reported in the same run.
  const raw = (parsed.success ? parsed.data : undefined) as z.infer<typeof schema> | undefined;
  const text = (name: keyof z.infer<typeof schema>) => {
    const v = raw?.[name] ?? blankToUndefined(unquoted[name]);
    return typeof v === 'string' ? v.trim() : undefined;
  };

  const format = (raw?.IQRA_REQUEST_FORMAT ?? 'both') as IqraRequestFormat;
  const agents = directory(
    'agent',
    'IQRA_AGENTS',
    text('IQRA_AGENTS'),
    'IQRA_DEFAULT_AGENT',
    text('IQRA_DEFAULT_AGENT'),
    problems,
  );
  const numbers = directory(
    'number',
    'IQRA_NUMBERS',
    text('IQRA_NUMBERS'),
    'IQRA_DEFAULT_NUMBER',
    text('IQRA_DEFAULT_NUMBER'),
    problems,
  );
  const campaigns = directory(
    'campaign',
    'IQRA_CAMPAIGNS',
    text('IQRA_CAMPAIGNS'),
    'IQRA_DEFAULT_CAMPAIGN',
    text('IQRA_DEFAULT_CAMPAIGN'),
    problems,
    // A campaign is never implied by being the only one: only campaign=, the agent's alias or the default pick one.
    false,
  );
  const hasProblem = (name: string) => problems.some((p) => p.startsWith(`${name}: `));
  if (agents.entries.length === 0 && format !== 'config' && !hasProblem('IQRA_AGENTS')) {
    problems.push(
      'IQRA_AGENTS: is required: at least one agent as alias=AgentId (e.g. sales=6650f0c2a1b2c3d4e5f60718)',
    );
  }
  if (numbers.entries.length === 0 && format !== 'config' && !hasProblem('IQRA_NUMBERS')) {
    problems.push(
      'IQRA_NUMBERS: is required: at least one caller-ID number as alias=NumberId (e.g. main=6650f0c2…)',
    );
  }
  if (format === 'config' && campaigns.entries.length === 0 && !hasProblem('IQRA_CAMPAIGNS')) {
    problems.push(
      'IQRA_CAMPAIGNS: is required when IQRA_REQUEST_FORMAT=config: Iqra takes the agent and number from the campaign',
    );
  }
  const approvers = parseAudience(text('CALL_APPROVERS') ?? '');
  const exempt = parseAudience(text('CALL_APPROVAL_EXEMPT') ?? '');
  for (const p of approvers.problems) problems.push(`CALL_APPROVERS: ${p}`);
  for (const p of exempt.problems) problems.push(`CALL_APPROVAL_EXEMPT: ${p}`);
  const allowedUsers = parseAudience(text('CALL_ALLOWED_USERS') ?? '');
  const admins = parseAudience(text('CALL_ADMINS') ?? '');
  for (const p of allowedUsers.problems) problems.push(`CALL_ALLOWED_USERS: ${p}`);
  for (const p of admins.problems) problems.push(`CALL_ADMINS: ${p}`);
  const allowedChannels = (text('CALL_ALLOWED_CHANNELS') ?? '').split(/[\s,]+/).filter(Boolean);
  for (const c of allowedChannels) {
    if (!/^[CGD][A-Z0-9]{6,}$/.test(c))
      problems.push(
        `CALL_ALLOWED_CHANNELS: "${c}" is not a channel ID such as C0123ABCDEF (open the channel → its name → the ID is at the bottom of "About")`,
      );
  }
  let hours = { startMinute: 8 * 60, endMinute: 21 * 60 };
  try {
    if (text('CALLING_HOURS')) hours = parseCallingHours(text('CALLING_HOURS') ?? '');
  } catch (err) {
    problems.push(`CALLING_HOURS: ${(err as Error).message}`);
  }
  let days: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6]);
  try {
    if (text('CALLING_DAYS')) days = parseCallingDays(text('CALLING_DAYS') ?? '');
  } catch (err) {
    problems.push(`CALLING_DAYS: ${(err as Error).message}`);
  }
  const approvalMode = (raw?.CALL_APPROVAL ?? 'off') as ApprovalMode;
  if (approvalMode !== 'off' && isEmptyAudience(approvers.audience) && approvers.problems.length === 0) {
    problems.push(
      `CALL_APPROVERS: is required when CALL_APPROVAL=${approvalMode}: the Slack user ids (U…) or user group ids (S…) who may approve calls`,
    );
  }
  // Approvers named with CALL_APPROVAL left unset: approvals are off (the default), so every call would go out
  // without the approval the operator set up. Only an explicit CALL_APPROVAL=off says that is meant.
  const approvalSettings = ['CALL_APPROVERS', 'CALL_APPROVAL_EXEMPT', 'CALL_APPROVAL_CHANNEL'].filter(
    (name) => text(name as keyof z.infer<typeof schema>) !== undefined,
  );
  if (blankToUndefined(unquoted.CALL_APPROVAL) === undefined && approvalSettings.length > 0) {
    problems.push(
      `CALL_APPROVAL: is not set, so no call would need approval, although ${approvalSettings.join(' and ')} ${approvalSettings.length === 1 ? 'is' : 'are'} set: set CALL_APPROVAL to always, scheduled or unlisted to have calls approved, or to off to turn approvals off on purpose`,
    );
  }
  // Each port as its setting reads it, even when another setting is wrong.
  const port = schema.shape.PORT.safeParse(unquoted.PORT).data;
  const metricsPort = schema.shape.METRICS_PORT.safeParse(unquoted.METRICS_PORT).data;
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) {
    problems.push(
      `METRICS_PORT: must differ from PORT (both are ${port}): choose another port, or leave METRICS_PORT empty (in HTTP mode PORT serves /metrics too)`,
    );
  }
  const appToken = text('SLACK_APP_TOKEN');
  if (!appToken && !text('SLACK_SIGNING_SECRET')) {
    problems.push(
      'SLACK_SIGNING_SECRET: is required in HTTP mode (Basic Information → Signing Secret), or set SLACK_APP_TOKEN for Socket Mode',
    );
  }

  if (problems.length > 0 || !raw) throw new ConfigError(problems);

  const apiUrl = raw.SLACK_API_URL.endsWith('/') ? raw.SLACK_API_URL : `${raw.SLACK_API_URL}/`;
  return {
    slack: {
      botToken: raw.SLACK_BOT_TOKEN,
      mode: appToken ? 'socket' : 'http',
      ...(appToken ? { appToken } : {}),
      ...(raw.SLACK_SIGNING_SECRET ? { signingSecret: raw.SLACK_SIGNING_SECRET } : {}),
      port: raw.PORT,
      ...(raw.METRICS_PORT !== undefined ? { metricsPort: raw.METRICS_PORT } : {}),
      apiUrl,
    },
    iqra: {
      apiKey: raw.IQRA_API_KEY,
      businessId: raw.IQRA_BUSINESS_ID,
      baseUrl: raw.IQRA_BASE_URL.replace(/\/+$/, ''),
      requestFormat: format,
      agents,
      numbers,
      campaigns,
      callWindowMinutes: raw.IQRA_CALL_WINDOW_MINUTES,
      timeoutMs: raw.IQRA_TIMEOUT_MS,
      dryRun: raw.IQRA_DRY_RUN,
    },
    calls: {
      defaultRegion: raw.DEFAULT_PHONE_REGION as CountryCode,
      defaultTimeZone: raw.DEFAULT_TIMEZONE,
      maxScheduleDays: raw.CALL_MAX_SCHEDULE_DAYS,
      batchMax: raw.CALL_BATCH_MAX,
      ...(raw.CALL_LOG_CHANNEL ? { logChannel: raw.CALL_LOG_CHANNEL } : {}),
    },
    store: raw.DATABASE_URL
      ? { kind: 'postgres', url: raw.DATABASE_URL }
      : { kind: 'sqlite', path: raw.DATABASE_PATH },
    guards: {
      ...(isEmptyAudience(allowedUsers.audience) ? {} : { allowedUsers: allowedUsers.audience }),
      allowedChannels,
      admins: admins.audience,
      window: { ...hours, days },
      perUserPerHour: raw.CALL_LIMIT_PER_USER_PER_HOUR,
      perWorkspacePerHour: raw.CALL_LIMIT_PER_WORKSPACE_PER_HOUR,
    },
    tracking: {
      maxRequestsPerMinute: raw.IQRA_MAX_REQUESTS_PER_MINUTE,
      transcripts: raw.CALL_TRANSCRIPTS as 'off' | 'outcome' | 'full',
      limitMs: raw.CALL_TRACKING_LIMIT_HOURS * 3_600_000,
      ...(raw.IQRA_WEBHOOK_SECRET ? { webhookSecret: raw.IQRA_WEBHOOK_SECRET } : {}),
    },
    approval: {
      mode: approvalMode,
      approvers: approvers.audience,
      exempt: exempt.audience,
      ...(raw.CALL_APPROVAL_CHANNEL ? { channel: raw.CALL_APPROVAL_CHANNEL } : {}),
      ttlMs: raw.CALL_APPROVAL_TTL_HOURS * 3_600_000,
    },
    instanceTimeoutMs: raw.INSTANCE_TIMEOUT_SECONDS * 1000,
    overload: {
      maxLagMs: raw.OVERLOAD_LAG_MS,
      maxUtilization: raw.OVERLOAD_BUSY_PERCENT / 100,
      maxUnacked: raw.OVERLOAD_MAX_UNACKED,
      maxBacklog: raw.OVERLOAD_MAX_BACKLOG,
    },
    logLevel: raw.LOG_LEVEL as LogLevel,
  };
}

/** The quotes a value may have been pasted with, each with its closing one. */
const QUOTES: Record<string, string> = { '"': '"', "'": "'", '`': '`', '“': '”', '‘': '’' };

/**
 * `env` with the quotes around a setting's value taken off, and a problem for each: a value pasted with its quotes
 * (`SLACK_SIGNING_SECRET="…"` in `docker run --env-file` or a Compose `environment:` list keeps them) would otherwise
 * carry them into the secret or the id. A `.env` file may quote values: they are taken off when it is read.
 */
function withoutQuotes(env: Env, problems: string[]): Env {
  const out: Env = { ...env };
  for (const name of SETTING_NAMES) {
    const value = env[name]?.trim();
    if (!value || value.length < 2) continue;
    const close = QUOTES[value[0] ?? ''];
    if (close === undefined || !value.endsWith(close)) continue;
    problems.push(
      `${name}: is wrapped in quotes (${value[0]}…${close}), which would be read as part of it: remove the quotes (only a .env file may quote a value)`,
    );
    out[name] = value.slice(1, -1);
  }
  return out;
}

/**
 * The process environment, with `.env` (when present in the working directory) underneath it: a variable set in the
 * real environment wins over the file.
 */
export function readEnvironment(processEnv: Env = process.env, dotenvPath = '.env'): Env {
  let fromFile: Env = {};
  if (existsSync(dotenvPath)) {
    try {
      // A byte-order mark (Windows Notepad, PowerShell's `Out-File -Encoding utf8`) would otherwise become part of the
      // first variable's name, and that variable would be reported missing although it is in the file.
      fromFile = parseEnv(readFileSync(dotenvPath, 'utf8').replace(/^\uFEFF/, ''));
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new ConfigError([
        `${dotenvPath}: cannot be read (${reason}): make it a file readable by the user that runs the app, or remove it and set the variables in the environment`,
      ]);
    }
  }
  return { ...fromFile, ...processEnv };
}
