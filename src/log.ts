/**
 * Structured logs: one JSON object per line on stdout. Every string that goes through here is scrubbed: phone
 * numbers keep only their last four digits, anything that looks like a Slack token or an Iqra key is replaced, and
 * a URL's password and secret-looking query parameters become `***`. An Error is written with its cause.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Values nested deeper than this are left out, never written unscrubbed. */
const MAX_DEPTH = 4;
/** At most this many of an AggregateError's errors are written. */
const MAX_ERRORS = 5;

const SLACK_TOKEN = /\bx(?:ox[abposr]|app)-[A-Za-z0-9-]+/g;
const IQRA_KEY = /\biu_[A-Za-z0-9]+_[A-Za-z0-9]+/g;
const SECRET_KEYS = /(token|secret|password|authorization|api[-_]?key)$/i;

// ---------------------------------------------------------------------------------------------------------------
// URLs

/** A URL in running text: a scheme, `://`, and what follows up to a space or a quote (not a closing punctuation). */
const URL_IN_TEXT = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'<>`]*[^\s"'<>`.,;:!?)\]}]/g;
/** Query (or fragment) parameters whose value is a credential: `token`, `api_key`, `X-Amz-Signature`, `sig`, … */
const SECRET_PARAM =
  /(?:token|secret|signature|password|passwd|pwd|key|auth|credential|session|sessionid)s?$|^(?:sig|pass)$/i;

/**
 * A URL as it may be shown (in logs, in `/call doctor`): the password of its userinfo and the values of query or
 * fragment parameters named like a credential become `***`; the rest is kept as written, user name included.
 * `https://ops:s3cret@iqra.example.com/x?sig=abc&lang=en` → `https://ops:***@iqra.example.com/x?sig=***&lang=en`.
 * Text that is not a URL is returned as it is.
 */
