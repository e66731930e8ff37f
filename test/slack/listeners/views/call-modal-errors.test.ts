/**
 * The call form's errors, as a rep sees them: the form is submitted through the real Bolt app with Slack-signed
 * requests, and each field's error must read well in a form (Slack shows it as plain text): no backticks, no `/call`
 * or `key=value` syntax, no "command", and still what is wrong and what to type in that field instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FormInput,
  openedViews,
  type SentView,
  viewBlockAction,
  viewSubmission,
} from '../../../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

// A fixed "now": Friday 27 November 2026, 17:00 UTC (09:00 in Los Angeles).
const NOW = new Date('2026-11-27T17:00:00.000Z');

async function start(env: Record<string, string> = {}): Promise<TestApp> {
  const startedAt = Date.now();
  const a = await startTestApp({ now: () => new Date(NOW.getTime() + (Date.now() - startedAt)), env });
  a.slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
  return a;
}

/** The modal `/call` alone opens. */
async function openModal(a: TestApp): Promise<SentView> {
  const sent = await a.command('');
  expect(sent.status).toBe(200);
  const opened = await a.slack.waitFor(
    () => openedViews(a).find((o) => o.triggerId === sent.triggerId),
    'views.open',
  );
  return opened.view;
}

/** The form's answer to a submission: its errors by block id (none when the form was accepted). */
async function errorsFor(a: TestApp, view: SentView, input: FormInput): Promise<Record<string, string>> {
  const res = await a.interact(viewSubmission(a, view, { input }));
  expect(res.status).toBe(200);
  const body = res.body ? (JSON.parse(res.body) as { response_action?: string; errors?: object }) : {};
  expect(body.response_action).toBe('errors');
  return (body.errors ?? {}) as Record<string, string>;
}

