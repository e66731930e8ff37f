import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../../../support/fake-slack.js';
import {
  type FormInput,
  inputBlock,
  openedViews,
  type SentView,
  viewBlockAction,
  viewSubmission,
} from '../../../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

// A fixed "now": Friday 27 November 2026, 17:00 UTC (09:00 in Los Angeles).
const NOW = new Date('2026-11-27T17:00:00.000Z');

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(env: Record<string, string> = {}): Promise<TestApp> {
  const startedAt = Date.now();
  app = await startTestApp({ now: () => new Date(NOW.getTime() + (Date.now() - startedAt)), env });
  app.slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
  return app;
}

const posts = (a: TestApp): SlackApiCall[] => a.slack.callsOf('chat.postMessage');

/** The modal `/call <text>` opened. */
async function modalFromCommand(a: TestApp, text = ''): Promise<SentView> {
  const sent = await a.command(text);
  expect(sent.status).toBe(200);
  expect(sent.body).toBe('');
  const opened = await a.slack.waitFor(
    () => openedViews(a).find((o) => o.triggerId === sent.triggerId),
    'views.open',
  );
  return opened.view;
}

async function submit(
  a: TestApp,
  view: SentView,
  input: FormInput,
  o: { viewId?: string; hash?: string } = {},
) {
  const res = await a.interact(viewSubmission(a, view, { input, ...o }));
  expect(res.status).toBe(200);
  return {
    status: res.status,
    body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : undefined,
  };
}

/** Waits until nothing more can be on its way, so that "nothing happened" is really nothing. */
async function settle(a: TestApp): Promise<void> {
  await a.running.delivery.flush();
  await new Promise((r) => setTimeout(r, 200));
}

