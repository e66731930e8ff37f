/**
 * A local TCP server that speaks just enough of the PostgreSQL wire protocol (v3) to ask for a password the way
 * PostgreSQL 14+ does by default (SCRAM-SHA-256), so that the real `pg` driver fails exactly as it does against a
 * password-protected server when DATABASE_URL has no password:
 *
 * 1. the client sends its StartupMessage (no type byte: length, protocol 3.0, then `name\0value\0` pairs, `\0`);
 * 2. the fake answers AuthenticationSASL (`R`, code 10) offering SCRAM-SHA-256;
 * 3. the client sends its SASLInitialResponse (`p`: mechanism, then `n,,n=*,r=<client nonce>`);
 * 4. the fake answers AuthenticationSASLContinue (`R`, code 11) with a server-first-message extending that nonce,
 *    which the client must answer with a proof made from the password. It never gets further than that here.
 *
 * What each connection sent at start-up is recorded in `startups` (the user and database it asked for).
 *
 * @example
 * const server = await startFakePostgres();
 * await openStore({ kind: 'postgres', url: `postgres://app@${server.host}/calls` }); // rejects
 * await server.close();
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface FakePostgres {
  /** `127.0.0.1:<port>`, for a URL's host part. */
  readonly host: string;
  /** The parameters (user, database, …) of each StartupMessage received, in order. */
  readonly startups: Record<string, string>[];
  close(): Promise<void>;
}

const PROTOCOL_3_0 = 196608;
const SSL_REQUEST = 80877103;

/** A backend message: its type byte, then its length (itself included) and body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function authentication(code: number, data: Buffer): Buffer {
  const codeBytes = Buffer.alloc(4);
  codeBytes.writeInt32BE(code);
  return message('R', Buffer.concat([codeBytes, data]));
}

function startupParameters(body: Buffer): Record<string, string> {
  const parts = body.subarray(8).toString('utf8').split('\0');
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length && parts[i]; i += 2) out[parts[i] as string] = parts[i + 1] ?? '';
  return out;
}

function serve(socket: Socket, startups: Record<string, string>[]): void {
  let buffered = Buffer.alloc(0);
  let started = false;
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (!started) {
        // Startup-phase messages have no type byte.
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        const body = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        const code = body.readInt32BE(4);
        if (code === SSL_REQUEST) {
          socket.write('N'); // no TLS here
          continue;
        }
        if (code !== PROTOCOL_3_0) return void socket.destroy();
        started = true;
        startups.push(startupParameters(body));
        socket.write(authentication(10, Buffer.from('SCRAM-SHA-256\0\0', 'utf8')));
        continue;
      }
      if (buffered.length < 5) return;
      const type = String.fromCharCode(buffered[0] ?? 0);
      const length = buffered.readInt32BE(1);
      if (buffered.length < length + 1) return;
      const body = buffered.subarray(5, length + 1);
      buffered = buffered.subarray(length + 1);
      if (type === 'p') {
        // SASLInitialResponse: mechanism\0, Int32 length, then the client-first-message.
        const mechanismEnd = body.indexOf(0);
        const response = body.subarray(mechanismEnd + 5).toString('utf8');
        const clientNonce = /r=([^,]+)/.exec(response)?.[1] ?? '';
        const serverFirst = `r=${clientNonce}c2VydmVyLW5vbmNl,s=${Buffer.from('salt-of-16-bytes').toString('base64')},i=4096`;
        socket.write(authentication(11, Buffer.from(serverFirst, 'utf8')));
      } else if (type === 'X') {
        socket.end();
        return;
      }
    }
  });
}

export async function startFakePostgres(): Promise<FakePostgres> {
  const startups: Record<string, string>[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket, startups);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    startups,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
