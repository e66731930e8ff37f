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
 */
import { STATUS_CODES } from 'node:http';
import type { webApi } from '@slack/bolt';
import { type Dispatcher, request } from 'undici';

type FetchFunction = NonNullable<webApi.WebClientOptions['fetch']>;
type FetchResponse = Awaited<ReturnType<FetchFunction>>;

/** A `fetch` for the Web API client; `dispatcher` overrides undici's global one (its keep-alive connection pool). */
export function webApiFetch(dispatcher?: Dispatcher): FetchFunction {
  return async (url, init) => {
    const body = init?.body;
    if (body !== undefined && typeof body !== 'string') return fetch(url, init as RequestInit);
    const res = await request(url, {
      method: (init?.method ?? 'GET') as Dispatcher.HttpMethod,
      ...(init?.headers ? { headers: init.headers } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(init?.signal ? { signal: init.signal } : {}),
      ...(dispatcher ? { dispatcher } : {}),
    });
    return bufferedResponse(String(url), res.statusCode, res.headers, await res.body.arrayBuffer());
  };
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
