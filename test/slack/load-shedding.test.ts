import type { AllMiddlewareArgs, AnyMiddlewareArgs } from '@slack/bolt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BUSY_MESSAGE, LoadShedder, type ShedReason } from '../../src/slack/load-shedding.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** The middleware's arguments for a slash command (or another kind of request when `command` is undefined). */
function request(command: string | undefined, next: () => Promise<void> = async () => {}) {
  const ack = vi.fn(async (_answer?: unknown) => {});
  const nextFn = vi.fn(next);
  const body = command ? { command, text: '+14155552671' } : { type: 'block_actions' };
  const args = { body, ack, next: nextFn };
  return { args: args as unknown as AnyMiddlewareArgs & AllMiddlewareArgs, ack, next: nextFn };
}

describe('LoadShedder', () => {
  it('turns a command away while too many are in hand and not yet acked, then takes commands again', async () => {
    const shed: ShedReason[] = [];
    const shedder = new LoadShedder({
      limits: { maxLagMs: 0, maxUtilization: 0, maxUnacked: 1, maxBacklog: 0 },
      backlog: () => 0,
      metrics: { commandShed: (reason) => shed.push(reason) },
    });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = request('/call', () => held);
    const firstDone = shedder.middleware(first.args);
    expect(first.next).toHaveBeenCalledTimes(1);

    const second = request('/call');
    await shedder.middleware(second.args);
    expect(second.next).not.toHaveBeenCalled();
    expect(second.ack).toHaveBeenCalledWith({ response_type: 'ephemeral', text: BUSY_MESSAGE });
    expect(shed).toEqual(['unacked']);
    // Other requests (buttons, modals) are never turned away.
    const button = request(undefined);
    await shedder.middleware(button.args);
    expect(button.next).toHaveBeenCalledTimes(1);

    release();
    await firstDone;
    const third = request('/call');
    await shedder.middleware(third.args);
    expect(third.next).toHaveBeenCalledTimes(1);
    expect(third.ack).not.toHaveBeenCalled();
    expect(shedder.overloaded()).toBeUndefined();
  });

  it('turns commands away once the event loop has had no idle moment for a second', async () => {
    const shedder = new LoadShedder({
      limits: { maxLagMs: 0, maxUtilization: 0.9, maxUnacked: 0, maxBacklog: 0 },
      backlog: () => 0,
    });
    shedder.start();
    try {
      expect(shedder.overloaded()).toBeUndefined();
      // Work without a pause for 1.2 s, as an overloaded process does.
      const until = performance.now() + 1200;
      while (performance.now() < until) {
        // busy
      }
      await vi.waitFor(() => expect(shedder.overloaded()).toBe('busy'), { interval: 5 });
    } finally {
      shedder.stop();
    }
    expect(shedder.overloaded()).toBeUndefined();
  });

  it('turns commands away while the backlog after the ack is full; a limit of 0 never does', async () => {
    let backlog = 5;
    const full = new LoadShedder({
      limits: { maxLagMs: 0, maxUtilization: 0, maxUnacked: 0, maxBacklog: 5 },
      backlog: () => backlog,
    });
    expect(full.overloaded()).toBe('backlog');
    backlog = 4;
    expect(full.overloaded()).toBeUndefined();
    const off = new LoadShedder({
      limits: { maxLagMs: 0, maxUtilization: 0, maxUnacked: 0, maxBacklog: 0 },
      backlog: () => 1e9,
    });
    expect(off.overloaded()).toBeUndefined();
  });
});

describe('/call while the app is overloaded', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers "busy, nothing was placed" at once, records and places nothing, and counts it in /metrics', async () => {
    app = await startTestApp({ appOptions: { overload: { maxBacklog: 1 } } });
    const a = app;
    // The first call stays in the backlog (its requester's time zone is being looked up) until released.
    const release = a.slack.hold('users.info');
    const first = await a.command('+14155552671');
    expect(first.status).toBe(200);
    expect(first.body).toBe('');
    await a.slack.waitFor(() => a.slack.callsOf('users.info').length === 1 && true, 'the zone lookup');

    const busy = await a.command('+14155550100', { user: 'U0OTHER01' });
    expect(busy.status).toBe(200);
    expect(busy.body).toEqual({ response_type: 'ephemeral', text: BUSY_MESSAGE });
    expect(BUSY_MESSAGE).toMatch(/no call was placed/i);
    expect(await a.store.recentCalls('T0001', 'U0OTHER01', 10)).toEqual([]);
    // Its intent was never claimed: Slack redelivering it, or the rep trying again, is a first time.
    expect(await a.store.claimIntent(`command:${busy.triggerId}`, Date.now())).toBe(true);
    expect(
      a.logs.some(
        (l) => l.msg === 'commands turned away: overloaded' && l.reason === 'backlog' && l.commands === 1,
      ),
    ).toBe(true);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/iqra_calls_commands_shed_total\{reason="backlog"\} 1/);

    // Once the backlog is worked off, commands are taken again.
    release();
    await a.slack.waitFor(() => a.iqra.requests.length === 1 && true, 'the first call');
    await a.slack.waitFor(() => a.running.desk.busy === 0 || undefined, 'the backlog to drain');
    const later = await a.command('+14155550100', { user: 'U0OTHER01' });
    expect(later.body).toBe('');
    await a.slack.waitFor(() => a.iqra.requests.length === 2 && true, 'the later call');
    expect(a.iqra.requests.map((r) => r.fields.RecipientNumber)).toEqual(['+14155552671', '+14155550100']);
  });
});
