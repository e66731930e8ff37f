import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processesPerTest } from './support/app-process.js';
import { type FakeIqra, startFakeIqra } from './support/fake-iqra.js';
import { type FakeSlack, startFakeSlack } from './support/fake-slack.js';
import { BOT_TOKEN, SIGNING_SECRET, testEnv } from './support/test-app.js';

/** The app as an operator starts it, with one setting wrong: a clear reason on stderr, no stack trace, status 1. */
const processes = processesPerTest();

async function standIns(): Promise<{ slack: FakeSlack; iqra: FakeIqra }> {
  const slack = await startFakeSlack();
  const iqra = await startFakeIqra();
  processes.closeAfter(slack, iqra);
  return { slack, iqra };
}

function start(
  env: Record<string, string | undefined>,
  cwd = mkdtempSync(join(tmpdir(), 'iqra-calls-')),
  args: string[] = [],
) {
  return processes.start({ DATABASE_PATH: join(cwd, 'calls.sqlite'), ...env }, cwd, args);
}

async function busyPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  processes.closeAfter({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return (server.address() as { port: number }).port;
}

const STACK_LINE = /^\s+at /m;

describe('start-up with a wrong setting', () => {
  it('exits 1 naming METRICS_PORT, without a stack trace, when that port is taken', async () => {
    const { slack, iqra } = await standIns();
    const port = await busyPort();
    const p = start(testEnv(slack, iqra, { METRICS_PORT: String(port) }));
    expect(await p.exited).toBe(1);
    const err = p.stderr.join('');
    expect(err).toContain('Iqra Calls for Slack cannot start: Could not listen on METRICS_PORT (EADDRINUSE)');
    expect(err).not.toMatch(STACK_LINE);
  });

  it('exits 1 naming PORT, without a stack trace, when the Socket Mode health port is taken', async () => {
    const { slack, iqra } = await standIns();
    const port = await busyPort();
    const p = start(
      testEnv(slack, iqra, {
        SLACK_APP_TOKEN: 'xapp-1-A0001-test',
        SLACK_SIGNING_SECRET: '',
        PORT: String(port),
      }),
    );
    expect(await p.exited).toBe(1);
    const err = p.stderr.join('');
    expect(err).toContain(
      'Iqra Calls for Slack cannot start: Could not listen on PORT for /healthz (EADDRINUSE)',
    );
    expect(err).not.toMatch(STACK_LINE);
  });

  // The Socket Mode client would retry these answers of apps.connections.open forever, never ready and silent.
  for (const [error, fix] of [
    ['missing_scope', 'give the app-level token the connections:write scope'],
    ['not_allowed_token_type', 'it must be an app-level token (xapp-…) with the connections:write scope'],
    ['invalid_auth', 'create an app-level token with the connections:write scope'],
  ]) {
    it(`exits 1 saying what to do, without a stack trace, when Slack answers the app token with ${error}`, async () => {
      const { slack, iqra } = await standIns();
      const appToken = 'xapp-1-A0001-1111-appsecretpart';
      slack.handle('apps.connections.open', () => ({
        body: { ok: false, error, ...(error === 'missing_scope' ? { needed: 'connections:write' } : {}) },
      }));
      const p = start(testEnv(slack, iqra, { SLACK_APP_TOKEN: appToken, SLACK_SIGNING_SECRET: '' }));
      const timeout = new Promise<string>((resolve) =>
        setTimeout(() => resolve('still running after 10 s'), 10_000),
      );
      expect(await Promise.race([p.exited, timeout])).toBe(1);
      const err = p.stderr.join('');
      expect(err).toContain(
        `Iqra Calls for Slack cannot start: Slack refused SLACK_APP_TOKEN (${error}): ${fix}`,
      );
      expect(err).not.toMatch(STACK_LINE);
      expect(err).not.toContain('appsecretpart');
      expect(slack.callsOf('apps.connections.open')[0]?.token).toBe(appToken);
    });
  }

  it('exits 1 when a secret was pasted with its quotes, naming it and never printing it', async () => {
    const { slack, iqra } = await standIns();
    const p = start(testEnv(slack, iqra, { SLACK_SIGNING_SECRET: `"${SIGNING_SECRET}"` }));
    expect(await p.exited).toBe(1);
    const err = p.stderr.join('');
    expect(err).toContain('SLACK_SIGNING_SECRET: is wrapped in quotes');
    expect(err).not.toContain(SIGNING_SECRET);
    expect(slack.callsOf('auth.test')).toHaveLength(0);
  });

  it('refuses an unknown argument (a typo of --check) with status 2, rather than starting the bot', async () => {
    const { slack, iqra } = await standIns();
    const p = start(testEnv(slack, iqra), undefined, ['--chek']);
    expect(await p.exited).toBe(2);
    expect(p.stderr.join('')).toContain('unknown argument "--chek"');
    expect(p.stderr.join('')).toContain('--check');
    expect(slack.callsOf('auth.test')).toHaveLength(0);
  });

  it('reads the first variable of a .env file saved with a byte-order mark (Notepad, PowerShell)', async () => {
    const { slack, iqra } = await standIns();
    const cwd = mkdtempSync(join(tmpdir(), 'iqra-calls-'));
    writeFileSync(join(cwd, '.env'), `\uFEFFSLACK_BOT_TOKEN=${BOT_TOKEN}\r\nLOG_LEVEL=info\r\n`);
    const p = start(testEnv(slack, iqra, { SLACK_BOT_TOKEN: undefined }), cwd);
    await p.ready();
    expect(p.stderr.join('')).not.toContain('SLACK_BOT_TOKEN');
    expect(slack.callsOf('auth.test')[0]?.token).toBe(BOT_TOKEN);
  });

  it("exits 1 when IQRA_BASE_URL is the endpoint copied from Iqra's reference, saying the address to use", async () => {
    const { slack, iqra } = await standIns();
    const endpoint = `${iqra.url}/api/v1/business/${iqra.businessId}/call/initiate`;
    const p = start(testEnv(slack, iqra, { IQRA_BASE_URL: endpoint }));
    expect(await p.exited).toBe(1);
    const err = p.stderr.join('');
    expect(err).toContain(
      `IQRA_BASE_URL: must be the server's address without /api/v1/business/${iqra.businessId}/call/initiate, such as ${iqra.url} (`,
    );
    expect(err).not.toMatch(STACK_LINE);
    expect(slack.callsOf('auth.test')).toHaveLength(0);
  });

  it('exits 1 naming .env, without a stack trace, when .env cannot be read', async () => {
    const { slack, iqra } = await standIns();
    const cwd = mkdtempSync(join(tmpdir(), 'iqra-calls-'));
    mkdirSync(join(cwd, '.env'));
    const p = start(testEnv(slack, iqra), cwd);
    expect(await p.exited).toBe(1);
    const err = p.stderr.join('');
    expect(err).toContain('.env: cannot be read (EISDIR)');
    expect(err).not.toMatch(STACK_LINE);
  });
});
