/**
 * The floor (`npm run bench -- --floor`): the least an app can do with a `/call` and still keep this product's two
 * promises (a request is never lost, a customer is never dialled twice), on the same receiver as the bare app. It
 * measures what that minimum costs on this machine, so that the app's ratios to bare Bolt can be read against it.
 *
 * Per command: the number found and checked (libphonenumber-js), the request recorded in SQLite (WAL, synchronous
 * NORMAL, as the app) before the ack, the ack; then marked as being sent, sent to Iqra (undici, multipart with
 * form-data, the `config` part), Iqra's answer recorded, and the confirmation posted to the channel with its thread
 * reply. The rep's answer goes through response_url, as the app's does. Every HTTP request is undici's `request`,
 * the cheapest client at hand; Bolt's Web API client is used only for its `auth.test` at start. Nothing else: no time, agent or variable parsing, no limits, calling hours or
 * do-not-call list, no outbox (a post that fails is lost), no tracking, no logs, no metrics, no load shedding.
 *
 * Same settings as the app where it has them: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL, IQRA_BASE_URL,
 * IQRA_API_KEY, IQRA_BUSINESS_ID, DATABASE_PATH, PORT. Prints `{"msg":"ready","port":N}` once it listens.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import Database from 'better-sqlite3';
import FormData from 'form-data';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { request } from 'undici';

const env = (name: string) => process.env[name] ?? '';

const db = new Database(env('DATABASE_PATH') || ':memory:');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
// Named and shaped as the app's tables where the bench reads them after the run (bench/store-after.ts).
db.exec(`create table if not exists call_requests (
  id text primary key, recipient text not null, channel text not null, user_id text not null, text text not null,
  state text not null, queue_id text, parent_ts text, created_at integer not null, updated_at integer not null);
  create table if not exists slack_jobs (request_id text, kind text, state text)`);
const insert = db.prepare(
  `insert into call_requests (id, recipient, channel, user_id, text, state, created_at, updated_at)
   values (?, ?, ?, ?, ?, 'received', ?, ?)`,
);
const move = db.prepare(
  `update call_requests set state = ?, queue_id = ?, updated_at = ? where id = ? and state = ?`,
);
const posted = db.prepare('update call_requests set parent_ts = ? where id = ?');

const receiver = new HTTPReceiver({
  signingSecret: env('SLACK_SIGNING_SECRET'),
  endpoints: '/slack/events',
  customRoutes: [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      },
    },
  ],
});

const app = new App({
  token: env('SLACK_BOT_TOKEN'),
  receiver,
  logLevel: LogLevel.WARN,
  clientOptions: { slackApiUrl: env('SLACK_API_URL') || 'https://slack.com/api/' },
});

const slackApiUrl = (env('SLACK_API_URL') || 'https://slack.com/api/').replace(/\/?$/, '/');

/**
 * Slack's Web API and response_url, posted with undici's `request` directly: the cheapest client here (the Web API
 * client's default `fetch` costs about twice the CPU per request; the app gives it an undici transport).
 */
async function postToSlack(
  url: string,
  body: Record<string, string>,
  token?: string,
): Promise<{ ts?: string }> {
  const answer = await request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await answer.body.text();
  return text.startsWith('{') ? (JSON.parse(text) as { ts?: string }) : {};
}

const postMessage = (body: Record<string, string>) =>
  postToSlack(`${slackApiUrl}chat.postMessage`, body, env('SLACK_BOT_TOKEN'));

const initiateUrl = `${env('IQRA_BASE_URL').replace(/\/$/, '')}/api/v1/business/${env('IQRA_BUSINESS_ID')}/call/initiate`;

async function place(id: string, e164: string, channel: string, benchId: string): Promise<void> {
  move.run('sending', null, Date.now(), id, 'received');
  const form = new FormData();
  form.append(
    'config',
    JSON.stringify({
      number: { toNumber: e164 },
      dynamicVariables: { BenchId: benchId },
      metadata: { RequestId: id },
    }),
  );
  const answer = await request(initiateUrl, {
    method: 'POST',
    headers: { ...form.getHeaders(), authorization: `Token ${env('IQRA_API_KEY')}` },
    body: form.getBuffer(),
  });
  const body = (await answer.body.json()) as { Success?: boolean; success?: boolean; Data?: string[] };
  const queueId = body.Data?.[0] ?? null;
  move.run(body.Success || body.success ? 'queued' : 'failed', queueId, Date.now(), id, 'sending');
  const parent = await postMessage({ channel, text: `📞 Call to *${e164}* queued (${queueId}).` });
  if (parent.ts) posted.run(parent.ts, id);
  if (parent.ts) await postMessage({ channel, thread_ts: parent.ts, text: `Queued as ${queueId}.` });
}

app.command('/call', async ({ ack, command }) => {
  // A Slack phone link is its number; 00 before a country code is +.
  const text = command.text.replace(/<tel:([^|>]+)(?:\|[^>]*)?>/g, '$1').replace(/^\s*00(?=[1-9])/, '+');
  // The number is what comes before the first word that is not part of one.
  const words = text.trim().split(/\s+/);
  const end = words.findIndex((w) => !/^[+\d().-]+$/.test(w));
  const found = parsePhoneNumberFromString(words.slice(0, end === -1 ? undefined : end).join(' '), 'US');
  if (!found?.isValid()) {
    await ack({ response_type: 'ephemeral', text: 'That is not a phone number I can call.' });
    return;
  }
  const e164 = found.number;
  const id = randomUUID();
  const now = Date.now();
  insert.run(id, e164, command.channel_id, command.user_id, command.text, now, now);
  // As the app: an empty ack, and the rep's answer through response_url.
  await ack();
  const benchId = /\bBenchId=(\d+)/.exec(command.text)?.[1] ?? '';
  await postToSlack(command.response_url, {
    response_type: 'ephemeral',
    text: `Queued a call to ${e164}.`,
  }).catch(() => {});
  place(id, e164, command.channel_id, benchId).catch(() => {});
});

const server = (await app.start(Number(process.env.PORT ?? 3000))) as Server;
process.stdout.write(
  `${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'ready', port: (server.address() as AddressInfo).port })}\n`,
);

const stop = () => {
  void app.stop().finally(() => {
    db.close();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
