/**
 * The errors of the forms other than the call form, as a rep or an admin sees them: the batch form (`/call batch`,
 * the Home tab's "New batch"), the do-not-call import form and the reject dialog, each submitted through the real
 * Bolt app with Slack-signed requests. A field's error is plain text in Slack (no mrkdwn): no backticks, no `/call`
 * or `key=value` syntax, no "command", under the field it is about, and still what is wrong and what to type. The
 * batch form's answer after Preview (a problem with the start, or the channel) is a mrkdwn section over the form: its
 * `code` shows as code, but it too speaks of the form's fields, not of the command's syntax.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_MODAL, BATCH_PREVIEW_MODAL } from '../../../src/slack/blocks/batch.js';
import { DNC_NOT_SAVED } from '../../../src/slack/listeners/commands/admin.js';
import { type FormInput, openedViews, type SentView, viewSubmission } from '../../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../../support/test-app.js';

/** Friday 27 November 2026, 17:00 UTC (09:00 in Los Angeles): within calling hours for US numbers. */
const NOW = new Date('2026-11-27T17:00:00.000Z');

async function start(env: Record<string, string> = {}): Promise<TestApp> {
  const a = await startTestApp({
    env,
    now: () => NOW,
    appOptions: { batchTickMs: 0, batchRefreshMs: 0 },
  });
  a.slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
  return a;
}