/** What no error in the form may say: it would be shown as is, in plain text, to a rep who typed in a field. */
function expectFormWording(error: string | undefined): void {
  expect(error).toBeDefined();
  const text = error ?? '';
  expect(text).not.toContain('`');
  expect(text).not.toContain('/call');
  expect(text).not.toMatch(/\bcommand/i);
  // The command's syntax for a time, `at "tomorrow 10am"`, and for its options, `agent=sales`.
  expect(text).not.toMatch(/\bat "/);
  expect(text).not.toMatch(/\b(?:agent|from|campaign)=/);
  expect(text).not.toMatch(/&(?:lt|gt|amp);/);
  // Well under Slack's length for a field's error.
  expect(text.length).toBeLessThan(400);
}

interface Case {
  /** What is typed or chosen; the other fields keep what the form opened with. */
  input: FormInput;
  /** The block the error is shown under. */
  block: string;
  /** What is wrong, as the error says it. */
  wrong: string;
  /** How to fix it, in the form's terms. */
  fix: string;
}

const NUMBER = '+14155552671';

/** Submits each case's form, and checks the error under its field alone. */
function checks(env: Record<string, string>, cases: Record<string, Case>) {
  let a: TestApp;
  let view: SentView;
  beforeAll(async () => {
    a = await start(env);
    view = await openModal(a);
  });
  afterAll(async () => {
    await a?.close();
  });
  it.each(Object.entries(cases))('%s', async (_, c) => {
    const errors = await errorsFor(a, view, c.input);
    expect(Object.keys(errors)).toEqual([c.block]);
    const error = errors[c.block];
    expectFormWording(error);
    expect(error).toContain(c.wrong);
    expect(error).toContain(c.fix);
  });
  it('sent, recorded and posted nothing', async () => {
    await a.running.delivery.flush();
    expect(a.iqra.requests).toHaveLength(0);
    expect(a.slack.callsOf('chat.postMessage')).toHaveLength(0);
  });
}

describe('the number field', () => {
  checks(
    {},
    {
      'a word': {
        input: { recipient: 'Jane' },
        block: 'recipient',
        wrong: '“Jane” is not a phone number',
        fix: 'Write it with its country code, e.g. “+14155552671”',
      },
      'a number too short': {
        input: { recipient: '+1234567890' },
        block: 'recipient',
        wrong: '“+1234567890” is not a valid number: it is too short',
        fix: 'e.g. “+14155552671”',
      },
      'two numbers': {
        input: { recipient: '+14155552671 +14155552672' },
        block: 'recipient',
        wrong: 'I found two phone numbers: “+14155552671” and “+14155552672”.',
        fix: 'This form places one call: type one of them, e.g. “+14155552671”, then place another call for the other one',
      },
      'three numbers': {
        input: { recipient: '+14155552671 +14155552672 +14155552673' },
        block: 'recipient',
        wrong: 'I found 3 phone numbers',
        fix: "then place a call for each of the others (to call a list, use New batch on the app's Home tab)",
      },
      'the same number twice': {
        input: { recipient: '+14155552671 +1 415 555 2671' },
        block: 'recipient',
        wrong: 'is the same number written twice',
        fix: 'Write it once, e.g. “+14155552671”.',
      },
      'a number with an extension': {
        input: { recipient: '+1 415 555 2671 x204' },
        block: 'recipient',
        wrong: '“+1 415 555 2671 x204” has an extension (“204”)',
        fix: 'give the main number only, “+1 415 555 2671”, and put the extension in Dynamic variables, e.g. “Extension=204”',
      },
      'a number in scientific notation': {
        input: { recipient: '1.41555E+10' },
        block: 'recipient',
        wrong: 'its last digits are lost',
        fix: 'Type it with its + and country code, e.g. “+14155552671”',
      },
      'a number written with letters': {
        input: { recipient: '1-800-FLOWERS' },
        block: 'recipient',
        wrong: 'only digits can be dialled',
        fix: 'on a phone keypad, it is “1-800-3569377”',
      },
    },
  );
});

describe('the time field', () => {
  checks(
    {},
    {
      'a time in the past': {
        input: { recipient: NUMBER, when: 'yesterday 10am' },
        block: 'when',
        wrong: '“yesterday 10am” is in the past',
        fix: 'e.g. “tomorrow 10am”, or leave this field empty to call now.',
      },
      'a day without a time': {
        input: { recipient: NUMBER, when: 'tomorrow' },
        block: 'when',
        wrong: "“tomorrow” doesn't say the time of day",
        fix: 'Add one, e.g. “tomorrow 10am”.',
      },
      'an hour without am or pm': {
        input: { recipient: NUMBER, when: 'tomorrow 3' },
        block: 'when',
        wrong: "“tomorrow 3” doesn't say am or pm",
        fix: 'Write “tomorrow 3pm” (or “tomorrow 3am”, or 24-hour time “tomorrow 15:00”).',
      },
      'words that are no time': {
        input: { recipient: NUMBER, when: 'whenever' },
        block: 'when',
        wrong: "I couldn't read “whenever” as a time",
        fix: 'Try “tomorrow 10am”, “in 2 hours”',
      },
      'a time too far ahead': {
        input: { recipient: NUMBER, when: 'in 40 days 10am' },
        block: 'when',
        wrong: 'more than 30 days from now',
        fix: 'give a time before then, e.g. “in 29 days 10am”',
      },
      'a time with other words': {
        input: { recipient: NUMBER, when: 'tomorrow 10am please' },
        block: 'when',
        wrong: 'but not “please”',
        fix: 'Write only the time, e.g. “tomorrow 10am”.',
      },
    },
  );
});

describe('the dynamic variables and metadata fields', () => {
  checks(
    {},
    {
      'a variable line without =': {
        input: { recipient: NUMBER, variables: 'Plan Pro' },
        block: 'variables',
        wrong: '“Plan Pro” is not “Key=Value”',
        fix: 'e.g. “CustomerName=Jane Doe”',
      },
      'a bad variable name': {
        input: { recipient: NUMBER, variables: '1x=a' },
        block: 'variables',
        wrong: "“1x” can't be used as a variable name",
        fix: 'Write variables like “FirstName=Ada”, one per line.',
      },
      'a variable named like a field': {
        input: { recipient: NUMBER, variables: 'agent=support' },
        block: 'variables',
        wrong: 'the agent has its own field in this form',
        fix: 'e.g. “PreferredAgent=…”',
      },
      'a variable without a value': {
        input: { recipient: NUMBER, variables: 'Plan=' },
        block: 'variables',
        wrong: '“Plan=” has no value',
        fix: 'e.g. “Plan=Ada Lovelace”',
      },
      'a card number in a variable': {
        input: { recipient: NUMBER, variables: 'Card=4242424242424242' },
        block: 'variables',
        wrong: 'looks like it contains a payment card number (“4242…”)',
        fix: 'e.g. “CardLast4=4242”',
      },
      'metadata the app sets itself': {
        input: { recipient: NUMBER, metadata: 'SlackUserId=U1' },
        block: 'metadata',
        wrong: '“SlackUserId” is set by the app on every call',
        fix: 'e.g. “Source=webinar”',
      },
      'a bad metadata name': {
        input: { recipient: NUMBER, metadata: 'meta.1x=a' },
        block: 'metadata',
        wrong: "“meta.1x” can't be used as a metadata name",
        fix: 'e.g. “Source=webinar”',
      },
    },
  );
});

describe('the agent menu', () => {
  checks(
    { IQRA_DEFAULT_AGENT: '' },
    {
      'no agent chosen': {
        input: { recipient: NUMBER, agent: null },
        block: 'agent',
        wrong: 'Choose the agent to use',
        fix: 'e.g. “sales”. Configured: “sales”, “support”.',
      },
      'an agent no longer configured': {
        input: { recipient: NUMBER, agent: 'retired' },
        block: 'agent',
        wrong: "I don't know the agent “retired”",
        fix: 'Choose one of those, e.g. “sales”.',
      },
    },
  );
});

describe('the caller-ID number menu', () => {
  checks(
    { IQRA_NUMBERS: 'main=num_main_01,backup=num_backup_02', IQRA_DEFAULT_NUMBER: '' },
    {
      'no number chosen': {
        input: { recipient: NUMBER, from: null },
        block: 'from',
        wrong: 'Choose the number to call from',
        fix: 'e.g. “main”. Configured: “main”, “backup”.',
      },
      'a number no longer configured': {
        input: { recipient: NUMBER, from: 'old' },
        block: 'from',
        wrong: "I don't know the caller-ID number “old”",
        fix: 'Choose one of those, e.g. “main”.',
      },
    },
  );
});

describe('the campaign menu', () => {
  checks(
    { IQRA_REQUEST_FORMAT: 'config', IQRA_CAMPAIGNS: 'webinar=camp_web_01' },
    {
      '"Automatic" when it finds none and the server needs one': {
        input: { recipient: NUMBER, campaign: ':automatic' },
        block: 'campaign',
        wrong: 'This Iqra server needs a campaign for every call, and Automatic finds none for this agent',
        fix: 'choose one, e.g. “webinar”.',
      },
      'a campaign no longer configured': {
        input: { recipient: NUMBER, campaign: 'gone' },
        block: 'campaign',
        wrong: "I don't know the campaign “gone”",
        fix: 'Choose one of those, e.g. “webinar”.',
      },
    },
  );
});

describe('the line under the time field (mrkdwn)', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await start();
  });
  afterAll(async () => {
    await a?.close();
  });

  it('suggests what to type in the field, not the command’s `at "…"`', async () => {
    const view = await openModal(a);
    const res = await a.interact(
      viewBlockAction(view, {
        blockId: 'when',
        actionId: 'when_input',
        action: { type: 'plain_text_input', value: 'yesterday 10am' },
        input: { recipient: NUMBER, when: 'yesterday 10am' },
        viewId: 'V0HINT0001',
        hash: '1764000000.hint',
      }),
    );
    expect(res.status).toBe(200);
    const update = await a.slack.waitFor(() => a.slack.callsOf('views.update').at(-1), 'views.update');
    const blocks = (update.args as { view: SentView }).view.blocks;
    const hint = blocks.find((b) => b.block_id === 'when_hint')?.elements?.[0]?.text ?? '';
    // mrkdwn there: what to type is shown as code.
    expect(hint).toBe(
      '⚠️ “yesterday 10am” is in the past: I read it as Thu 26 Nov 2026, 10:00 PST (America/Los_Angeles). ' +
        'Give a time in the future, e.g. `tomorrow 10am`, or leave this field empty to call now.',
    );
  });
});

describe('the command keeps its own words', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await start();
  });
  afterAll(async () => {
    await a?.close();
  });

  it('answers two numbers typed after /call in the command’s terms, in mrkdwn', async () => {
    const answer = await a.command('+14155552671 +14155552672');
    expect(JSON.stringify(answer.body)).toContain(
      'I found two phone numbers: `+14155552671` and `+14155552672`. One call per command: call one of them, ' +
        'e.g. `/call +14155552671`, and the other one with a second command (or call a list with `/call batch`).',
    );
  });

  it('answers a time in the past with `at "…"`', async () => {
    // The time is read once the rep's zone is known: the refusal comes through the response_url.
    await a.command('+14155552671 at "yesterday 10am"');
    const answer = await a.slack.waitFor(() => a.slack.responses[0], 'the refusal');
    expect(JSON.stringify(answer.body)).toContain(
      'Give a time in the future, e.g. `at \\"tomorrow 10am\\"`, or leave out `at` to call now.',
    );
  });
});
