import { Pool } from 'undici';
import { signedFormHeaders, slashCommandBody } from '../test/support/slack-signature.js';
import { clock, sleep } from './clock.js';
import type { BenchCommand } from './commands.js';

/** One command as the load generator saw it. */
export interface Sent {
  command: BenchCommand;
  /** When it was due to be sent (open loop: its slot; closed loop: when it was sent). Latencies count from here. */
  intended: number;
  /** When it was actually handed to the connection pool. */
  sent: number;
  /** When the ack was read in full. */
  done: number;
  status: number;
  /** Acked 200 with an empty body: taken (a refusal or a "could not record" answer comes as an ephemeral body). */
  accepted: boolean;
  /** The ack body when it was not empty, or the network error. */
  detail?: string;
  /** Sent during the warm-up: counted for correctness, not for latency. */
  warmUp: boolean;
}

export interface LoadTarget {
  url: string;
  signingSecret: string;
  /**
   * How long to wait for an ack before giving up on the command (ms). Slack gives up after 3 s and tells the rep
   * the command failed; the bench waits a little longer, so that late acks are still measured.
   */
  ackTimeoutMs: number;
  /** Builds each command's response_url. */
  responseUrl: (n: number) => string;
}

/** Keep-alive connections to one app: at most `connections` requests in flight, the rest wait in the pool. */
export function poolFor(url: string, connections: number): Pool {
  return new Pool(url, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: 15_000,
    bodyTimeout: 15_000,
  });
}

async function sendOne(
  pool: Pool,
  target: LoadTarget,
  command: BenchCommand,
  intended: number,
  warmUp: boolean,
): Promise<Sent> {
  const body = slashCommandBody({
    text: command.text,
    triggerId: command.triggerId,
    responseUrl: target.responseUrl(command.n),
    user: command.user,
    channel: command.channel,
  });
  const sent = clock();
  const headers = signedFormHeaders(target.signingSecret, body, Math.floor(Date.now() / 1000));
  try {
    const res = await pool.request({
      path: '/slack/events',
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(target.ackTimeoutMs),
    });
    const text = await res.body.text();
    const done = clock();
    const accepted = res.statusCode === 200 && text.trim() === '';
    return {
      command,
      intended,
      sent,
      done,
      status: res.statusCode,
      accepted,
      warmUp,
      ...(accepted ? {} : { detail: text.slice(0, 300) }),
    };
  } catch (err) {
    return {
      command,
      intended,
      sent,
      done: clock(),
      status: 0,
      accepted: false,
      warmUp,
      detail:
        (err as Error).name === 'TimeoutError'
          ? `no ack within ${target.ackTimeoutMs} ms`
          : (err as Error).message,
    };
  }
}

/**
 * Open loop: `rate` commands per second for `durationMs`, each sent at its own slot whether or not earlier ones were
 * answered (latency counts from the slot, so a slow server is not hidden by a generator that waits for it).
 */
export async function fixedRate(
  pool: Pool,
  target: LoadTarget,
  next: () => BenchCommand,
  rate: number,
  durationMs: number,
  warmUp = false,
): Promise<{ results: Sent[]; maxLagMs: number; elapsedMs: number }> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const pending: Promise<Sent>[] = [];
  const start = clock() + 5;
  let maxLagMs = 0;
  let i = 0;
  while (i < total) {
    const now = clock();
    while (i < total && start + i * interval <= now) {
      const intended = start + i * interval;
      maxLagMs = Math.max(maxLagMs, now - intended);
      pending.push(sendOne(pool, target, next(), intended, warmUp));
      i++;
    }
    if (i < total) await sleep(Math.max(0, Math.min(5, start + i * interval - clock())));
  }
  const results = await Promise.all(pending);
  return { results, maxLagMs, elapsedMs: clock() - start };
}

/** Closed loop: `concurrency` senders, each sending its next command as soon as the previous one is acked. */
export async function saturate(
  pool: Pool,
  target: LoadTarget,
  next: () => BenchCommand,
  concurrency: number,
  durationMs: number,
  warmUp = false,
): Promise<{ results: Sent[]; elapsedMs: number }> {
  const results: Sent[] = [];
  const start = clock();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (clock() < end) {
        const intended = clock();
        results.push(await sendOne(pool, target, next(), intended, warmUp));
      }
    }),
  );
  // Throughput counts the acks that came back within the window.
  return { results, elapsedMs: clock() - start };
}

/** Sends every command at once (as many at a time as the pool has connections). */
export async function sendAll(pool: Pool, target: LoadTarget, commands: BenchCommand[]): Promise<Sent[]> {
  const now = clock();
  return Promise.all(commands.map((command) => sendOne(pool, target, command, now, false)));
}
