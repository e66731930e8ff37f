import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { webApi } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackRequestTimeout, webApiFetch } from '../../src/slack/web-api-fetch.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';

const { ErrorCode, WebClient } = webApi;

/** The Web API client as the app builds it: undici's request as its transport, Slack's answers handled as before. */
describe('webApiFetch, the Web API client transport', () => {
  let slack: FakeSlack;
  let client: webApi.WebClient;

  beforeAll(async () => {
    slack = await startFakeSlack();
    client = new WebClient('xoxb-test', {
      slackApiUrl: slack.apiUrl,
      fetch: webApiFetch(),
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 0 },
    });
  });
  afterAll(async () => {
    await slack.close();
  });

  it('posts the arguments url-encoded with the token, and reads Slack’s answer', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'Calling *+1 415…* — ünïcode ✅' } }];
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'hello & more', blocks });
    expect(posted.ok).toBe(true);
    expect(posted.ts).toMatch(/^\d+\.\d+$/);
    const call = slack.calls.at(-1);
    expect(call?.method).toBe('chat.postMessage');
    expect(call?.token).toBe('xoxb-test');
    expect(call?.args.text).toBe('hello & more');
    expect(call?.args.blocks).toEqual(blocks);
  });

  it('turns a Slack error into the client’s platform error', async () => {
    slack.handle('chat.update', () => ({ body: { ok: false, error: 'message_not_found' } }));
    await expect(client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: 'message_not_found' },
    });
  });

  it('passes a 429’s Retry-After on as the client’s rate-limited error', async () => {
    slack.handle('chat.postEphemeral', () => ({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { ok: false, error: 'ratelimited' },
    }));
    await expect(client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 7,
    });
  });

  it('reports another HTTP status with its code and body', async () => {
    slack.handle('users.info', () => ({ status: 503, body: { ok: false } }));
    await expect(client.users.info({ user: 'U1' })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 503,
      statusMessage: 'Service Unavailable',
    });
  });

  it('does not follow a redirect', async () => {
    let hits = 0;
    const server: Server = createServer((_req, res) => {
      hits += 1;
      res.writeHead(302, { location: `${slack.apiUrl}auth.test` });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const moved = new WebClient('xoxb-test', {
        slackApiUrl: `http://127.0.0.1:${port}/api/`,
        fetch: webApiFetch(),
        retryConfig: { retries: 0 },
      });
      const before = slack.calls.length;
      await expect(moved.auth.test()).rejects.toMatchObject({ code: ErrorCode.HTTPError, statusCode: 302 });
      expect(hits).toBe(1);
      expect(slack.calls.length).toBe(before);
    } finally {
      server.close();
    }
  });

  it('gives up on a method Slack never answers after the deadline, as a request error', async () => {
    const release = slack.hold('chat.update');
    const impatient = new WebClient('xoxb-test', {
      slackApiUrl: slack.apiUrl,
      fetch: webApiFetch({ timeoutMs: 150 }),
      retryConfig: { retries: 0 },
    });
    try {
      const started = Date.now();
      const error = await impatient.chat
        .update({ channel: 'C1', ts: '1.2', text: 'x' })
        .catch((e: unknown) => e);
      const waited = Date.now() - started;
      expect(error).toMatchObject({ code: ErrorCode.RequestError });
      expect((error as webApi.WebAPIRequestError).original).toBeInstanceOf(SlackRequestTimeout);
      expect(waited).toBeGreaterThanOrEqual(140);
      expect(waited).toBeLessThan(1500);
      expect(slack.callsOf('chat.update').at(-1)?.args.ts).toBe('1.2');
      // Other methods are not held up by it.
      expect((await impatient.auth.test()).ok).toBe(true);
    } finally {
      release();
    }
  });

  it('gives up on an answer whose body stops coming after its headers, and on a multipart request', async () => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((req, res) => {
      sockets.add(req.socket);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"ok":tr');
      // ...and never the rest.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const stalled = new WebClient('xoxb-test', {
        slackApiUrl: `http://127.0.0.1:${port}/api/`,
        fetch: webApiFetch({ timeoutMs: 150 }),
        retryConfig: { retries: 0 },
      });
      for (const call of [
        () => stalled.chat.postMessage({ channel: 'C1', text: 'x' }),
        // A Buffer argument makes the client send FormData, which goes to the standard fetch.
        () => stalled.apiCall('files.upload', { channels: 'C1', file: Buffer.from('a,b\n') }),
      ]) {
        const started = Date.now();
        const error = await call().catch((e: unknown) => e);
        expect(error).toMatchObject({ code: ErrorCode.RequestError });
        expect((error as webApi.WebAPIRequestError).original).toBeInstanceOf(SlackRequestTimeout);
        expect(Date.now() - started).toBeLessThan(1500);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('leaves a multipart upload to the standard fetch, which Slack receives whole', async () => {
    const content = Buffer.from('line,number\n1,+14155552671\n');
    await client.filesUploadV2({ channel_id: 'C1', filename: 'rows.csv', file: content });
    const upload = slack.uploads.at(-1);
    expect(upload?.filename).toBe('rows.csv');
    expect(upload?.content.equals(content)).toBe(true);
  });
});
