import { afterEach, describe, expect, it } from 'vitest';
import { DNC_NOT_SAVED } from '../../src/slack/listeners/commands/admin.js';
import { messageShortcut, openedViews, viewSubmission } from '../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// Friday 27 November 2026, 13:00 UTC: 05:00 in Los Angeles, 13:00 in London.
const EARLY = new Date('2026-11-27T13:00:00.000Z');
// 18:00 UTC: 10:00 in Los Angeles.
const DAYTIME = new Date('2026-11-27T18:00:00.000Z');
const ADMIN = 'U0ADMIN01';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(env: Record<string, string> = {}, at = DAYTIME) {
  const t0 = Date.now();
  app = await startTestApp({
    env: { CALL_ADMINS: ADMIN, CALLING_HOURS: '08:00-21:00', ...env },
    now: () => new Date(at.getTime() + (Date.now() - t0)),
  });
  app.slack.userZones.set('U0MARIA1', 'Europe/London');
  app.slack.handle('usergroups.users.list', (args) =>
    args.usergroup === 'S0SALES01'
      ? { body: { ok: true, users: ['U0MARIA1'] } }
      : { body: { ok: true, users: [] } },
  );
  return app;
}

/** The answer the requester alone got after the ack (response_url). */
async function refusal(a: TestApp, index = 0) {
  const reply = await a.slack.waitFor(() => a.slack.responses[index], 'the refusal');
  return JSON.stringify(reply.body);
}

async function settled(a: TestApp) {
  await new Promise((r) => setTimeout(r, 250));
  return a.iqra.requests.length;
}

const ack = (sent: { body: unknown }) => JSON.stringify(sent.body);

describe('who may call', () => {
  it('refuses a rep who is not in CALL_ALLOWED_USERS, says whom to ask, sends nothing, and records it', async () => {
    const a = await start({ CALL_ALLOWED_USERS: 'U0BOSS001' });
    await a.command('+14155552671');
    const text = await refusal(a);
    expect(text).toContain("You're not among the people who may place calls");
    expect(text).toContain(`<@${ADMIN}>`);
    expect(await settled(a)).toBe(0);
    const [entry] = await a.store.auditLog('T0001', 5);
    expect(entry).toMatchObject({ actor: 'app', action: 'refused:who' });
    expect((await a.store.recentCalls('T0001', 'U0MARIA1', 1))[0]?.state).toBe('refused');
  });

  it('lets in the members of an allowed user group', async () => {
    const a = await start({ CALL_ALLOWED_USERS: 'S0SALES01' });
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests[0], 'the call');
  });

  it('says so when a user group in CALL_ALLOWED_USERS cannot be read with Slack, and still places nothing', async () => {
    const a = await start({ CALL_ALLOWED_USERS: 'S0SALES01,S0BROKEN1,U0BOSS001' });
    a.slack.handle('usergroups.users.list', (args) =>
      args.usergroup === 'S0SALES01'
        ? { body: { ok: true, users: ['U0MARIA1'] } }
        : { body: { ok: false, error: 'missing_scope', needed: 'usergroups:read' } },
    );
    // Not in the group that can be read, and the other cannot: not known to be allowed, so refused, saying why.
    await a.command('+14155552671', { user: 'U0OTHER01' });
    const text = await refusal(a);
    expect(text).toContain("I couldn't check with Slack whether you may place calls");
    expect(text).toContain('Nothing was placed');
    expect(text).toContain('`usergroups:read`');
    expect(text).toContain(`<@${ADMIN}>`);
    expect(text).not.toContain("You're not among the people");
    expect(text).not.toContain('add you to CALL_ALLOWED_USERS');
    expect(await settled(a)).toBe(0);
    const [entry] = await a.store.auditLog('T0001', 5);
    expect(entry).toMatchObject({
      actor: 'app',
      action: 'refused:who',
      detail: { reason: 'could not read a user group' },
    });

    // A member of the group that can be read, and a rep listed by id, still call.
    await a.command('+14155552671', { user: 'U0MARIA1' });
    await a.command('+14155552671', { user: 'U0BOSS001' });
    await a.slack.waitFor(() => a.iqra.requests.length === 2 && true, 'the two calls');
  });

  it('refuses a channel not in CALL_ALLOWED_CHANNELS, naming the allowed ones', async () => {
    const a = await start({ CALL_ALLOWED_CHANNELS: 'C0CALLS001' });
    await a.command('+14155552671');
    expect(await refusal(a)).toContain('<#C0CALLS001>');
    expect(await settled(a)).toBe(0);
  });
});

