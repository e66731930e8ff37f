import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readEnvironment, SETTING_NAMES } from '../src/config.js';

const base = {
  SLACK_BOT_TOKEN: 'xoxb-secret-bot-token',
  SLACK_SIGNING_SECRET: 'super-secret-signing',
  IQRA_API_KEY: 'iu_secretpart_secretkey',
  IQRA_BUSINESS_ID: '12345',
  IQRA_AGENTS: 'sales=agent_1,support=agent_2',
  IQRA_NUMBERS: 'main=num_1',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('never shows a secret pasted into the wrong setting in its error', () => {
    const signing = '8f742231b10e8888abcd99yyyzzz85a5';
    const found = problems({
      ...base,
      IQRA_BASE_URL: 'iu_secretpart_secretkey',
      SLACK_API_URL: 'xoxb-1111-2222-abcdefghijkl',
      PORT: signing,
    });
    const text = found.join('\n');
    expect(text).toContain('IQRA_BASE_URL');
    expect(text).toContain('SLACK_API_URL');
    expect(text).toContain('PORT');
    for (const secret of ['iu_secretpart_secretkey', 'xoxb-1111-2222-abcdefghijkl', signing]) {
      expect(text).not.toContain(secret);
    }
    // An ordinary wrong value is still shown, to say what was read.
    expect(problems({ ...base, DEFAULT_PHONE_REGION: 'USA' }).join('\n')).toContain('(got "USA")');
  });

  it('applies the documented defaults', () => {
    const config = loadConfig(base);
    expect(config.slack).toEqual({
      botToken: 'xoxb-secret-bot-token',
      mode: 'http',
      signingSecret: 'super-secret-signing',
      port: 3000,
      apiUrl: 'https://slack.com/api/',
    });
    expect(config.iqra).toMatchObject({
      baseUrl: 'https://app.iqra.bot',
      requestFormat: 'both',
      callWindowMinutes: 60,
      timeoutMs: 10_000,
    });
    expect(config.calls).toEqual({
      defaultRegion: 'US',
      defaultTimeZone: 'UTC',
      maxScheduleDays: 30,
      batchMax: 500,
    });
    expect(config.logLevel).toBe('info');
  });

  it('uses Socket Mode when an app token is set, and then needs no signing secret', () => {
    const config = loadConfig({ ...base, SLACK_SIGNING_SECRET: '', SLACK_APP_TOKEN: 'xapp-1-abc' });
    expect(config.slack.mode).toBe('socket');
    expect(config.slack.appToken).toBe('xapp-1-abc');
  });

  it('makes a single agent or number the default by itself, but never a single campaign', () => {
    const config = loadConfig({ ...base, IQRA_AGENTS: 'sales=agent_1', IQRA_CAMPAIGNS: 'webinar=camp_1' });
    expect(config.iqra.agents.fallback?.alias).toBe('sales');
    expect(config.iqra.numbers.fallback?.alias).toBe('main');
    expect(config.iqra.campaigns.fallback).toBeUndefined();
  });

  it('takes the named defaults, by alias in any case or by id', () => {
    const config = loadConfig({
      ...base,
      IQRA_DEFAULT_AGENT: 'SUPPORT',
      IQRA_CAMPAIGNS: 'a=camp_a,b=camp_b',
      IQRA_DEFAULT_CAMPAIGN: 'camp_b',
    });
    expect(config.iqra.agents.fallback?.id).toBe('agent_2');
    expect(config.iqra.campaigns.fallback?.alias).toBe('b');
  });

  it('normalizes the URLs, the region and the enums', () => {
    const config = loadConfig({
      ...base,
      SLACK_API_URL: 'http://127.0.0.1:9999/api',
      IQRA_BASE_URL: 'https://iqra.example.com/',
      DEFAULT_PHONE_REGION: 'gb',
      IQRA_REQUEST_FORMAT: 'FIELDS',
      LOG_LEVEL: 'Debug',
      PORT: '0',
    });
    expect(config.slack.apiUrl).toBe('http://127.0.0.1:9999/api/');
    expect(config.iqra.baseUrl).toBe('https://iqra.example.com');
    expect(config.calls.defaultRegion).toBe('GB');
    expect(config.iqra.requestFormat).toBe('fields');
    expect(config.logLevel).toBe('debug');
    expect(config.slack.port).toBe(0);
  });

  it('reports every problem at once, each naming its variable', () => {
    const found = problems({
      SLACK_BOT_TOKEN: 'xoxp-user-token-secret',
      PORT: 'eighty',
      IQRA_BUSINESS_ID: 'acme',
      IQRA_REQUEST_FORMAT: 'json',
      IQRA_AGENTS: 'sales',
      IQRA_DEFAULT_AGENT: 'nobody',
      DEFAULT_PHONE_REGION: 'XX',
      DEFAULT_TIMEZONE: 'Mars/Olympus',
      IQRA_TIMEOUT_MS: '5',
      CALL_LOG_CHANNEL: '#calls',
      IQRA_BASE_URL: 'app.iqra.bot',
    });
    const names = found.map((p) => p.split(':')[0]);
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'PORT',
      'IQRA_API_KEY',
      'IQRA_BUSINESS_ID',
      'IQRA_REQUEST_FORMAT',
      'IQRA_AGENTS',
      'IQRA_DEFAULT_AGENT',
      'IQRA_NUMBERS',
      'DEFAULT_PHONE_REGION',
      'DEFAULT_TIMEZONE',
      'IQRA_TIMEOUT_MS',
      'CALL_LOG_CHANNEL',
      'IQRA_BASE_URL',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(found.find((p) => p.startsWith('PORT'))).toContain('"eighty"');
    expect(found.find((p) => p.startsWith('IQRA_AGENTS'))).toContain('"sales" is not alias=Id');
  });

  it('never prints a secret value, even a wrong one', () => {
    const found = problems({
      ...base,
      SLACK_BOT_TOKEN: 'xoxp-user-token-secret',
      SLACK_APP_TOKEN: 'bad-app-token-secret',
    });
    const text = found.join('\n');
    expect(text).toContain('SLACK_BOT_TOKEN');
    expect(text).toContain('SLACK_APP_TOKEN');
    expect(text).not.toContain('user-token-secret');
    expect(text).not.toContain('bad-app-token-secret');
  });

  it('needs campaigns, and not agents or numbers, when the server format is chosen', () => {
    const found = problems({ ...base, IQRA_AGENTS: '', IQRA_NUMBERS: '', IQRA_REQUEST_FORMAT: 'config' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^IQRA_CAMPAIGNS: is required when IQRA_REQUEST_FORMAT=config/);
  });

  it('refuses a repeated alias', () => {
    expect(problems({ ...base, IQRA_AGENTS: 'sales=a1,Sales=a2' })).toEqual([
      'IQRA_AGENTS: alias "Sales" is listed twice',
    ]);
  });

  it('treats empty values as unset', () => {
    const config = loadConfig({ ...base, PORT: '', DEFAULT_TIMEZONE: ' ', CALL_LOG_CHANNEL: '' });
    expect(config.slack.port).toBe(3000);
    expect(config.calls.defaultTimeZone).toBe('UTC');
    expect(config.calls.logChannel).toBeUndefined();
  });

  it('reads the approval settings, with user groups and a TTL', () => {
    const config = loadConfig({
      ...base,
      CALL_APPROVAL: 'Unlisted',
      CALL_APPROVERS: 'U0BOSS001, S0MANAGER',
      CALL_APPROVAL_EXEMPT: 'U0MARIA1',
      CALL_APPROVAL_CHANNEL: 'C0APPROVE1',
      CALL_APPROVAL_TTL_HOURS: '2',
    });
    expect(config.approval).toEqual({
      mode: 'unlisted',
      approvers: { users: ['U0BOSS001'], groups: ['S0MANAGER'] },
      exempt: { users: ['U0MARIA1'], groups: [] },
      channel: 'C0APPROVE1',
      ttlMs: 2 * 3_600_000,
    });
  });

  it('needs approvers when approvals are on, and refuses ids that are not users or groups', () => {
    expect(problems({ ...base, CALL_APPROVAL: 'always' })).toEqual([
      'CALL_APPROVERS: is required when CALL_APPROVAL=always: the Slack user ids (U…) or user group ids (S…) who may approve calls',
    ]);
    const found = problems({ ...base, CALL_APPROVAL: 'sometimes', CALL_APPROVERS: 'U0BOSS001,@maria' });
    expect(found.find((p) => p.startsWith('CALL_APPROVAL:'))).toContain('off, always, scheduled, unlisted');
    expect(found.find((p) => p.startsWith('CALL_APPROVERS:'))).toContain('"@maria" is not a Slack user id');
  });

  it('refuses approvers, exemptions or an approval channel while CALL_APPROVAL is left unset', () => {
    expect(problems({ ...base, CALL_APPROVERS: 'U0BOSS001', CALL_APPROVAL_CHANNEL: 'C0APPROVE1' })).toEqual([
      'CALL_APPROVAL: is not set, so no call would need approval, although CALL_APPROVERS and CALL_APPROVAL_CHANNEL are set: set CALL_APPROVAL to always, scheduled or unlisted to have calls approved, or to off to turn approvals off on purpose',
    ]);
    expect(problems({ ...base, CALL_APPROVAL: ' ', CALL_APPROVAL_EXEMPT: 'U0MARIA1' })[0]).toMatch(
      /^CALL_APPROVAL: is not set, .*CALL_APPROVAL_EXEMPT is set/,
    );
    // Turned off on purpose, they are kept (ready for when approvals are turned on).
    expect(loadConfig({ ...base, CALL_APPROVAL: 'off', CALL_APPROVERS: 'U0BOSS001' }).approval.mode).toBe(
      'off',
    );
  });

  it('refuses an IQRA_BASE_URL with a query or a fragment, after which the API path would be lost', () => {
    expect(problems({ ...base, IQRA_BASE_URL: 'https://app.iqra.bot/?region=eu' })).toEqual([
      'IQRA_BASE_URL: must not have a query (?…) or a fragment (#…), since the app adds /api/v1/business/… after it: use just the address, such as https://app.iqra.bot/',
    ]);
    expect(problems({ ...base, IQRA_BASE_URL: 'https://proxy.example/iqra#x' })[0]).toContain(
      'such as https://proxy.example/iqra',
    );
    expect(problems({ ...base, IQRA_BASE_URL: 'https://app.iqra.bot/api/v1?x=1' })).toEqual([
      expect.stringMatching(
        /^IQRA_BASE_URL: must be the server's address without \/api\/v1\?x=1, such as https:\/\/app\.iqra\.bot /,
      ),
    ]);
  });

  it('refuses a value pasted with its quotes, naming the variable and never the secret', () => {
    const found = problems({
      ...base,
      SLACK_SIGNING_SECRET: '"super-secret-signing"',
      IQRA_API_KEY: " 'iu_secretpart_secretkey' ",
      CALL_LOG_CHANNEL: '“C0123ABCDEF”',
    });
    expect(found).toEqual([
      expect.stringMatching(/^SLACK_SIGNING_SECRET: is wrapped in quotes \("…"\).*remove the quotes/),
      expect.stringMatching(/^IQRA_API_KEY: is wrapped in quotes \('…'\)/),
      expect.stringMatching(/^CALL_LOG_CHANNEL: is wrapped in quotes \(“…”\)/),
    ]);
    expect(found.join('\n')).not.toContain('secret');
    // A quote inside a value is left alone.
    expect(loadConfig({ ...base, SLACK_SIGNING_SECRET: 'ab"cd"' }).slack.signingSecret).toBe('ab"cd"');
  });

  it('refuses a token or key with a space or line break inside, without printing it', () => {
    const found = problems({
      ...base,
      SLACK_BOT_TOKEN: 'xoxb-secret-bot\ntoken',
      IQRA_API_KEY: 'iu_secretpart _secretkey',
    });
    expect(found).toEqual([
      'SLACK_BOT_TOKEN: contains a space or a line break: copy it again, in one piece',
      'IQRA_API_KEY: contains a space or a line break: copy it again, in one piece',
    ]);
    expect(loadConfig({ ...base, IQRA_API_KEY: '  iu_secretpart_secretkey\n' }).iqra.apiKey).toBe(
      'iu_secretpart_secretkey',
    );
  });

  it('refuses METRICS_PORT equal to PORT, and says what range a port has', () => {
    expect(problems({ ...base, PORT: '8080', METRICS_PORT: '8080' })).toEqual([
      expect.stringMatching(/^METRICS_PORT: must differ from PORT \(both are 8080\)/),
    ]);
    expect(problems({ ...base, METRICS_PORT: '3000' })).toHaveLength(1);
    expect(problems({ ...base, METRICS_PORT: '70000' })).toEqual(['METRICS_PORT: must be at most 65535']);
    expect(loadConfig({ ...base, PORT: '0', METRICS_PORT: '0' }).slack.metricsPort).toBe(0);
    expect(loadConfig({ ...base, METRICS_PORT: '9100' }).slack.metricsPort).toBe(9100);
  });

  it('asks for the scheme of a URL given without one, and takes one written in capitals', () => {
    expect(problems({ ...base, IQRA_BASE_URL: 'app.iqra.bot' })).toEqual([
      'IQRA_BASE_URL: must be an http(s) URL with its scheme, such as https://app.iqra.bot (got "app.iqra.bot")',
    ]);
    expect(loadConfig({ ...base, IQRA_BASE_URL: 'HTTPS://iqra.example.com/' }).iqra.baseUrl).toBe(
      'HTTPS://iqra.example.com',
    );
  });

  it('refuses an IQRA_BASE_URL ending in /api/v1 and says the address to use; keeps a proxy path', () => {
    for (const value of [
      'https://app.iqra.bot/api/v1',
      'https://app.iqra.bot/api/v1/',
      ' https://app.iqra.bot/API/V1// ',
    ]) {
      expect(problems({ ...base, IQRA_BASE_URL: value }), value).toEqual([
        expect.stringMatching(
          /^IQRA_BASE_URL: must be the server's address without \/api\/v1, such as https:\/\/app\.iqra\.bot \(/i,
        ),
      ]);
    }
    expect(problems({ ...base, IQRA_BASE_URL: 'https://proxy.example/iqra/api/v1' })[0]).toContain(
      'such as https://proxy.example/iqra ',
    );
    expect(loadConfig({ ...base, IQRA_BASE_URL: 'https://proxy.example/iqra/' }).iqra.baseUrl).toBe(
      'https://proxy.example/iqra',
    );
    expect(loadConfig({ ...base, IQRA_BASE_URL: 'https://proxy.example/api/v1-beta' }).iqra.baseUrl).toBe(
      'https://proxy.example/api/v1-beta',
    );
    // A value that is not a URL at all is told so, once.
    expect(problems({ ...base, IQRA_BASE_URL: 'app.iqra.bot/api/v1' })).toEqual([
      expect.stringMatching(/^IQRA_BASE_URL: must be an http\(s\) URL with its scheme/),
    ]);
  });

  it('never shows the password or a token of a refused URL', () => {
    const found = problems({
      ...base,
      IQRA_BASE_URL: 'https://ops:hunter2-pass@proxy.example/iqra/api/v1',
      SLACK_API_URL: 'ftp://bot:slack-pass@slack.example/api?token=tok-value',
    }).join('\n');
    expect(found).toContain('such as https://ops:***@proxy.example/iqra ');
    expect(found).toContain('(got "ftp://bot:***@slack.example/api?token=***")');
    for (const secret of ['hunter2-pass', 'slack-pass', 'tok-value']) expect(found).not.toContain(secret);
  });

  it('reports a malformed agent or number list once, not also as missing', () => {
    expect(problems({ ...base, IQRA_AGENTS: 'sales:agent_1' })).toEqual([
      'IQRA_AGENTS: "sales:agent_1" is not alias=Id (write it like sales=6650f0c2a1b2c3d4e5f60718)',
    ]);
    expect(problems({ ...base, IQRA_NUMBERS: 'main num_1' })).toHaveLength(1);
    expect(problems({ ...base, IQRA_AGENTS: ',' })[0]).toMatch(/^IQRA_AGENTS: is required/);
  });

  it('says so, naming .env, when the .env file cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iqra-env-'));
    mkdirSync(join(dir, '.env'));
    let caught: unknown;
    try {
      readEnvironment({}, join(dir, '.env'));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([
      expect.stringMatching(/\.env: cannot be read \(EISDIR\): make it a file readable/),
    ]);
  });

  it('documents every setting in the README table and in .env.example', () => {
    const root = join(import.meta.dirname, '..');
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    expect(SETTING_NAMES.length).toBeGreaterThan(30);
    for (const name of SETTING_NAMES) {
      expect(readme, name).toContain(`| \`${name}\` |`);
      expect(example, name).toMatch(new RegExp(`^${name}=`, 'm'));
    }
  });
});
