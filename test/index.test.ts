import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type AppProcess, processesPerTest } from './support/app-process.js';
import { startFakeIqra } from './support/fake-iqra.js';
import { startFakeSlack } from './support/fake-slack.js';
import { postSigned, slashCommandBody } from './support/slack-signature.js';
import { BOT_TOKEN, SIGNING_SECRET, testEnv } from './support/test-app.js';

const { start, closeAfter } = processesPerTest();

function sqlite(): string {
  return join(mkdtempSync(join(tmpdir(), 'iqra-calls-db-')), 'calls.sqlite');
}

describe('the app as started by a user', () => {
  it('refuses to start with bad settings, names each variable, prints no secret, and exits 1', async () => {
    const p = start({ SLACK_BOT_TOKEN: 'xoxp-wrong-kind-secret', IQRA_BUSINESS_ID: 'acme', PORT: 'abc' });
    expect(await p.exited).toBe(1);
    const err = p.stderr.join('');
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'IQRA_API_KEY',
      'IQRA_BUSINESS_ID',
      'IQRA_AGENTS',
      'PORT',
    ]) {
      expect(err).toContain(`${name}:`);
    }
    expect(err).not.toContain('wrong-kind-secret');
  });

  it('exits 1 with a clear reason when Slack rejects the bot token', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra();
    closeAfter(slack, iqra);
    slack.handle('auth.test', () => ({ body: { ok: false, error: 'invalid_auth' } }));
    const p = start({ ...testEnv(slack, iqra), DATABASE_PATH: sqlite() });
    expect(await p.exited).toBe(1);
    expect(p.stderr.join('')).toContain('Slack rejected SLACK_BOT_TOKEN (invalid_auth)');
  });

  it('exits 1 when another instance holds the SQLite file, and says to use PostgreSQL for replicas', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra();
    closeAfter(slack, iqra);
    const env = { ...testEnv(slack, iqra), DATABASE_PATH: sqlite() };
    const first = start(env);
    await first.ready();
    const second = start(env);
    expect(await second.exited).toBe(1);
    expect(second.stderr.join('')).toContain('DATABASE_URL');
    expect(first.running).toBe(true);
  });

  it('starts from .env, serves /healthz, places a call from a signed command, and stops cleanly on SIGTERM', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra({ mode: 'server' });
    closeAfter(slack, iqra);
    const { IQRA_API_KEY, ...rest } = testEnv(slack, iqra);
    // The key comes from .env; everything else from the environment, which wins over the file.
    const cwd = mkdtempSync(join(tmpdir(), 'iqra-calls-'));
    writeFileSync(join(cwd, '.env'), `IQRA_API_KEY=${IQRA_API_KEY}\nIQRA_AGENTS=ignored=agent_ignored\n`);
    const p = start({ ...rest, DATABASE_PATH: sqlite() }, cwd);
    const port = await p.ready();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const body = slashCommandBody({
      text: '+44 20 7183 8750 CustomerName=Ada',
      triggerId: '777.888.spawned',
      responseUrl: slack.responseUrl('spawned'),
    });
    const ack = await postSigned(`http://127.0.0.1:${port}`, body, SIGNING_SECRET);
    expect(ack.status).toBe(200);
    await slack.waitFor(
      () => slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts),
      'the thread reply',
      10_000,
    );
    expect(iqra.requests).toHaveLength(1);
    expect(iqra.requests[0]?.config).toMatchObject({
      campaignId: 'camp_sales_01',
      number: { type: 0, toNumber: '+442071838750' },
      dynamicVariables: { CustomerName: 'Ada' },
    });
    expect(p.stdout.join('')).not.toContain('442071838750');

    p.signal('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stdout.join('')).toContain('"msg":"stopped"');
  });

  it('logs a promise rejection nothing handled (a library may leave one) and goes on, without the secret it carries', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra({ mode: 'server' });
    closeAfter(slack, iqra);
    // Loaded before the app: on SIGUSR2, a rejection nobody handles, as the Socket Mode client leaves one per
    // refused reconnection.
    const dir = mkdtempSync(join(tmpdir(), 'iqra-calls-reject-'));
    const preload = join(dir, 'reject-on-signal.mjs');
    writeFileSync(
      preload,
      `process.on('SIGUSR2', () => { Promise.reject(new Error('socket refused for ${BOT_TOKEN}')); });\n`,
    );
    const p = start({
      ...testEnv(slack, iqra),
      DATABASE_PATH: sqlite(),
      NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`,
    });
    const port = await p.ready();
    p.signal('SIGUSR2');
    const line = await p.waitForLog(
      (l) => /nothing handled it/.test(String(l.msg)),
      'the unhandled rejection',
    );
    expect(JSON.stringify(line)).toContain('socket refused for');
    // Still serving, and able to stop cleanly.
    await new Promise((r) => setTimeout(r, 200));
    expect(p.running).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(p.stdout.join('') + p.stderr.join('')).not.toContain(BOT_TOKEN);
    p.signal('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  it('names Iqra in its ready line without the password the URL carries', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra({ mode: 'server' });
    closeAfter(slack, iqra);
    const { host } = new URL(iqra.url);
    const p = start({
      ...testEnv(slack, iqra),
      // A proxy in front of Iqra that wants a password, under a path of its own.
      IQRA_BASE_URL: `http://ops:hunter2-pass@${host}/iqra`,
      DATABASE_PATH: sqlite(),
    });
    await p.ready();
    const ready = p.logs().find((l) => l.msg === 'ready');
    expect(ready?.iqraBaseUrl).toBe(`http://ops:***@${host}/iqra`);
    expect(p.stdout.join('') + p.stderr.join('')).not.toContain('hunter2-pass');
  });

  it('refuses an IQRA_BASE_URL with a query (the app adds its path after it) without printing its secrets', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra({ mode: 'server' });
    closeAfter(slack, iqra);
    const { host } = new URL(iqra.url);
    const p = start({
      ...testEnv(slack, iqra),
      IQRA_BASE_URL: `http://ops:hunter2-pass@${host}/iqra?sig=s1gn-value`,
      DATABASE_PATH: sqlite(),
    });
    expect(await p.exited).toBe(1);
    const said = p.stdout.join('') + p.stderr.join('');
    expect(said).toContain('IQRA_BASE_URL: must not have a query');
    expect(said).toContain(`use just the address, such as http://ops:***@${host}/iqra`);
    expect(said).not.toContain('hunter2-pass');
    expect(said).not.toContain('s1gn-value');
  });
});

