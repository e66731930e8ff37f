/**
 * Opens the store: a SQLite file held by this one process, or a PostgreSQL database shared by several replicas.
 * Migrations are not applied here: callers call `store.migrate()`.
 */
import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { type Logger, redactUrl, silentLogger } from '../log.js';
import { KyselyStore, type Database as Tables } from './kysely-store.js';
import { type Store, StoreError } from './store.js';

export type StoreOptions =
  | {
      kind: 'sqlite';
      /** The database file; its directory is created when missing. */
      path: string;
      /** How long to wait for another process to let go of the file before giving up. Default 2000 ms. */
      lockTimeoutMs?: number;
    }
  | {
      kind: 'postgres';
      /** `postgres://user:password@host:port/database?...` */
      url: string;
      /** Pool size. Default 10. */
      maxConnections?: number;
    };

const INT8_OID = 20;
const DEFAULT_LOCK_TIMEOUT_MS = 2000;
const BUSY_TIMEOUT_MS = 5000;

/** A description of the database that is safe to log: the file path, or the URL with its password as `***`. */
export function describeStore(options: StoreOptions): string {
  if (options.kind === 'sqlite') return options.path;
  // The log's redaction: the password, and query parameters named like one (`password`, `sslpassword`), as `***`.
  return parseUrl(options.url) ? redactUrl(options.url) : 'postgres (unparseable URL)';
}

export async function openStore(options: StoreOptions, logger: Logger = silentLogger): Promise<Store> {
  const store = options.kind === 'sqlite' ? openSqlite(options, logger) : await openPostgres(options, logger);
  logger.info('store opened', { store: store.kind, database: describeStore(options) });
  return store;
}