describe('/call opens the call modal', () => {
  it('opens it for /call alone, with the trigger_id, the default agent chosen and the channel remembered', async () => {
    const a = await start();
    const sent = await a.command('');
    expect(sent.body).toBe('');
    const opened = await a.slack.waitFor(() => openedViews(a)[0], 'views.open');
    expect(opened.triggerId).toBe(sent.triggerId);
    const { view } = opened;
    expect(view.callback_id).toBe('call_modal');
    expect(inputBlock(view, 'agent')?.element?.initial_option?.value).toBe('sales');
    expect(inputBlock(view, 'from')?.element?.initial_option?.value).toBe('main');
    expect(inputBlock(view, 'campaign')?.element?.initial_option?.value).toBe(':automatic');
    expect(inputBlock(view, 'recipient')?.element?.initial_value).toBeUndefined();
    // The command's channel is known: no channel field.
    expect(inputBlock(view, 'channel')).toBeUndefined();
    expect(JSON.parse(view.private_metadata ?? '{}')).toMatchObject({ s: 'command', c: 'C0SALES01' });
    // The rep's zone is looked up after the modal is open, for the submission.
    await a.slack.waitFor(() => a.slack.callsOf('users.info')[0], 'users.info');
    expect(a.slack.calls.findIndex((c) => c.method === 'views.open')).toBeLessThan(
      a.slack.calls.findIndex((c) => c.method === 'users.info'),
    );
    await settle(a);
    expect(a.iqra.requests).toHaveLength(0);
    expect(posts(a)).toHaveLength(0);
  });

  it('still shows the help for /call help, and opens no modal', async () => {
    const a = await start();
    const sent = await a.command('help');
    expect(JSON.stringify(sent.body)).toContain('Place an Iqra AI call');
    await settle(a);
    expect(openedViews(a)).toHaveLength(0);
  });

  it('opens it filled in with what was typed when there is no default agent', async () => {
    const a = await start({ IQRA_DEFAULT_AGENT: '' });
    const view = await modalFromCommand(
      a,
      '+1 (415) 555-2671 campaign=sales at "tomorrow 10am" CustomerName="Jane Doe" Plan=Pro meta.Source=webinar',
    );
    expect(inputBlock(view, 'recipient')?.element?.initial_value).toBe('+1 415 555 2671');
    expect(inputBlock(view, 'agent')?.element?.initial_option).toBeUndefined();
    expect(inputBlock(view, 'agent')?.element?.options?.map((o) => o.value)).toEqual(['sales', 'support']);
    expect(inputBlock(view, 'campaign')?.element?.initial_option?.value).toBe('sales');
    expect(inputBlock(view, 'when')?.element?.initial_value).toBe('tomorrow 10am');
    expect(inputBlock(view, 'variables')?.element?.initial_value).toBe('CustomerName=Jane Doe\nPlan=Pro');
    expect(inputBlock(view, 'metadata')?.element?.initial_value).toBe('Source=webinar');
    expect(view.blocks[0]?.text?.text).toContain('choose the agent below');
    await settle(a);
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('opens it when the server needs a campaign and none can be worked out', async () => {
    const a = await start({ IQRA_REQUEST_FORMAT: 'config', IQRA_CAMPAIGNS: 'webinar=camp_web_01' });
    const view = await modalFromCommand(a, '+14155552671 agent=support');
    expect(inputBlock(view, 'agent')?.element?.initial_option?.value).toBe('support');
    expect(view.blocks[0]?.text?.text).toContain('choose the campaign below');
    expect(inputBlock(view, 'campaign')?.hint?.text).toContain('needs a campaign for every call');
  });

  it('still answers a wrong command with the error, and opens no modal', async () => {
    const a = await start({ IQRA_DEFAULT_AGENT: '' });
    const wrongAgent = await a.command('+14155552671 agent=nobody');
    expect(wrongAgent.body).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(wrongAgent.body)).toContain("I don't know the agent “nobody”");
    const wrongNumber = await a.command('+1234567890');
    expect(JSON.stringify(wrongNumber.body)).toContain('not a valid number');
    await settle(a);
    expect(openedViews(a)).toHaveLength(0);
  });

  it('tells the rep when Slack refuses to open the modal', async () => {
    const a = await start();
    a.slack.failNext('views.open', 'expired_trigger_id');
    await a.command('');
    const answer = await a.slack.waitFor(() => a.slack.responses[0], 'the response_url answer');
    expect(JSON.stringify(answer.body)).toContain('expired_trigger_id');
    expect(answer.body.response_type).toBe('ephemeral');
  });
});

describe('the call modal checks the form like the command', () => {
  it('shows each problem next to its field, and records, sends and posts nothing', async () => {
    const a = await start({ IQRA_DEFAULT_AGENT: '' });
    const view = await modalFromCommand(a);
    const answer = await submit(a, view, {
      recipient: '+1234567890',
      agent: null,
      when: 'yesterday 10am',
      variables: 'CustomerName=Jane\nPlan Pro',
    });
    expect(answer.body?.response_action).toBe('errors');
    const errors = answer.body?.errors as Record<string, string>;
    expect(Object.keys(errors).sort()).toEqual(['agent', 'recipient', 'variables', 'when']);
    expect(errors.recipient).toContain('“+1234567890” is not a valid number');
    expect(errors.agent).toContain('Choose the agent to use');
    expect(errors.when).toContain('is in the past');
    expect(errors.variables).toContain('“Plan Pro” is not “Key=Value”');
    await settle(a);
    expect(a.iqra.requests).toHaveLength(0);
    expect(posts(a)).toHaveLength(0);
    expect(await a.store.recentCalls('T0001', 'U0MARIA1', 5)).toHaveLength(0);
  });

  it('refuses an agent that is not configured (any more), and a bad metadata line', async () => {
    const a = await start();
    const view = await modalFromCommand(a);
    const answer = await submit(a, view, {
      recipient: '+14155552671',
      agent: 'retired',
      metadata: 'SlackUserId=U1',
    });
    const errors = answer.body?.errors as Record<string, string>;
    expect(Object.keys(errors).sort()).toEqual(['agent', 'metadata']);
    expect(errors.agent).toContain("I don't know the agent “retired”");
    expect(errors.metadata).toContain('“SlackUserId” is set by the app on every call');
    await settle(a);
    expect(a.iqra.requests).toHaveLength(0);
  });

  it('shows a card number or a secret in the variables or metadata on its field, and sends nothing', async () => {
    const a = await start();
    for (const [values, field] of [
      [{ variables: 'Card=4242424242424242' }, 'variables'],
      [{ metadata: 'password=hunter2' }, 'metadata'],
    ] as const) {
      const view = await modalFromCommand(a);
      const answer = await submit(a, view, { recipient: '+14155552671', ...values });
      expect(answer.status).toBe(200);
      expect(answer.body?.response_action).toBe('errors');
      const errors = answer.body?.errors as Record<string, string>;
      expect(Object.keys(errors)).toEqual([field]);
      expect(errors[field]).not.toContain('4242424242424242');
      expect(errors[field]).not.toContain('hunter2');
    }
    await settle(a);
    expect(a.iqra.requests).toHaveLength(0);
    expect(await a.store.recentCalls('T0001', 'U0MARIA1', 5)).toHaveLength(0);
  });

  it('says so on the first field when the database does not answer, and sends nothing', async () => {
    const a = await start();
    const view = await modalFromCommand(a);
    // The database goes down: the desk's store refuses to record.
    a.store.recordCall = async () => {
      throw new Error('connection refused');
    };
    const answer = await submit(a, view, { recipient: '+14155552671' });
    expect(answer.body?.response_action).toBe('errors');
    expect(answer.body?.errors).toEqual({ recipient: expect.stringContaining('nothing was sent to Iqra') });
    await settle(a);
    expect(a.iqra.requests).toHaveLength(0);
  });
});

describe('a valid call modal', () => {
  it('closes, sends one exact Iqra request with the time in the rep’s zone, and confirms in the channel', async () => {
    const a = await start();
    const view = await modalFromCommand(a);
    const answer = await submit(a, view, {
      recipient: '+1 (415) 555-2671',
      when: 'tomorrow 10am',
      variables: 'CustomerName="Jane Doe"\n\nPlan=Pro',
      metadata: 'Source=webinar',
    });
    expect(answer.body).toBeUndefined();
    const thread = await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts), 'the thread reply');
    expect(a.iqra.requests).toHaveLength(1);
    const fields = a.iqra.requests[0]?.fields;
    expect(fields).toMatchObject({
      RecipientNumber: '+14155552671',
      AgentId: 'agent_sales_01',
      NumberId: 'num_main_01',
      CampaignId: 'camp_sales_01',
      ScheduledTime: '2026-11-28T18:00:00.000Z',
      'DynamicVariables[CustomerName]': 'Jane Doe',
      'DynamicVariables[Plan]': 'Pro',
      'Metadata[Source]': 'webinar',
      'Metadata[SlackChannelId]': 'C0SALES01',
      'Metadata[SlackUserId]': 'U0MARIA1',
    });
    const parent = posts(a).find((c) => !c.args.thread_ts);
    expect(parent?.args.channel).toBe('C0SALES01');
    expect(String(parent?.args.text)).toContain(
      '<@U0MARIA1> queued a call to *+1 415 555 2671* with *sales*',
    );
    expect(thread.args.channel).toBe('C0SALES01');
    expect(thread.args.thread_ts).toBe(
      `${1_764_000_000 + a.slack.callsOf('chat.postMessage').indexOf(parent as SlackApiCall) + 1}.000100`,
    );
    expect(JSON.stringify(thread.args.blocks)).toContain('your Slack time zone (America/Los_Angeles)');
    const call = await a.store.getCall(String(fields?.['Metadata[RequestId]']));
    expect(call).toMatchObject({ entryPoint: 'modal', state: 'queued', channelId: 'C0SALES01' });
  });

  it.each([
    'at "tomorrow 10am"',
    '"tomorrow 10am"',
    '“tomorrow 10am”',
    'at “tomorrow 10am”',
    'at=tomorrow 10am',
    'when="tomorrow 10am"',
  ])(
    'reads the time %s as the command reads what follows `at` (as the command’s examples write it)',
    async (when) => {
      const a = await start();
      const view = await modalFromCommand(a);
      const answer = await submit(a, view, { recipient: '+14155552671', when });
      expect(answer.body).toBeUndefined();
      await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts), 'the thread reply');
      expect(a.iqra.requests.map((r) => r.fields.ScheduledTime)).toEqual(['2026-11-28T18:00:00.000Z']);
    },
  );

  it('reads a number written in full-width digits, as a Japanese keyboard types it', async () => {
    const a = await start();
    const view = await modalFromCommand(a);
    const answer = await submit(a, view, { recipient: '＋１ （４１５） ５５５－２６７１' });
    expect(answer.body).toBeUndefined();
    await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts), 'the thread reply');
    expect(a.iqra.requests.map((r) => r.fields.RecipientNumber)).toEqual(['+14155552671']);
  });

  it('accepts the example its own refusal of a past time gives, copied as written', async () => {
    const a = await start();
    const view = await modalFromCommand(a);
    const refused = await submit(a, view, { recipient: '+14155552671', when: 'yesterday 10am' });
    const error = (refused.body?.errors as Record<string, string> | undefined)?.when ?? '';
    const example = /e\.g\. “([^”]+)”/.exec(error)?.[1];
    expect(example).toBe('tomorrow 10am');
    const again = await submit(a, view, { recipient: '+14155552671', when: example ?? '' });
    expect(again.body).toBeUndefined();
    await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts), 'the thread reply');
    expect(a.iqra.requests.map((r) => r.fields.ScheduledTime)).toEqual(['2026-11-28T18:00:00.000Z']);
  });

  it('reads the time in DEFAULT_TIMEZONE, and says so, when Slack does not tell the rep’s zone in time', async () => {
    const a = await start({ DEFAULT_TIMEZONE: 'Europe/London' });
    const release = a.slack.hold('users.info');
    try {
      const view = await modalFromCommand(a);
      const answer = await submit(a, view, { recipient: '+14155552671', when: 'tomorrow 10am' });
      expect(answer.body).toBeUndefined();
      const thread = await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts), 'the thread reply');
      expect(a.iqra.requests[0]?.fields.ScheduledTime).toBe('2026-11-28T10:00:00.000Z');
      expect(JSON.stringify(thread.args.blocks)).toContain("the app's default was used");
    } finally {
      release();
    }
  });

  it('records one call when the same view is submitted twice', async () => {
    const a = await start();
    const view = await modalFromCommand(a);
    const same = { viewId: 'V0TWICE01', hash: '1764000000.twice' };
    const [first, second] = await Promise.all([
      submit(a, view, { recipient: '+14155552671' }, same),
      submit(a, view, { recipient: '+14155552671' }, same),
    ]);
    expect(first.body).toBeUndefined();
    expect(second.body).toBeUndefined();
    await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts), 'the thread reply');
    await settle(a);
    expect(a.iqra.requests).toHaveLength(1);
    expect(posts(a)).toHaveLength(2);
  });
});

