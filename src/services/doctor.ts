/**
 * `/call doctor` and `npm start -- --check`: checks that the app is wired (Slack, Iqra, the database, the guards) and
 * says, for each thing, ✅ / ⚠️ / ❌ and how to fix it. Nothing is changed and nothing is sent: no call is placed and
 * no message is posted (the channel checks read the channel, they do not post in it).
 *
 * The checks receive their dependencies as parameters (a Slack Web API client, the Iqra business read, the store,
 * the settings), so they run the same in the Slack command, at the command line and in tests.
 */
import { webApi } from '@slack/bolt';
import { type Audience, isEmptyAudience } from '../calls/approval.js';
import { describeWindow } from '../calls/calling-hours.js';
import type { Directory } from '../calls/directory.js';
import type { Config } from '../config.js';
import { guessIqraServer, type IqraBusiness, type IqraBusinessItem } from '../iqra/business.js';
import { IqraClient } from '../iqra/client.js';
import { IqraReadError } from '../iqra/errors.js';
import { errorCodes } from '../iqra/http.js';
import { createLogger, type Logger, redactUrl } from '../log.js';
import { boltLogger } from '../slack/bolt-logger.js';
import { MIGRATION_NAMES } from '../store/migrations.js';
import { describeStore, openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';

export type DoctorStatus = 'ok' | 'warn' | 'fail';
export type DoctorSection = 'slack' | 'iqra' | 'store' | 'guards';

/** One line of the report. `text` and `fix` are plain text; `code` is written in backticks. */
export interface DoctorCheck {
  section: DoctorSection;
  status: DoctorStatus;
  text: string;
  /** What to do about it (for ⚠️ and ❌). */
  fix?: string;
}

export const DOCTOR_SECTIONS: readonly { id: DoctorSection; title: string }[] = [
  { id: 'slack', title: 'Slack' },
  { id: 'iqra', title: 'Iqra' },
  { id: 'store', title: 'Database' },
  { id: 'guards', title: 'Guards' },
];

/** What the store checks need of the store. */
export type DoctorStore = Pick<Store, 'ping' | 'schemaVersion'>;

export interface DoctorDeps {
  config: Config;
  /** A Web API client with the bot token. */
  slack: webApi.WebClient;
  /** The Iqra client's read of the business (`IqraClient.getBusiness`). */
  readBusiness: () => Promise<IqraBusiness>;
  store: DoctorStore;
  /** The longest wait for any one answer (Slack, the database); Iqra has IQRA_TIMEOUT_MS. Default 10 s. */
  timeoutMs?: number;
}

/** The scopes without which a feature does not work, and why each is needed. */
const NEEDED_SCOPES: Record<string, string> = {
  commands: 'receive /call and the shortcuts',
  'chat:write': 'post the call messages',
  'users:read': "read each rep's time zone",
};
/** Scopes only batches need: without them the rest of the app works. */
const BATCH_SCOPES: Record<string, string> = {
  'files:read': '`/call batch` cannot read an uploaded CSV file (pasted lists still work)',
  'files:write': "a batch's result file cannot be posted in its thread",
};
const REJECTED_TOKEN = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'account_inactive',
  'token_expired',
]);
const DEFAULT_TIMEOUT_MS = 10_000;
/** At most this many of the business's items are named in a fix. */
const MAX_LISTED = 8;

