import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../log.js';

/** Bolt's and the Web API client's own logs, through the app's scrubbing JSON logger. */
export function boltLogger(logger: Logger, initialLevel: LogLevel = LogLevel.INFO): BoltLogger {
  let level = initialLevel;
  const order = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
  const enabled = (at: LogLevel) => order.indexOf(at) >= order.indexOf(level);
  const text = (parts: unknown[]) =>
    parts
      .map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : JSON.stringify(p)))
      .join(' ');
  let name = 'bolt';
  return {
    debug: (...msg: unknown[]) => enabled(LogLevel.DEBUG) && logger.debug(text(msg), { source: name }),
    info: (...msg: unknown[]) => enabled(LogLevel.INFO) && logger.info(text(msg), { source: name }),
    warn: (...msg: unknown[]) => enabled(LogLevel.WARN) && logger.warn(text(msg), { source: name }),
    error: (...msg: unknown[]) => enabled(LogLevel.ERROR) && logger.error(text(msg), { source: name }),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n: string) => {
      name = n;
    },
  };
}
