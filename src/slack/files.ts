import type { webApi } from '@slack/bolt';
import { request } from 'undici';
import { deliveryFailure } from './delivery.js';

/**
 * Files in Slack: reading the CSV a rep uploaded through a modal's `file_input` (needs the `files:read` scope) and
 * sharing a result file in a thread (`files:write`). The bot token goes to Slack alone: it is never part of an error,
 * and a file's URL gets it only over https or on the Web API's own origin.
 */

const REINSTALL = 'ask a Slack admin to reinstall the app from manifest.yml, then upload the file again';

/** What reps are told, by error code. Functions take the details that make the message useful. */
export const SLACK_FILE_MESSAGES = {
  fileTooLarge: (maxBytes: number, bytes?: number) =>
    `${bytes !== undefined ? `That file is ${sizeOf(bytes)}; the` : 'That file is too large: the'} most the app ` +
    `can read is ${sizeOf(maxBytes)}. Split it into smaller files and upload each one.`,
  unsupportedType: (name: string, kind: string) =>
    `"${name}" isn't a CSV or text file (Slack sees it as ${kind}). Save it as CSV (File → Download → .csv) and ` +
    'upload that.',
  missingScope: `The app isn't allowed to read files in this workspace (it lacks the files:read permission): ${REINSTALL}.`,
  notReadable: (name: string) =>
    `The app couldn't read "${name}": Slack didn't let it download the file (it sent a sign-in page instead). The ` +
    `app needs the files:read permission: ${REINSTALL}.`,
  fileNotFound:
    "Slack couldn't find that file: it may have been deleted, or it was shared where the app can't see " +
    'it. Upload it again.',
  fileDeleted: 'That file was deleted from Slack before the app could read it. Upload it again.',
  invalidAuth:
    "The app's connection to Slack is no longer valid (its token was revoked or the app was removed): " +
    'ask a Slack admin to reinstall the app from manifest.yml.',
  unavailable: "Slack is busy or didn't answer, so the app couldn't fetch the file. Try again in a minute.",
  slackError: (code: string) =>
    `Slack wouldn't give the app the file (Slack said "${code}"). Upload it again; if that keeps failing, tell a ` +
    'Slack admin.',
} as const;

export type SlackFileErrorCode =
  | 'file_too_large'
  | 'unsupported_type'
  | 'missing_scope'
  | 'not_readable'
  | 'file_not_found'
  | 'file_deleted'
  | 'invalid_auth'
  | 'unavailable'
  | 'slack_error';

/** A file the app could not read (or would not): `userMessage` says what is wrong and how to fix it. */
export class SlackFileError extends Error {
  override readonly name = 'SlackFileError';

  constructor(
    readonly code: SlackFileErrorCode,
    readonly userMessage: string,
    /** Worth trying again later as it is (Slack or the network was at fault, not the file or the app's setup). */
    readonly retryable = false,
    /** For the log: what went wrong underneath, never with the token. */
    detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
  }
}

export interface DownloadOptions {
  /** The bot token, sent as `Authorization: Bearer` for files.info and the file's URL. */
  token: string;
  /** Refuse files bigger than this, by the size Slack declares and by the bytes that arrive. */
  maxBytes: number;
  /** For the whole download (headers and body); default 30 s. */
  timeoutMs?: number;
}

const MAX_REDIRECTS = 3;

/**
 * Reads a text file (CSV, TSV, plain text) the rep shared: files.info through `client` (so it follows the client's
 * `slackApiUrl`), then a GET of its `url_private_download` with the bot token. UTF-8 is kept as it is (a BOM too);
 * bytes that are not UTF-8 are read as Windows-1252, which is what Excel writes for "CSV" on Windows. Throws
 * SlackFileError only.
 */
export async function downloadSlackFile(
  client: webApi.WebClient,
  fileId: string,
  options: DownloadOptions,
): Promise<{ name: string; text: string }> {
  let info: webApi.FilesInfoResponse;
  try {
    info = await client.files.info({ file: fileId, token: options.token });
  } catch (err) {
    throw apiError(err);
  }
  const file = info.file;
  const url = file?.url_private_download ?? file?.url_private;
  if (!file || !url) throw new SlackFileError('file_not_found', SLACK_FILE_MESSAGES.fileNotFound);
  const name = file.name ?? file.title ?? fileId;

  refuseUnlessText(name, file.filetype, file.mimetype, file.pretty_type);
  if (typeof file.size === 'number' && file.size > options.maxBytes)
    throw new SlackFileError('file_too_large', SLACK_FILE_MESSAGES.fileTooLarge(options.maxBytes, file.size));

  const bytes = await fetchBytes(url, client.slackApiUrl, name, options);
  return { name, text: decodeText(bytes) };
}

export interface UploadTextFileOptions {
  channelId: string;
  /** The parent message's ts, to share the file in its thread. */
  threadTs?: string;
  filename: string;
  title?: string;
  content: string;
  initialComment?: string;
}