function openSqlite(options: Extract<StoreOptions, { kind: 'sqlite' }>, logger: Logger): Store {
  const path = options.path;
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) {
    try {
      mkdirSync(dirname(resolve(path)), { recursive: true });
    } catch (err) {
      throw new StoreError(
        `Cannot create the directory of the SQLite database ${path}: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  let database: Database.Database;
  try {
    database = new Database(path);
  } catch (err) {
    throw new StoreError(`Cannot open the SQLite database ${path}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    database.pragma(
      `busy_timeout = ${Math.max(0, Math.floor(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS))}`,
    );
    // Exclusive locking: once this connection has written, it keeps the file locked until it closes, so that no
    // other process can use (and corrupt the recovery assumptions of) the same database.
    database.pragma('locking_mode = EXCLUSIVE');
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    // WAL with synchronous=NORMAL: a commit survives the process being killed (the WAL is written before the commit
    // returns); only a power loss or OS crash can lose the last commits. FULL would fsync on every commit, and this
    // driver is synchronous: every fsync (milliseconds on a virtual disk) would stall the event loop, and with it
    // Slack's acks. The writes that must survive a power loss are flushed by `walSync` instead, off the event loop.
    database.pragma('synchronous = NORMAL');
    // Take the lock now rather than at the first write.
    database.exec('BEGIN EXCLUSIVE; COMMIT');
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (err) {
    database.close();
    if (isBusy(err)) {
      throw new StoreError(
        `The SQLite database ${path} is in use by another instance of this app. SQLite allows one instance at a ` +
          'time: stop the other one, or to run several replicas use PostgreSQL by setting DATABASE_URL.',
        { cause: err },
      );
    }
    throw new StoreError(`Cannot open the SQLite database ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  const wal = inMemory ? undefined : walSync(`${resolve(path)}-wal`);
  return new KyselyStore(db, 'sqlite', {
    logger,
    description: `SQLite ${path}`,
    ...(wal ? { flushCommitted: wal.sync, onClose: wal.close } : {}),
  });
}

/**
 * Flushes SQLite's write-ahead log to disk (fsync), on libuv's thread pool rather than on the event loop: what
 * synchronous=FULL does at each commit, for the commits that need it. A commit under synchronous=NORMAL has written
 * its frames to the WAL file before it returns; an fsync of that file afterwards makes them survive a power loss.
 *
 * Callers that arrive while a flush runs share the next one (which starts after it, so it covers their commits):
 * many commits, one fsync (group commit). The WAL's directory is flushed once too, as SQLite does for a new journal.
 */
function walSync(walPath: string): { sync: () => Promise<void>; close: () => Promise<void> } {
  let handle: Promise<FileHandle> | undefined;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const openWal = async (): Promise<FileHandle> => {
    const file = await open(walPath, 'r+');
    const directory = await open(dirname(walPath), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
    return file;
  };
  const flush = async (): Promise<void> => {
    handle ??= openWal();
    const file = await handle.catch((err: unknown) => {
      handle = undefined;
      throw new StoreError(`Cannot flush the SQLite write-ahead log ${walPath}: ${errorMessage(err)}`, {
        cause: err,
      });
    });
    await file.sync();
  };
  const start = (): Promise<void> => {
    const run = flush().finally(() => {
      if (running === run) running = undefined;
    });
    running = run;
    return run;
  };
  return {
    sync: () => {
      if (!running) return start();
      // A flush is running, perhaps begun before the caller's commit: wait for the next one, shared with the others.
      queued ??= running
        .catch(() => {})
        .then(() => {
          queued = undefined;
          return start();
        });
      return queued;
    },
    close: async () => {
      await Promise.allSettled([running, queued]);
      const file = await handle?.catch(() => undefined);
      handle = undefined;
      await file?.close();
    },
  };
}

/**
 * better-sqlite3 compiles a statement on every `prepare`, and Kysely prepares each query anew; the same few queries run
 * for every call, so compiled statements are kept (by their SQL text, bounded) and reused.
 */
function withStatementCache(database: Database.Database): Database.Database {
  const cache = new Map<string, Database.Statement>();
  const prepare = database.prepare.bind(database);
  return new Proxy(database, {
    get(target, property, receiver) {
      if (property === 'prepare') {
        return (sql: string) => {
          let statement = cache.get(sql);
          if (!statement) {
            statement = prepare(sql);
            if (cache.size >= 500) cache.delete(cache.keys().next().value as string);
            cache.set(sql, statement);
          }
          return statement;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function openPostgres(
  options: Extract<StoreOptions, { kind: 'postgres' }>,
  logger: Logger,
): Promise<Store> {
  const parsed = parseUrl(options.url);
  if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new StoreError(
      'DATABASE_URL is not a PostgreSQL URL: expected postgres://user:password@host:port/database',
    );
  }
  const where = describePostgres(parsed);
  const password = passwordOf(options.url);
  const safe = (text: string) => (password ? text.split(password).join('***') : text);

  // The driver is loaded only when PostgreSQL is configured: a SQLite install does not pay for it at start-up.
  const { default: pg } = await import('pg');
  // int8 (bigint, bigserial, count(*)) as a JS number, on this pool only: epoch ms and ids stay well below 2^53.
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, (value: string) => Number(value));
  let pool: InstanceType<typeof pg.Pool>;
  try {
    pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      types,
    });
  } catch (err) {
    throw new StoreError(`Cannot use DATABASE_URL (${where}): ${safe(errorMessage(err))}`);
  }
  pool.on('error', (err) => {
    logger.warn('idle PostgreSQL connection failed', { database: where, error: safe(errorMessage(err)) });
  });
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    // The cause is left out: pg errors can carry the connection parameters.
    throw new StoreError(connectFailure(err, where, safe));
  }
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore(db, 'postgres', { logger, description: `PostgreSQL ${where}` });
}

/**
 * Why PostgreSQL could not be reached, said for whoever set DATABASE_URL. A server that asks for a password (SCRAM,
 * PostgreSQL 14+'s default) when the URL has none makes pg fail in its own terms, at the step that needs the password
 * ("SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string"): that is said as what to change.
 */
function connectFailure(err: unknown, where: string, safe: (text: string) => string): string {
  const message = errorMessage(err);
  if (/^SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a (non-empty )?string$/.test(message)) {
    return `PostgreSQL at ${where} asks for a password and DATABASE_URL has none: add it as postgres://user:password@host/db`;
  }
  return `Cannot connect to PostgreSQL at ${where}: ${safe(message)}`;
}

/** `host:port/database as user`. Never the password. */
function describePostgres(parsed: URL): string {
  const host = parsed.hostname || 'localhost';
  const port = parsed.port || '5432';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default database)';
  const user = parsed.username ? ` as ${decodeURIComponent(parsed.username)}` : '';
  return `${host}:${port}/${database}${user}`;
}

function passwordOf(url: string): string | undefined {
  const parsed = parseUrl(url);
  if (!parsed) return undefined;
  const raw = parsed.password || parsed.searchParams.get('password') || '';
  if (!raw) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || /database is locked/i.test(errorMessage(err));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
