/**
 * The HTTP transport of the Slack Web API client (`WebClient`'s `fetch` option): undici's `request` instead of the
 * WHATWG `fetch` the client uses by default. Every message the app posts goes through it, and `fetch` costs about
 * twice the CPU per request (its web streams and Response machinery), which under load is time taken from Slack's
 * acks (`npm run bench`, README → Performance). The client above it is unchanged: its queue, retries, rate-limit and
 * error handling, and its parsing of Slack's answers.
 *
 * Only url-encoded bodies (every Web API method the app calls) take this path; a multipart body (a file upload's
 * FormData) goes to the standard `fetch`, as before. Redirects are not followed, like `fetch` with `redirect: 'error'`
 * (which the client asks for): a 3xx comes back as an HTTP error.
 *
 * Every request, on either path, has a deadline (`SLACK_REQUEST_TIMEOUT_MS`) for Slack's whole answer, headers and
 * body: undici's own defaults (300 s each) would keep the outbox's `stop()`, which waits for the deliveries in hand,
 * and so a SIGTERM, hanging for minutes when Slack accepts a connection and never answers.
 */
import { STATUS_CODES } from 'node:http';
import type { webApi } from '@slack/bolt';
import { type Dispatcher, request } from 'undici';

type FetchFunction = NonNullable<webApi.WebClientOptions['fetch']>;
type FetchResponse = Awaited<ReturnType<FetchFunction>>;

/**
 * How long one Web API request may take, from sending it to the last byte of Slack's answer. Slack answers in well
 * under a second; one that has not answered in 10 s is down or stuck, and waiting longer gains nothing, since the outbox
 * retries from the store with backoff. Not much shorter either: a request that timed out may still have reached Slack,
 * and a post retried after it can show twice. The client retries a failed request itself (twice in the app, after
 * 0.5 s and 1 s), so one message can hold a delivery for about 3 × 10 + 1.5 s: that stays within the outbox's 60 s
 * lease (after which another replica may take the job and post it too), and close to the 30 s grace that container
 * orchestrators give a SIGTERM. The same limit as a response_url post (`postToResponseUrl`).
 */
export const SLACK_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Slack gave no complete answer within the deadline. The Web API client wraps it as any failure of its transport (a
 * `WebAPIRequestError`, code `slack_webapi_request_error`, with this as its `original`), which the outbox retries later
 * like a network error.
 */
export class SlackRequestTimeout extends Error {
  override readonly name = 'SlackRequestTimeout';
  readonly code = 'slack_request_timeout';
}

const UNDICI_TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export interface WebApiFetchOptions {
  /** Overrides undici's global dispatcher (its keep-alive connection pool). */
  dispatcher?: Dispatcher;
  /** The deadline of one request, headers and body (default `SLACK_REQUEST_TIMEOUT_MS`; tests shorten it). */
  timeoutMs?: number;
}

/** A `fetch` for the Web API client. */
export function webApiFetch(options: WebApiFetchOptions = {}): FetchFunction {
  const { dispatcher } = options;
  const timeoutMs = options.timeoutMs ?? SLACK_REQUEST_TIMEOUT_MS;
  return async (url, init) => {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new SlackRequestTimeout(`Slack gave no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    // The client's own signal (its `timeout` option, unset in the app) still aborts too.
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
    try {
      const body = init?.body;
      if (body !== undefined && typeof body !== 'string') {
        // Read whole here, so that the deadline covers the body too (`fetch` resolves once the headers are in).
        const res = await fetch(url, { ...init, signal } as RequestInit);
        return bufferedResponse(
          String(url),
          res.status,
          Object.fromEntries(res.headers),
          await res.arrayBuffer(),
        );
      }
      const res = await request(url, {
        method: (init?.method ?? 'GET') as Dispatcher.HttpMethod,
        ...(init?.headers ? { headers: init.headers } : {}),
        ...(body !== undefined ? { body } : {}),
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(dispatcher ? { dispatcher } : {}),
      });
      return bufferedResponse(String(url), res.statusCode, res.headers, await res.body.arrayBuffer());
    } catch (err) {
      if (deadline.signal.aborted || hasTimeoutCode(err)) {
        throw deadline.signal.reason instanceof SlackRequestTimeout
          ? deadline.signal.reason
          : new SlackRequestTimeout(`Slack gave no complete answer within ${timeoutMs} ms`, { cause: err });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}

function hasTimeoutCode(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && UNDICI_TIMEOUT_CODES.has(code);
}

function bufferedResponse(
  url: string,
  status: number,
  raw: Record<string, string | string[] | undefined>,
  data: ArrayBuffer,
): FetchResponse {
  const bytes = Buffer.from(data);
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
  }
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: STATUS_CODES[status] ?? '',
    url,
    headers: {
      get: (name: string) => headers.get(name.toLowerCase()) ?? null,
      entries: () => headers.entries(),
    },
    arrayBuffer: async () => data,
    text: async () => bytes.toString('utf8'),
    json: async () => JSON.parse(bytes.toString('utf8')) as unknown,
  };
}