/**
 * Shares a text file (UTF-8) in a channel or a thread with files.uploadV2; returns the file's id. Errors are the
 * WebClient's own, for the caller to classify with `deliveryFailure`.
 */
export async function uploadTextFile(
  client: webApi.WebClient,
  options: UploadTextFileOptions,
): Promise<string | undefined> {
  const common = {
    filename: options.filename,
    content: options.content,
    ...(options.title ? { title: options.title } : {}),
    ...(options.initialComment ? { initial_comment: options.initialComment } : {}),
  };
  const result = await client.files.uploadV2(
    options.threadTs
      ? { ...common, channel_id: options.channelId, thread_ts: options.threadTs }
      : { ...common, channel_id: options.channelId },
  );
  // uploadV2 answers one files.completeUploadExternal result per destination, each with its files.
  const completions = (result as { files?: { files?: { id?: string }[] }[] }).files;
  return completions?.[0]?.files?.[0]?.id;
}

const TEXT_FILETYPES = new Set(['csv', 'tsv', 'text']);
/** Mimetypes browsers and Windows give a .csv besides text/csv. */
const CSV_MIMETYPES = new Set([
  'application/csv',
  'application/x-csv',
  'application/vnd.ms-excel',
  'text/x-csv',
]);

function refuseUnlessText(name: string, filetype?: string, mimetype?: string, prettyType?: string): void {
  const type = filetype?.toLowerCase() ?? '';
  const mime = mimetype?.toLowerCase().split(';')[0]?.trim() ?? '';
  const textual = mime.startsWith('text/') && mime !== 'text/html';
  const csvByName = /\.(csv|tsv|txt)$/i.test(name) && CSV_MIMETYPES.has(mime);
  if (
    TEXT_FILETYPES.has(type) ||
    (type !== 'html' && textual) ||
    (!['xls', 'xlsx'].includes(type) && csvByName)
  )
    return;
  const kind =
    prettyType || (type && type !== 'binary' ? type.toUpperCase() : mime || 'an unknown kind of file');
  throw new SlackFileError('unsupported_type', SLACK_FILE_MESSAGES.unsupportedType(name, kind), false, kind);
}

/** A Web API failure (files.info) as something the rep can act on. */
function apiError(err: unknown): SlackFileError {
  const failure = deliveryFailure(err);
  switch (failure.code) {
    case 'missing_scope':
    case 'no_permission':
      return new SlackFileError('missing_scope', SLACK_FILE_MESSAGES.missingScope, false, failure.code);
    case 'file_not_found':
    case 'invalid_arguments':
      return new SlackFileError('file_not_found', SLACK_FILE_MESSAGES.fileNotFound, false, failure.code);
    case 'file_deleted':
      return new SlackFileError('file_deleted', SLACK_FILE_MESSAGES.fileDeleted, false, failure.code);
    case 'not_authed':
    case 'invalid_auth':
    case 'account_inactive':
    case 'token_revoked':
    case 'token_expired':
    case 'no_such_app':
      return new SlackFileError('invalid_auth', SLACK_FILE_MESSAGES.invalidAuth, false, failure.code);
    default:
      return failure.transient
        ? new SlackFileError('unavailable', SLACK_FILE_MESSAGES.unavailable, true, failure.code)
        : new SlackFileError(
            'slack_error',
            SLACK_FILE_MESSAGES.slackError(failure.code),
            false,
            failure.code,
          );
  }
}

/**
 * GETs a file's URL with the token, following a few redirects: to https, or within the Web API's own origin (a test
 * double on http). The token goes only to https URLs on the first URL's origin or Slack's own hosts, or to the Web
 * API's origin; a redirect elsewhere is followed without it.
 */