/** What no error on a form may say: the command's words and syntax. */
function expectNoCommandSyntax(text: string): void {
  expect(text).not.toContain('/call');
  expect(text).not.toMatch(/\bcommand/i);
  // The command's syntax for a time, `at "tomorrow 10am"`, and for its options, `agent=sales`.
  expect(text).not.toMatch(/\bat "/);
  expect(text).not.toMatch(/leave out .?at\b/);
  expect(text).not.toMatch(/\b(?:agent|from|campaign)=/);
}

/** A field's error, as Slack shows it: plain text, well under Slack's limits. */
function expectPlainFieldError(error: string | undefined): string {
  expect(error).toBeDefined();
  const text = error ?? '';
  expectNoCommandSyntax(text);
  expect(text).not.toContain('`');
  expect(text).not.toMatch(/&(?:lt|gt|amp);/);
  expect(text).not.toMatch(/<[@#!]/);
  expect(text.length).toBeLessThan(400);
  return text;
}

/** The form's answer to a submission: its errors by block id. */
function errorsOf(res: { status: number; body: string }): Record<string, string> {
  expect(res.status).toBe(200);
  const answer = JSON.parse(res.body) as { response_action?: string; errors?: Record<string, string> };
  expect(answer.response_action).toBe('errors');
  return answer.errors ?? {};
}

// ---------------------------------------------------------------------------------------------------------------
// The batch form

/** The views the app put in place of a modal with views.update, newest last. */
const updatedViews = (a: TestApp): SentView[] =>
  a.slack.callsOf('views.update').map((c) => c.args.view as SentView);

/** `/call batch` in #sales: the form it opens. */
async function batchForm(a: TestApp): Promise<SentView> {
  const opened = openedViews(a).length;
  expect((await a.command('batch', { channel: 'C0SALES01' })).status).toBe(200);
  const form = await a.slack.waitFor(() => openedViews(a)[opened]?.view, 'the batch form');
  expect(form.callback_id).toBe(BATCH_MODAL);
  return form;
}

/** The form submitted with `input`, past its own checks: what is shown after "Checking your list…". */
async function afterPreview(a: TestApp, form: SentView, input: FormInput): Promise<SentView> {
  const before = updatedViews(a).length;
  const res = await a.interact(viewSubmission(a, form, { input }));
  expect(JSON.parse(res.body)).toMatchObject({ response_action: 'push' });
  return a.slack.waitFor(
    () => (updatedViews(a).length > before ? updatedViews(a).at(-1) : undefined),
    'the answer after Preview',
  );
}

/** The mrkdwn answer after Preview: its text, checked for the command's syntax and Slack's section limit. */
function noticeText(view: SentView): string {
  expect(view.callback_id).not.toBe(BATCH_PREVIEW_MODAL);
  expect(JSON.stringify(view.close)).toContain('Back');
  const texts = view.blocks.map((b) => (b as { text?: { text?: string } }).text?.text ?? '');
  for (const text of texts) expect(text.length).toBeLessThanOrEqual(3000);
  const text = texts.join('\n');
  expectNoCommandSyntax(text);
  // Every `code` is closed: none shows a stray backtick.
  expect((text.match(/`/g) ?? []).length % 2).toBe(0);
  return text;
}

const LIST = { batch_paste: '+14155551001\n+14155551002', batch_pace: '10' };

describe('the batch form', () => {
  let a: TestApp;
  let form: SentView;
  beforeAll(async () => {
    a = await start();
    form = await batchForm(a);
  });
  afterAll(async () => {
    await a?.close();
  });

  describe('its start, said after Preview in the form’s words', () => {
    const cases: Record<string, { when: string; wrong: string; fix: string }> = {
      'a time in the past': {
        when: 'yesterday 10am',
        wrong: "The batch's start: “yesterday 10am” is in the past",
        fix: 'Give a time in the future, e.g. `tomorrow 10am`, or leave Start empty to start the batch now.',
      },
      'an hour without am or pm': {
        when: 'tomorrow 3',
        wrong: "“tomorrow 3” doesn't say am or pm",
        fix: 'Write `tomorrow 3pm` (or `tomorrow 3am`, or 24-hour time `tomorrow 15:00`).',
      },
      'no time at all': {
        when: 'whenever',
        wrong: "I couldn't read “whenever” as a time",
        fix: 'Try `tomorrow 10am`, `in 2 hours`',
      },
      'too far ahead': {
        when: 'in 400 days',
        wrong: 'more than 30 days from now',
        fix: 'give a time before then, e.g. `',
      },
      'words around the time': {
        when: 'tomorrow 10am please',
        wrong: 'but not “please”',
        fix: 'Write only the time, e.g. `tomorrow 10am`.',
      },
    };
    it.each(Object.entries(cases))('%s', async (_, c) => {
      const shown = await afterPreview(a, form, { ...LIST, batch_when: c.when });
      const text = noticeText(shown);
      expect(text).toContain(c.wrong);
      expect(text).toContain(c.fix);
      expect(text).toContain('Press *Back* to change the start.');
      expect(text).not.toContain('fix the list');
      // The example, typed as it is in the Start field, is a start the form takes.
      const example = /e\.g\. `([^`]+)`|Write `([^`]+)`|Try `([^`]+)`/.exec(text);
      const typed = example?.slice(1).find(Boolean);
      expect(typed).toBeDefined();
      const accepted = await afterPreview(a, form, { ...LIST, batch_when: typed ?? '' });
      expect(accepted.callback_id).toBe(BATCH_PREVIEW_MODAL);
    });
  });

  describe('its fields, answered on the form under each', () => {
    const cases: Record<string, { input: FormInput; block: string; says: string[] }> = {
      'nothing to call': {
        input: { batch_paste: null },
        block: 'batch_paste',
        says: ['Upload a CSV file above, or paste the numbers here, one per line.'],
      },
      'a pace of 0': {
        input: { ...LIST, batch_pace: '0' },
        block: 'batch_pace',
        says: ['“0” is not a pace', 'type a whole number of calls per minute, from 1 to 60, e.g. 10.'],
      },
      'a pace of 61': {
        input: { ...LIST, batch_pace: '61' },
        block: 'batch_pace',
        says: ['“61” is not a pace', 'from 1 to 60'],
      },
      'a pace of 2.5': {
        input: { ...LIST, batch_pace: '2.5' },
        block: 'batch_pace',
        says: ['“2.5” is not a pace', 'a whole number'],
      },
      'an agent no longer configured': {
        input: { ...LIST, batch_agent: 'retired' },
        block: 'batch_agent',
        says: [
          "I don't know the agent “retired”. Configured: “sales”, “support”.",
          'Choose one of those, e.g. “sales”.',
        ],
      },
      'a caller-ID number no longer configured': {
        input: { ...LIST, batch_from: 'old' },
        block: 'batch_from',
        says: ["I don't know the caller-ID number “old”.", 'Choose one of those, e.g. “main”.'],
      },
      'a campaign no longer configured': {
        input: { ...LIST, batch_campaign: 'spring' },
        block: 'batch_campaign',
        says: ["I don't know the campaign “spring”.", 'Choose one of those, e.g. “sales”.'],
      },
    };
    it.each(Object.entries(cases))('%s', async (_, c) => {
      const errors = errorsOf(await a.interact(viewSubmission(a, form, { input: c.input })));
      expect(Object.keys(errors)).toEqual([c.block]);
      // The block is one of the form's inputs.
      expect(form.blocks.some((b) => b.type === 'input' && b.block_id === c.block)).toBe(true);
      const error = expectPlainFieldError(errors[c.block]);
      for (const words of c.says) expect(error).toContain(words);
    });

    it('a form with no channel (opened from the Home tab)', async () => {
      const home = { ...form, private_metadata: '{}' };
      const errors = errorsOf(
        await a.interact(viewSubmission(a, home, { input: { ...LIST, batch_channel: null } })),
      );
      expect(Object.keys(errors)).toEqual(['batch_channel']);
      expect(expectPlainFieldError(errors.batch_channel)).toBe(
        'Choose the channel the batch’s progress is posted in.',
      );
    });
  });

  it('a list with many columns that can’t be variables: named within Slack’s limit, with Back to fix the list', async () => {
    // A CRM export: 80 columns named with spaces. Every one is named in the answer, which must still fit a section.
    const header = ['phone', ...Array.from({ length: 80 }, (_, i) => `Custom Field ${i + 1}`)].join(',');
    const fileId = a.slack.addFile({ name: 'crm.csv', content: `${header}\n+14155551001` });
    const text = noticeText(await afterPreview(a, form, { batch_file: fileId, batch_paste: null }));
    expect(text).toContain(
      "These columns can't be dynamic variables: `Custom Field 1` (column 2, e.g. `Custom_Field_1`)",
    );
    expect(text).toContain('… (shortened)');
    expect(text).toContain('Press *Back* to fix the list, or to upload another file.');
  });

  it('recorded, sent and posted nothing', async () => {
    await a.running.delivery.flush();
    expect(await a.store.batchesInStates(['running', 'pending_approval'], 10)).toHaveLength(0);
    expect(a.iqra.requests).toHaveLength(0);
    expect(a.slack.callsOf('chat.postMessage')).toHaveLength(0);
  });
});

describe('the batch form, with a channel calls may not be placed from', () => {
  it('says to choose another channel under "Post progress in", not to use the command elsewhere', async () => {
    const a = await start({ CALL_ALLOWED_CHANNELS: 'C0CALLS01' });
    try {
      const form = await batchForm(a);
      const text = noticeText(await afterPreview(a, form, { ...LIST, batch_channel: 'C0SALES01' }));
      expect(text).toContain(
        "Calls can't be placed from the channel chosen under Post progress in. Choose <#C0CALLS01> there, or ask an admin",
      );
      expect(a.iqra.requests).toHaveLength(0);
    } finally {
      await a.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The do-not-call import form

describe('the do-not-call import form', () => {
  async function importForm(a: TestApp): Promise<SentView> {
    expect((await a.command('dnc import')).status).toBe(200);
    return (await a.slack.waitFor(() => openedViews(a)[0], 'the import form')).view;
  }

  it('refuses someone who is not an admin under the numbers, without mentions', async () => {
    const a = await start({ CALL_ADMINS: 'U0MARIA1' });
    try {
      const form = await importForm(a);
      const errors = errorsOf(
        await a.interact(
          viewSubmission(a, form, { input: { dnc_lines: '+14155552671' }, user: 'U0OTHER01' }),
        ),
      );
      expect(Object.keys(errors)).toEqual(['dnc_lines']);
      expect(expectPlainFieldError(errors.dnc_lines)).toBe(
        'Only admins can import numbers. Ask one of them.',
      );
      expect(await a.store.findDnc('T0001', '+14155552671')).toBeUndefined();
    } finally {
      await a.close();
    }
  });

  it('says when no admin is configured, and when the numbers could not be saved', async () => {
    const a = await start({ CALL_ADMINS: 'U0MARIA1' });
    try {
      const form = await importForm(a);
      const noAdmins = await start();
      try {
        // The same form submitted to an app with no admins configured.
        const errors = errorsOf(
          await noAdmins.interact(viewSubmission(noAdmins, form, { input: { dnc_lines: '1' } })),
        );
        expect(expectPlainFieldError(errors.dnc_lines)).toBe(
          'Only admins can import numbers, and none are configured: ask whoever runs the app to set CALL_ADMINS.',
        );
      } finally {
        await noAdmins.close();
      }
      a.store.addDnc = () => Promise.reject(new Error('connection refused'));
      const errors = errorsOf(
        await a.interact(viewSubmission(a, form, { input: { dnc_lines: '+14155552671' } })),
      );
      expect(Object.keys(errors)).toEqual(['dnc_lines']);
      expect(expectPlainFieldError(errors.dnc_lines)).toBe(DNC_NOT_SAVED);
    } finally {
      await a.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The reject dialog

describe('the reject dialog', () => {
  // The requester is an approver too: nobody approves or rejects their own request.
  const APPROVAL = { CALL_APPROVAL: 'always', CALL_APPROVERS: 'U0MARIA1,U0BOSS001,U0BOSS002' };

  async function rejectForm(a: TestApp): Promise<{ form: SentView; requestId: string }> {
    await a.command('+14155552671');
    await a.slack.waitFor(
      () => a.slack.callsOf('chat.postMessage').find((c) => !c.args.thread_ts),
      'the approval request',
    );
    const requestId = String((await a.store.recentCalls('T0001', 'U0MARIA1', 1))[0]?.id);
    const opened = openedViews(a).length;
    await a.interact(
      a.buttonPress({ actionId: 'reject_call', value: requestId, user: 'U0BOSS001', message: { ts: '1.1' } }),
    );
    const form = await a.slack.waitFor(() => openedViews(a)[opened]?.view, 'the reject dialog');
    return { form, requestId };
  }

  it('answers under the reason, in plain words, whoever submits it and whatever happened meanwhile', async () => {
    const a = await start(APPROVAL);
    try {
      const { form, requestId } = await rejectForm(a);
      const answer = async (o: { user: string; view?: SentView }) => {
        const errors = errorsOf(
          await a.interact(
            viewSubmission(a, o.view ?? form, { input: { reject_reason: 'No.' }, user: o.user }),
          ),
        );
        expect(Object.keys(errors)).toEqual(['reject_reason']);
        return expectPlainFieldError(errors.reject_reason);
      };
      expect(await answer({ user: 'U0RANDOM1' })).toBe(
        'Only the approvers can approve or reject calls. Ask one of them.',
      );
      expect(await answer({ user: 'U0MARIA1' })).toBe(
        'You asked for this call, so someone else must approve or reject it.',
      );
      expect(await answer({ user: 'U0BOSS001', view: { ...form, private_metadata: '{}' } })).toBe(
        "I can't find this call request any more.",
      );
      expect((await a.store.getCall(requestId))?.state).toBe('pending_approval');
      // Rejected by one approver; the other's dialog then says so, in words.
      await a.interact(viewSubmission(a, form, { user: 'U0BOSS002' }));
      expect(await answer({ user: 'U0BOSS001' })).toBe('It was already rejected by another approver.');
      expect(await answer({ user: 'U0BOSS002' })).toBe('It was already rejected by you.');
      expect(a.iqra.requests).toHaveLength(0);
    } finally {
      await a.close();
    }
  });
});
