import { afterEach, describe, expect, it } from 'vitest';
import { parseCallCommand } from '../../../../src/calls/command.js';
import { CallRequestError } from '../../../../src/calls/errors.js';
import { type FakeIqra, fakeBusiness, startFakeIqra } from '../../../support/fake-iqra.js';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

const ADMIN = 'U0ADMIN01';

let app: TestApp | undefined;
/** Stand-ins a test started itself (the app closes only its own). */
const standIns: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const s of standIns.splice(0)) await s.close();
});

async function start(o: { env?: Record<string, string>; fakeIqra?: FakeIqra } = {}): Promise<TestApp> {
  app = await startTestApp({
    iqra: { mode: 'server' },
    ...(o.fakeIqra ? { fakeIqra: o.fakeIqra } : {}),
    env: { CALL_ADMINS: ADMIN, CALLING_HOURS: '08:00-21:00', IQRA_DEFAULT_CAMPAIGN: 'sales', ...o.env },
  });
  app.iqra.business(
    fakeBusiness({
      agents: ['agent_sales_01', 'agent_support_02'],
      numbers: ['num_main_01'],
      campaigns: ['camp_sales_01'],
    }),
  );
  app.slack.handle('auth.test', () => ({
    headers: {
      'x-oauth-scopes':
        'commands,chat:write,chat:write.public,users:read,usergroups:read,files:read,files:write',
    },
    body: { ok: true, team: 'Acme', user: 'iqra_calls', team_id: 'T0001', user_id: 'UBOT' },
  }));
  return app;
}

describe('/call doctor', () => {
  it('is refused to someone who is not an admin, privately, without checking anything', async () => {
    const a = await start();
    const sent = await a.command('doctor', { user: 'U0MARIA1' });
    expect(sent.status).toBe(200);
    const reply = await a.slack.waitFor(() => a.slack.responses[0], 'the refusal');
    expect(reply.body).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(reply.body)).toContain(`Only admins (<@${ADMIN}>) can run the doctor.`);
    expect(a.iqra.businessRequests).toHaveLength(0);
    const [entry] = await a.store.auditLog('T0001', 1);
    expect(entry).toMatchObject({ actor: 'U0MARIA1', action: 'refused:doctor' });
  });

  it('answers an admin privately with every check, and posts nothing and places no call', async () => {
    const a = await start();
    const sent = await a.command('doctor', { user: ADMIN });
    // The ack says nothing: the report follows through response_url once the checks are done.
    expect(sent.status).toBe(200);
    expect(sent.body).toBe('');
    const reply = await a.slack.waitFor(() => a.slack.responses[0], 'the report');
    expect(reply.path).toBe(new URL(sent.responseUrl).pathname);
    expect(reply.body.response_type).toBe('ephemeral');
    const blocks = JSON.stringify(reply.body.blocks);
    expect(blocks).toContain('🩺 Iqra Calls doctor');
    expect(blocks).toContain('✅ Nothing is broken: 0 problems, 0 warnings');
    for (const part of ['*Slack*', '*Iqra*', '*Database*', '*Guards*']) expect(blocks).toContain(part);
    expect(blocks).toContain(
      '✅ `IQRA_AGENTS`: `sales` (Agent agent_sales_01), `support` (Agent agent_support_02) exist',
    );
    expect(a.iqra.businessRequests).toHaveLength(1);
    expect(a.iqra.requests).toHaveLength(0);
    expect(a.slack.callsOf('chat.postMessage')).toHaveLength(0);
  });

  it('shows IQRA_BASE_URL without the password it carries', async () => {
    // A proxy in front of Iqra that wants a password (the fake Iqra answers all the same).
    const iqra = await startFakeIqra({ mode: 'server' });
    standIns.push(iqra);
    const host = new URL(iqra.url).host;
    const a = await start({ fakeIqra: iqra, env: { IQRA_BASE_URL: `http://ops:hunter2-pass@${host}` } });
    await a.command('doctor', { user: ADMIN });
    const reply = await a.slack.waitFor(() => a.slack.responses[0], 'the report');
    expect(JSON.stringify(reply.body.blocks)).toContain(
      `✅ \`IQRA_BASE_URL\` (\`http://ops:***@${host}\`) answers as Iqra's API.`,
    );
    expect(JSON.stringify(reply.body)).not.toContain('hunter2-pass');
    expect(JSON.stringify(a.logs)).not.toContain('hunter2-pass');
  });

  it('reports what is wrong, e.g. an agent the business does not have', async () => {
    const a = await start();
    a.iqra.business(
      fakeBusiness({ agents: ['agent_sales_01'], numbers: ['num_main_01'], campaigns: ['camp_sales_01'] }),
    );
    await a.command('doctor', { user: ADMIN });
    const reply = await a.slack.waitFor(() => a.slack.responses[0], 'the report');
    expect(String(reply.body.text)).toContain(
      '❌ `IQRA_AGENTS`: `support` (`agent_support_02`) is not an agent',
    );
  });
});

describe('parsing `/call doctor`', () => {
  it('reads the word in any case, and nothing after it', () => {
    expect(parseCallCommand('doctor')).toEqual({ kind: 'doctor' });
    expect(parseCallCommand('  Doctor ')).toEqual({ kind: 'doctor' });
    expect(() => parseCallCommand('doctor now')).toThrow(CallRequestError);
  });
});
