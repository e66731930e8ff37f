/**
 * The baseline: a bare Bolt app on the same HTTP receiver as the app (Bolt's HTTPReceiver on `/slack/events`, with a
 * `/healthz` custom route), whose `/call` listener only acks. Same settings as the app: SLACK_BOT_TOKEN,
 * SLACK_SIGNING_SECRET, SLACK_API_URL (Bolt checks the token with auth.test at start, as the app does) and PORT.
 * It prints one JSON line `{"msg":"ready","port":N}` once it listens; SIGTERM and SIGINT stop it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

const receiver = new HTTPReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET ?? '',
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
  token: process.env.SLACK_BOT_TOKEN ?? '',
  receiver,
  logLevel: LogLevel.WARN,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL ?? 'https://slack.com/api/' },
});

app.command('/call', async ({ ack }) => {
  await ack();
});

const server = (await app.start(Number(process.env.PORT ?? 3000))) as Server;
process.stdout.write(
  `${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'ready', port: (server.address() as AddressInfo).port })}\n`,
);

const stop = () => {
  void app.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