describe('the do-not-call list', () => {
  it('is managed by admins; a listed number is refused on the command, naming the list but not the reason', async () => {
    const a = await start();
    expect(ack(await a.command('dnc add +14155552671 asked us to stop', { user: 'U0MARIA1' }))).toContain(
      'Only admins',
    );
    expect(ack(await a.command('dnc add (415) 555-2671 asked us to stop', { user: ADMIN }))).toContain(
      'Added *+1 415 555 2671* to the do-not-call list',
    );
    expect(ack(await a.command('dnc add +14155552671', { user: ADMIN }))).toContain(
      'already on the do-not-call list',
    );
    // A national number (read in DEFAULT_PHONE_REGION) ends where the reason begins, even a reason with a digit first.
    expect(ack(await a.command('dnc add 212 555 0143 3 complaints', { user: ADMIN }))).toContain(
      'Added *+1 212 555 0143*',
    );
    expect(ack(await a.command('dnc check +12125550143', { user: ADMIN }))).toContain('3 complaints');
    expect(ack(await a.command('dnc check 415.555.2671'))).not.toContain('asked us to stop');
    expect(ack(await a.command('dnc check 415.555.2671', { user: ADMIN }))).toContain('asked us to stop');
    expect(ack(await a.command('dnc list', { user: ADMIN }))).toContain('+1 415 555 2671');

    await a.command('+14155552671');
    const text = await refusal(a);
    expect(text).toContain('is on the do-not-call list');
    expect(text).not.toContain('asked us to stop');
    expect(await settled(a)).toBe(0);

    expect(ack(await a.command('dnc remove +14155552671', { user: ADMIN }))).toContain('Removed');
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests[0], 'the call after removal');
    const actions = (await a.store.auditLog('T0001', 20)).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['dnc:add', 'dnc:remove', 'refused:dnc', 'refused:dnc_add']),
    );
  });

  it('imports pasted lines or CSV in a modal, reporting added, duplicates and invalid lines', async () => {
    const a = await start();
    await a.command('dnc add +14155552671', { user: ADMIN });
    await a.command('dnc import', { user: ADMIN });
    const opened = await a.slack.waitFor(() => openedViews(a)[0], 'the import form');
    expect(opened.view.callback_id).toBe('dnc_import_modal');
    const res = await a.interact(
      viewSubmission(a, opened.view, {
        user: ADMIN,
        input: {
          dnc_lines:
            'phone,reason\n+14155552671,already there\n"Ada Lovelace",+44 20 7183 8750,moved\n(646) 555-0199\nnot a number 12\n+1646 555 0199',
        },
      }),
    );
    expect(res.status).toBe(200);
    const result = JSON.parse(res.body) as {
      response_action: string;
      view: { blocks: { text: { text: string } }[] };
    };
    expect(result.response_action).toBe('update');
    const summary = result.view.blocks[0]?.text.text ?? '';
    expect(summary).toContain('*Added:* 2');
    expect(summary).toContain('*Skipped as duplicates:* 2');
    expect(summary).toContain('*Rejected as invalid:* 1');
    expect(summary).toContain('not a number 12');
    expect((await a.store.findDnc('T0001', '+442071838750'))?.reason).toBe('Ada Lovelace, moved');
  });

  it('refuses an import form sent by a non-admin on the form, in plain words, and imports nothing', async () => {
    const a = await start();
    await a.command('dnc import', { user: ADMIN });
    const opened = await a.slack.waitFor(() => openedViews(a)[0], 'the import form');
    // Sent by someone who is not an admin (a forged submission, or one no longer an admin).
    const res = await a.interact(
      viewSubmission(a, opened.view, { user: 'U0MARIA1', input: { dnc_lines: '+14155552671' } }),
    );
    const answer = JSON.parse(res.body) as { response_action: string; errors: Record<string, string> };
    expect(answer.response_action).toBe('errors');
    // Slack shows a form's errors as plain text: the admins' mention would read `<@U0ADMIN01>` there.
    expect(Object.values(answer.errors)).toEqual(['Only admins can import numbers. Ask one of them.']);
    expect((await a.store.listDnc('T0001', 10)).total).toBe(0);
  });

  it('answers an import the database cannot take on the form, and the form stays open to try again', async () => {
    const a = await start();
    await a.command('dnc import', { user: ADMIN });
    const opened = await a.slack.waitFor(() => openedViews(a)[0], 'the import form');
    await a.store.close();
    const res = await a.interact(
      viewSubmission(a, opened.view, { user: ADMIN, input: { dnc_lines: '+14155552671' } }),
    );
    expect(res.status).toBe(200);
    const answer = JSON.parse(res.body) as { response_action: string; errors: Record<string, string> };
    expect(answer.response_action).toBe('errors');
    expect(Object.values(answer.errors)).toEqual([DNC_NOT_SAVED]);
  });

  it('refuses a non-admin every admin action', async () => {
    const a = await start();
    for (const text of ['dnc add +14155552671', 'dnc remove +14155552671', 'dnc list', 'audit']) {
      expect(ack(await a.command(text))).toContain('Only admins');
    }
    await a.command('dnc import');
    const answer = await a.slack.waitFor(() => a.slack.responses[0], 'the refusal');
    expect(JSON.stringify(answer.body)).toContain('Only admins');
    expect(a.slack.callsOf('views.open')).toHaveLength(0);
    expect((await a.store.listDnc('T0001', 10)).total).toBe(0);
  });

  it('stops a call that waited for approval if the number was listed meanwhile', async () => {
    const a = await start({ CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001' });
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.slack.callsOf('chat.postMessage')[0], 'the approval request');
    const [pending] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    await a.command('dnc add +14155552671', { user: ADMIN });
    await a.interact(
      a.buttonPress({
        actionId: 'approve_call',
        value: String(pending?.id),
        user: 'U0BOSS001',
        message: { ts: '1.1' },
      }),
    );
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.update').find((u) => String(u.args.text).includes('do-not-call list')),
      'the parent saying so',
    );
    expect(await settled(a)).toBe(0);
    expect((await a.store.getCall(String(pending?.id)))?.state).toBe('refused');
  });
});

