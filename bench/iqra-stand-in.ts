import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';
import { clock } from './clock.js';
import type { IqraArrival } from './protocol.js';

export interface IqraStandIn {
  url: string;
  businessId: string;
  apiKey: string;
  arrivals: IqraArrival[];
  /** Queue and conversation reads (call tracking). */
  reads: number;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

const INITIATE = /^\/api\/v1\/business\/([^/?]+)\/call\/initiate\/?(?:\?.*)?$/;
const QUEUE_READ = /^\/api\/v1\/business\/([^/?]+)\/queues\/outbound\/([^/?]+)/;
const CONVERSATION_READ = /^\/api\/v1\/business\/([^/?]+)\/conversations\/([^/?]+)/;

/**
 * A lean Iqra stand-in for load: every call/initiate is answered, after a fixed delay (each request, unlike the test
 * suite's FakeIqra whose delays are scripted one request at a time), with the published reference's success
 * (`{"Success":true,"Data":["queue_…"]}`). Bodies are parsed with busboy, as FakeIqra does. Reads of a queue entry
 * answer "Queued" (so call tracking changes nothing), conversations are not found. Each call/initiate's arrival time
 * (its headers) is recorded with the command's `BenchId` variable, the recipient and the app's RequestId.
 */
export async function startIqraStandIn(options: { delayMs: number }): Promise<IqraStandIn> {
  const businessId = '12345';
  const apiKey = 'iu_bench_key';
  let delayMs = options.delayMs;
  const arrivals: IqraArrival[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const state = { reads: 0 };

  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const initiate = (req: IncomingMessage, res: ServerResponse, at: number) => {
    const fields: Record<string, string> = {};
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: 0 } });
    } catch {
      req.resume();
      sendJson(res, 400, { Success: false, Message: 'multipart/form-data expected' });
      return;
    }
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('file', (_name, stream) => stream.resume());
    parser.on('error', () => sendJson(res, 400, { Success: false, Message: 'malformed body' }));
    parser.on('close', () => {
      let config: {
        number?: { toNumber?: string };
        dynamicVariables?: Record<string, string>;
        metadata?: Record<string, string>;
      } = {};
      try {
        if (fields.config) config = JSON.parse(fields.config) as typeof config;
      } catch {
        // not JSON: the fields alone count
      }
      arrivals.push({
        at,
        benchId: fields['DynamicVariables[BenchId]'] ?? config.dynamicVariables?.BenchId,
        recipient: fields.RecipientNumber ?? config.number?.toNumber,
        requestId: fields['Metadata[RequestId]'] ?? config.metadata?.RequestId,
      });
      const timer = setTimeout(() => {
        timers.delete(timer);
        sendJson(res, 200, { Success: true, Data: [`queue_${randomBytes(6).toString('hex')}`] });
      }, delayMs);
      timers.add(timer);
    });
    req.pipe(parser);
  };

  const server = createServer((req, res) => {
    const at = clock();
    const path = req.url ?? '/';
    if (req.headers.authorization !== `Token ${apiKey}`) {
      req.resume();
      sendJson(res, 401, { Success: false, Message: 'Invalid or missing API key', Data: null });
      return;
    }
    const route = INITIATE.exec(path);
    if (route && req.method === 'POST' && route[1] === businessId) {
      initiate(req, res, at);
      return;
    }
    req.resume();
    const queue = QUEUE_READ.exec(path);
    if (queue) {
      state.reads += 1;
      const queueId = decodeURIComponent(queue[2] ?? '');
      sendJson(res, 200, {
        success: true,
        data: { queueId, status: 0, enqueuedAt: new Date().toISOString() },
        code: null,
        message: null,
      });
      return;
    }
    if (CONVERSATION_READ.exec(path)) {
      state.reads += 1;
      sendJson(res, 200, {
        success: false,
        code: 'GetConversation:NOT_FOUND',
        message: 'not found',
        data: null,
      });
      return;
    }
    sendJson(res, 404, { title: 'Not Found', status: 404 });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    businessId,
    apiKey,
    arrivals,
    get reads() {
      return state.reads;
    },
    set reads(value: number) {
      state.reads = value;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