async function fetchBytes(
  url: string,
  apiUrl: string,
  name: string,
  options: DownloadOptions,
): Promise<Buffer> {
  const apiOrigin = originOf(apiUrl);
  let target = parseUrl(url);
  if (!target || !(target.protocol === 'https:' || target.origin === apiOrigin))
    throw new SlackFileError(
      'slack_error',
      SLACK_FILE_MESSAGES.slackError('unexpected_file_url'),
      false,
      'the file URL is neither https nor on the Web API origin',
    );
  const firstOrigin = target.origin;
  const signal = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  for (let hop = 0; ; hop++) {
    const withToken =
      target.origin === apiOrigin ||
      (target.protocol === 'https:' && (target.origin === firstOrigin || isSlackHost(target.hostname)));
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(target, {
        method: 'GET',
        headers: withToken ? { authorization: `Bearer ${options.token}` } : {},
        signal,
      });
    } catch (err) {
      throw networkError(err);
    }
    const status = res.statusCode;
    const location = header(res.headers, 'location');
    if (status >= 300 && status < 400 && location) {
      await res.body.dump().catch(() => {});
      const next = parseUrl(location, target);
      // Slack's sign-in page is where a request without a usable token ends up.
      if (!next || hop >= MAX_REDIRECTS || !(next.protocol === 'https:' || next.origin === firstOrigin))
        throw new SlackFileError(
          'not_readable',
          SLACK_FILE_MESSAGES.notReadable(name),
          false,
          `redirected (${status})`,
        );
      target = next;
      continue;
    }
    if (status === 401 || status === 403) {
      await res.body.dump().catch(() => {});
      throw new SlackFileError(
        'not_readable',
        SLACK_FILE_MESSAGES.notReadable(name),
        false,
        `http_${status}`,
      );
    }
    if (status === 404 || status === 410) {
      await res.body.dump().catch(() => {});
      throw new SlackFileError('file_not_found', SLACK_FILE_MESSAGES.fileNotFound, false, `http_${status}`);
    }
    if (status < 200 || status >= 300) {
      await res.body.dump().catch(() => {});
      const retryable = status >= 500 || status === 429;
      throw retryable
        ? new SlackFileError('unavailable', SLACK_FILE_MESSAGES.unavailable, true, `http_${status}`)
        : new SlackFileError('slack_error', SLACK_FILE_MESSAGES.slackError(`http_${status}`), false);
    }
    if (/^text\/html\b/i.test(header(res.headers, 'content-type') ?? '')) {
      await res.body.dump().catch(() => {});
      throw new SlackFileError('not_readable', SLACK_FILE_MESSAGES.notReadable(name), false, 'an HTML page');
    }
    const declared = Number(header(res.headers, 'content-length'));
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      await res.body.dump().catch(() => {});
      throw new SlackFileError(
        'file_too_large',
        SLACK_FILE_MESSAGES.fileTooLarge(options.maxBytes, declared),
      );
    }
    const bytes = await readAtMost(res.body, options.maxBytes);
    if (looksLikeHtml(bytes))
      throw new SlackFileError('not_readable', SLACK_FILE_MESSAGES.notReadable(name), false, 'an HTML page');
    return bytes;
  }
}

/** The body, or a file_too_large error as soon as it passes `maxBytes` (the rest is not read). */
async function readAtMost(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      total += chunk.length;
      if (total > maxBytes) {
        body.destroy();
        throw new SlackFileError('file_too_large', SLACK_FILE_MESSAGES.fileTooLarge(maxBytes));
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof SlackFileError) throw err;
    throw networkError(err);
  }
  return Buffer.concat(chunks);
}

function networkError(err: unknown): SlackFileError {
  const e = err as { name?: string; code?: string };
  const what =
    e?.name === 'TimeoutError' || e?.name === 'AbortError' ? 'timed out' : (e?.code ?? 'network error');
  return new SlackFileError('unavailable', SLACK_FILE_MESSAGES.unavailable, true, what);
}

/**
 * UTF-16 with its byte-order mark (Excel's "Unicode Text", which Slack takes as a text file), else UTF-8 (a BOM kept,
 * for the CSV reader to see), else Windows-1252 rather than U+FFFD replacement characters.
 */
export function decodeText(bytes: Uint8Array): string {
  const utf16 =
    bytes[0] === 0xff && bytes[1] === 0xfe
      ? 'utf-16le'
      : bytes[0] === 0xfe && bytes[1] === 0xff
        ? 'utf-16be'
        : undefined;
  if (utf16) {
    // The BOM goes: the CSV reader looks for UTF-8's, decoded as U+FEFF, and drops that as well.
    return new TextDecoder(utf16).decode(bytes);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

/**
 * Windows-1252 is Latin-1 but for 0x80-0x9F, where it has €, curly quotes, dashes, Š, Ž, ™ and so on (WHATWG
 * index-windows-1252; the five bytes it leaves as C1 controls map to themselves). Not `new TextDecoder('windows-1252')`:
 * Node 20.18.3+ decodes that label as plain Latin-1 (nodejs/node#56542, #60888), which turns "€" into U+0080.
 */
const WINDOWS_1252_C1 =
  '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F' +
  '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';

function decodeWindows1252(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .replace(/[\u0080-\u009F]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80] ?? c);
}

function looksLikeHtml(bytes: Buffer): boolean {
  const start = bytes
    .subarray(0, 64)
    .toString('latin1')
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart();
  return /^<(!doctype html|html[\s>])/i.test(start);
}

function isSlackHost(hostname: string): boolean {
  return hostname === 'slack.com' || hostname.endsWith('.slack.com') || hostname.endsWith('.slack-edge.com');
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseUrl(value: string, base?: URL): URL | undefined {
  try {
    return new URL(value, base);
  } catch {
    return undefined;
  }
}

function originOf(value: string): string | undefined {
  return parseUrl(value)?.origin;
}

/** `5 MB`, `1.5 MB`, `300 KB`. */
function sizeOf(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  if (mb >= 1) return `${Math.round(mb * 10) / 10} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
