import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readPushedEvent } from '../calls/progress.js';
import type { Logger } from '../log.js';
import type { CallTracker } from '../services/call-tracker.js';

const MAX_BODY = 1_000_000;

/** Compares two secrets in constant time (hashing first, so that their lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The token of `Authorization: Bearer <token>`, or `undefined` for another scheme or none. The scheme is matched in any
 * case (`bearer`, `BEARER`: auth schemes are case-insensitive, RFC 9110 §11.1) and may be followed by more than one
 * space or a tab, as some senders write it; the token itself is returned as sent (only the whitespace around it
 * dropped), for `sameSecret` to compare exactly.
 */
function bearerToken(header: string | undefined): string | undefined {
  const text = header ?? '';
  // Only the scheme is matched by the pattern (anchored, no backtracking over the rest of an unauthenticated header).
  const scheme = /^bearer[ \t]+/i.exec(text);
  if (!scheme) return undefined;
  return text.slice(scheme[0].length).trim() || undefined;
}

function answer(res: ServerResponse, status: number, body: Record<string, unknown>) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * The body as text, or `undefined` past `MAX_BODY`: then reading stops without destroying the request (destroying it
 * mid-body would drop the connection under the answer, and the sender's next event on that kept-alive connection).
 */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        done();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => onError(new Error('the request closed before its end'));
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function field(body: Record<string, unknown>, ...names: string[]): unknown {
  for (const name of names) {
    if (body[name] !== undefined && body[name] !== null) return body[name];
  }
  return undefined;
}

/**
 * `POST /iqra/events`: the calls Iqra's campaign "custom tools" make on initiated / declined / missed / ended. They
 * must carry `Authorization: Bearer <IQRA_WEBHOOK_SECRET>`, the scheme in any case (anything else: 401, nothing
 * changes). The event feeds the same one-way state machine as polling, so an event out of order, twice, or never is
 * harmless.
 * Which event it is comes from `?event=` in the tool's URL or an `event` field; the queue id, status and end type
 * from `call_queue_id`, `call_queue_status`, `conversation_end_type` (Iqra's enum names, or numbers).
 */
export function iqraEventsHandler(secret: string, tracker: CallTracker, logger: Logger) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const given = bearerToken(req.headers.authorization);
    if (!given || !sameSecret(given, secret)) {
      logger.warn('Iqra event refused: missing or wrong shared secret');
      req.resume();
      answer(res, 401, { ok: false, error: 'unauthorized' });
      return;
    }
    let raw: string | undefined;
    try {
      raw = await readBody(req);
    } catch {
      return; // the sender went away mid-body: nobody to answer
    }
    if (raw === undefined) {
      // Said before the rest arrives, and the connection closed after it (the rest is not read).
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ ok: false, error: `the body is larger than ${MAX_BODY} bytes` }));
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    } catch {
      answer(res, 400, { ok: false, error: 'the body must be a JSON object' });
      return;
    }
    const queueId = field(body, 'call_queue_id', 'callQueueId', 'queueId', 'queue_id');
    if (typeof queueId !== 'string' || !queueId) {
      answer(res, 400, { ok: false, error: 'call_queue_id is missing' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const event = (url.searchParams.get('event') ?? field(body, 'event', 'type')) as string | undefined;
    const reading = readPushedEvent(
      typeof event === 'string' ? event : undefined,
      field(body, 'call_queue_status', 'callQueueStatus', 'status'),
      field(body, 'conversation_end_type', 'conversationEndType', 'endType'),
    );
    if (!reading) {
      answer(res, 200, { ok: true, result: 'ignored' });
      return;
    }
    try {
      const result = await tracker.applyPushed(queueId, reading);
      logger.info('Iqra event', { queueId, event, progress: reading.progress, result });
      answer(res, 200, { ok: true, result });
    } catch (err) {
      logger.error('could not apply an Iqra event', { queueId, error: err });
      answer(res, 500, { ok: false, error: 'not recorded; polling will catch up' });
    }
  };
}