export function redactUrl(url: string): string {
  const parts = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#\\]*)([\s\S]*)$/.exec(url);
  if (!parts) return url;
  const [, scheme = '', authority = '', rest = ''] = parts;
  // The userinfo ends at the authority's last `@` (an `@` in a password is read as part of it); the password, after
  // its first `:`.
  const at = authority.lastIndexOf('@');
  const colon = authority.indexOf(':');
  const host =
    at > 0 && colon >= 0 && colon < at - 1
      ? `${authority.slice(0, colon)}:***${authority.slice(at)}`
      : authority;
  const params = rest.replace(
    /([?&;#])([^=&;#]*)=([^&;#]*)/g,
    (all, sep: string, name: string, value: string) =>
      value && SECRET_PARAM.test(decoded(name)) ? `${sep}${name}=***` : all,
  );
  return `${scheme}${host}${params}`;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function redactUrls(text: string): string {
  return text.includes('://') ? text.replace(URL_IN_TEXT, redactUrl) : text;
}

// ---------------------------------------------------------------------------------------------------------------
// Phone numbers

/**
 * Where a number may start: right after a URL escape (`%20`, `%3A`), or not inside a word that has a digit before
 * it (the digits of `e3c1b1234567…` are an id's) and not inside an escape (the `20` of `%20`).
 */
const START = '(?:(?<=%[0-9A-Fa-f]{2})|(?<![0-9][A-Za-z]*)(?<!%[0-9A-Fa-f]?))';
/** What may sit between a number's digits: spaces, ( ) . - / _ +, or their URL escapes. */
const SEPARATOR = String.raw`(?:[\s()./_+-]|%2[0BbDdEeFf89]|%5[Ff])`;
/**
 * A run of 7+ digits with up to two separators between them, after a `+` (or `%2B`) if any, and not followed by a
 * word with a digit in it. Letters may touch it (`tel4155552671`, `+14155552671abc`): see `notAPhone`.
 */
const PHONE = new RegExp(
  String.raw`(?=[+%(\d])${START}(?:\+|%2[Bb])?\(?\d(?:${SEPARATOR}{0,2}\d){6,}(?![A-Za-z]*[0-9])`,
  'g',
);
/**
 * Runs of digits that logs carry routinely and are not phone numbers: left alone, and the digits inside them are
 * not looked at.
 */
const NOT_PHONES = new RegExp(
  [
    // A Slack message timestamp, and its form in a permalink (`/p1732791234123456`).
    String.raw`(?<![0-9.])\d{9,10}\.\d{6}(?![0-9])`,
    String.raw`(?<=\/)p\d{16}(?![0-9])`,
    // An ISO date, with its time and offset if any; a time of day.
    String.raw`(?<![0-9])\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?(?![0-9])`,
    String.raw`(?<![0-9])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?(?![0-9])`,
    // A date with slashes or dots, year first or last.
    String.raw`(?<![0-9])(?:\d{4}[./]\d{1,2}[./]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4})(?![0-9])`,
    // An IPv4 address.
    String.raw`(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9]|\.\d)`,
    // A UUID; a hexadecimal id of 16 or more characters (Iqra's queue ids), not after a `+`.
    '(?<![A-Za-z0-9])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![A-Za-z0-9])',
    '(?<![A-Za-z0-9+%])(?=[0-9a-f]*[a-f])[0-9a-f]{16,}(?![A-Za-z0-9])',
    // The app's request and batch ids (`req_7k2m9qx4htbd`, `bat_…`).
    '(?<![A-Za-z0-9])(?:req_[0-9a-z]{12}|bat_[0-9a-z]{10})(?![A-Za-z0-9])',
  ].join('|'),
  'g',
);
/** Units after a number (`1500ms`, `4096kb`): a quantity, not a phone number. */
const UNITS = new Set([
  'ns',
  'us',
  'ms',
  's',
  'sec',
  'secs',
  'm',
  'min',
  'mins',
  'h',
  'hr',
  'hrs',
  'd',
  'days',
  'b',
  'kb',
  'mb',
  'gb',
  'kib',
  'mib',
  'gib',
  'bytes',
]);

/** `+14155552671` → `+*******2671`. Digits other than the last four become `*`; separators are dropped. */
export function maskPhone(text: string): string {
  const digits = text.replace(/\D/g, '');
  const keep = digits.slice(-4);
  return `${text.trim().startsWith('+') ? '+' : ''}${'*'.repeat(Math.max(0, digits.length - 4))}${keep}`;
}

function maskPhones(text: string): string {
  // Most strings (ids, messages, most timestamps) hold nothing that could be a number: they cost one scan.
  PHONE.lastIndex = 0;
  if (!PHONE.test(text)) return text;
  let out = '';
  let from = 0;
  NOT_PHONES.lastIndex = 0;
  for (let kept = NOT_PHONES.exec(text); kept; kept = NOT_PHONES.exec(text)) {
    out += maskPhonesBetween(text, from, kept.index) + kept[0];
    from = kept.index + kept[0].length;
  }
  return out + maskPhonesBetween(text, from, text.length);
}

function maskPhonesBetween(text: string, start: number, end: number): string {
  return text
    .slice(start, end)
    .replace(PHONE, (found: string, offset: number) =>
      notAPhone(text, found, start + offset) ? found : maskFound(found),
    );
}

/**
 * A run of digits that is not a phone number: a Slack id (`U0123456789`: one capital letter, then digits and
 * capitals) or a quantity (`1500000ms`, `1500000 ms`). Anything but a bare run of digits (a `+` in front, a
 * separator inside) is a phone number whatever touches it.
 */
function notAPhone(text: string, found: string, at: number): boolean {
  if (!/^\d+$/.test(found)) return false;
  const before = /%[0-9A-Fa-f]{2}$/.test(text.slice(Math.max(0, at - 3), at))
    ? ''
    : (/[A-Za-z]*$/.exec(text.slice(Math.max(0, at - 64), at))?.[0] ?? '');
  const next = text.slice(at + found.length, at + found.length + 64);
  const after = /^[A-Za-z]*/.exec(next)?.[0] ?? '';
  if (/^[A-Z]$/.test(before) && /^[A-Z]*$/.test(after)) return true;
  // A unit touching the number, or after one space when it is more than one letter (`1500 ms`, not `… s`).
  const unit = after || (/^ ([A-Za-z]{2,})(?![A-Za-z0-9])/.exec(next)?.[1] ?? '');
  return before === '' && UNITS.has(unit.toLowerCase());
}

/** `+14155552671` → `+*******2671`, `%2B1%20415…` → `%2B*******2671`: the `+` (as written) and the last four digits. */
function maskFound(found: string): string {
  const lead = /^(?:\+|%2[Bb])/.exec(found)?.[0] ?? '';
  return `${lead}${maskPhone(found.slice(lead.length).replace(/%[0-9A-Fa-f]{2}/g, ' '))}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Scrubbing

export function scrub(text: string): string {
  return maskPhones(
    redactUrls(text).replace(SLACK_TOKEN, '[redacted token]').replace(IQRA_KEY, '[redacted key]'),
  );
}

function scrubValue(key: string, value: unknown, depth = 0): unknown {
  if (SECRET_KEYS.test(key) && value !== undefined && value !== null && value !== '') return '[redacted]';
  if (typeof value === 'string') return scrub(value);
  if (value instanceof Error) return scrubError(value, depth);
  if (value && typeof value === 'object') {
    // Deeper than this is not scrubbed: it is left out, never written as it is.
    if (depth >= MAX_DEPTH) return '[nested too deep]';
    if (Array.isArray(value)) return value.map((v) => scrubValue('', v, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(k, v, depth + 1)]));
  }
  return value;
}

/**
 * An Error as `name`, `message` and `code`, then its `cause` (and an AggregateError's `errors`), each one level
 * deeper, so that a "fetch failed" shows the ECONNREFUSED under it. A cause chain stops at the nesting limit.
 */
function scrubError(err: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: err.name,
    message: scrub(err.message),
    code: scrubValue('code', (err as { code?: unknown }).code, depth + 1),
  };
  const deeper = (key: string, value: unknown) =>
    depth + 1 >= MAX_DEPTH ? '[nested too deep]' : scrubValue(key, value, depth + 1);
  if (err.cause !== undefined) out.cause = deeper('cause', err.cause);
  if (err instanceof AggregateError && Array.isArray(err.errors) && err.errors.length > 0) {
    out.errors = deeper('errors', err.errors.slice(0, MAX_ERRORS));
  }
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    const entry = scrubValue('', { time: now().toISOString(), level, msg, ...base, ...fields }) as LogFields;
    write(JSON.stringify(entry));
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ write: () => {} });
