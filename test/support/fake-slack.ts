import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Web API call the app made: `POST /api/<method>`. JSON-string arguments (blocks, view) are parsed. */
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
export type SlackApiHandler = (
  args: Record<string, unknown>,
  call: SlackApiCall,
) => SlackApiAnswer | undefined | Promise<SlackApiAnswer | undefined>;

/**
 * A local stand-in for Slack's Web API and for response_url: a real HTTP server that records every call and answers
 * like Slack does. `handle(method, fn)` overrides one method (return undefined to fall back to the default).
 */
export class FakeSlack {
  readonly calls: SlackApiCall[] = [];
  readonly responses: ResponseUrlPost[] = [];
  /** Each user's Slack time zone, as users.info reports it (`user.tz`). Unknown users have none. */
  readonly userZones = new Map<string, string>();
  /** What response_url posts answer: 200, or e.g. 404 as Slack does once a response_url has expired. */
  responseUrlStatus = 200;
  private readonly handlers = new Map<string, SlackApiHandler[]>();
  private readonly waiters: (() => void)[] = [];
  private server: Server | undefined;
  private ts = 1_764_000_000;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.serve(req).then((answer) => {
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        res.end(JSON.stringify(answer.body));
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

  private async serve(req: IncomingMessage): Promise<SlackApiAnswer> {
    const raw = await readBody(req);
    const path = req.url ?? '';
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
      default:
        return { ok: true };
    }
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseArgs(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (contentType?.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    args[key] = ['blocks', 'view', 'attachments'].includes(key) ? JSON.parse(value) : value;
  }
  return args;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  return new FakeSlack().start();
}