describe('calling hours in the recipient’s zone', () => {
  it('refuses a call at 05:00 for the recipient (13:00 for the rep), with the next allowed time and a Schedule button', async () => {
    const a = await start({}, EARLY);
    await a.command('+14155552671 CustomerName=Ada');
    const reply = await a.slack.waitFor(() => a.slack.responses[0], 'the refusal');
    const text = JSON.stringify(reply.body);
    expect(text).toContain('outside calling hours (08:00–21:00, every day)');
    expect(text).toContain('America/Los_Angeles');
    expect(text).toContain('"action_id":"schedule_call"');
    const value = String(text.match(/"value":"(req_[^"]+)"/)?.[1]);
    const [previousId, at] = value.split('|');
    expect(new Date(Number(at)).toISOString()).toBe('2026-11-27T16:00:00.000Z');
    expect(await settled(a)).toBe(0);

    const press = a.buttonPress({
      actionId: 'schedule_call',
      value,
      user: 'U0MARIA1',
      message: { ts: '1.1' },
    });
    await Promise.all([a.interact(press), a.interact({ ...press })]);
    await a.slack.waitFor(() => a.iqra.requests[0], 'the scheduled call');
    expect(a.iqra.requests[0]?.fields.ScheduledTime).toBe('2026-11-27T16:00:00.000Z');
    expect(a.iqra.requests[0]?.fields['DynamicVariables[CustomerName]']).toBe('Ada');
    expect(await settled(a)).toBe(1);
    expect((await a.store.recentCalls('T0001', 'U0MARIA1', 1))[0]?.retryOf).toBe(previousId);
  });

  it('offers no Schedule button for a next allowed time beyond CALL_MAX_SCHEDULE_DAYS, and says why', async () => {
    // Friday 22:00 in Los Angeles (Saturday 06:00 UTC); calls on weekdays only: the next allowed time is Monday 08:00,
    // two and a half days ahead, and calls may be scheduled one day ahead.
    const a = await start(
      { CALLING_DAYS: 'mon-fri', CALL_MAX_SCHEDULE_DAYS: '1' },
      new Date('2026-11-28T06:00:00.000Z'),
    );
    await a.command('+14155552671');
    const text = JSON.stringify((await a.slack.waitFor(() => a.slack.responses[0], 'the refusal')).body);
    expect(text).toContain('outside calling hours');
    expect(text).toContain('further ahead than a call may be scheduled (1 day, CALL_MAX_SCHEDULE_DAYS)');
    expect(text).not.toContain('schedule_call');
    expect(await settled(a)).toBe(0);
  });

  it('still offers it when the next allowed time is within CALL_MAX_SCHEDULE_DAYS', async () => {
    const a = await start(
      { CALLING_DAYS: 'mon-fri', CALL_MAX_SCHEDULE_DAYS: '3' },
      new Date('2026-11-28T06:00:00.000Z'),
    );
    await a.command('+14155552671');
    const text = JSON.stringify((await a.slack.waitFor(() => a.slack.responses[0], 'the refusal')).body);
    expect(text).toContain('"action_id":"schedule_call"');
    expect(text).not.toContain('CALL_MAX_SCHEDULE_DAYS');
  });

  it('uses the strictest reading for a number that spans zones, and says so', async () => {
    // 17:30 UTC: 08:30 in Anchorage, 07:30 in Adak.
    const a = await start({}, new Date('2026-11-27T17:30:00.000Z'));
    await a.command('+1 907 555 0100');
    const text = await refusal(a);
    expect(text).toContain('may be in any of 2 time zones');
    expect(text).toContain('strictest reading');
  });

  it('refuses a scheduled time outside the window too', async () => {
    const a = await start();
    await a.command('+14155552671 at "tomorrow 11pm America/Los_Angeles"');
    expect(await refusal(a)).toContain('That time is outside calling hours');
    expect(await settled(a)).toBe(0);
  });

  it('lets an admin override with force, recorded; a rep who tries force is told only admins may', async () => {
    const a = await start({}, EARLY);
    await a.command('+14155552671 force');
    expect(await refusal(a)).toContain('Only admins');
    await a.command('+14155552671 force', { user: ADMIN });
    await a.slack.waitFor(() => a.iqra.requests[0], 'the forced call');
    const actions = (await a.store.auditLog('T0001', 10)).map((e) => `${e.actor}:${e.action}`);
    expect(actions).toContain(`${ADMIN}:override:hours`);
    expect(actions).toContain('app:refused:force');
  });
});

