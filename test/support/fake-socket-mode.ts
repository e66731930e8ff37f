/**
 * A local stand-in for Slack's Socket Mode WebSocket endpoint (`wss://wss-primary.slack.com/link/?ticket=...`).
 *
 * It is a real WebSocket server (RFC 6455, written on `node:http`'s `upgrade` event: the project has no WebSocket
 * server package, and @slack/socket-mode 3 uses undici's WebSocket client rather than `ws`), so the app's real
 * SocketModeClient connects to it exactly as it would to Slack:
 *
 * 1. the client calls Web API `apps.connections.open` with the app-level token as Bearer: `attach(slack)` makes a
 *    FakeSlack answer it with `{ ok: true, url: 'ws://127.0.0.1:<port>/link/?ticket=...&app_id=...' }`
 *    (and `not_allowed_token_type` for a token that is not `xapp-`, as Slack does);
 * 2. the client opens the WebSocket; the fake sends `{"type":"hello",...}` at once (the client's `start()` waits
 *    for it);
 * 3. `sendEnvelope(type, payload)` sends `{"envelope_id","type","payload","accepts_response_payload"}` and resolves
 *    with the ack the app sends back (`{"envelope_id","payload"}`), matched by envelope id;
 * 4. client pings are answered with pongs (the client drops a connection that never pongs), and a close frame from
 *    the client is answered with a close frame (the client's `disconnect()` waits for that handshake).
 *
 * Everything exchanged is recorded in `frames`, in order.
 *
 * Outages: `dropConnection()` ends the newest connection the way a network failure or a Slack host going away does
 * (the TCP connection just ends, without a close frame), and while `refuseConnections` is true every new WebSocket
 * is refused (HTTP 503 on the upgrade), so the client keeps trying to reconnect until it is set back to false.
 *
 * @example
 * const slack = await startFakeSlack();
 * const socket = await startFakeSocketMode();
 * socket.attach(slack);
 * // ... start the app with SLACK_APP_TOKEN=xapp-... and SLACK_API_URL=slack.apiUrl, then:
 * await socket.waitForConnection();
 * const ack = await socket.sendEnvelope('slash_commands', { command: '/call', text: 'help', ... });
 * expect(ack.payload).toMatchObject({ response_type: 'ephemeral' });
 * await socket.close();
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FakeSlack } from './fake-slack.js';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One WebSocket message, in either direction, as the fake saw it. */
export interface SocketModeFrame {
  /** `out`: the fake sent it to the app; `in`: the app sent it to the fake. */
  direction: 'in' | 'out';
  /** 1-based number of the connection it travelled on. */
  connection: number;
  kind: 'text' | 'binary' | 'ping' | 'pong' | 'close';
  /** Text messages as sent; ping/pong/binary payloads as UTF-8; close frames as `<code> <reason>`. */
  text: string;
  /** Text messages parsed as JSON (undefined when not JSON). */
  json?: unknown;
}

/** The ack the app sent back for one envelope: `{ envelope_id, payload }`. */
export interface SocketModeAck {
  envelope_id: string;
  /** The ack body (`{}` for a bare `ack()`). */
  payload: Record<string, unknown>;
}

export interface EnvelopeOptions {
  /** Default: a fresh `env-<n>`. Reuse one to simulate a redelivery. */
  envelopeId?: string;
  /** Default true (slash commands, interactivity); Slack sends false for most events. */
  acceptsResponsePayload?: boolean;
  /** Sent as `retry_attempt` (Slack adds it to redelivered events). */
  retryAttempt?: number;
  /** Sent as `retry_reason` (e.g. `timeout`). */
  retryReason?: string;
  /** How long to wait for the ack before rejecting. Default 5000 ms. */
  timeoutMs?: number;
  /** Which connection to send on (1-based); default the newest open one. */
  connection?: number;
}

/** One WebSocket connection the app opened. */
export interface SocketModeConnection {
  /** 1-based, in the order the app connected. */
  readonly id: number;
  /** The request path with its query, e.g. `/link/?ticket=ticket-1&app_id=A0IQRA001`. */
  readonly path: string;
  /** Lower-cased request headers of the upgrade request. */
  readonly headers: IncomingMessage['headers'];
  /** True until either side closed it. */
  readonly open: boolean;
  /** The close code the app sent (1000 for a normal `disconnect()`), once it sent a close frame. */
  readonly closeCodeFromApp: number | undefined;
  /** Resolves when the TCP socket is gone. */
  readonly ended: Promise<void>;
}

