import { webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { iqraClientFor } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import {
  type DoctorCheck,
  type DoctorStore,
  doctorExitCode,
  renderDoctorText,
  runDoctor,
} from '../../src/services/doctor.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import {
  type FakeBusinessContents,
  type FakeIqra,
  fakeBusiness,
  startFakeIqra,
} from '../support/fake-iqra.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { BOT_TOKEN, testEnv } from '../support/test-app.js';

const ALL_SCOPES = 'commands,chat:write,chat:write.public,users:read,usergroups:read,files:read,files:write';
/** What the test settings configure (test-app.ts): sales, support; main; the sales campaign. */
const EVERYTHING: FakeBusinessContents = {
  name: 'Acme Sales',
  agents: [
    { id: 'agent_sales_01', name: 'Sales' },
    { id: 'agent_support_02', name: 'Support' },
  ],
  numbers: [{ id: 'num_main_01', number: '+14155550100' }],
  campaigns: [{ id: 'camp_sales_01', name: 'Spring promo' }],
};

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

interface Setup {
  env?: Record<string, string | undefined> | ((iqra: FakeIqra) => Record<string, string | undefined>);
  mode?: 'reference' | 'server';
  /** The business the fake Iqra answers; `null` leaves it unset. */
  business?: FakeBusinessContents | null;
  /** The x-oauth-scopes header of auth.test; `null` sends none. */
  scopes?: string | null;
  /** Replaces the real (in-memory SQLite) store. */
  store?: DoctorStore;
  /** Called with the stand-ins before the doctor runs. */
  before?: (slack: FakeSlack, iqra: FakeIqra) => void | Promise<void>;
}

async function doctor(o: Setup = {}): Promise<{ checks: DoctorCheck[]; slack: FakeSlack; iqra: FakeIqra }> {
  const slack = await startFakeSlack();
  const iqra = await startFakeIqra({ mode: o.mode ?? 'server' });
  open.push(slack, iqra);
  const config = loadConfig(
    testEnv(slack, iqra, {
      DATABASE_PATH: ':memory:',
      CALLING_HOURS: '08:00-21:00',
      CALL_ADMINS: 'U0ADMIN01',
      IQRA_DEFAULT_CAMPAIGN: 'sales',
      ...(typeof o.env === 'function' ? o.env(iqra) : o.env),
    }),
  );
  if (o.business !== null) iqra.business(fakeBusiness(o.business ?? EVERYTHING));
  const scopes = o.scopes === undefined ? ALL_SCOPES : o.scopes;
  slack.handle('auth.test', () => ({
    ...(scopes === null ? {} : { headers: { 'x-oauth-scopes': scopes } }),
    body: {
      ok: true,
      url: 'https://acme.slack.com/',
      team: 'Acme',
      user: 'iqra_calls',
      team_id: 'T0001',
      user_id: 'UBOT',
    },
  }));
  let store: DoctorStore | undefined = o.store;
  if (!store) {
    const real: Store = await openStore(config.store);
    await real.migrate();
    open.push(real);
    store = real;
  }
  const client = iqraClientFor(config);
  open.push(client);
  await o.before?.(slack, iqra);
  const checks = await runDoctor({
    config,
    slack: new webApi.WebClient(BOT_TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }),
    readBusiness: () => client.getBusiness(),
    store,
  });
  return { checks, slack, iqra };
}

const failures = (checks: DoctorCheck[]) => checks.filter((c) => c.status === 'fail');
const warnings = (checks: DoctorCheck[]) => checks.filter((c) => c.status === 'warn');
const find = (checks: DoctorCheck[], text: string) => checks.find((c) => c.text.includes(text));