describe('force, tried by a rep who is not an admin', () => {
  it('says when the call may be placed, and offers the same Schedule button as without force', async () => {
    const a = await start({}, EARLY);
    await a.command('+14155552671 force CustomerName=Ada');
    const text = await refusal(a);
    expect(text).toContain('Only admins (<@U0ADMIN01>) can place a call outside calling hours with `force`.');
    expect(text).toContain('it is Fri 05:00 in America/Los_Angeles');
    expect(text).toContain('The next allowed time is <!date^1795795200^');
    expect(text).toContain('"action_id":"schedule_call"');
    expect(await settled(a)).toBe(0);
    // Still recorded as a refused `force`.
    const actions = (await a.store.auditLog('T0001', 10)).map((e) => `${e.actor}:${e.action}`);
    expect(actions).toContain('app:refused:force');

    const value = String(text.match(/"value":"(req_[^"]+)"/)?.[1]);
    await a.interact(
      a.buttonPress({ actionId: 'schedule_call', value, user: 'U0MARIA1', message: { ts: '1.1' } }),
    );
    await a.slack.waitFor(() => a.iqra.requests[0], 'the scheduled call');
    expect(a.iqra.requests[0]?.fields.ScheduledTime).toBe('2026-11-27T16:00:00.000Z');
    expect(a.iqra.requests[0]?.fields['DynamicVariables[CustomerName]']).toBe('Ada');
  });
});