interface Pending {
  connection: number;
  resolve: (ack: SocketModeAck) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class Connection implements SocketModeConnection {
  open = true;
  closeCodeFromApp: number | undefined;
  closeSent = false;
  readonly ended: Promise<void>;
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  constructor(
    readonly id: number,
    readonly path: string,
    readonly headers: IncomingMessage['headers'],
    readonly socket: Duplex,
    private readonly onFrame: (connection: Connection, opcode: number, payload: Buffer) => void,
  ) {
    this.ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => {});
    socket.once('close', () => {
      this.open = false;
    });
  }

  /** Sends one unfragmented frame (server frames are never masked). */
  sendFrame(opcode: number, payload: Buffer): void {
    if (this.socket.destroyed || this.closeSent) return;
    const length = payload.length;
    let header: Buffer;
    if (length < 126) {
      header = Buffer.from([0x80 | opcode, length]);
    } else if (length < 65_536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 126;
      header.writeUInt16BE(length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    if (opcode === 0x8) this.closeSent = true;
    this.socket.write(Buffer.concat([header, payload]));
  }

  /** Ends the TCP connection at once, without a close frame. */
  drop(): void {
    this.open = false;
    this.socket.destroy();
  }

  /** Sends a close frame (once) and ends the TCP connection shortly after. */
  close(code: number, reason = ''): void {
    if (!this.closeSent && !this.socket.destroyed) {
      const body = Buffer.alloc(2 + Buffer.byteLength(reason));
      body.writeUInt16BE(code, 0);
      body.write(reason, 2);
      this.sendFrame(0x8, body);
    }
    this.open = false;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 200).unref();
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const frame = this.parseFrame();
      if (!frame) return;
      const { fin, opcode, payload } = frame;
      if (opcode >= 0x8) {
        this.onFrame(this, opcode, payload);
        continue;
      }
      if (opcode !== 0) this.fragmentOpcode = opcode;
      this.fragments.push(payload);
      if (fin) {
        const message = Buffer.concat(this.fragments);
        this.fragments = [];
        this.onFrame(this, this.fragmentOpcode, message);
      }
    }
  }

  private parseFrame(): { fin: boolean; opcode: number; payload: Buffer } | undefined {
    const b = this.buffer;
    if (b.length < 2) return undefined;
    const first = b[0] ?? 0;
    const second = b[1] ?? 0;
    const masked = (second & 0x80) !== 0;
    let length = second & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (!masked) {
      // RFC 6455 §5.1: a server must close the connection on an unmasked client frame.
      this.buffer = Buffer.alloc(0);
      this.close(1002, 'client frames must be masked');
      return undefined;
    }
    if (b.length < offset + 4 + length) return undefined;
    const mask = b.subarray(offset, offset + 4);
    const payload = Buffer.from(b.subarray(offset + 4, offset + 4 + length));
    for (let i = 0; i < payload.length; i += 1) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
    this.buffer = b.subarray(offset + 4 + length);
    return { fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload };
  }
}

/** The fake Socket Mode endpoint. Start it with `startFakeSocketMode()`. */
export class FakeSocketMode {
  /** Every message exchanged, both directions, in order. */
  readonly frames: SocketModeFrame[] = [];
  /** Every connection the app opened, in order (closed ones included). */
  readonly connections: SocketModeConnection[] = [];
  /** Acks the app sent, in the order received. */
  readonly acks: SocketModeAck[] = [];
  /** `ws://127.0.0.1:<port>`. */
  url = '';
  /** While true, new WebSocket connections are refused (HTTP 503 on the upgrade), as when Slack's endpoint is down. */
  refuseConnections = false;
  /** How many WebSocket connections were refused (`refuseConnections`). */
  refused = 0;
  private server: Server | undefined;
  private readonly live: Connection[] = [];
  private readonly pending = new Map<string, Pending[]>();
  private readonly connectionWaiters: ((c: SocketModeConnection) => void)[] = [];
  private tickets = 0;
  private envelopes = 0;

  constructor(private readonly appId = 'A0IQRA001') {}