/** Runs every check, the sections side by side; never throws (a check that breaks is reported as ❌). */
export async function runDoctor(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const groups = new GroupReader(deps.slack, deps.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const sections: [DoctorSection, () => Promise<DoctorCheck[]>][] = [
    ['slack', () => slackChecks(deps)],
    ['iqra', () => iqraChecks(deps)],
    ['store', () => storeChecks(deps)],
    ['guards', () => guardChecks(deps, groups)],
  ];
  const results = await Promise.all(
    sections.map(([section, run]) =>
      run().catch((err: unknown): DoctorCheck[] => [
        { section, status: 'fail', text: `The check itself failed: ${messageOf(err)}` },
      ]),
    ),
  );
  return results.flat();
}

/** 0 when nothing is ❌, 1 otherwise: the exit status of `--check`. */
export function doctorExitCode(checks: readonly DoctorCheck[]): 0 | 1 {
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

export const STATUS_ICON: Record<DoctorStatus, string> = { ok: '✅', warn: '⚠️', fail: '❌' };

/** `2 problems, 1 warning, 14 fine`. */
export function doctorSummary(checks: readonly DoctorCheck[]): string {
  const count = (s: DoctorStatus) => checks.filter((c) => c.status === s).length;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return `${plural(count('fail'), 'problem', 'problems')}, ${plural(count('warn'), 'warning', 'warnings')}, ${count('ok')} fine`;
}

/** The report as plain text, for `--check`: a summary, then each section's lines, fixes indented under them. */
export function renderDoctorText(checks: readonly DoctorCheck[]): string {
  const lines = [`Iqra Calls for Slack: check: ${doctorSummary(checks)}`];
  for (const { id, title } of DOCTOR_SECTIONS) {
    const own = checks.filter((c) => c.section === id);
    if (own.length === 0) continue;
    lines.push('', title);
    for (const check of own) {
      lines.push(`  ${STATUS_ICON[check.status]} ${check.text}`);
      if (check.fix) lines.push(`     Fix: ${check.fix}`);
    }
  }
  lines.push(
    '',
    doctorExitCode(checks) === 0
      ? 'Result: OK (nothing is ❌).'
      : 'Result: NOT READY (fix the ❌ lines, then check again).',
  );
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Slack

async function slackChecks(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const { config, slack } = deps;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const out: DoctorCheck[] = [];
  const line = (status: DoctorStatus, text: string, fix?: string) =>
    out.push({ section: 'slack', status, text, ...(fix ? { fix } : {}) });
  let auth: webApi.AuthTestResponse;
  try {
    auth = await within(slack.auth.test(), timeoutMs, 'Slack (auth.test)');
  } catch (err) {
    const error = slackErrorCode(err);
    if (REJECTED_TOKEN.has(error)) {
      line(
        'fail',
        `Slack rejected \`SLACK_BOT_TOKEN\` (${error}).`,
        'Copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions again; reinstall the app if it was revoked.',
      );
    } else {
      line(
        'fail',
        `Could not check \`SLACK_BOT_TOKEN\`: Slack did not answer auth.test (${error}).`,
        'Check the network and `SLACK_API_URL` (normally https://slack.com/api/), then check again.',
      );
    }
    line('warn', 'Scopes and channels were not checked: the bot token could not be checked first.');
    return out;
  }
  const bot = auth.user ? `@${auth.user}` : 'the bot';
  line(
    'ok',
    `The bot token works: ${bot} in ${auth.team ?? 'the workspace'}${auth.team_id ? ` (${auth.team_id})` : ''}.`,
  );

  const scopes = auth.response_metadata?.scopes;
  const granted = scopes ? new Set(scopes) : undefined;
  if (!granted) {
    line(
      'warn',
      'Slack did not say which scopes the token has (no x-oauth-scopes header), so the scopes were not checked.',
      'Compare OAuth & Permissions → Bot Token Scopes with the scopes in manifest.yml.',
    );
  } else {
    const reinstall = (n: number) =>
      `Add ${n === 1 ? 'it' : 'them'} under OAuth & Permissions → Scopes (manifest.yml lists them), then reinstall the app.`;
    const missing = Object.keys(NEEDED_SCOPES).filter((s) => !granted.has(s));
    if (missing.length > 0) {
      line(
        'fail',
        `Missing scope${missing.length === 1 ? '' : 's'}: ${missing.map((s) => `\`${s}\` (to ${NEEDED_SCOPES[s]})`).join(', ')}.`,
        reinstall(missing.length),
      );
    } else {
      const extra = ['chat:write.public', 'usergroups:read', ...Object.keys(BATCH_SCOPES)].filter((s) =>
        granted.has(s),
      );
      line(
        'ok',
        `The scopes the app needs are granted: ${[...Object.keys(NEEDED_SCOPES), ...extra].map(code).join(', ')}.`,
      );
    }
    if (!granted.has('chat:write.public')) {
      line(
        'warn',
        'Missing scope `chat:write.public`: the bot can post only in channels it was invited to, so a /call in any other channel is answered to the rep alone.',
        reinstall(1),
      );
    }
    const batchMissing = Object.keys(BATCH_SCOPES).filter((s) => !granted.has(s));
    if (batchMissing.length > 0) {
      line(
        'warn',
        `Missing scope${batchMissing.length === 1 ? '' : 's'} ${batchMissing.map((s) => `\`${s}\``).join(', ')}: ${batchMissing.map((s) => BATCH_SCOPES[s]).join('; ')}.`,
        reinstall(batchMissing.length),
      );
    }
    const groupSettings = audienceSettings(config).filter(([, audience]) => audience.groups.length > 0);
    if (groupSettings.length > 0 && !granted.has('usergroups:read')) {
      line(
        'warn',
        `Missing scope \`usergroups:read\`: the user groups in ${groupSettings.map(([name]) => `\`${name}\``).join(', ')} cannot be read, so their members count as not listed.`,
        reinstall(1),
      );
    }
  }

  const channels = new Map<string, string[]>();
  if (config.calls.logChannel) channels.set(config.calls.logChannel, ['CALL_LOG_CHANNEL']);
  if (config.approval.channel) {
    channels.set(config.approval.channel, [
      ...(channels.get(config.approval.channel) ?? []),
      'CALL_APPROVAL_CHANNEL',
    ]);
  }
  for (const [channel, names] of channels) {
    out.push(await channelCheck(slack, channel, names, { bot, granted, timeoutMs }));
  }
  return out;
}

/**
 * Whether the bot can post in a channel, without posting: `conversations.info` says whether the channel exists, is
 * archived or private, and whether the bot is a member. A member can post; so can a non-member in a public channel
 * with `chat:write.public`. That method needs `channels:read` (`groups:read` for a private channel), which the app
 * does not otherwise use; without it, the answer is inferred from the scopes and said to be a guess.
 */
async function channelCheck(
  slack: webApi.WebClient,
  channel: string,
  names: string[],
  o: { bot: string; granted: Set<string> | undefined; timeoutMs: number },
): Promise<DoctorCheck> {
  const setting = names.map(code).join(' and ');
  const invite = `Invite the bot in that channel: /invite ${o.bot}.`;
  const check = (status: DoctorStatus, text: string, fix?: string): DoctorCheck => ({
    section: 'slack',
    status,
    text,
    ...(fix ? { fix } : {}),
  });
  let info: webApi.ConversationsInfoResponse;
  try {
    info = await within(slack.conversations.info({ channel }), o.timeoutMs, 'Slack (conversations.info)');
  } catch (err) {
    const error = slackErrorCode(err);
    if (error === 'channel_not_found') {
      return check(
        'fail',
        `${setting} (${channel}): Slack knows no such channel, or it is private and the bot is not in it.`,
        `Check the channel ID (open the channel → its name → the ID is at the bottom of "About"). ${invite}`,
      );
    }
    if (error === 'missing_scope') {
      const guess = o.granted?.has('chat:write.public')
        ? 'If it is a public channel, the bot can post there (`chat:write.public`); if it is private, only once invited.'
        : 'The bot can post there only once invited.';
      return check(
        'warn',
        `${setting} (${channel}) was not checked: reading a channel needs \`channels:read\` (\`groups:read\` for a private one), which the app does not otherwise need. ${guess}`,
        `${invite} That works for both kinds of channel. (Or add \`channels:read\` and \`groups:read\` so that the doctor can check.)`,
      );
    }
    return check(
      'warn',
      `${setting} (${channel}) could not be checked (${error}).`,
      'Check again in a minute.',
    );
  }
  const c = info.channel;
  if (!c) return check('warn', `${setting} (${channel}): Slack's answer did not describe the channel.`);
  const name = c.name ? `#${c.name}` : channel;
  if (c.is_archived) {
    return check(
      'fail',
      `${setting}: ${name} is archived, so nothing can be posted there.`,
      `Unarchive it, or set ${setting} to another channel.`,
    );
  }
  if (c.is_member) return check('ok', `${setting}: the bot is a member of ${name} and can post there.`);
  if (!c.is_private && o.granted?.has('chat:write.public')) {
    return check(
      'ok',
      `${setting}: ${name} is public and \`chat:write.public\` lets the bot post there without an invitation.`,
    );
  }
  if (!c.is_private && !o.granted) {
    return check(
      'warn',
      `${setting}: the bot is not in ${name}; it can post there only with \`chat:write.public\`, which could not be checked.`,
      invite,
    );
  }
  return check(
    'fail',
    `${setting}: the bot is not in ${name}${c.is_private ? ' (a private channel)' : ''}, so it cannot post there.`,
    invite,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Iqra

async function iqraChecks(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const { config } = deps;
  const out: DoctorCheck[] = [];
  const line = (status: DoctorStatus, text: string, fix?: string) =>
    out.push({ section: 'iqra', status, text, ...(fix ? { fix } : {}) });
  // Shown as it may be seen: a password or a token in the URL (a proxy's) as `***`.
  const base = code(redactUrl(config.iqra.baseUrl));
  const businessId = config.iqra.businessId;
  let business: IqraBusiness;
  try {
    // The client has its own timeout (IQRA_TIMEOUT_MS); this one only guards against a read that never settles.
    business = await within(deps.readBusiness(), config.iqra.timeoutMs + 5000, 'Iqra');
  } catch (err) {
    for (const check of iqraReadFailure(err, config)) out.push(check);
    line(
      'warn',
      'The agents, numbers and campaigns, and the request format, were not checked: the business could not be read.',
    );
    return out;
  }
  line('ok', `\`IQRA_BASE_URL\` (${base}) answers as Iqra's API.`);
  const named = business.name ? ` “${business.name}”` : '';
  line('ok', `\`IQRA_API_KEY\` is accepted for business ${businessId}${named} (\`IQRA_BUSINESS_ID\`).`);

  const lists: [Directory, string, IqraBusinessItem[] | undefined, string][] = [
    [config.iqra.agents, 'IQRA_AGENTS', business.agents, 'Agents'],
    [config.iqra.numbers, 'IQRA_NUMBERS', business.numbers, 'Phone numbers'],
    [config.iqra.campaigns, 'IQRA_CAMPAIGNS', business.campaigns, 'Campaigns (telephony)'],
  ];
  for (const [directory, setting, items, where] of lists) {
    if (directory.entries.length === 0) continue;
    const kind = directory.kind;
    if (!items) {
      line(
        'warn',
        `\`${setting}\` was not checked: Iqra's answer has no list of ${kind}s this app recognises.`,
        `Compare the ids in \`${setting}\` with Iqra's dashboard (${where}).`,
      );
      continue;
    }
    const byId = new Map(items.map((i) => [i.id, i]));
    const missing = directory.entries.filter((e) => !byId.has(e.id));
    if (missing.length > 0) {
      const known =
        items.length === 0
          ? `The business has no ${kind}s.`
          : `It has: ${items
              .slice(0, MAX_LISTED)
              .map((i) => (i.name ? `${i.name} (\`${i.id}\`)` : `\`${i.id}\``))
              .join(', ')}${items.length > MAX_LISTED ? `, and ${items.length - MAX_LISTED} more` : ''}.`;
      line(
        'fail',
        `\`${setting}\`: ${missing.map((e) => `\`${e.alias}\` (\`${e.id}\`)`).join(', ')} ${missing.length === 1 ? `is not ${kind === 'agent' ? 'an' : 'a'}` : 'are not'} ${kind}${missing.length === 1 ? '' : 's'} of business ${businessId}. Calls with ${missing.length === 1 ? 'it' : 'them'} would fail.`,
        `Copy the right id from Iqra's dashboard (${where}) into \`${setting}\`, or remove ${missing.length === 1 ? 'that alias' : 'those aliases'}. ${known}`,
      );
    } else {
      const found = directory.entries.map((e) => {
        const name = byId.get(e.id)?.name;
        return name && name !== e.alias ? `\`${e.alias}\` (${name})` : `\`${e.alias}\``;
      });
      line(
        'ok',
        `\`${setting}\`: ${found.join(', ')} ${found.length === 1 ? 'exists' : 'exist'} in the business.`,
      );
    }
    if (kind === 'number') {
      const silent = directory.entries.filter((e) => byId.get(e.id)?.voiceEnabled === false);
      if (silent.length > 0) {
        line(
          'fail',
          `\`${setting}\`: ${silent.map((e) => `\`${e.alias}\``).join(', ')} ${silent.length === 1 ? 'has' : 'have'} voice turned off in Iqra, so no call can be placed from ${silent.length === 1 ? 'it' : 'them'}.`,
          "Turn voice on for the number in Iqra's dashboard (Phone numbers), or use another number.",
        );
      }
    }
  }
  out.push(formatCheck(config, business));
  return out;
}

/** What a failed business read says about the base URL, the key and the business id. */
function iqraReadFailure(err: unknown, config: Config): DoctorCheck[] {
  const given = config.iqra.baseUrl;
  const base = code(redactUrl(given));
  const fail = (text: string, fix: string): DoctorCheck => ({ section: 'iqra', status: 'fail', text, fix });
  const answers: DoctorCheck = {
    section: 'iqra',
    status: 'ok',
    text: `\`IQRA_BASE_URL\` (${base}) answers as Iqra's API.`,
  };
  const checkUrl = /\/api(\/v\d+)?$/i.test(given)
    ? `Set \`IQRA_BASE_URL\` to the address without \`${/\/api(\/v\d+)?$/i.exec(given)?.[0]}\` (the app adds /api/v1/business/…), e.g. https://app.iqra.bot.`
    : 'Check `IQRA_BASE_URL`: the address of Iqra, without a path, e.g. https://app.iqra.bot.';
  if (!(err instanceof IqraReadError)) {
    return [
      fail(`Iqra could not be asked for business ${config.iqra.businessId}: ${messageOf(err)}.`, checkUrl),
    ];
  }
  const status = err.httpStatus;
  const said = err.code ? ` (code \`${err.code}\`)` : status !== undefined ? ` (HTTP ${status})` : '';
  switch (err.kind) {
    case 'unauthorized': {
      if (err.code === undefined && status === undefined) {
        // The request could not even be built (a line break or a stray character in the key or the URL).
        return [
          fail(
            'The request to Iqra could not be built from `IQRA_API_KEY` and `IQRA_BASE_URL`.',
            'Check `IQRA_API_KEY` and `IQRA_BASE_URL` for stray spaces, quotes or line breaks.',
          ),
        ];
      }
      const last = (err.code ?? '').split(':').at(-1)?.toUpperCase() ?? '';
      if (/BUSINESS/.test(last) && !/API_?KEY/.test(last)) {
        return [
          answers,
          fail(
            `Iqra refused access to business ${config.iqra.businessId}${said}.`,
            'Check `IQRA_BUSINESS_ID` (the number in /api/v1/business/{id}) and that the API key belongs to a user of that business; a disabled business must be enabled again in Iqra.',
          ),
        ];
      }
      return [
        answers,
        fail(
          `Iqra refused \`IQRA_API_KEY\`${said}.`,
          "Copy the API key again from Iqra's dashboard (API keys): it looks like iu_…_…; check that it belongs to the business in `IQRA_BUSINESS_ID` and has not been revoked.",
        ),
      ];
    }
    case 'not_found':
      // Iqra's own "not found" comes with its code; a bare 404 is a `bad_response` (below).
      return [
        answers,
        fail(`Iqra knows no business ${config.iqra.businessId}${said}.`, 'Check `IQRA_BUSINESS_ID`.'),
      ];
    case 'rate_limited':
      return [
        {
          section: 'iqra',
          status: 'warn',
          text: `Iqra asked this app to slow down${said}, so it could not be checked now.`,
          fix: 'Check again in a minute.',
        },
      ];
    case 'unavailable': {
      if (status !== undefined) {
        return [
          fail(
            `Iqra at ${base} answered with a server error (HTTP ${status}).`,
            `Check again later; if it lasts, check that \`IQRA_BASE_URL\` points at Iqra. ${checkUrl}`,
          ),
        ];
      }
      if (err.code) {
        return [
          answers,
          fail(
            `Iqra failed to read business ${config.iqra.businessId}${said}.`,
            'Check `IQRA_BUSINESS_ID`, then check again later.',
          ),
        ];
      }
      const detail = errorCodes(err)[0] ?? `no answer within ${Math.round(config.iqra.timeoutMs / 1000)} s`;
      return [
        fail(
          `Iqra could not be reached at \`IQRA_BASE_URL\` (${base}): ${detail}.`,
          `${checkUrl} Check too that this machine can reach it (DNS, firewall, proxy).`,
        ),
      ];
    }
    case 'bad_response':
      if (status === 404 && !err.code) {
        return [fail(`\`IQRA_BASE_URL\` (${base}) answers, but not as Iqra's API (HTTP 404).`, checkUrl)];
      }
      if (status === 400) {
        return [
          fail(
            `Iqra rejected the request for business ${config.iqra.businessId} (HTTP 400).`,
            'Check `IQRA_BUSINESS_ID` (digits only) and `IQRA_BASE_URL`.',
          ),
        ];
      }
      if (status !== undefined && status >= 300 && status < 400) {
        return [
          fail(
            `\`IQRA_BASE_URL\` (${base}) answered with a redirect (HTTP ${status}), not as Iqra's API.`,
            'Set `IQRA_BASE_URL` to the exact https address of Iqra (the one the redirect leads to), e.g. https://app.iqra.bot.',
          ),
        ];
      }
      return [fail(`\`IQRA_BASE_URL\` (${base}) answered, but not as Iqra's API${said}.`, checkUrl)];
  }
}