describe('stopping', () => {
  it('stops cleanly (status 0) on a SIGTERM that comes while it is still starting', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra({ mode: 'server' });
    closeAfter(slack, iqra);
    // The start waits for Slack to check the bot token: the signal comes in that moment.
    const release = slack.hold('auth.test');
    const p = start({ ...testEnv(slack, iqra), DATABASE_PATH: sqlite() });
    await p.waitForLog((l) => l.msg === 'store ready', 'the store opened');
    p.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    release();
    expect(await p.exited).toBe(0);
    const said = p.logs().map((l) => l.msg);
    expect(said).toContain('stopping');
    expect(said.indexOf('ready')).toBeLessThan(said.indexOf('stopping'));
    expect(said).toContain('stopped');
  });

  it('ends at once on a second signal while the start still hangs', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra({ mode: 'server' });
    closeAfter(slack, iqra);
    slack.hold('auth.test');
    const p = start({ ...testEnv(slack, iqra), DATABASE_PATH: sqlite() });
    await p.waitForLog((l) => l.msg === 'store ready', 'the store opened');
    p.signal('SIGINT');
    await p.waitForLog(
      (l) => l.msg === 'stop asked while starting: stopping once started',
      'the first signal heard',
    );
    expect(p.running).toBe(true);
    p.signal('SIGINT');
    expect(await p.exited).toBe(1);
  });

  it('on SIGTERM, finishes the call being sent, records it and confirms it before exiting', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra();
    closeAfter(slack, iqra);
    const env = { ...testEnv(slack, iqra), DATABASE_PATH: sqlite() };
    iqra.script({ delayMs: 1500 });
    const p = start(env);
    const port = await p.ready();
    const body = slashCommandBody({
      text: '+14155552671',
      triggerId: '777.888.sigterm',
      responseUrl: slack.responseUrl('term'),
    });
    await postSigned(`http://127.0.0.1:${port}`, body, SIGNING_SECRET);
    await slack.waitFor(() => iqra.requests[0], 'the request reaching Iqra');
    p.signal('SIGTERM');
    expect(await p.exited).toBe(0);
    // The confirmation went out before the process ended.
    const reply = slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts);
    expect(JSON.stringify(reply?.args.blocks)).toContain('Iqra queued the call');
    expect(iqra.requests).toHaveLength(1);
    // And a new process finds nothing left to do.
    const again = start(env);
    await again.ready();
    const recovered = again.logs().find((l) => l.msg === 'recovered call requests left by a previous run');
    expect(recovered).toBeUndefined();
    expect(iqra.requests).toHaveLength(1);
  });
});