  async start(): Promise<this> {
    const server = createServer((_req, res) => {
      // Plain HTTP is not served here: only WebSocket upgrades.
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
      res.end('Upgrade Required');
    });
    server.on('upgrade', (req, socket) => this.upgrade(req, socket));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** A fresh connection URL, shaped like Slack's (`/link/?ticket=...&app_id=...`). */
  connectionUrl(): string {
    this.tickets += 1;
    return `${this.url}/link/?ticket=ticket-${this.tickets}&app_id=${this.appId}`;
  }

  /**
   * Makes `slack` answer `apps.connections.open` with a URL of this server, like Slack does: only for an app-level
   * (`xapp-`) token; any other token gets `not_allowed_token_type`.
   */
  attach(slack: FakeSlack): void {
    slack.handle('apps.connections.open', (_args, call) => {
      if (!call.token?.startsWith('xapp-')) return { body: { ok: false, error: 'not_allowed_token_type' } };
      return { body: { ok: true, url: this.connectionUrl() } };
    });
  }

  /** Resolves with the newest open connection once hello was sent on it (waits for one if there is none). */
  async waitForConnection(timeoutMs = 5000): Promise<SocketModeConnection> {
    const current = this.newestOpen();
    if (current) return current;
    return new Promise<SocketModeConnection>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`fake Socket Mode: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      this.connectionWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  /**
   * Sends an envelope (`slash_commands`, `interactive`, `events_api`, ...) with `payload` and resolves with the ack
   * the app sends back for its envelope id. Rejects when no ack arrives in time or the connection closes first.
   */
  sendEnvelope(
    type: string,
    payload: Record<string, unknown>,
    options: EnvelopeOptions = {},
  ): Promise<SocketModeAck> {
    const connection =
      options.connection === undefined
        ? this.newestOpen()
        : this.live.find((c) => c.id === options.connection && c.open);
    if (!connection) return Promise.reject(new Error('fake Socket Mode: no open connection to send on'));
    this.envelopes += 1;
    const envelopeId = options.envelopeId ?? `env-${this.envelopes}`;
    const envelope: Record<string, unknown> = {
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: options.acceptsResponsePayload ?? true,
      ...(options.retryAttempt !== undefined ? { retry_attempt: options.retryAttempt } : {}),
      ...(options.retryReason !== undefined ? { retry_reason: options.retryReason } : {}),
    };
    const timeoutMs = options.timeoutMs ?? 5000;
    const promise = new Promise<SocketModeAck>((resolve, reject) => {
      const entry: Pending = {
        connection: connection.id,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.removePending(envelopeId, entry);
          reject(
            new Error(`fake Socket Mode: no ack for ${type} envelope ${envelopeId} within ${timeoutMs} ms`),
          );
        }, timeoutMs),
      };
      const list = this.pending.get(envelopeId) ?? [];
      list.push(entry);
      this.pending.set(envelopeId, list);
    });
    this.sendJson(connection, envelope);
    return promise;
  }

  /** Sends `{"type":"disconnect","reason":...}`, as Slack does before recycling a connection. */
  sendDisconnect(reason = 'refresh_requested'): void {
    const connection = this.newestOpen();
    if (connection) this.sendJson(connection, { type: 'disconnect', reason, debug_info: { host: 'fake' } });
  }

  /**
   * Drops the newest open connection as a network failure does: the TCP connection ends without a close frame.
   * Resolves with that connection once it is gone (undefined when none was open).
   */
  async dropConnection(): Promise<SocketModeConnection | undefined> {
    const connection = this.newestOpen();
    if (!connection) return undefined;
    this.rejectPending(
      (p) => p.connection === connection.id,
      'fake Socket Mode: connection dropped before the ack',
    );
    connection.drop();
    await connection.ended;
    return connection;
  }

  /** Messages of one direction parsed as JSON. */
  messages(direction: 'in' | 'out'): unknown[] {
    return this.frames.filter((f) => f.direction === direction && f.kind === 'text').map((f) => f.json);
  }

  /** Closes every connection (close code 1001, as a server going away) and stops listening. Idempotent. */
  async close(): Promise<void> {
    this.rejectPending(() => true, 'fake Socket Mode: closed before the ack');
    for (const c of this.live) if (c.open) c.close(1001, 'going away');
    await Promise.race([
      Promise.all(this.live.map((c) => c.ended)),
      new Promise((resolve) => setTimeout(resolve, 500).unref()),
    ]);
    for (const c of this.live) c.socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private newestOpen(): Connection | undefined {
    return [...this.live].reverse().find((c) => c.open);
  }

  private upgrade(req: IncomingMessage, socket: Duplex): void {
    const key = req.headers['sec-websocket-key'];
    if (
      req.headers.upgrade?.toLowerCase() !== 'websocket' ||
      req.headers['sec-websocket-version'] !== '13' ||
      typeof key !== 'string' ||
      !(req.url ?? '').startsWith('/link/')
    ) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (this.refuseConnections) {
      this.refused += 1;
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}${WEBSOCKET_GUID}`).digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const connection = new Connection(this.live.length + 1, req.url ?? '', req.headers, socket, (c, op, p) =>
      this.onFrame(c, op, p),
    );
    this.live.push(connection);
    this.connections.push(connection);
    this.sendJson(connection, {
      type: 'hello',
      num_connections: this.live.filter((c) => c.open).length,
      debug_info: { host: 'fake-applink', build_number: 1, approximate_connection_time: 18_060 },
      connection_info: { app_id: this.appId },
    });
    for (const wake of this.connectionWaiters.splice(0)) wake(connection);
  }

