import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webApi } from '@slack/bolt';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliveryFailure } from '../../src/slack/delivery.js';
import {
  downloadSlackFile,
  SLACK_FILE_MESSAGES,
  SlackFileError,
  uploadTextFile,
} from '../../src/slack/files.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';

const TOKEN = 'xoxb-test';
const MB = 1024 * 1024;

let fake: FakeSlack;
let client: webApi.WebClient;
const others: Server[] = [];
beforeEach(async () => {
  fake = await startFakeSlack();
  client = new webApi.WebClient(TOKEN, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: webApi.LogLevel.ERROR,
  });
});
afterEach(async () => {
  await fake.close();
  for (const server of others.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** The SlackFileError a download fails with; it never carries a token, in any of its texts. */
async function refusal(fileId: string, o: { maxBytes?: number } = {}): Promise<SlackFileError> {
  const err = await downloadSlackFile(client, fileId, { token: TOKEN, maxBytes: o.maxBytes ?? MB }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SlackFileError);
  const e = err as SlackFileError;
  expect(`${e.message}\n${e.userMessage}\n${e.stack}\n${JSON.stringify(e)}`).not.toMatch(/xox[a-z]-/);
  return e;
}

describe('downloadSlackFile', () => {
  it('reads a CSV as it was uploaded, BOM and CRLF line ends included, with the bot token', async () => {
    const csv = '\uFEFFphone,name\r\n+14155552671,Zoë Martín\r\n';
    const id = fake.addFile({ name: 'leads.csv', content: csv });

    const file = await downloadSlackFile(client, id, { token: TOKEN, maxBytes: MB });

    expect(file).toEqual({ name: 'leads.csv', text: csv });
    expect(fake.callsOf('files.info')[0]?.args.file).toBe(id);
    expect(fake.callsOf('files.info')[0]?.token).toBe(TOKEN);
    expect(fake.fileDownloads).toEqual([
      { fileId: id, path: `/files-pri/T0001-${id}/download/leads.csv`, authorized: true },
    ]);
  });

  it("reads Excel's Windows-1252 bytes as Windows-1252, not as replacement characters", async () => {
    // José, € 5, “quoted” and Zoë – as Windows-1252 writes them: é E9, € 80, “ 93, ” 94, ë EB, – 96. Not UTF-8.
    const bytes = Buffer.concat([
      Buffer.from('name,note\r\nJos'),
      Buffer.from([0xe9, 0x2c, 0x80, 0x20, 0x35, 0x20, 0x93]),
      Buffer.from('quoted'),
      Buffer.from([0x94, 0x0d, 0x0a, 0x5a, 0x6f, 0xeb, 0x2c, 0x96]),
    ]);
    const id = fake.addFile({ name: 'export.csv', content: bytes, mimetype: 'application/vnd.ms-excel' });

    const { text } = await downloadSlackFile(client, id, { token: TOKEN, maxBytes: MB });

    expect(text).toBe('name,note\r\nJosé,€ 5 “quoted”\r\nZoë,–');
    expect(text).not.toMatch(/[\uFFFD\u0080-\u009F]/);
  });

  it("reads Excel's Unicode Text (UTF-16 with its byte-order mark), little- and big-endian", async () => {
    const text = 'phone\tName\r\n+14155552671\tJosé\r\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le);
    be.swap16();
    for (const content of [le, be]) {
      const id = fake.addFile({ name: 'leads.txt', content, mimetype: 'text/plain' });
      const got = await downloadSlackFile(client, id, { token: TOKEN, maxBytes: MB });
      expect(got.text).toBe(text);
    }
  });

  it('accepts a .csv that Windows labels application/vnd.ms-excel, and plain text files', async () => {
    const csv = fake.addFile({
      name: 'leads.csv',
      content: 'phone\n',
      filetype: 'binary',
      mimetype: 'application/vnd.ms-excel',
    });
    const txt = fake.addFile({ name: 'numbers.txt', content: '+14155552671\n' });

    expect((await downloadSlackFile(client, csv, { token: TOKEN, maxBytes: MB })).text).toBe('phone\n');
    expect((await downloadSlackFile(client, txt, { token: TOKEN, maxBytes: MB })).text).toBe(
      '+14155552671\n',
    );
  });

  it('refuses a file whose declared size is over the limit, without downloading it', async () => {
    const id = fake.addFile({ name: 'huge.csv', content: 'phone\n', size: 5 * MB });

    const err = await refusal(id, { maxBytes: 2 * MB });

    expect(err.code).toBe('file_too_large');
    expect(err.userMessage).toBe(SLACK_FILE_MESSAGES.fileTooLarge(2 * MB, 5 * MB));
    expect(err.userMessage).toContain('the most the app can read is 2 MB');
    expect(fake.fileDownloads).toHaveLength(0);
  });

  it('stops at the limit when the bytes are more than Slack declared', async () => {
    const content = Buffer.alloc(3 * MB, 'a');
    const sent = fake.addFile({ name: 'liar.csv', content, size: 10 });
    const chunked = fake.addFile({ name: 'chunked.csv', content, size: 10, chunked: true });

    for (const id of [sent, chunked]) {
      const err = await refusal(id, { maxBytes: MB });
      expect(err.code).toBe('file_too_large');
      expect(err.userMessage).toContain('the most the app can read is 1 MB');
    }
    expect(fake.fileDownloads.map((d) => d.fileId)).toEqual([sent, chunked]);
  });

  it('explains the files:read scope when Slack answers with its sign-in page instead of the file', async () => {
    fake.acceptsFileToken = () => false;
    const id = fake.addFile({ name: 'leads.csv', content: 'phone\n' });

    const err = await refusal(id);

    expect(err.code).toBe('not_readable');
    expect(err.userMessage).toBe(SLACK_FILE_MESSAGES.notReadable('leads.csv'));
    expect(err.userMessage).toContain('files:read');
    expect(err.userMessage).toContain('reinstall the app from manifest.yml');
  });

  it('explains the files:read scope when files.info answers missing_scope', async () => {
    fake.failNext('files.info', 'missing_scope');
    const id = fake.addFile({ name: 'leads.csv', content: 'phone\n' });

    const err = await refusal(id);

    expect(err.code).toBe('missing_scope');
    expect(err.userMessage).toContain('files:read');
    expect(err.userMessage).toContain('manifest.yml');
    expect(fake.fileDownloads).toHaveLength(0);
  });

  it('says so when the file is not found, or was deleted', async () => {
    const missing = await refusal('F0NOSUCHFILE');
    expect(missing.code).toBe('file_not_found');
    expect(missing.userMessage).toBe(SLACK_FILE_MESSAGES.fileNotFound);

    const id = fake.addFile({ name: 'leads.csv', content: 'phone\n' });
    fake.deleteFile(id);
    const deleted = await refusal(id);
    expect(deleted.code).toBe('file_deleted');
    expect(deleted.userMessage).toBe(SLACK_FILE_MESSAGES.fileDeleted);
  });

  it('refuses a spreadsheet, telling the rep to save it as CSV', async () => {
    const id = fake.addFile({ name: 'leads.xlsx', content: Buffer.from([0x50, 0x4b, 0x03, 0x04]) });

    const err = await refusal(id);

    expect(err.code).toBe('unsupported_type');
    expect(err.userMessage).toContain('"leads.xlsx"');
    expect(err.userMessage).toContain('Save it as CSV (File → Download → .csv) and upload that.');
    expect(fake.fileDownloads).toHaveLength(0);
  });

  it('calls a Slack outage retryable', async () => {
    fake.handle('files.info', () => ({ status: 500, body: { ok: false, error: 'internal_error' } }));
    const id = fake.addFile({ name: 'leads.csv', content: 'phone\n' });

    const err = await refusal(id);

    expect(err.code).toBe('unavailable');
    expect(err.retryable).toBe(true);
  });

  it('sends the token to no URL that is neither https nor on the Web API origin', async () => {
    const hits: string[] = [];
    const elsewhere = createServer((req, res) => {
      hits.push(req.headers.authorization ?? '');
      res.end('phone\n');
    });
    others.push(elsewhere);
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const port = (elsewhere.address() as AddressInfo).port;
    fake.handle('files.info', (args) => ({
      body: {
        ok: true,
        file: {
          id: args.file,
          name: 'leads.csv',
          filetype: 'csv',
          mimetype: 'text/csv',
          size: 6,
          url_private_download: `http://127.0.0.1:${port}/files-pri/leads.csv`,
        },
      },
    }));

    const err = await refusal('F0ELSEWHERE');

    expect(err.code).toBe('slack_error');
    expect(hits).toEqual([]);
  });
});

describe('uploadTextFile', () => {
  it("shares exactly the content, under its name and title, in the batch message's thread", async () => {
    const content = '\uFEFFphone,status\r\n+14155552671,Zoë: done\r\n';

    const fileId = await uploadTextFile(client, {
      channelId: 'C0SALES01',
      threadTs: '1764000001.000100',
      filename: 'batch-results.csv',
      title: 'Batch results',
      content,
      initialComment: 'Results for the batch',
    });

    expect(fileId).toMatch(/^F/);
    expect(fake.uploads).toEqual([
      {
        fileId,
        filename: 'batch-results.csv',
        title: 'Batch results',
        content: Buffer.from(content, 'utf8'),
        channelId: 'C0SALES01',
        threadTs: '1764000001.000100',
        initialComment: 'Results for the batch',
      },
    ]);
    expect(fake.callsOf('files.getUploadURLExternal')[0]?.args).toMatchObject({
      filename: 'batch-results.csv',
      length: String(Buffer.byteLength(content)),
    });
    // The shared file reads back as it was written.
    const back = await downloadSlackFile(client, fileId as string, { token: TOKEN, maxBytes: MB });
    expect(back).toEqual({ name: 'batch-results.csv', text: content });
  });

  it('shares in the channel itself when there is no thread', async () => {
    await uploadTextFile(client, { channelId: 'C0SALES01', filename: 'results.csv', content: 'a,b\n' });

    expect(fake.uploads).toHaveLength(1);
    expect(fake.uploads[0]?.channelId).toBe('C0SALES01');
    expect(fake.uploads[0]).not.toHaveProperty('threadTs');
    expect(fake.uploads[0]?.title).toBe('results.csv'); // WebClient's default title is the file name
  });

  it('lets a failed completion through as the WebClient throws it, for deliveryFailure to classify', async () => {
    fake.failNext('files.completeUploadExternal', 'ratelimited');

    const err = await uploadTextFile(client, {
      channelId: 'C0SALES01',
      threadTs: '1764000001.000100',
      filename: 'results.csv',
      content: 'a,b\n',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(deliveryFailure(err)).toEqual({ code: 'ratelimited', transient: true });
    expect(fake.uploads).toHaveLength(0);
    expect(String((err as Error).message)).not.toMatch(/xox[a-z]-/);
  });

  it('lets a missing files:write scope and a failed byte upload through too', async () => {
    fake.failNext('files.getUploadURLExternal', 'missing_scope');
    const scope = await uploadTextFile(client, { channelId: 'C1', filename: 'r.csv', content: 'a\n' }).catch(
      (e: unknown) => e,
    );
    expect(deliveryFailure(scope)).toEqual({ code: 'missing_scope', transient: false });

    fake.uploadUrlStatus = 500;
    const upload = await uploadTextFile(client, { channelId: 'C1', filename: 'r.csv', content: 'a\n' }).catch(
      (e: unknown) => e,
    );
    expect(deliveryFailure(upload)).toEqual({ code: 'http_500', transient: true });
    expect(fake.uploads).toHaveLength(0);
  });
});

describe('the fake Slack serving files', () => {
  it('sends a request without a token to the sign-in page, as Slack does', async () => {
    const id = fake.addFile({ name: 'leads.csv', content: 'phone\n' });
    const info = (await client.files.info({ file: id })).file;
    const url = info?.url_private_download as string;
    expect(url).toBe(`${fake.url}/files-pri/T0001-${id}/download/leads.csv`);
    expect(info).toMatchObject({ name: 'leads.csv', filetype: 'csv', mimetype: 'text/csv', size: 6 });

    const redirect = await request(url);
    await redirect.body.dump();
    expect(redirect.statusCode).toBe(302);
    const location = String(redirect.headers.location);
    expect(location).toBe(
      `${fake.url}/?redir=${encodeURIComponent(`/files-pri/T0001-${id}/download/leads.csv`)}`,
    );
    const page = await request(location);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(await page.body.text()).toContain('<!DOCTYPE html>');

    const ok = await request(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toBe('phone\n');
  });
});
