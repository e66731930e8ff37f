import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AppProcess, processesPerTest } from './support/app-process.js';
import { type FakeIqra, startFakeIqra } from './support/fake-iqra.js';
import { type FakeSlack, type SlackApiCall, startFakeSlack } from './support/fake-slack.js';
import { freshPostgresSchema, TEST_DATABASE_URL } from './support/postgres.js';
import { postSigned, slashCommandBody } from './support/slack-signature.js';
import { SIGNING_SECRET, testEnv } from './support/test-app.js';

// Each test kills the app with SIGKILL at one point of a call's life, starts it again on the same database, and
// checks that the request was neither lost nor sent to Iqra twice.

const processes = processesPerTest();

interface Backend {
  name: string;
  skip: boolean;
  database(): Promise<Record<string, string>>;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    skip: false,
    database: async () => ({
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'iqra-crash-')), 'calls.sqlite'),
    }),
  },
  {
    name: TEST_DATABASE_URL ? 'PostgreSQL' : 'PostgreSQL (set TEST_DATABASE_URL to run)',
    skip: !TEST_DATABASE_URL,
    database: async () => {
      const schema = await freshPostgresSchema();
      processes.closeAfter({ close: schema.drop });
      // A killed replica's requests are taken over once it has been silent this long.
      return { DATABASE_URL: schema.url, INSTANCE_TIMEOUT_SECONDS: '3' };
    },
  },
];

async function stand(): Promise<{ slack: FakeSlack; iqra: FakeIqra }> {
  const slack = await startFakeSlack();
  const iqra = await startFakeIqra({ mode: 'reference' });
  slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
  processes.closeAfter(slack, iqra);
  return { slack, iqra };
}

function launch(env: Record<string, string>): AppProcess {
  return processes.start(env);
}

async function sendCommand(port: number, slack: FakeSlack, text: string, triggerId: string, retry = false) {
  const body = slashCommandBody({ text, triggerId, responseUrl: slack.responseUrl(triggerId) });
  const res = await postSigned(`http://127.0.0.1:${port}`, body, SIGNING_SECRET, {
    ...(retry ? { headers: { 'x-slack-retry-num': '1' } } : {}),
  });
  return res.status;
}

const threadReply = (slack: FakeSlack) => () =>
  slack.callsOf('chat.postMessage').find((c: SlackApiCall) => c.args.thread_ts);

async function kill(p: AppProcess) {
  p.signal('SIGKILL');
  await p.exited;
}

describe.each(backends)('killing the app mid-call ($name)', (backend) => {
  it.skipIf(backend.skip)(
    'after the request was recorded and acked, before it was sent: it is sent after the restart, once',
    async () => {
      const { slack, iqra } = await stand();
      const env = { ...testEnv(slack, iqra), ...(await backend.database()) };
      const releaseZones = slack.hold('users.info');
      const first = launch(env);
      const port = await first.ready();
      expect(await sendCommand(port, slack, '+14155552671 CustomerName=Ada', 'kill.1.recorded')).toBe(200);
      await slack.waitFor(() => slack.callsOf('users.info')[0], 'the time zone look-up');
      await kill(first);
      expect(iqra.requests).toHaveLength(0);

      releaseZones();
      const second = launch(env);
      await second.ready();
      await slack.waitFor(threadReply(slack), 'the confirmation after the restart', 15_000);
      expect(iqra.requests).toHaveLength(1);
      expect(iqra.requests[0]?.fields['DynamicVariables[CustomerName]']).toBe('Ada');

      // Slack redelivering the original command to the new process changes nothing.
      expect(
        await sendCommand(
          await second.ready(),
          slack,
          '+14155552671 CustomerName=Ada',
          'kill.1.recorded',
          true,
        ),
      ).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      expect(iqra.requests).toHaveLength(1);
    },
  );

  it.skipIf(backend.skip)(
    'while Iqra was answering: the call becomes "unknown", is never re-sent, and the rep can place it again',
    async () => {
      const { slack, iqra } = await stand();
      const env = { ...testEnv(slack, iqra), ...(await backend.database()) };
      iqra.script({ delayMs: 60_000 });
      const first = launch(env);
      const port = await first.ready();
      expect(await sendCommand(port, slack, '+14155552671', 'kill.2.sending')).toBe(200);
      await slack.waitFor(() => iqra.requests[0], 'the request reaching Iqra');
      await kill(first);

      const second = launch(env);
      await second.ready();
      const reply = await slack.waitFor(threadReply(slack), 'the "unknown" notice', 15_000);
      expect(JSON.stringify(reply.args.blocks)).toContain('place_call_again');
      const parent = slack.callsOf('chat.postMessage').find((c) => !c.args.thread_ts);
      expect(String(parent?.args.text)).toContain('may or may not have been placed');
      await new Promise((r) => setTimeout(r, 1000));
      expect(iqra.requests).toHaveLength(1);
    },
  );

  it.skipIf(backend.skip)(
    'after Iqra queued the call, before Slack was told: the confirmation is delivered after the restart',
    async () => {
      const { slack, iqra } = await stand();
      const env = { ...testEnv(slack, iqra), ...(await backend.database()) };
      const releasePosts = slack.hold('chat.postMessage');
      const first = launch(env);
      const port = await first.ready();
      expect(await sendCommand(port, slack, '+14155552671', 'kill.3.announcing')).toBe(200);
      await slack.waitFor(() => slack.callsOf('chat.postMessage')[0], 'the confirmation being posted');
      expect(iqra.requests).toHaveLength(1);
      await kill(first);

      releasePosts();
      const second = launch(env);
      await second.ready();
      const reply = await slack.waitFor(threadReply(slack), 'the confirmation after the restart', 15_000);
      expect(JSON.stringify(reply.args.blocks)).toContain('Iqra queued the call');
      expect(iqra.requests).toHaveLength(1);
    },
  );
});
