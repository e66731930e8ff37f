/**
 * Structured logs: one JSON object per line on stdout. Every string that goes through here is scrubbed: phone
 * numbers keep only their last four digits and anything that looks like a Slack token or an Iqra key is replaced.
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

// A run of 7+ digits, possibly with +, spaces, dots, dashes or parentheses between them.
const PHONE = /(?<![A-Za-z0-9_])\+?\(?\d(?:[\s().-]{0,2}\d){6,}(?![A-Za-z0-9_])/g;
const SLACK_TOKEN = /\bx(?:ox[abposr]|app)-[A-Za-z0-9-]+/g;
const IQRA_KEY = /\biu_[A-Za-z0-9]+_[A-Za-z0-9]+/g;
const SECRET_KEYS = /(token|secret|password|authorization|api[-_]?key)$/i;

/** `+14155552671` → `+*******2671`. Digits other than the last four become `*`; separators are dropped. */
export function maskPhone(text: string): string {
  const digits = text.replace(/\D/g, '');
  const keep = digits.slice(-4);
  return `${text.trim().startsWith('+') ? '+' : ''}${'*'.repeat(Math.max(0, digits.length - 4))}${keep}`;
}

export function scrub(text: string): string {
  return text
    .replace(SLACK_TOKEN, '[redacted token]')
    .replace(IQRA_KEY, '[redacted key]')
    .replace(PHONE, (m) => maskPhone(m));
}

function scrubValue(key: string, value: unknown, depth = 0): unknown {
  if (SECRET_KEYS.test(key) && value !== undefined && value !== null && value !== '') return '[redacted]';
  if (typeof value === 'string') return scrub(value);
  if (value instanceof Error) {
    return { name: value.name, message: scrub(value.message), code: (value as { code?: unknown }).code };
  }
  if (value && typeof value === 'object') {
    // Deeper than this is not scrubbed: it is left out, never written as it is.
    if (depth >= 4) return '[nested too deep]';
    if (Array.isArray(value)) return value.map((v) => scrubValue('', v, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(k, v, depth + 1)]));
  }
  return value;
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
