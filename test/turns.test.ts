import { createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TurnQueue } from '../src/turns.js';

/** Counts turns of the event loop (a setImmediate that schedules itself runs once per turn). */
function loopTurns(): { count: () => number; stop: () => void } {
  let n = 0;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    n += 1;
    setImmediate(tick);
  };
  setImmediate(tick);
  return { count: () => n, stop: () => (stopped = true) };
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('TurnQueue', () => {
  it('gives one turn per turn of the event loop, first come first served', async () => {
    const turns = new TurnQueue();
    const loop = loopTurns();
    const seen: { who: number; at: number }[] = [];
    await Promise.all(
      [1, 2, 3, 4].map((who) => turns.turn().then(() => seen.push({ who, at: loop.count() }))),
    );
    loop.stop();
    expect(seen.map((s) => s.who)).toEqual([1, 2, 3, 4]);
    const at = seen.map((s) => s.at);
    // Each on a later turn of the loop than the one before.
    for (let i = 1; i < at.length; i++) expect(at[i]).toBeGreaterThan(at[i - 1] ?? Number.POSITIVE_INFINITY);
    expect(turns.waiting).toBe(0);
  });

  it('gives the calls their turns before the later work, even when they asked after it', async () => {
    const turns = new TurnQueue();
    const order: string[] = [];
    const all = [
      turns.turn('later').then(() => order.push('message 1')),
      turns.turn('later').then(() => order.push('message 2')),
      turns.turn('call').then(() => order.push('call 1')),
      turns.turn('call').then(() => order.push('call 2')),
    ];
    expect(turns.waiting).toBe(4);
    await Promise.all(all);
    expect(order).toEqual(['call 1', 'call 2', 'message 1', 'message 2']);
  });

  it('lets I/O that arrives while work is queued in before the rest of that work', async () => {
    const turns = new TurnQueue();
    const events: string[] = [];
    let arrived: () => void = () => {};
    const data = new Promise<void>((resolve) => (arrived = resolve));
    server = createServer((socket) =>
      socket.on('data', () => {
        events.push('request read');
        arrived();
      }),
    );
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const client = new Socket();
    await new Promise<void>((resolve) => client.connect(port, '127.0.0.1', resolve));

    // A backlog of 200 pieces of work; the request is sent once the first of them has run.
    let done = 0;
    const backlog = Array.from({ length: 200 }, (_, i) =>
      turns.turn('later').then(() => {
        if (i === 0) client.write('hello');
        done += 1;
        events.push(`work ${i}`);
      }),
    );
    await data;
    const readAfter = done;
    await Promise.all(backlog);
    client.destroy();
    // Read a few turns after it was sent, not after the 199 pieces of work left.
    expect(readAfter).toBeGreaterThan(0);
    expect(readAfter).toBeLessThan(150);
    expect(events.indexOf('request read')).toBe(readAfter);
  });
});