  private onFrame(connection: Connection, opcode: number, payload: Buffer): void {
    const record = (kind: SocketModeFrame['kind'], text: string, json?: unknown) =>
      this.frames.push({
        direction: 'in',
        connection: connection.id,
        kind,
        text,
        ...(json !== undefined ? { json } : {}),
      });
    switch (opcode) {
      case 0x1: {
        const text = payload.toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON: recorded as text only
        }
        record('text', text, json);
        if (isAck(json)) {
          this.acks.push(json);
          const list = this.pending.get(json.envelope_id);
          const waiter = list?.shift();
          if (list && list.length === 0) this.pending.delete(json.envelope_id);
          if (waiter) {
            clearTimeout(waiter.timer);
            waiter.resolve(json);
          }
        }
        return;
      }
      case 0x2:
        record('binary', payload.toString('utf8'));
        return;
      case 0x9:
        record('ping', payload.toString('utf8'));
        connection.sendFrame(0xa, payload);
        this.frames.push({
          direction: 'out',
          connection: connection.id,
          kind: 'pong',
          text: payload.toString(),
        });
        return;
      case 0xa:
        record('pong', payload.toString('utf8'));
        return;
      case 0x8: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        record('close', `${code} ${payload.subarray(2).toString('utf8')}`.trim());
        connection.closeCodeFromApp = code;
        this.rejectPending(
          (p) => p.connection === connection.id,
          `fake Socket Mode: the app closed the connection (${code}) before the ack`,
        );
        // Answer the close handshake with the same code, then end the TCP connection.
        connection.close(code === 1005 ? 1000 : code);
        return;
      }
      default:
        connection.close(1002, 'unknown opcode');
    }
  }

  private sendJson(connection: Connection, message: Record<string, unknown>): void {
    const text = JSON.stringify(message);
    connection.sendFrame(0x1, Buffer.from(text, 'utf8'));
    this.frames.push({ direction: 'out', connection: connection.id, kind: 'text', text, json: message });
  }

  private rejectPending(which: (p: Pending) => boolean, message: string): void {
    for (const [envelopeId, list] of [...this.pending]) {
      for (const p of list.filter(which)) {
        clearTimeout(p.timer);
        this.removePending(envelopeId, p);
        p.reject(new Error(message));
      }
    }
  }

  private removePending(envelopeId: string, entry: Pending): void {
    const list = this.pending.get(envelopeId);
    if (!list) return;
    const index = list.indexOf(entry);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.pending.delete(envelopeId);
  }
}

function isAck(value: unknown): value is SocketModeAck {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { envelope_id?: unknown }).envelope_id === 'string' &&
    !('type' in value)
  );
}

/** Starts the fake on 127.0.0.1 on a free port. */
export async function startFakeSocketMode(options: { appId?: string } = {}): Promise<FakeSocketMode> {
  return new FakeSocketMode(options.appId).start();
}