describe('stopping when Iqra or Slack does not answer', () => {
  // README → When things go wrong: a stopped app exits within about 10 s; what it could not finish stays in the
  // database for the next start.
  async function stopsInTime(p: AppProcess, iqraKey: string): Promise<void> {
    const started = Date.now();
    p.signal('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(13_000);
    const log = p.stdout.join('') + p.stderr.join('');
    expect(log).toContain('"msg":"stopped"');
    // Only masked numbers, and no secret, in what it printed on the way out.
    for (const secret of ['4155552671', BOT_TOKEN, SIGNING_SECRET, iqraKey])
      expect(log).not.toContain(secret);
  }

  it('on SIGTERM while Iqra has not answered, exits 0 in time; the restart marks the call unknown, never re-sent', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra();
    closeAfter(slack, iqra);
    const env = { ...testEnv(slack, iqra, { IQRA_TIMEOUT_MS: '30000' }), DATABASE_PATH: sqlite() };
    iqra.script({ delayMs: 60_000 });
    const p = start(env);
    const port = await p.ready();
    const body = slashCommandBody({
      text: '+14155552671',
      triggerId: '777.888.slowiqra',
      responseUrl: slack.responseUrl('slowiqra'),
    });
    await postSigned(`http://127.0.0.1:${port}`, body, SIGNING_SECRET);
    await slack.waitFor(() => iqra.requests[0], 'the request reaching Iqra');
    await stopsInTime(p, iqra.apiKey);

    const again = start(env);
    await again.ready();
    const notice = await slack.waitFor(
      () =>
        slack.callsOf('chat.postMessage').find((c) => String(c.args.text).includes('Place the call again')),
      'the "unknown" notice',
      10_000,
    );
    expect(notice.args.thread_ts).toBeDefined();
    expect(iqra.requests).toHaveLength(1);
  }, 60_000);

  it('on SIGTERM while a tracking poll hangs, exits 0 in time', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra();
    closeAfter(slack, iqra);
    const env = { ...testEnv(slack, iqra, { IQRA_TIMEOUT_MS: '30000' }), DATABASE_PATH: sqlite() };
    iqra.lifecycle([{ delayMs: 60_000 }]);
    const p = start(env);
    const port = await p.ready();
    const body = slashCommandBody({
      text: '+14155552671',
      triggerId: '777.888.slowpoll',
      responseUrl: slack.responseUrl('slowpoll'),
    });
    await postSigned(`http://127.0.0.1:${port}`, body, SIGNING_SECRET);
    await slack.waitFor(() => iqra.trackingRequests[0], 'the first tracking poll', 20_000);
    await stopsInTime(p, iqra.apiKey);
    expect(iqra.requests).toHaveLength(1);
  }, 60_000);

  it('on SIGTERM while Slack holds the confirmation, exits 0 in time; the restart posts it', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra();
    closeAfter(slack, iqra);
    const env = { ...testEnv(slack, iqra), DATABASE_PATH: sqlite() };
    const release = slack.hold('chat.postMessage');
    const p = start(env);
    const port = await p.ready();
    const body = slashCommandBody({
      text: '+14155552671',
      triggerId: '777.888.slowslack',
      responseUrl: slack.responseUrl('slowslack'),
    });
    await postSigned(`http://127.0.0.1:${port}`, body, SIGNING_SECRET);
    await slack.waitFor(() => slack.callsOf('chat.postMessage')[0], 'the confirmation being posted');
    await stopsInTime(p, iqra.apiKey);

    release();
    const again = start(env);
    await again.ready();
    const reply = await slack.waitFor(
      () => slack.callsOf('chat.postMessage').find((c) => c.args.thread_ts),
      'the confirmation after the restart',
      10_000,
    );
    expect(JSON.stringify(reply.args.blocks)).toContain('Iqra queued the call');
    expect(iqra.requests).toHaveLength(1);
  }, 60_000);
});

describe('npm start', () => {
  it('builds and runs the app; when npm itself is killed, the app stops on its own and a restart takes over', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra();
    closeAfter(slack, iqra);
    const env = { ...testEnv(slack, iqra), DATABASE_PATH: sqlite() };
    const root = join(import.meta.dirname, '..');
    const npmStart = () => {
      const inherited = Object.fromEntries(
        Object.entries(process.env).filter(
          ([k]) => !/^(SLACK_|IQRA_|CALL_|DEFAULT_|DATABASE_|PORT$|npm_)/.test(k),
        ),
      );
      const child = spawn('npm', ['start', '--silent'], {
        cwd: root,
        env: { ...inherited, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: string[] = [];
      child.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
      child.stderr?.on('data', (d: Buffer) => out.push(d.toString()));
      return { child, out };
    };
    const readyIn = async (out: string[]) => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const match = out.join('').match(/"msg":"ready".*?"port":(\d+)/);
        if (match) return Number(match[1]);
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`npm start did not get ready: ${out.join('')}`);
    };

    const first = npmStart();
    const firstPort = await readyIn(first.out);
    expect((await fetch(`http://127.0.0.1:${firstPort}/healthz`)).status).toBe(200);
    first.child.kill('SIGKILL');
    // The app (npm's child) notices it was orphaned and stops; its port closes.
    const deadline = Date.now() + 15_000;
    let closed = false;
    while (!closed && Date.now() < deadline) {
      closed = await fetch(`http://127.0.0.1:${firstPort}/healthz`).then(
        () => false,
        () => true,
      );
      if (!closed) await new Promise((r) => setTimeout(r, 200));
    }
    expect(closed).toBe(true);

    const second = npmStart();
    const secondPort = await readyIn(second.out);
    expect((await fetch(`http://127.0.0.1:${secondPort}/healthz`)).status).toBe(200);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.on('exit', r));
  }, 120_000);
});
