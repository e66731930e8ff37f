import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeIqra, startFakeIqra } from './support/fake-iqra.js';
import { type FakeSlack, startFakeSlack } from './support/fake-slack.js';
import { signedFormHeaders } from './support/slack-signature.js';
import { SIGNING_SECRET, testEnv } from './support/test-app.js';

// The entry point a user runs (`npm start` runs the compiled form of the same file), as a real child process.
const root = join(import.meta.dirname, '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const entry = join(root, 'src', 'index.ts');

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
}

const children: ChildProcess[] = [];
const stopAfter: (FakeSlack | FakeIqra)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const s of stopAfter.splice(0)) await s.close();
});

function run(env: Record<string, string | undefined>, cwd = mkdtempSync(join(tmpdir(), 'iqra-calls-'))): Run {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(SLACK_|IQRA_|CALL_|DEFAULT_|PORT$|LOG_LEVEL$)/.test(k)),
  );
  const child = spawn(tsx, [entry], {
    cwd,
    env: { ...clean, ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout?.on('data', (d: Buffer) => stdout.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exit };
}

async function readyPort(r: Run): Promise<number> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    for (const line of r.stdout.join('').split('\n')) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'ready' && typeof entry.port === 'number') return entry.port;
    }
    if (r.child.exitCode !== null) throw new Error(`exited early: ${r.stderr.join('')}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the app did not say it was ready');
}

describe('the app as started by a user', () => {
  it('refuses to start with bad settings, names each variable, prints no secret, and exits 1', async () => {
    const r = run({ SLACK_BOT_TOKEN: 'xoxp-wrong-kind-secret', IQRA_BUSINESS_ID: 'acme', PORT: 'abc' });
    expect(await r.exit).toBe(1);
    const err = r.stderr.join('');
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
    stopAfter.push(slack, iqra);
    slack.handle('auth.test', () => ({ body: { ok: false, error: 'invalid_auth' } }));
    const r = run(testEnv(slack, iqra));
    expect(await r.exit).toBe(1);
    expect(r.stderr.join('')).toContain('Slack rejected SLACK_BOT_TOKEN (invalid_auth)');
  });

  it('starts from .env, serves /healthz, places a call from a signed command, and stops cleanly on SIGTERM', async () => {
    const slack = await startFakeSlack();
    const iqra = await startFakeIqra({ mode: 'server' });
    stopAfter.push(slack, iqra);
    const { IQRA_API_KEY, ...rest } = testEnv(slack, iqra);
    // The key comes from .env; everything else from the environment, which wins over the file.
    const cwd = mkdtempSync(join(tmpdir(), 'iqra-calls-'));
    writeFileSync(join(cwd, '.env'), `IQRA_API_KEY=${IQRA_API_KEY}\nIQRA_AGENTS=ignored=agent_ignored\n`);
    const r = run(rest, cwd);
    const port = await readyPort(r);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const body = new URLSearchParams({
      team_id: 'T0001',
      channel_id: 'C0SALES01',
      user_id: 'U0MARIA1',
      command: '/call',
      text: '+44 20 7183 8750 CustomerName=Ada',
      response_url: slack.responseUrl('spawned'),
      trigger_id: '777.888.spawned',
    }).toString();
    const ack = await fetch(`http://127.0.0.1:${port}/slack/events`, {
      method: 'POST',
      headers: signedFormHeaders(SIGNING_SECRET, body),
      body,
    });
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
    expect(r.stdout.join('')).not.toContain('442071838750');

    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
    expect(r.stdout.join('')).toContain('"msg":"stopped"');
  });
});