/**
 * Which request format the server reads, inferred from the shape of the business answer: Iqra's open-source server
 * answers `data.businessApp` and reads only the `config` part of call/initiate; an answer in PascalCase without it
 * looks like the published reference, which reads form fields. Only a real call proves it, and the doctor never places
 * one, so a mismatch is a warning.
 */
function formatCheck(config: Config, business: IqraBusiness): DoctorCheck {
  const format = config.iqra.requestFormat;
  const server = guessIqraServer(business);
  const setting = `\`IQRA_REQUEST_FORMAT=${format}\``;
  const guessed = '(guessed from the shape of its answer to the business read; only a call would prove it)';
  const check = (status: DoctorStatus, text: string, fix?: string): DoctorCheck => ({
    section: 'iqra',
    status,
    text,
    ...(fix ? { fix } : {}),
  });
  if (server === 'open-source') {
    const openSource = `The server looks like Iqra's open-source server ${guessed}, which reads only the \`config\` part of call/initiate`;
    if (format === 'fields') {
      return check(
        'warn',
        `${openSource}; with ${setting} that part is never sent, so it would refuse every call (FORM_DATA_CONFIG_NOT_FOUND).`,
        'Set `IQRA_REQUEST_FORMAT=both` (or `config`) and give calls a campaign (`IQRA_CAMPAIGNS`, `IQRA_DEFAULT_CAMPAIGN`).',
      );
    }
    if (format === 'both') {
      const campaigns = config.iqra.campaigns;
      const without = config.iqra.agents.entries.filter(
        (a) =>
          !campaigns.fallback &&
          !campaigns.entries.some((c) => c.alias.toLowerCase() === a.alias.toLowerCase()),
      );
      if (without.length > 0) {
        return check(
          'warn',
          `${openSource}. ${setting} sends it only with a campaign, and calls with ${without.map((a) => `\`${a.alias}\``).join(', ')} have none unless the rep writes campaign=, so this server would refuse them.`,
          'Set `IQRA_DEFAULT_CAMPAIGN`, or add to `IQRA_CAMPAIGNS` a campaign named like each agent (or set `IQRA_REQUEST_FORMAT=config` so that every call must have one).',
        );
      }
      return check('ok', `${openSource}; ${setting} sends it, and every agent's calls have a campaign.`);
    }
    return check('ok', `${openSource}; ${setting} sends exactly that.`);
  }
  if (server === 'reference') {
    const reference = `The server looks like the published reference ${guessed}, which reads the form fields (RecipientNumber, AgentId, NumberId, …)`;
    if (format === 'config') {
      return check(
        'warn',
        `${reference}; ${setting} sends only the \`config\` part, which it may ignore.`,
        'Set `IQRA_REQUEST_FORMAT=both`: it sends the form fields and the `config` part together.',
      );
    }
    return check('ok', `${reference}; ${setting} sends them.`);
  }
  if (format === 'both') {
    return check(
      'ok',
      `Which kind of Iqra server this is could not be told from its answer; ${setting} works with either (for the open-source server, calls need a campaign).`,
    );
  }
  return check(
    'warn',
    `Which kind of Iqra server this is could not be told from its answer, so whether it reads what ${setting} sends is not known.`,
    'Set `IQRA_REQUEST_FORMAT=both` unless you know which format your Iqra server reads: it sends both in one request.',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The store

async function storeChecks(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = describeStore(deps.config.store);
  const kind = deps.config.store.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const fixReach =
    deps.config.store.kind === 'sqlite'
      ? 'Check `DATABASE_PATH` (the folder must be writable), and that no other process of the app uses the file.'
      : 'Check `DATABASE_URL` (host, port, user, password, database) and that the database server runs and accepts connections from here.';
  try {
    await within(deps.store.ping(), timeoutMs, 'the database');
  } catch (err) {
    return [
      {
        section: 'store',
        status: 'fail',
        text: `The database does not answer: ${messageOf(err)}`,
        fix: fixReach,
      },
    ];
  }
  const out: DoctorCheck[] = [
    { section: 'store', status: 'ok', text: `The database answers (${kind}, ${where}).` },
  ];
  let version: { applied: string | undefined; latest: string };
  try {
    version = await within(deps.store.schemaVersion(), timeoutMs, 'the database');
  } catch (err) {
    out.push({
      section: 'store',
      status: 'fail',
      text: `Could not read which migrations were applied: ${messageOf(err)}`,
      fix: fixReach,
    });
    return out;
  }
  const { applied, latest } = version;
  if (applied === latest) {
    out.push({ section: 'store', status: 'ok', text: `Migrations are current (\`${latest}\`).` });
  } else if (applied === undefined) {
    out.push({
      section: 'store',
      status: 'fail',
      text: 'The database has no tables yet: no migration was applied.',
      fix: 'Start the app once: it applies its migrations at start-up.',
    });
  } else if (MIGRATION_NAMES.includes(applied)) {
    const pending = MIGRATION_NAMES.length - 1 - MIGRATION_NAMES.indexOf(applied);
    out.push({
      section: 'store',
      status: 'fail',
      text: `${pending} migration${pending === 1 ? ' is' : 's are'} not applied (the database is at \`${applied}\`, this version needs \`${latest}\`).`,
      fix: 'Restart the app: it applies its migrations at start-up.',
    });
  } else {
    out.push({
      section: 'store',
      status: 'warn',
      text: `The database was migrated by another version of the app (\`${applied}\`); this one knows up to \`${latest}\`.`,
      fix: 'Run the same version of the app on every replica.',
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The guards

async function guardChecks(deps: DoctorDeps, groups: GroupReader): Promise<DoctorCheck[]> {
  const { config } = deps;
  const out: DoctorCheck[] = [];
  const line = (status: DoctorStatus, text: string, fix?: string) =>
    out.push({ section: 'guards', status, text, ...(fix ? { fix } : {}) });
  const { window } = config.guards;

  if (window.days.size === 0) {
    line('fail', 'No calling day is allowed, so no call can be placed.', 'Set `CALLING_DAYS`, e.g. mon-fri.');
  } else if (window.startMinute === 0 && window.endMinute >= 24 * 60 && window.days.size === 7) {
    line(
      'warn',
      'Calling hours: calls may start at any hour of any day (`CALLING_HOURS` is 00:00–24:00).',
      "Set `CALLING_HOURS` (e.g. 08:00-21:00) and `CALLING_DAYS` to the hours at which the people called may be rung; they apply in each recipient's time zone.",
    );
  } else {
    line(
      'ok',
      `Calling hours: ${describeWindow(window)}, in the time zone of the person called (\`CALLING_HOURS\`, \`CALLING_DAYS\`).`,
    );
  }

  const { perUserPerHour, perWorkspacePerHour } = config.guards;
  if (perUserPerHour > perWorkspacePerHour) {
    line(
      'warn',
      `Limits: ${perUserPerHour} calls per rep but only ${perWorkspacePerHour} per workspace in any 60 minutes, so the per-rep limit never applies.`,
      'Lower `CALL_LIMIT_PER_USER_PER_HOUR` or raise `CALL_LIMIT_PER_WORKSPACE_PER_HOUR`.',
    );
  } else {
    line(
      'ok',
      `Limits: at most ${perUserPerHour} calls per rep and ${perWorkspacePerHour} per workspace in any 60 minutes.`,
    );
  }

  const channels = config.guards.allowedChannels;
  const from =
    channels.length === 0
      ? 'from any channel'
      : `from ${channels.length} channel${channels.length === 1 ? '' : 's'} (\`CALL_ALLOWED_CHANNELS\`)`;
  const allowed = config.guards.allowedUsers;
  if (!allowed) {
    line('ok', `Who may call: everyone in the workspace (\`CALL_ALLOWED_USERS\` is empty), ${from}.`);
  } else {
    const r = await groups.resolve(allowed);
    for (const p of r.problems)
      out.push(groupProblem('CALL_ALLOWED_USERS', p, 'fail', 'may not place calls'));
    if (r.problems.length === 0 && r.people.size === 0) {
      line(
        'fail',
        'Who may call: nobody (`CALL_ALLOWED_USERS` names only empty user groups).',
        'Add people to those groups, or list user ids (U…) in `CALL_ALLOWED_USERS`.',
      );
    } else if (r.people.size > 0) {
      line('ok', `Who may call (\`CALL_ALLOWED_USERS\`): ${r.describe('person', 'people')}, ${from}.`);
    }
  }

  const admins = config.guards.admins;
  const adminWork =
    'manage the do-not-call list, read /call audit, `force` a call outside calling hours or run /call doctor';
  if (isEmptyAudience(admins)) {
    line(
      'warn',
      `No admins (\`CALL_ADMINS\` is empty): nobody can ${adminWork}${config.approval.mode !== 'off' ? ', and approvals have nobody to turn to' : ''}.`,
      'Set `CALL_ADMINS` to the Slack user ids (U…) or user group ids (S…) of the people who run the app.',
    );
  } else {
    const r = await groups.resolve(admins);
    for (const p of r.problems) out.push(groupProblem('CALL_ADMINS', p, 'fail', 'are not admins'));
    if (r.people.size > 0) line('ok', `Admins (\`CALL_ADMINS\`): ${r.describe('admin', 'admins')}.`);
    else if (r.problems.length === 0) {
      line(
        'warn',
        `No admins: \`CALL_ADMINS\` names only empty user groups, so nobody can ${adminWork}.`,
        'Add people to those groups, or list user ids (U…) in `CALL_ADMINS`.',
      );
    }
  }

  const { mode, approvers, exempt, ttlMs } = config.approval;
  if (mode === 'off') {
    line('ok', 'Approvals are off (`CALL_APPROVAL=off`): calls go out without a manager’s approval.');
    return out;
  }
  const r = await groups.resolve(approvers);
  for (const p of r.problems) out.push(groupProblem('CALL_APPROVERS', p, 'fail', 'cannot approve calls'));
  const where = config.approval.channel
    ? `, posted in ${config.approval.channel}`
    : ", posted on the call's own message";
  const hours = Math.round(ttlMs / 3_600_000);
  if (r.people.size === 0) {
    line(
      'fail',
      `\`CALL_APPROVAL=${mode}\`, but nobody can approve: calls waiting for approval will expire after ${hours} h.`,
      'List approvers in `CALL_APPROVERS` (user ids U… or user groups S… with members).',
    );
  } else if (r.people.size === 1) {
    line(
      'warn',
      `\`CALL_APPROVAL=${mode}\` with one approver (${[...r.people][0]}): nobody approves their own request, so that approver's own calls can never be approved.`,
      'Add a second approver to `CALL_APPROVERS`.',
    );
  } else {
    line(
      'ok',
      `Approvals (\`CALL_APPROVAL=${mode}\`): ${r.describe('approver', 'approvers')}${where}; a request expires after ${hours} h.`,
    );
  }
  if (mode === 'unlisted') {
    if (isEmptyAudience(exempt)) {
      line(
        'warn',
        '`CALL_APPROVAL=unlisted` with no `CALL_APPROVAL_EXEMPT`: every call needs approval, as with `always`.',
        'List in `CALL_APPROVAL_EXEMPT` the users or user groups whose calls need no approval, or set `CALL_APPROVAL=always`.',
      );
    } else {
      const e = await groups.resolve(exempt);
      for (const p of e.problems) out.push(groupProblem('CALL_APPROVAL_EXEMPT', p, 'warn', 'need approval'));
      line('ok', `Exempt from approval (\`CALL_APPROVAL_EXEMPT\`): ${e.describe('person', 'people')}.`);
    }
  }
  return out;
}

function groupProblem(
  setting: string,
  problem: { group: string; error: string },
  status: DoctorStatus,
  consequence: string,
): DoctorCheck {
  const fix =
    problem.error === 'missing_scope'
      ? 'Add the `usergroups:read` scope (manifest.yml has it) under OAuth & Permissions, then reinstall the app.'
      : problem.error === 'no_such_subteam' || problem.error === 'subteam_not_found'
        ? `Check the user group id in \`${setting}\`: Slack knows no group ${problem.group}.`
        : `Check the user group id in \`${setting}\`, then check again.`;
  return {
    section: 'guards',
    status,
    text: `\`${setting}\`: the user group ${problem.group} could not be read (${problem.error}), so its members ${consequence}.`,
    fix,
  };
}

/** The settings that name users and user groups. */
function audienceSettings(config: Config): [string, Audience][] {
  const out: [string, Audience][] = [];
  if (config.guards.allowedUsers) out.push(['CALL_ALLOWED_USERS', config.guards.allowedUsers]);
  out.push(['CALL_ADMINS', config.guards.admins]);
  if (config.approval.mode !== 'off') {
    out.push(['CALL_APPROVERS', config.approval.approvers]);
    out.push(['CALL_APPROVAL_EXEMPT', config.approval.exempt]);
  }
  return out;
}

interface ResolvedAudience {
  people: Set<string>;
  problems: { group: string; error: string }[];
  /** `5 approvers (U0AAA, U0BBB and the 3 members of S0SALES)`. */
  describe(one: string, many: string): string;
}

/** User group members (`usergroups.users.list`), each group read once per run. */
class GroupReader {
  private readonly reads = new Map<string, Promise<{ users: string[] } | { error: string }>>();

  constructor(
    private readonly slack: webApi.WebClient,
    private readonly timeoutMs: number,
  ) {}

  members(group: string): Promise<{ users: string[] } | { error: string }> {
    let read = this.reads.get(group);
    if (!read) {
      read = within(this.slack.usergroups.users.list({ usergroup: group }), this.timeoutMs, 'Slack').then(
        (answer) => ({ users: answer.users ?? [] }),
        (err: unknown) => ({ error: slackErrorCode(err) }),
      );
      this.reads.set(group, read);
    }
    return read;
  }

  async resolve(audience: Audience): Promise<ResolvedAudience> {
    const people = new Set(audience.users);
    const problems: { group: string; error: string }[] = [];
    const sizes: string[] = [];
    for (const group of audience.groups) {
      const answer = await this.members(group);
      if ('error' in answer) {
        problems.push({ group, error: answer.error });
        continue;
      }
      for (const u of answer.users) people.add(u);
      sizes.push(`the ${answer.users.length} member${answer.users.length === 1 ? '' : 's'} of ${group}`);
    }
    return {
      people,
      problems,
      describe: (one, many) => {
        const parts = [...listIds(audience.users), ...sizes];
        const last = parts.pop();
        const what = parts.length ? `${parts.join(', ')} and ${last}` : (last ?? 'nobody');
        return `${people.size} ${people.size === 1 ? one : many} (${what})`;
      },
    };
  }
}

function listIds(ids: readonly string[]): string[] {
  if (ids.length <= MAX_LISTED) return [...ids];
  return [...ids.slice(0, MAX_LISTED), `${ids.length - MAX_LISTED} more listed by id`];
}

// ---------------------------------------------------------------------------------------------------------------
// Wiring

/**
 * The doctor of a running app: each run reads the business with a client of its own (closed afterwards), so that
 * the doctor's requests never share the call path's connections or budget.
 */
export function doctorRunner(o: {
  config: Config;
  store: DoctorStore;
  logger: Logger;
}): (slack: webApi.WebClient) => Promise<DoctorCheck[]> {
  return async (slack) => {
    const iqra = iqraClient(o.config, o.logger);
    try {
      return await runDoctor({
        config: o.config,
        slack,
        store: o.store,
        readBusiness: () => iqra.getBusiness(),
      });
    } finally {
      await iqra.close().catch(() => {});
    }
  };
}

/**
 * `npm start -- --check`: opens the database (and migrates it, as a start would), runs every check, writes the
 * report as plain text and returns the exit status (0 when nothing is ❌). Logs go to stderr, the report to `write`.
 * The Slack receiver is never started.
 */
export async function checkFromCommandLine(
  config: Config,
  write: (text: string) => void | Promise<void> = (text) =>
    new Promise<void>((resolve) => process.stdout.write(text, () => resolve())),
): Promise<0 | 1> {
  const logger = createLogger({
    level: config.logLevel === 'debug' ? 'debug' : 'warn',
    write: (line) => process.stderr.write(`${line}\n`),
  });
  let store: Store | undefined;
  let doctorStore: DoctorStore;
  try {
    store = await openStore(
      config.store.kind === 'sqlite' ? { ...config.store, lockTimeoutMs: 2000 } : config.store,
      logger.child({ component: 'store' }),
    );
    const opened = store;
    const migrated = await opened.migrate().then(
      () => undefined,
      (err: unknown) => err,
    );
    doctorStore = {
      ping: () => opened.ping(),
      schemaVersion: () => (migrated === undefined ? opened.schemaVersion() : Promise.reject(migrated)),
    };
  } catch (err) {
    doctorStore = { ping: () => Promise.reject(err), schemaVersion: () => Promise.reject(err) };
  }
  const slack = new webApi.WebClient(config.slack.botToken, {
    slackApiUrl: config.slack.apiUrl,
    logger: boltLogger(logger.child({ component: 'slack' }), webApi.LogLevel.WARN),
    retryConfig: { retries: 1, factor: 2, minTimeout: 500, maxTimeout: 2000 },
    rejectRateLimitedCalls: true,
    timeout: DEFAULT_TIMEOUT_MS,
  });
  try {
    const checks = await doctorRunner({ config, store: doctorStore, logger })(slack);
    await write(renderDoctorText(checks));
    return doctorExitCode(checks);
  } finally {
    await store?.close().catch(() => {});
  }
}

function iqraClient(config: Config, logger: Logger): IqraClient {
  return new IqraClient({
    baseUrl: config.iqra.baseUrl,
    businessId: config.iqra.businessId,
    apiKey: config.iqra.apiKey,
    format: config.iqra.requestFormat,
    callWindowMinutes: config.iqra.callWindowMinutes,
    timeoutMs: config.iqra.timeoutMs,
    logger: logger.child({ component: 'doctor' }),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function code(text: string): string {
  return `\`${text}\``;
}

/** Slack's error (`invalid_auth`, `missing_scope`, …), or what went wrong with the request. */
function slackErrorCode(err: unknown): string {
  const e = err as { data?: { error?: unknown }; code?: unknown; original?: { code?: unknown } } | undefined;
  if (typeof e?.data?.error === 'string') return e.data.error;
  if (e?.code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  if (typeof e?.original?.code === 'string') return e.original.code;
  if (err instanceof TimeoutError) return 'no answer in time';
  if (typeof e?.code === 'string') return e.code;
  return messageOf(err);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new TimeoutError(`${what} did not answer within ${ms / 1000} s`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
