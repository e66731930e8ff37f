import { iqraClientFor, SlackStartError, startSlackApp } from './app.js';
import { ConfigError, loadConfig, readEnvironment } from './config.js';
import { createLogger, redactUrl } from './log.js';
import { checkFromCommandLine } from './services/doctor.js';
import { describeStore, openStore } from './store/open-store.js';
import { type Store, StoreError } from './store/store.js';

/** The composition root: settings → Iqra client → Slack app → start; SIGTERM/SIGINT stop it cleanly. */
async function main(): Promise<void> {
  // The only argument is `--check`: anything else (a typo of it) must not start the bot instead.
  const unknown = process.argv.slice(2).filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(
      `Iqra Calls for Slack: unknown argument ${unknown.map((a) => `"${a}"`).join(', ')}. Run it with no argument to start the bot, or with --check (npm start -- --check) to check the settings without starting it.\n`,
    );
    process.exit(2);
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(readEnvironment());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(
        `Iqra Calls for Slack cannot start: ${err.problems.length} setting(s) need fixing.\n${err.problems
          .map((p) => `  - ${p}`)
          .join('\n')}\nSee README.md → Settings, or copy .env.example to .env.\n`,
      );
      process.exit(1);
    }
    throw err;
  }
  // `npm start -- --check`: the doctor's checks, printed; exit 0 when nothing is ❌. The receiver is never started.
  if (process.argv.slice(2).includes('--check')) process.exit(await checkFromCommandLine(config));

  const logger = createLogger({ level: config.logLevel });
  // A promise rejected with nothing to handle it ends the process under Node's default. The app's own work handles
  // its errors; what can leave one unhandled is a library (the Socket Mode client does, for each reconnection Slack
  // refuses during an outage), and ending the app for it would stop every call in progress for nothing: logged
  // (scrubbed, as every line), and the app goes on. Exceptions thrown synchronously still end it.
  process.on('unhandledRejection', (reason) => {
    logger.error('a promise was rejected and nothing handled it; the app goes on', { error: reason });
  });
  const iqra = iqraClientFor(config, { logger: logger.child({ component: 'iqra' }) });
  // A stop asked for while starting (an orchestrator's SIGTERM) waits for the start to finish, then stops cleanly:
  // killed by the signal instead, a call that recovery was resuming could be caught being sent.
  // A second signal, or a start still not finished 15 s later (Slack not answering), ends the process at once.
  let stopAsked: string | undefined;
  let startTimeout: NodeJS.Timeout | undefined;
  const askStop = (signal: string) => {
    if (stopAsked) process.exit(1);
    stopAsked = signal;
    logger.info('stop asked while starting: stopping once started', { signal });
    startTimeout = setTimeout(() => {
      logger.error('still starting 15 s after the stop was asked; exiting');
      process.exit(1);
    }, 15_000);
    startTimeout.unref();
  };
  process.on('SIGTERM', askStop);
  process.on('SIGINT', askStop);

  let store: Store | undefined;
  let running: Awaited<ReturnType<typeof startSlackApp>>;
  try {
    // A restarted app waits (briefly) for a previous process that is still shutting down to let go of the file.
    const storeOptions =
      config.store.kind === 'sqlite' ? { ...config.store, lockTimeoutMs: 10_000 } : config.store;
    store = await openStore(storeOptions, logger.child({ component: 'store' }));
    await store.migrate();
    logger.info('store ready', { store: describeStore(config.store), schema: await store.schemaVersion() });
    running = await startSlackApp({ config, logger, iqra, store });
  } catch (err) {
    const message =
      err instanceof SlackStartError || err instanceof StoreError
        ? err.message
        : `Could not start: ${(err as Error).message}`;
    logger.error(message);
    process.stderr.write(`Iqra Calls for Slack cannot start: ${message}\n`);
    await iqra.close();
    await store?.close().catch(() => {});
    process.exit(1);
  }
  const openedStore = store;
  logger.info('ready', {
    mode: config.slack.mode,
    port: running.port,
    // A password or a token in the URL (a proxy's) is shown as `***`.
    iqraBaseUrl: redactUrl(config.iqra.baseUrl),
    requestFormat: config.iqra.requestFormat,
    agents: config.iqra.agents.entries.map((a) => a.alias),
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    const timer = setTimeout(() => {
      logger.error('did not stop within 15 s; exiting');
      process.exit(1);
    }, 15_000);
    timer.unref();
    try {
      await running.stop();
      // A request still on its way to Iqra (or a poll) is not waited for: the store already says what to do with it at
      // the next start (a call caught being sent becomes unknown, and its rep is told).
      await Promise.race([iqra.close(), new Promise((resolve) => setTimeout(resolve, 1000))]);
      await openedStore.close();
    } finally {
      logger.info('stopped');
      process.exit(0);
    }
  };
  process.off('SIGTERM', askStop);
  process.off('SIGINT', askStop);
  clearTimeout(startTimeout);
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  if (stopAsked) void stop(stopAsked);
  // Started by `npm start` and npm was killed outright (SIGKILL): npm cannot pass a signal on, so notice being
  // orphaned and stop cleanly, rather than keep running unseen (and holding the SQLite file).
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid !== parent) void stop('parent process exited');
  }, 1000);
  orphanWatch.unref();
}

void main();
