import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AppProcess, processesPerTest } from './support/app-process.js';
import { fakeBusiness, startFakeIqra } from './support/fake-iqra.js';
import { startFakeSlack } from './support/fake-slack.js';
import { testEnv } from './support/test-app.js';

const { start, closeAfter } = processesPerTest();

async function standIns() {
  const slack = await startFakeSlack();
  const iqra = await startFakeIqra({ mode: 'server' });
  closeAfter(slack, iqra);
  slack.handle('auth.test', () => ({
    headers: {
      'x-oauth-scopes':
        'commands,chat:write,chat:write.public,users:read,usergroups:read,files:read,files:write',
    },
    body: { ok: true, team: 'Acme', user: 'iqra_calls', team_id: 'T0001', user_id: 'UBOT' },
  }));
  return { slack, iqra };
}

function check(env: Record<string, string | undefined>): AppProcess {
  const cwd = mkdtempSync(join(tmpdir(), 'iqra-calls-'));
  return start({ DATABASE_PATH: join(cwd, 'calls.sqlite'), ...env }, cwd, ['--check']);
}

const GOOD = { CALL_ADMINS: 'U0ADMIN01', CALLING_HOURS: '08:00-21:00', IQRA_DEFAULT_CAMPAIGN: 'sales' };

describe('npm start -- --check', () => {
  it('prints the report and exits 0 when nothing is ❌, without starting the Slack receiver', async () => {
    const { slack, iqra } = await standIns();
    iqra.business(
      fakeBusiness({
        agents: ['agent_sales_01', 'agent_support_02'],
        numbers: ['num_main_01'],
        campaigns: ['camp_sales_01'],
      }),
    );
    const p = check({ ...testEnv(slack, iqra), ...GOOD });
    expect(await p.exited).toBe(0);
    const out = p.stdout.join('');
    expect(out.split('\n')[0]).toMatch(/^Iqra Calls for Slack: check: 0 problems, 0 warnings, \d+ fine$/);
    for (const part of ['\nSlack\n', '\nIqra\n', '\nDatabase\n', '\nGuards\n']) expect(out).toContain(part);
    expect(out).toContain('  ✅ Migrations are current');
    expect(out.trimEnd().split('\n').at(-1)).toBe('Result: OK (nothing is ❌).');
    // The report alone on stdout: no JSON log lines, and never "ready" (nothing listened for Slack).
    expect(out).not.toContain('{"time"');
    expect(p.stderr.join('')).not.toContain('"msg":"ready"');
    expect(iqra.businessRequests).toHaveLength(1);
    expect(iqra.requests).toHaveLength(0);
    expect(slack.callsOf('chat.postMessage')).toHaveLength(0);
  });

  it('exits 1, naming what to fix, when something is ❌', async () => {
    const { slack, iqra } = await standIns();
    iqra.business(
      fakeBusiness({ agents: ['agent_sales_01'], numbers: ['num_main_01'], campaigns: ['camp_sales_01'] }),
    );
    const p = check({ ...testEnv(slack, iqra), ...GOOD, IQRA_API_KEY: 'iu_wrong_key' });
    expect(await p.exited).toBe(1);
    const out = p.stdout.join('');
    expect(out).toContain('  ❌ Iqra refused `IQRA_API_KEY`');
    expect(out).toMatch(/❌ Iqra refused `IQRA_API_KEY`[^\n]*\n {5}Fix: /);
    expect(out.trimEnd().split('\n').at(-1)).toBe('Result: NOT READY (fix the ❌ lines, then check again).');
    expect(out + p.stderr.join('')).not.toContain('iu_wrong_key');
  });

  it('exits 1 when the business lacks a configured agent', async () => {
    const { slack, iqra } = await standIns();
    iqra.business(
      fakeBusiness({ agents: ['agent_sales_01'], numbers: ['num_main_01'], campaigns: ['camp_sales_01'] }),
    );
    const p = check({ ...testEnv(slack, iqra), ...GOOD });
    expect(await p.exited).toBe(1);
    expect(p.stdout.join('')).toContain('❌ `IQRA_AGENTS`: `support` (`agent_support_02`) is not an agent');
  });

  it('refuses a URL in DATABASE_PATH, never printing its password nor making a file of it', async () => {
    const { slack, iqra } = await standIns();
    iqra.business(
      fakeBusiness({
        agents: ['agent_sales_01', 'agent_support_02'],
        numbers: ['num_main_01'],
        campaigns: ['camp_sales_01'],
      }),
    );
    const cwd = mkdtempSync(join(tmpdir(), 'iqra-calls-'));
    const p = start(
      {
        ...testEnv(slack, iqra),
        ...GOOD,
        DATABASE_PATH: 'postgres://calls:db-hunter2@db.example:5432/calls',
      },
      cwd,
      ['--check'],
    );
    expect(await p.exited).toBe(1);
    const said = p.stdout.join('') + p.stderr.join('');
    expect(said).toContain('DATABASE_PATH: must be the path of a SQLite file');
    expect(said).toContain('put a PostgreSQL URL in DATABASE_URL');
    expect(said).not.toContain('db-hunter2');
    expect(existsSync(join(cwd, 'postgres:'))).toBe(false);
  });
});
