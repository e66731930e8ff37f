import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';

/**
 * One Web API call the app made: `POST /api/<method>`. JSON-string arguments (blocks, view, completeUploadExternal's
 * files) are parsed.
 */
export interface SlackApiCall {
  /** When the fake received it (ms since the epoch). */
  at: number;
  method: string;
  args: Record<string, unknown>;
  token: string | undefined;
}

/** One message the app posted to a response_url. */
export interface ResponseUrlPost {
  path: string;
  body: Record<string, unknown>;
}

export type SlackApiAnswer = { status?: number; headers?: Record<string, string>; body: unknown };
/** An answer that is not JSON: a file's bytes, a redirect, an HTML page, the upload URL's plain text. */
type RawAnswer = { status?: number; headers?: Record<string, string>; raw: string | Buffer };

/** A file the fake serves: files.info describes it and its url_private(_download) gives its bytes. */
export interface FakeFileInput {
  id?: string;
  name: string;
  title?: string;
  content: string | Buffer;
  /** Slack's file type (`csv`, `tsv`, `text`, `xlsx`, `pdf`, ...); by default from the name's extension. */
  filetype?: string;
  /** By default from the name's extension (`text/csv`, `text/plain`, ...). */
  mimetype?: string;
  /** The size files.info declares; by default the content's length (set it to make the fake lie). */
  size?: number;
  /** Send the bytes without a content-length (chunked), so only counting them tells their size. */
  chunked?: boolean;
}

interface FakeFile {
  id: string;
  name: string;
  title: string;
  filetype: string;
  mimetype: string;
  size: number;
  content: Buffer;
  chunked: boolean;
  deleted: boolean;
}

/** A file the app uploaded (getUploadURLExternal → POST → completeUploadExternal) and where it was shared. */
export interface SlackUpload {
  fileId: string;
  filename: string;
  title?: string;
  content: Buffer;
  channelId?: string;
  threadTs?: string;
  initialComment?: string;
}

/** One GET of a file's url_private(_download), and whether it carried a token the fake accepts. */
export interface FileDownload {
  fileId: string;
  path: string;
  authorized: boolean;
}

export type SlackApiHandler = (
  args: Record<string, unknown>,
  call: SlackApiCall,
) => SlackApiAnswer | undefined | Promise<SlackApiAnswer | undefined>;

/**
 * A local stand-in for Slack's Web API and for response_url: a real HTTP server that records every call and answers
 * like Slack does. `handle(method, fn)` overrides one method (return undefined to fall back to the default).
 *
 * Files: `addFile` registers a file that files.info describes and that its url_private(_download) serves, under
 * `/files-pri/T0001-<id>/...` here, to a request with `Authorization: Bearer <token>` the fake accepts
 * (`acceptsFileToken`). Without one it answers as Slack does: a 302 to the workspace's sign-in page (`/?redir=...`,
 * here on this same server) which is HTML. Uploads (files.uploadV2: files.getUploadURLExternal, a POST of the bytes
 * to the upload_url, files.completeUploadExternal) land in `uploads`.
 */