describe('the doctor, against stand-ins for Slack and Iqra and a real database', () => {
  it('says all is well (every line ✅) when everything is wired, and exits 0', async () => {
    const { checks, iqra } = await doctor();
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(checks.map((c) => c.section)).toEqual(
      expect.arrayContaining(['slack', 'iqra', 'store', 'guards']),
    );
    expect(find(checks, 'The bot token works')?.text).toContain('@iqra_calls in Acme (T0001)');
    expect(find(checks, '`IQRA_API_KEY` is accepted')?.text).toContain('“Acme Sales”');
    expect(find(checks, '`IQRA_AGENTS`')?.text).toBe(
      '`IQRA_AGENTS`: `sales` (Sales), `support` (Support) exist in the business.',
    );
    expect(find(checks, '`IQRA_NUMBERS`')?.status).toBe('ok');
    expect(find(checks, '`IQRA_CAMPAIGNS`')?.status).toBe('ok');
    expect(find(checks, 'open-source server')?.status).toBe('ok');
    expect(find(checks, 'Migrations are current')?.status).toBe('ok');
    expect(find(checks, 'Calling hours')?.text).toContain('08:00–21:00, every day');
    expect(doctorExitCode(checks)).toBe(0);
    // One read of the business, with the key, and nothing else: no call was placed.
    expect(iqra.businessRequests).toHaveLength(1);
    expect(iqra.businessRequests[0]?.headers.authorization).toBe(`Token ${iqra.apiKey}`);
    expect(iqra.requests).toHaveLength(0);
  });

  it('names IQRA_AGENTS and the alias when the business lacks a configured agent', async () => {
    const { checks } = await doctor({
      business: { ...EVERYTHING, agents: [{ id: 'agent_sales_01', name: 'Sales' }] },
    });
    const [problem, ...others] = failures(checks);
    expect(others).toEqual([]);
    expect(problem).toMatchObject({ section: 'iqra', status: 'fail' });
    expect(problem?.text).toContain('`IQRA_AGENTS`');
    expect(problem?.text).toContain('`support` (`agent_support_02`) is not an agent of business 12345');
    expect(problem?.fix).toContain('It has: Sales (`agent_sales_01`)');
    expect(doctorExitCode(checks)).toBe(1);
  });

  it('names the numbers and campaigns that are missing, and a number with voice turned off', async () => {
    const { checks } = await doctor({
      business: {
        ...EVERYTHING,
        numbers: [{ id: 'num_main_01', voiceEnabled: false }],
        campaigns: [],
      },
    });
    expect(find(checks, '`IQRA_CAMPAIGNS`')).toMatchObject({ status: 'fail' });
    expect(find(checks, '`IQRA_CAMPAIGNS`')?.fix).toContain('The business has no campaigns.');
    expect(find(checks, 'voice turned off')).toMatchObject({ status: 'fail' });
  });

  it.each(['server', 'reference'] as const)('says Iqra refused the API key (%s mode)', async (mode) => {
    const { checks, iqra } = await doctor({ mode, env: { IQRA_API_KEY: 'iu_wrong_key' } });
    expect(iqra.businessRequests).toHaveLength(1);
    const [problem, ...others] = failures(checks);
    expect(others).toEqual([]);
    expect(problem?.text).toContain('Iqra refused `IQRA_API_KEY`');
    expect(problem?.fix).toContain('API key');
    // The base URL did answer; the lists were not checked.
    expect(find(checks, 'answers as Iqra')?.status).toBe('ok');
    expect(find(checks, 'were not checked')?.status).toBe('warn');
    expect(JSON.stringify(checks)).not.toContain('iu_wrong_key');
  });

  it('says Iqra cannot be reached when nothing answers at IQRA_BASE_URL', async () => {
    const { checks } = await doctor({ before: async (_slack, iqra) => iqra.close() });
    const problem = failures(checks);
    expect(problem).toHaveLength(1);
    expect(problem[0]?.text).toContain('could not be reached at `IQRA_BASE_URL`');
    expect(problem[0]?.text).toContain('ECONNREFUSED');
    expect(problem[0]?.fix).toContain('IQRA_BASE_URL');
  });

  // A base ending in /api/v1 is refused by loadConfig already; /api alone may be a proxy's prefix, so only the doctor
  // can tell, from the 404.
  it('says IQRA_BASE_URL should not end in /api when it answers 404', async () => {
    const { checks } = await doctor({ env: (iqra) => ({ IQRA_BASE_URL: `${iqra.url}/api` }) });
    const [problem, ...others] = failures(checks);
    expect(others).toEqual([]);
    expect(problem?.text).toContain("answers, but not as Iqra's API (HTTP 404)");
    expect(problem?.fix).toContain('without `/api`');
  });

  it('says which business the key may not read', async () => {
    const { checks } = await doctor({
      before: (_slack, iqra) =>
        iqra.business({ code: 'GetBusiness:ValidateAPIUserAndBusinessSessionAsync:BUSINESS_NOT_FOUND' }),
    });
    expect(failures(checks)[0]?.text).toContain('Iqra refused access to business 12345');
    expect(failures(checks)[0]?.fix).toContain('IQRA_BUSINESS_ID');
  });

  it('fails on a missing scope the app needs, and warns about one it wants', async () => {
    const { checks } = await doctor({ scopes: 'commands,chat:write,files:read,files:write' });
    const problem = failures(checks);
    expect(problem).toHaveLength(1);
    expect(problem[0]?.text).toContain("Missing scope: `users:read` (to read each rep's time zone)");
    expect(problem[0]?.fix).toContain('reinstall');
    expect(find(checks, '`chat:write.public`')?.status).toBe('warn');
  });

  it('warns, without failing, when the scopes batches need are missing', async () => {
    const { checks } = await doctor({ scopes: 'commands,chat:write,chat:write.public,users:read' });
    const files = find(checks, 'files:read');
    expect(files).toMatchObject({ status: 'warn' });
    expect(files?.text).toContain('`files:write`');
    expect(files?.text).toContain('cannot read an uploaded CSV file');
    expect(checks.filter((c) => c.section === 'slack' && c.status === 'fail')).toHaveLength(0);
  });

  it('warns about usergroups:read only when a setting names a user group', async () => {
    const scopes = 'commands,chat:write,chat:write.public,users:read';
    const without = await doctor({ scopes });
    expect(find(without.checks, 'usergroups:read')).toBeUndefined();
    const withGroup = await doctor({
      scopes,
      env: { CALL_ADMINS: 'S0ADMINS1' },
      before: (slack) =>
        slack.handle('usergroups.users.list', () => ({ body: { ok: false, error: 'missing_scope' } })),
    });
    expect(find(withGroup.checks, 'Missing scope `usergroups:read`')).toMatchObject({ status: 'warn' });
    const group = find(withGroup.checks, 'S0ADMINS1');
    expect(group).toMatchObject({ section: 'guards', status: 'fail' });
    expect(group?.text).toBe(
      '`CALL_ADMINS`: the user group S0ADMINS1 could not be read (missing_scope), so its members are not admins.',
    );
    expect(group?.fix).toContain('`usergroups:read`');
  });

  it('warns, without failing, when Slack does not say which scopes the token has', async () => {
    const { checks } = await doctor({ scopes: null });
    expect(failures(checks)).toEqual([]);
    expect(find(checks, 'x-oauth-scopes')?.status).toBe('warn');
  });

  it('fails when Slack rejects the bot token', async () => {
    const { checks } = await doctor({
      before: (slack) => slack.handle('auth.test', () => ({ body: { ok: false, error: 'invalid_auth' } })),
    });
    expect(failures(checks)[0]?.text).toBe('Slack rejected `SLACK_BOT_TOKEN` (invalid_auth).');
  });

  it('checks the log and approval channels without posting in them', async () => {
    const { checks, slack } = await doctor({
      env: {
        CALL_LOG_CHANNEL: 'C0LOGS0001',
        CALL_APPROVAL_CHANNEL: 'G0APPROVE1',
        CALL_APPROVAL: 'always',
        CALL_APPROVERS: 'U0BOSS001,U0BOSS002',
      },
      before: (slack) =>
        slack.handle('conversations.info', (args) =>
          args.channel === 'C0LOGS0001'
            ? {
                body: {
                  ok: true,
                  channel: { id: 'C0LOGS0001', name: 'call-log', is_member: false, is_private: false },
                },
              }
            : {
                body: {
                  ok: true,
                  channel: { id: 'G0APPROVE1', name: 'approvals', is_member: false, is_private: true },
                },
              },
        ),
    });
    expect(find(checks, '`CALL_LOG_CHANNEL`')).toMatchObject({ status: 'ok' });
    expect(find(checks, '`CALL_LOG_CHANNEL`')?.text).toContain('#call-log is public and `chat:write.public`');
    const approval = find(checks, '`CALL_APPROVAL_CHANNEL`');
    expect(approval).toMatchObject({ status: 'fail' });
    expect(approval?.text).toContain('not in #approvals (a private channel)');
    expect(approval?.fix).toBe('Invite the bot in that channel: /invite @iqra_calls.');
    expect(slack.callsOf('chat.postMessage')).toHaveLength(0);
    expect(slack.callsOf('chat.scheduleMessage')).toHaveLength(0);
  });

  it('fails for a channel Slack does not know, and warns when it may not look (no channels:read)', async () => {
    const missing = await doctor({
      env: { CALL_LOG_CHANNEL: 'C0NOWHERE1' },
      before: (slack) =>
        slack.handle('conversations.info', () => ({ body: { ok: false, error: 'channel_not_found' } })),
    });
    expect(find(missing.checks, 'C0NOWHERE1')).toMatchObject({ status: 'fail' });
    const noScope = await doctor({
      env: { CALL_LOG_CHANNEL: 'C0LOGS0001' },
      before: (slack) =>
        slack.handle('conversations.info', () => ({ body: { ok: false, error: 'missing_scope' } })),
    });
    const check = find(noScope.checks, 'C0LOGS0001');
    expect(check).toMatchObject({ status: 'warn' });
    expect(check?.text).toContain('`channels:read`');
  });

  it('infers the request format: warns when `fields` meets the open-source server', async () => {
    const fields = await doctor({ env: { IQRA_REQUEST_FORMAT: 'fields' } });
    const check = find(fields.checks, 'open-source server');
    expect(check).toMatchObject({ status: 'warn' });
    expect(check?.text).toContain('FORM_DATA_CONFIG_NOT_FOUND');
    expect(check?.fix).toContain('IQRA_REQUEST_FORMAT=both');
    // `both` without a campaign for every agent: the open-source server would refuse those calls.
    const both = await doctor({ env: { IQRA_DEFAULT_CAMPAIGN: undefined } });
    expect(find(both.checks, 'open-source server')?.text).toContain('calls with `support` have none');
    expect(find(both.checks, 'open-source server')?.status).toBe('warn');
  });

  it('expands user groups and counts the people in them', async () => {
    const { checks } = await doctor({
      env: {
        CALL_ALLOWED_USERS: 'S0SALES01,U0MARIA1',
        CALL_ADMINS: 'U0ADMIN01 S0SALES01',
        CALL_APPROVAL: 'unlisted',
        CALL_APPROVERS: 'S0BOSSES1',
        CALL_APPROVAL_EXEMPT: 'S0SALES01',
      },
      before: (slack) =>
        slack.handle('usergroups.users.list', (args) => ({
          body: {
            ok: true,
            users:
              args.usergroup === 'S0SALES01'
                ? ['U0MARIA1', 'U0JOHN01', 'U0ANNA01']
                : ['U0BOSS001', 'U0BOSS002'],
          },
        })),
    });
    expect(checks.filter((c) => c.section === 'guards' && c.status !== 'ok')).toEqual([]);
    expect(find(checks, 'Who may call')?.text).toBe(
      'Who may call (`CALL_ALLOWED_USERS`): 3 people (U0MARIA1 and the 3 members of S0SALES01), from any channel.',
    );
    expect(find(checks, 'Admins')?.text).toContain('4 admins (U0ADMIN01 and the 3 members of S0SALES01)');
    expect(find(checks, 'Approvals')?.text).toContain('2 approvers (the 2 members of S0BOSSES1)');
    expect(find(checks, 'Exempt from approval')?.text).toContain('3 people');
  });

  it('fails when nobody can approve, and warns about a lone approver and missing admins', async () => {
    const nobody = await doctor({
      env: { CALL_APPROVAL: 'always', CALL_APPROVERS: 'S0EMPTY01', CALL_ADMINS: undefined },
      before: (slack) => slack.handle('usergroups.users.list', () => ({ body: { ok: true, users: [] } })),
    });
    expect(find(nobody.checks, 'nobody can approve')).toMatchObject({ status: 'fail' });
    expect(find(nobody.checks, 'No admins')).toMatchObject({ status: 'warn' });
    const lone = await doctor({ env: { CALL_APPROVAL: 'scheduled', CALL_APPROVERS: 'U0BOSS001' } });
    expect(find(lone.checks, 'one approver')).toMatchObject({ status: 'warn' });
  });

  it('warns when calling hours allow any hour', async () => {
    const { checks } = await doctor({ env: { CALLING_HOURS: '00:00-24:00' } });
    expect(find(checks, 'Calling hours')).toMatchObject({ status: 'warn' });
  });

  it('fails when the database does not answer or its migrations are behind', async () => {
    const down = await doctor({
      store: {
        ping: () => Promise.reject(new Error('connection refused')),
        schemaVersion: () => Promise.reject(new Error('connection refused')),
      },
    });
    expect(failures(down.checks)).toEqual([
      expect.objectContaining({ section: 'store', text: 'The database does not answer: connection refused' }),
    ]);
    const { MIGRATION_NAMES, LATEST_MIGRATION } = await import('../../src/store/migrations.js');
    const behind = await doctor({
      store: {
        ping: async () => {},
        schemaVersion: async () => ({ applied: MIGRATION_NAMES[0], latest: LATEST_MIGRATION }),
      },
    });
    const check = find(behind.checks, 'not applied');
    expect(check).toMatchObject({ section: 'store', status: 'fail' });
    expect(check?.fix).toContain('Restart the app');
  });

  it('shows IQRA_BASE_URL and DATABASE_URL without the password or the secret parameters they carry', async () => {
    const { LATEST_MIGRATION } = await import('../../src/store/migrations.js');
    const env = (iqra: FakeIqra) => ({
      // A proxy in front of Iqra that wants a password (the fake Iqra answers all the same).
      IQRA_BASE_URL: `http://ops:hunter2-pass@${new URL(iqra.url).host}`,
      DATABASE_URL:
        'postgres://calls:pg-pass@127.0.0.1:5432/calls?sslpassword=ssl-pass&application_name=iqra',
    });
    const store: DoctorStore = {
      ping: async () => {},
      schemaVersion: async () => ({ applied: LATEST_MIGRATION, latest: LATEST_MIGRATION }),
    };
    const secrets = ['hunter2-pass', 'pg-pass', 'ssl-pass'];

    const up = await doctor({ env, store });
    expect(find(up.checks, 'answers as Iqra')?.text).toBe(
      `\`IQRA_BASE_URL\` (\`http://ops:***@${new URL(up.iqra.url).host}\`) answers as Iqra's API.`,
    );
    expect(find(up.checks, 'The database answers')?.text).toBe(
      'The database answers (PostgreSQL, postgres://calls:***@127.0.0.1:5432/calls?sslpassword=***&application_name=iqra).',
    );
    const report = renderDoctorText(up.checks);
    for (const secret of secrets) expect(report).not.toContain(secret);

    const down = await doctor({ env, store, before: async (_slack, iqra) => iqra.close() });
    expect(failures(down.checks)[0]?.text).toContain(
      `could not be reached at \`IQRA_BASE_URL\` (\`http://ops:***@${new URL(down.iqra.url).host}\`)`,
    );
    for (const secret of secrets) expect(JSON.stringify(down.checks)).not.toContain(secret);
  });

  it('prints the report as plain text, fixes under their lines', async () => {
    const { checks } = await doctor({ scopes: 'commands,chat:write,files:read,files:write' });
    const text = renderDoctorText(checks);
    expect(text.split('\n')[0]).toBe(
      `Iqra Calls for Slack: check: 1 problem, 1 warning, ${checks.length - 2} fine`,
    );
    expect(text).toContain(
      '\nSlack\n  ✅ The bot token works: @iqra_calls in Acme (T0001).\n  ❌ Missing scope: `users:read`',
    );
    expect(text).toMatch(/❌ Missing scope[^\n]*\n {5}Fix: Add it under OAuth & Permissions/);
    expect(text.trimEnd().split('\n').at(-1)).toBe('Result: NOT READY (fix the ❌ lines, then check again).');
    expect(warnings(checks)).toHaveLength(1);
  });
});