describe('the time field', () => {
  async function pressEnter(a: TestApp, view: SentView, value: string) {
    const res = await a.interact(
      viewBlockAction(view, {
        blockId: 'when',
        actionId: 'when_input',
        action: { type: 'plain_text_input', value },
        input: { recipient: '+1 415 555 2671', when: value },
        viewId: 'V0HINT0001',
        hash: '1764000000.hint',
      }),
    );
    expect(res.status).toBe(200);
    const update = await a.slack.waitFor(() => a.slack.callsOf('views.update').at(-1), 'views.update');
    return update.args as { view_id: string; hash: string; view: SentView };
  }

  it('says how the time is understood, in the rep’s zone, keeping what the form holds', async () => {
    const a = await start();
    const view = await modalFromCommand(a);
    const update = await pressEnter(a, view, 'tomorrow 10am');
    expect(update.view_id).toBe('V0HINT0001');
    expect(update.hash).toBe('1764000000.hint');
    const hint = update.view.blocks.find((b) => b.block_id === 'when_hint');
    expect(hint?.elements?.[0]?.text).toBe(
      'Understood as: *Sat 28 Nov 2026, 10:00 PST (America/Los_Angeles)*',
    );
    // Right under the time field, and the form keeps its values.
    const index = update.view.blocks.findIndex((b) => b.block_id === 'when');
    expect(update.view.blocks[index + 1]?.block_id).toBe('when_hint');
    expect(inputBlock(update.view, 'recipient')?.element?.initial_value).toBe('+1 415 555 2671');
    expect(inputBlock(update.view, 'when')?.element?.initial_value).toBe('tomorrow 10am');
    expect(update.view.private_metadata).toBe(view.private_metadata);
  });

  it('says how a quoted time, as written after `at`, is understood', async () => {
    const a = await start();
    const view = await modalFromCommand(a);
    const update = await pressEnter(a, view, 'at “tomorrow 10am”');
    const hint = update.view.blocks.find((b) => b.block_id === 'when_hint');
    expect(hint?.elements?.[0]?.text).toBe(
      'Understood as: *Sat 28 Nov 2026, 10:00 PST (America/Los_Angeles)*',
    );
  });

  it('says what is wrong with a time it cannot use', async () => {
    const a = await start();
    const view = await modalFromCommand(a);
    const update = await pressEnter(a, view, 'yesterday 10am');
    const hint = update.view.blocks.find((b) => b.block_id === 'when_hint');
    expect(hint?.elements?.[0]?.text).toMatch(/^⚠️ .*is in the past/);
  });
});