export class FakeSlack {
  readonly calls: SlackApiCall[] = [];
  readonly responses: ResponseUrlPost[] = [];
  /** Each user's Slack time zone, as users.info reports it (`user.tz`). Unknown users have none. */
  readonly userZones = new Map<string, string>();
  /** What response_url posts answer: 200, or e.g. 404 as Slack does once a response_url has expired. */
  responseUrlStatus = 200;
  /** Files the app uploaded and shared, in the order files.completeUploadExternal completed them. */
  readonly uploads: SlackUpload[] = [];
  /** Every GET of a file's URL. */
  readonly fileDownloads: FileDownload[] = [];
  /**
   * Which bearer tokens may read files (url_private). By default any bot or user token, as if the app had
   * `files:read`; make it refuse to see what Slack does for a token without access.
   */
  acceptsFileToken: (token: string) => boolean = (token) => /^xox[bp]-/.test(token);
  /** What a POST to an upload_url answers: 200, or e.g. 500 to make the upload step fail. */
  uploadUrlStatus = 200;
  private readonly files = new Map<string, FakeFile>();
  private readonly pendingUploads = new Map<string, { filename: string; length: number; content?: Buffer }>();
  private fileSequence = 0;
  private readonly handlers = new Map<string, SlackApiHandler[]>();
  private readonly waiters: (() => void)[] = [];
  private server: Server | undefined;
  private ts = 1_764_000_000;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.serve(req).then((answer) => {
        if ('raw' in answer) {
          res.writeHead(answer.status ?? 200, answer.headers);
          res.end(answer.raw);
        } else {
          res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
          res.end(JSON.stringify(answer.body));
        }
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** A response_url that posts back to this fake. */
  responseUrl(id: string): string {
    return `${this.url}/respond/${id}`;
  }

  /** Registers a file this fake serves (see the class comment); returns its id. */
  addFile(input: FakeFileInput): string {
    const id = input.id ?? this.nextFileId();
    const content = typeof input.content === 'string' ? Buffer.from(input.content, 'utf8') : input.content;
    const kind = kindOf(input.name);
    this.files.set(id, {
      id,
      name: input.name,
      title: input.title ?? input.name,
      filetype: input.filetype ?? kind.filetype,
      mimetype: input.mimetype ?? kind.mimetype,
      size: input.size ?? content.length,
      content,
      chunked: input.chunked ?? false,
      deleted: false,
    });
    return id;
  }

  /** Deletes a file as a person would in Slack: files.info then answers `file_deleted`, its URL 404. */
  deleteFile(id: string): void {
    const file = this.files.get(id);
    if (file) file.deleted = true;
  }

  /** Overrides a Web API method; handlers run newest first until one answers. */
  handle(method: string, handler: SlackApiHandler): void {
    const list = this.handlers.get(method) ?? [];
    list.unshift(handler);
    this.handlers.set(method, list);
  }

  /** Makes the next call of `method` (optionally only for `channel`) fail with a Slack error. */
  failNext(method: string, error: string, channel?: string): void {
    let used = false;
    this.handle(method, (args) => {
      if (used || (channel && args.channel !== channel)) return undefined;
      used = true;
      return { body: { ok: false, error } };
    });
  }

  /**
   * Makes calls of `method` hang, unanswered, until the returned function is called (then they get the usual
   * answer). For stopping the app at a chosen point.
   */
  hold(method: string): () => void {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.handle(method, async () => {
      await released;
      return undefined;
    });
    return release;
  }

  callsOf(method: string): SlackApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves once `predicate` holds, checking after every request this fake answers. */
  async waitFor<T>(predicate: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`fake Slack: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private async serve(req: IncomingMessage): Promise<SlackApiAnswer | RawAnswer> {
    const bytes = await readBody(req);
    const raw = bytes.toString('utf8');
    const path = req.url ?? '';
    if (path.startsWith('/files-pri/')) return this.serveFile(req, path);
    if (path.startsWith('/upload/')) return this.receiveUpload(req, path, bytes);
    if (req.method === 'GET' && (path === '/' || path.startsWith('/?'))) return signInPage();
    if (path.startsWith('/respond/')) {
      if (this.responseUrlStatus !== 200)
        return { status: this.responseUrlStatus, body: { ok: false, error: 'expired_url' } };
      this.responses.push({ path, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} });
      return { body: { ok: true } };
    }
    const method = path.replace(/^\/api\//, '').split('?')[0] ?? '';
    const args = parseArgs(raw, req.headers['content-type']);
    const auth = req.headers.authorization;
    const call: SlackApiCall = {
      at: Date.now(),
      method,
      args,
      token: auth?.replace(/^Bearer /, '') ?? (args.token as string),
    };
    this.calls.push(call);
    for (const handler of this.handlers.get(method) ?? []) {
      const answer = await handler(args, call);
      if (answer) return answer;
    }
    return { body: this.defaultAnswer(method, args) };
  }

  private defaultAnswer(method: string, args: Record<string, unknown>): unknown {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://acme.slack.com/',
          team: 'Acme',
          user: 'iqra-calls',
          team_id: 'T0001',
          user_id: 'UBOT',
          bot_id: 'BBOT',
        };
      case 'chat.postMessage':
        this.ts += 1;
        return { ok: true, channel: args.channel, ts: `${this.ts}.000100`, message: { text: args.text } };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'users.info': {
        const id = String(args.user);
        const tz = this.userZones.get(id);
        return { ok: true, user: { id, name: id.toLowerCase(), ...(tz ? { tz } : {}) } };
      }
      case 'files.info': {
        const file = this.files.get(String(args.file));
        if (!file) return { ok: false, error: 'file_not_found' };
        if (file.deleted) return { ok: false, error: 'file_deleted' };
        return { ok: true, file: this.fileObject(file) };
      }
      case 'files.getUploadURLExternal': {
        const length = Number(args.length);
        if (typeof args.filename !== 'string' || !args.filename || !Number.isInteger(length) || length < 0)
          return { ok: false, error: 'invalid_arguments' };
        const fileId = this.nextFileId();
        this.pendingUploads.set(fileId, { filename: args.filename, length });
        return { ok: true, upload_url: `${this.url}/upload/${fileId}`, file_id: fileId };
      }
      case 'files.completeUploadExternal':
        return this.completeUploads(args);
      default:
        return { ok: true };
    }
  }

  /** What Slack's file object carries that the app reads. */
  private fileObject(file: FakeFile): Record<string, unknown> {
    const name = encodeURIComponent(file.name);
    return {
      id: file.id,
      created: 1_764_000_000,
      timestamp: 1_764_000_000,
      name: file.name,
      title: file.title,
      mimetype: file.mimetype,
      filetype: file.filetype,
      pretty_type: file.filetype.toUpperCase(),
      size: file.size,
      mode: 'hosted',
      is_external: false,
      url_private: `${this.url}/files-pri/T0001-${file.id}/${name}`,
      url_private_download: `${this.url}/files-pri/T0001-${file.id}/download/${name}`,
    };
  }

  private nextFileId(): string {
    this.fileSequence += 1;
    return `F0${String(this.fileSequence).padStart(9, '0')}`;
  }

  /** `GET /files-pri/T0001-<id>/[download/]<name>`: the bytes with a good bearer token, else the sign-in redirect. */
  private serveFile(req: IncomingMessage, path: string): RawAnswer {
    const [pathname = ''] = path.split('?');
    const fileId = /^\/files-pri\/T0001-([A-Z0-9]+)\//.exec(pathname)?.[1] ?? '';
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const authorized = token !== undefined && this.acceptsFileToken(token);
    this.fileDownloads.push({ fileId, path: pathname, authorized });
    if (!authorized) {
      // Slack sends a request without a (good) token to the workspace's sign-in page, then serves that as HTML.
      const location = `${this.url}/?redir=${encodeURIComponent(pathname)}`;
      return {
        status: 302,
        headers: { location, 'content-type': 'text/html; charset=utf-8' },
        raw: `<a href="${location}">Found</a>.`,
      };
    }
    const file = this.files.get(fileId);
    if (!file || file.deleted || req.method !== 'GET')
      return { status: 404, headers: { 'content-type': 'text/plain' }, raw: 'Not found' };
    return {
      headers: {
        'content-type': file.mimetype,
        ...(file.chunked ? {} : { 'content-length': String(file.content.length) }),
        ...(pathname.includes('/download/')
          ? { 'content-disposition': `attachment; filename="${encodeURIComponent(file.name)}"` }
          : {}),
      },
      raw: file.content,
    };
  }

  /** `POST /upload/<fileId>`: the bytes, raw or as a multipart form's file part (what WebClient sends). */
  private async receiveUpload(req: IncomingMessage, path: string, bytes: Buffer): Promise<RawAnswer> {
    const fileId = path.slice('/upload/'.length).split('?')[0] ?? '';
    const pending = this.pendingUploads.get(fileId);
    if (this.uploadUrlStatus !== 200)
      return {
        status: this.uploadUrlStatus,
        headers: { 'content-type': 'text/plain' },
        raw: 'upload failed',
      };
    if (!pending || req.method !== 'POST')
      return { status: 404, headers: { 'content-type': 'text/plain' }, raw: 'Not found' };
    const content = req.headers['content-type']?.startsWith('multipart/form-data')
      ? await filePart(req, bytes)
      : bytes;
    if (!content)
      return { status: 400, headers: { 'content-type': 'text/plain' }, raw: 'no file in the form' };
    pending.content = content;
    return { headers: { 'content-type': 'text/plain; charset=utf-8' }, raw: `OK - ${content.length}` };
  }

  /** files.completeUploadExternal: every file must have been uploaded; then it is shared and served. */
  private completeUploads(args: Record<string, unknown>): unknown {
    const list = Array.isArray(args.files) ? (args.files as { id?: unknown; title?: unknown }[]) : undefined;
    if (!list || list.length === 0) return { ok: false, error: 'invalid_arguments' };
    for (const entry of list) {
      if (!this.pendingUploads.get(String(entry.id))?.content) return { ok: false, error: 'file_not_found' };
    }
    const completed: Record<string, unknown>[] = [];
    for (const entry of list) {
      const fileId = String(entry.id);
      const pending = this.pendingUploads.get(fileId);
      if (!pending?.content) continue;
      this.pendingUploads.delete(fileId);
      const title = typeof entry.title === 'string' ? entry.title : undefined;
      this.addFile({
        id: fileId,
        name: pending.filename,
        content: pending.content,
        ...(title ? { title } : {}),
      });
      this.uploads.push({
        fileId,
        filename: pending.filename,
        content: pending.content,
        ...(title !== undefined ? { title } : {}),
        ...(typeof args.channel_id === 'string' ? { channelId: args.channel_id } : {}),
        ...(typeof args.thread_ts === 'string' ? { threadTs: args.thread_ts } : {}),
        ...(typeof args.initial_comment === 'string' ? { initialComment: args.initial_comment } : {}),
      });
      const file = this.files.get(fileId);
      if (file) completed.push(this.fileObject(file));
    }
    return { ok: true, files: completed };
  }
}

const KINDS: Record<string, { filetype: string; mimetype: string }> = {
  csv: { filetype: 'csv', mimetype: 'text/csv' },
  tsv: { filetype: 'tsv', mimetype: 'text/tab-separated-values' },
  txt: { filetype: 'text', mimetype: 'text/plain' },
  xlsx: { filetype: 'xlsx', mimetype: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  xls: { filetype: 'xls', mimetype: 'application/vnd.ms-excel' },
  pdf: { filetype: 'pdf', mimetype: 'application/pdf' },
  png: { filetype: 'png', mimetype: 'image/png' },
};

/** Slack's filetype and mimetype for a file name, by its extension. */
function kindOf(name: string): { filetype: string; mimetype: string } {
  const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  return KINDS[extension] ?? { filetype: 'binary', mimetype: 'application/octet-stream' };
}

/** The sign-in page Slack serves to a browser (or a request without a token). */
function signInPage(): RawAnswer {
  return {
    headers: { 'content-type': 'text/html; charset=utf-8' },
    raw: '<!DOCTYPE html><html lang="en-US"><head><title>Slack</title></head><body><h1>Sign in to Acme</h1></body></html>',
  };
}

/** The first file part of a multipart/form-data body (WebClient names it `body`, with the filename `Untitled`). */
function filePart(req: IncomingMessage, body: Buffer): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let found: Buffer | undefined;
    let fileField: Buffer | undefined;
    const form = busboy({ headers: req.headers });
    form.on('file', (_name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        found ??= Buffer.concat(chunks);
      });
    });
    // A `file` field sent as plain text (no filename) counts too.
    form.on('field', (name, value) => {
      if (name === 'file') fileField ??= Buffer.from(value, 'utf8');
    });
    form.on('close', () => resolve(found ?? fileField));
    form.on('error', reject);
    form.end(body);
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseArgs(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (contentType?.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if (['blocks', 'view', 'attachments'].includes(key)) args[key] = JSON.parse(value);
    // files.completeUploadExternal's `files` is a JSON array; elsewhere `files` may be a plain list of ids.
    else if (key === 'files' && value.startsWith('[')) args[key] = JSON.parse(value);
    else args[key] = value;
  }
  return args;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  return new FakeSlack().start();
}