describe('hourly limits, counted in the store', () => {
  it('names a time at which the next call is placed, not one a few seconds before the limit frees up', async () => {
    // The first call is counted at 18:00:30.5 UTC: a place frees up at 19:00:30.5.
    let offset = 0;
    const t0 = Date.now();
    const first = new Date('2026-11-27T18:00:30.500Z');
    app = await startTestApp({
      env: { CALL_ADMINS: ADMIN, CALL_LIMIT_PER_USER_PER_HOUR: '1' },
      now: () => new Date(first.getTime() + (Date.now() - t0) + offset),
    });
    const a = app;
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests[0], 'the first call');
    await a.command('+14155552671');
    const text = await refusal(a);
    const unix = Number(text.match(/The next call is possible <!date\^(\d+)\^/)?.[1]);
    // Slack shows {time} to the minute: the minute shown is the first one at which the call goes through.
    expect(new Date(unix * 1000).toISOString()).toBe('2026-11-27T19:01:00.000Z');
    expect(text).toContain('|2026-11-27 19:01 UTC>');

    // At the time shown, the next call is placed.
    offset = unix * 1000 - (Date.now() - t0) - first.getTime();
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests[1], 'the call at the time shown');
  });

  it('refuses the call over the per-user limit with when the next one is possible; others still call', async () => {
    const a = await start({ CALL_LIMIT_PER_USER_PER_HOUR: '2' });
    await a.command('+14155552671');
    await a.command('+14155552671');
    await a.slack.waitFor(() => a.iqra.requests.length === 2 && true, 'two calls');
    await a.command('+14155552671');
    const text = await refusal(a);
    expect(text).toContain('You have asked for 2 calls in the last hour, the most allowed');
    expect(text).not.toContain('placed 2');
    expect(text).toContain('CALL_LIMIT_PER_USER_PER_HOUR');
    expect(text).toContain('<!date^');
    await a.command('+14155552671', { user: 'U0OTHER01' });
    await a.slack.waitFor(() => a.iqra.requests.length === 3 && true, 'the other rep’s call');
  });

  it('holds across a restart', async () => {
    const first = await start({ CALL_LIMIT_PER_WORKSPACE_PER_HOUR: '1' });
    await first.command('+14155552671');
    await first.slack.waitFor(() => first.iqra.requests[0], 'the first call');
    await first.running.stop();
    const t0 = Date.now();
    const second = await startTestApp({
      store: first.store,
      slack: first.slack,
      fakeIqra: first.iqra,
      env: { CALL_LIMIT_PER_WORKSPACE_PER_HOUR: '1' },
      now: () => new Date(DAYTIME.getTime() + (Date.now() - t0)),
    });
    try {
      await second.command('+14155552671', { user: 'U0OTHER01' });
      const reply = await second.slack.waitFor(() => second.slack.responses[0], 'the refusal');
      expect(JSON.stringify(reply.body)).toContain(
        'People in this workspace have asked for 1 call in the last hour, the most allowed (CALL_LIMIT_PER_WORKSPACE_PER_HOUR)',
      );
      expect(second.iqra.requests).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});

describe('hourly limits count only calls that may have been placed', () => {
  const APPROVAL = { CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0BOSS001' };

  /** The rep's latest request, once it has reached `state`. */
  async function latest(a: TestApp, state: string, count: number) {
    const deadline = Date.now() + 5000;
    for (;;) {
      const calls = await a.store.recentCalls('T0001', 'U0MARIA1', 10);
      if (calls.length === count && calls[0]?.state === state) return calls[0];
      if (Date.now() > deadline)
        throw new Error(`request ${count} never became ${state}: ${calls[0]?.state}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function reject(a: TestApp, requestId: string) {
    const opens = openedViews(a).length;
    await a.interact(
      a.buttonPress({ actionId: 'reject_call', value: requestId, user: 'U0BOSS001', message: { ts: '1.1' } }),
    );
    const opened = await a.slack.waitFor(() => openedViews(a)[opens], 'the reject modal');
    await a.interact(viewSubmission(a, opened.view, { user: 'U0BOSS001' }));
    // The decision is announced after the request's limit use was given back.
    await a.slack.waitFor(
      () =>
        a.slack
          .callsOf('chat.postMessage')
          .find((c) => c.args.thread_ts && String(c.args.text).includes('Rejected') && true),
      'the rejection',
    );
    await latest(a, 'rejected', (await a.store.recentCalls('T0001', 'U0MARIA1', 10)).length);
  }

  it('gives back a rejected request, and one stopped at approval by the do-not-call list', async () => {
    const a = await start({ CALL_LIMIT_PER_USER_PER_HOUR: '2', ...APPROVAL });
    for (let n = 1; n <= 2; n += 1) {
      await a.command('+14155552671');
      await reject(a, (await latest(a, 'pending_approval', n)).id);
    }
    // Two rejected requests placed nothing: the third is not refused by the limit.
    await a.command('+14155552671');
    const third = await latest(a, 'pending_approval', 3);
    expect(JSON.stringify(a.slack.responses.map((r) => r.body))).not.toContain('calls in the last hour');

    // Approved, then stopped by the do-not-call list at approval time: given back too.
    await a.command('dnc add +14155552671', { user: ADMIN });
    await a.interact(
      a.buttonPress({ actionId: 'approve_call', value: third.id, user: 'U0BOSS001', message: { ts: '1.1' } }),
    );
    await latest(a, 'refused', 3);
    await a.command('dnc remove +14155552671', { user: ADMIN });
    await a.command('+14155552671');
    await latest(a, 'pending_approval', 4);
    await a.command('+14155552671');
    await latest(a, 'pending_approval', 5);
    // The limit still holds: two requests waiting count.
    await a.command('+14155552671');
    await a.slack.waitFor(
      () =>
        a.slack.responses.find((r) =>
          JSON.stringify(r.body).includes('You have asked for 2 calls in the last hour'),
        ),
      'the limit refusal',
    );
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('gives back a request that expired waiting for approval', async () => {
    let offset = 0;
    const t0 = Date.now();
    app = await startTestApp({
      env: { CALL_LIMIT_PER_USER_PER_HOUR: '1', ...APPROVAL },
      now: () => new Date(DAYTIME.getTime() + (Date.now() - t0) + offset),
      appOptions: { approvalSweepMs: 50 },
    });
    const a = app;
    await a.command('+14155552671 at "in 30 minutes"');
    await latest(a, 'pending_approval', 1);
    // Its time passes undecided: it expires, 31 minutes after its use of the limit was counted.
    const updates = a.slack.callsOf('chat.update').length;
    offset = 31 * 60_000;
    await latest(a, 'expired', 1);
    // The expiry is announced after the request's limit use was given back.
    await a.slack.waitFor(() => a.slack.callsOf('chat.update')[updates], 'the expiry');
    await a.command('+14155552671');
    await latest(a, 'pending_approval', 2);
    expect(JSON.stringify(a.slack.responses.map((r) => r.body))).not.toContain('calls in the last hour');
  });

  it('gives back a call Iqra refused (`failed`): the next one is placed', async () => {
    const a = await start({ CALL_LIMIT_PER_USER_PER_HOUR: '1' });
    a.iqra.script({ code: 'INSUFFICIENT_BALANCE' });
    await a.command('+14155552671');
    const failed = await latest(a, 'failed', 1);
    expect(failed.outcomeReason).toBe('INSUFFICIENT_BALANCE');
    // The outcome is announced after the limit use was given back.
    await a.slack.waitFor(() => a.slack.callsOf('chat.postMessage')[0], 'the outcome');
    await a.command('+14155552671');
    await latest(a, 'queued', 2);
    expect(a.iqra.requests).toHaveLength(2);
    await a.command('+14155552671');
    expect(await refusal(a)).toContain('You have asked for 1 call in the last hour, the most allowed');
  });

  it('still counts a call whose outcome is unknown (it may have been placed)', async () => {
    const a = await start({ CALL_LIMIT_PER_USER_PER_HOUR: '1' });
    a.iqra.script({ status: 500 });
    await a.command('+14155552671');
    await latest(a, 'unknown', 1);
    await a.slack.waitFor(() => a.slack.callsOf('chat.postMessage')[0], 'the outcome');
    await a.command('+14155552671');
    expect(await refusal(a)).toContain('You have asked for 1 call in the last hour, the most allowed');
    expect(a.iqra.requests).toHaveLength(1);
  });

  it('frees one use per request however often it is given back', async () => {
    const a = await start();
    const scopes = [{ key: 'user:T0001:U0MARIA1', limit: 2 }];
    const at = DAYTIME.getTime();
    expect(await a.store.claimQuota(scopes, 3_600_000, at, 'req_a')).toEqual({ ok: true });
    expect(await a.store.claimQuota(scopes, 3_600_000, at + 1, 'req_b')).toEqual({ ok: true });
    await a.store.releaseQuota('req_a');
    await a.store.releaseQuota('req_a');
    expect(await a.store.claimQuota(scopes, 3_600_000, at + 2, 'req_c')).toEqual({ ok: true });
    expect((await a.store.claimQuota(scopes, 3_600_000, at + 3, 'req_d')).ok).toBe(false);
  });
});

describe('metadata hygiene', () => {
  it('refuses a card number or a password in the command, before anything is recorded', async () => {
    const a = await start();
    const card = await a.command('+14155552671 Card="4111 1111 1111 1111"');
    expect(ack(card)).toMatch(/card/i);
    const password = await a.command('+14155552671 meta.password=hunter22');
    expect(ack(password)).toMatch(/password/i);
    expect(await a.store.recentCalls('T0001', 'U0MARIA1', 5)).toHaveLength(0);
    expect(await settled(a)).toBe(0);
  });
});

describe('/call audit', () => {
  it('shows admins the refusals, overrides and list changes, newest first', async () => {
    const a = await start({ CALL_ALLOWED_USERS: 'U0BOSS001' });
    await a.command('dnc add +14155552671', { user: ADMIN });
    await a.command('+14155552671');
    await refusal(a);
    const text = ack(await a.command('audit 5', { user: ADMIN }));
    expect(text.indexOf('refused:who')).toBeGreaterThan(-1);
    expect(text.indexOf('refused:who')).toBeLessThan(text.indexOf('dnc:add'));
  });
});

describe('every entry point', () => {
  it('stops a listed number placed from the modal and from "Call this number" too', async () => {
    const a = await start();
    await a.command('dnc add +14155552671', { user: ADMIN });
    const sent = await a.command('');
    const modal = await a.slack.waitFor(
      () => openedViews(a).find((o) => o.triggerId === sent.triggerId),
      'the modal',
    );
    await a.interact(viewSubmission(a, modal.view, { input: { recipient: '+1 415 555 2671' } }));
    await a.interact(
      messageShortcut(a, {
        callbackId: 'call_this_number',
        message: { ts: '1764000000.000300', text: 'Call me: 415-555-2671' },
      }),
    );
    const fromMessage = await a.slack.waitFor(() => openedViews(a)[1], 'the second modal');
    await a.interact(viewSubmission(a, fromMessage.view));
    await a.slack.waitFor(
      () =>
        a.slack.responses.filter((r) => JSON.stringify(r.body).includes('do-not-call list')).length === 2 &&
        true,
      'two refusals',
    );
    expect(await settled(a)).toBe(0);
    const entryPoints = (await a.store.recentCalls('T0001', 'U0MARIA1', 5)).map(
      (c) => `${c.entryPoint}:${c.state}`,
    );
    expect(entryPoints.sort()).toEqual(['modal:refused', 'shortcut:refused']);
  });
});
