import { afterEach, describe, expect, it } from 'vitest';
import { messagePhoneText } from '../../../../src/slack/listeners/shortcuts/call-this-number.js';
import type { SlackApiCall } from '../../../support/fake-slack.js';
import {
  inputBlock,
  messageShortcut,
  openedViews,
  type SentView,
  viewBlockAction,
  viewSubmission,
} from '../../../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

const NOW = new Date('2026-11-27T17:00:00.000Z');
const MESSAGE_TS = '1764000100.000200';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(): Promise<TestApp> {
  const startedAt = Date.now();
  app = await startTestApp({ now: () => new Date(NOW.getTime() + (Date.now() - startedAt)) });
  app.slack.userZones.set('U0MARIA1', 'America/Los_Angeles');
  return app;
}

const posts = (a: TestApp): SlackApiCall[] => a.slack.callsOf('chat.postMessage');

type ShortcutMessage = { text?: string; blocks?: unknown[]; thread_ts?: string; [key: string]: unknown };

/** Uses "Call this number" on `message`; resolves with the modal it opened. */
async function shortcutOn(a: TestApp, message: ShortcutMessage, channel = 'C0LEADS01'): Promise<SentView> {
  // Any field of Slack's message (a bot's bot_id, attachments) is passed on as it is.
  const sent: { ts: string } = { ts: MESSAGE_TS, ...message };
  const payload = messageShortcut(a, {
    callbackId: 'call_this_number',
    message: sent,
    channel,
  });
  const res = await a.interact(payload);
  expect(res.status).toBe(200);
  const opened = await a.slack.waitFor(
    () => openedViews(a).find((o) => o.triggerId === payload.trigger_id),
    'views.open',
  );
  return opened.view;
}

/** A rich text message the way Slack clients send it: sections of text and links, and a list. */
const richText = (...sections: unknown[][]) => [
  {
    type: 'rich_text',
    block_id: 'rt1',
    elements: sections.map((elements) => ({ type: 'rich_text_section', elements })),
  },
];

describe('"Call this number"', () => {
  it('fills in the one number of a message (Slack markup), and confirms the call in that message’s thread', async () => {
    const a = await start();
    const view = await shortcutOn(a, {
      text: 'Please call <tel:+14155552671|+1 415-555-2671> about the renewal &amp; the invoice',
      blocks: richText([
        { type: 'text', text: 'Please call ' },
        { type: 'link', url: 'tel:+14155552671', text: '+1 415-555-2671' },
        { type: 'text', text: ' about the renewal & the invoice' },
      ]),
    });
    const recipient = inputBlock(view, 'recipient');
    expect(recipient?.element?.type).toBe('plain_text_input');
    expect(recipient?.element?.initial_value).toBe('+1 415 555 2671');
    expect(view.blocks.some((b) => b.block_id === 'note')).toBe(false);
    expect(inputBlock(view, 'channel')).toBeUndefined();

    const res = await a.interact(viewSubmission(a, view, { input: { when: 'in 2 hours' } }));
    expect(res.body).toBe('');
    const reply = await a.slack.waitFor(
      () => posts(a).find((c) => String(c.args.text).includes('Iqra queued')),
      'the details',
    );
    expect(a.iqra.requests).toHaveLength(1);
    expect(a.iqra.requests[0]?.fields).toMatchObject({
      RecipientNumber: '+14155552671',
      AgentId: 'agent_sales_01',
      'Metadata[SlackChannelId]': 'C0LEADS01',
    });
    expect(a.iqra.requests[0]?.fields.ScheduledTime).toMatch(/^2026-11-27T19:00:0\d\.\d{3}Z$/);
    // Both messages go in the thread of the message the shortcut was used on, in its channel.
    const parent = posts(a).find((c) => String(c.args.text).includes('queued a call'));
    expect(parent?.args).toMatchObject({ channel: 'C0LEADS01', thread_ts: MESSAGE_TS });
    expect(reply.args).toMatchObject({ channel: 'C0LEADS01', thread_ts: MESSAGE_TS });
    const call = await a.store.getCall(String(a.iqra.requests[0]?.fields['Metadata[RequestId]']));
    expect(call).toMatchObject({ entryPoint: 'shortcut', threadTs: MESSAGE_TS });
  });

  it('uses the thread a message is in', async () => {
    const a = await start();
    const view = await shortcutOn(a, { text: 'call me on +44 20 7183 8750', thread_ts: '1764000000.000050' });
    expect(inputBlock(view, 'recipient')?.element?.initial_value).toBe('+44 20 7183 8750');
    await a.interact(viewSubmission(a, view));
    const parent = await a.slack.waitFor(() => posts(a)[0], 'the parent');
    expect(parent.args.thread_ts).toBe('1764000000.000050');
  });

  it('offers a menu of the numbers a rich text message has, first chosen, and calls the one picked', async () => {
    const a = await start();
    const view = await shortcutOn(a, {
      text: '',
      blocks: richText(
        [
          { type: 'text', text: 'Office: +44 20 7183 8750, mobile: ' },
          { type: 'link', url: 'tel:+14155552671', text: 'tap to call' },
        ],
        [
          { type: 'text', text: 'Order ' },
          { type: 'link', url: 'https://shop.example.com/orders/4155550100', text: 'see the order' },
          { type: 'text', text: ' or her assistant at (646) 555-0199' },
        ],
      ),
    });
    const recipient = inputBlock(view, 'recipient');
    expect(recipient?.element?.type).toBe('static_select');
    expect(recipient?.element?.options?.map((o) => [o.text.text, o.value])).toEqual([
      ['+44 20 7183 8750', '+442071838750'],
      ['+1 415 555 2671', '+14155552671'],
      ['+1 646 555 0199', '+16465550199'],
    ]);
    expect(recipient?.element?.initial_option?.value).toBe('+442071838750');

    await a.interact(viewSubmission(a, view, { input: { recipient: '+16465550199' } }));
    await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts && c.args.text), 'the confirmation');
    expect(a.iqra.requests.map((r) => r.fields.RecipientNumber)).toEqual(['+16465550199']);
  });

  it('finds numbers written with narrow spaces or invisible direction marks, as French and right-to-left text has them', async () => {
    const a = await start();
    const view = await shortcutOn(a, {
      // French typography groups digits with narrow no-break spaces; Arabic text marks a number's direction.
      text: 'Nouveau client : +33\u202F1\u202F42\u202F68\u202F53\u202F00\nاتصل على \u200E+971\u200E 4 123 4567',
    });
    const recipient = inputBlock(view, 'recipient');
    expect(recipient?.element?.options?.map((o) => o.value)).toEqual(['+33142685300', '+97141234567']);
    expect(view.blocks.some((b) => b.block_id === 'note')).toBe(false);

    await a.interact(viewSubmission(a, view, { input: { recipient: '+97141234567' } }));
    await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts && c.args.text), 'the confirmation');
    expect(a.iqra.requests.map((r) => r.fields.RecipientNumber)).toEqual(['+97141234567']);
  });

  it('finds the number of a bot message that has it only in an attachment, a context block or rich text', async () => {
    const a = await start();
    // A CRM integration's notification: no text, the lead's details in a legacy attachment's fields.
    const crm = await shortcutOn(a, {
      text: '',
      bot_id: 'B0CRM0001',
      subtype: 'bot_message',
      attachments: [
        {
          color: '#36a64f',
          pretext: 'New lead assigned to you',
          title: 'Jane Doe, Acme Corp',
          fields: [
            { title: 'Phone', value: '+1 415 555 2671', short: true },
            { title: 'Source', value: 'Webinar', short: true },
          ],
        },
      ],
    });
    expect(crm.blocks.some((b) => b.block_id === 'note')).toBe(false);
    expect(inputBlock(crm, 'recipient')?.element?.initial_value).toBe('+1 415 555 2671');

    const alert = await shortcutOn(a, {
      text: '',
      bot_id: 'B0ALERT01',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Missed call' } },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: 'Caller: <tel:+442071838750|+44 20 7183 8750>' }],
        },
      ],
    });
    expect(inputBlock(alert, 'recipient')?.element?.initial_value).toBe('+44 20 7183 8750');

    // Rich text only, the number written in angle brackets as an SMS gateway names a sender.
    const sms = await shortcutOn(a, {
      text: '',
      bot_id: 'B0SMS0001',
      blocks: richText([{ type: 'text', text: 'SMS from Jane Doe <+1 646 555 0199>: please call me back' }]),
    });
    expect(inputBlock(sms, 'recipient')?.element?.initial_value).toBe('+1 646 555 0199');
  });

  it.each([
    'Call Ada on +1 415 555 2671 ext. 204',
    'Call Ada on +1 415 555 2671 x204',
    'Call Ada on +1 415 555 2671 #204',
    'Call Ada on +1 415 555 2671 extension 204',
    'Call Ada on <tel:+14155552671;ext=204|+1 415 555 2671, ext. 204>',
  ])(
    'keeps the extension of %j: the main number, Extension=204 in the variables, and a note',
    async (text) => {
      const a = await start();
      const view = await shortcutOn(a, { text });
      expect(inputBlock(view, 'recipient')?.element?.initial_value).toBe('+1 415 555 2671');
      expect(inputBlock(view, 'variables')?.element?.initial_value).toBe('Extension=204');
      // In `/call`'s words: the agent can't dial it, and reads it from the variable.
      expect(view.blocks[0]?.block_id).toBe('note');
      expect(view.blocks[0]?.text?.text).toBe(
        "The message gives +1 415 555 2671 with extension 204. The AI agent can't dial extensions: the form has the " +
          'main number only, and the extension in a variable, `Extension=204`, which the agent can read.',
      );

      await a.interact(viewSubmission(a, view));
      await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts && c.args.text), 'the confirmation');
      expect(a.iqra.requests).toHaveLength(1);
      expect(a.iqra.requests[0]?.fields).toMatchObject({
        RecipientNumber: '+14155552671',
        'DynamicVariables[Extension]': '204',
      });
    },
  );

  it('shows which numbers of a menu have an extension, and fills in the one chosen first', async () => {
    const a = await start();
    const view = await shortcutOn(a, {
      text: 'Ada: +1 415 555 2671 x204, or her mobile +1 646 555 0199. Front desk +44 20 7183 8750 ext. 12',
    });
    const recipient = inputBlock(view, 'recipient');
    expect(recipient?.element?.options?.map((o) => [o.text.text, o.value])).toEqual([
      ['+1 415 555 2671 ext. 204', '+14155552671'],
      ['+1 646 555 0199', '+16465550199'],
      ['+44 20 7183 8750 ext. 12', '+442071838750'],
    ]);
    expect(recipient?.element?.initial_option?.value).toBe('+14155552671');
    expect(inputBlock(view, 'variables')?.element?.initial_value).toBe('Extension=204');
    const note = view.blocks[0]?.text?.text;
    expect(note).toContain(
      'In the message, +1 415 555 2671 has extension 204 and +44 20 7183 8750 has extension 12. ' +
        "The AI agent can't dial extensions: it calls the main number.",
    );
    expect(note).toContain('if you choose another number, change or remove it');

    // Enter in the time field rebuilds the form from private_metadata: the note and the labels stay.
    await a.interact(
      viewBlockAction(view, {
        blockId: 'when',
        actionId: 'when_input',
        action: { type: 'plain_text_input', value: 'in 2 hours' },
      }),
    );
    const update = await a.slack.waitFor(() => a.slack.callsOf('views.update').at(-1), 'views.update');
    const rebuilt = update.args.view as SentView;
    expect(rebuilt.blocks[0]?.text?.text).toBe(note);
    expect(inputBlock(rebuilt, 'recipient')?.element?.options?.[0]?.text.text).toBe(
      '+1 415 555 2671 ext. 204',
    );

    // The rep picks the London number and writes its extension instead.
    await a.interact(
      viewSubmission(a, view, { input: { recipient: '+442071838750', variables: 'Extension=12' } }),
    );
    await a.slack.waitFor(() => posts(a).find((c) => c.args.thread_ts && c.args.text), 'the confirmation');
    expect(a.iqra.requests[0]?.fields).toMatchObject({
      RecipientNumber: '+442071838750',
      'DynamicVariables[Extension]': '12',
    });
  });

  it('says where an extension goes when the number chosen first has none', async () => {
    const a = await start();
    const view = await shortcutOn(a, { text: 'Mobile +1 646 555 0199, office +1 415 555 2671 ext. 204' });
    expect(inputBlock(view, 'recipient')?.element?.initial_option?.value).toBe('+16465550199');
    expect(inputBlock(view, 'variables')?.element?.initial_value).toBeUndefined();
    expect(view.blocks[0]?.text?.text).toBe(
      "In the message, +1 415 555 2671 has extension 204. The AI agent can't dial extensions: it calls the main " +
        'number. If you choose it, put its extension in a variable, e.g. `Extension=204`, which the agent can read.',
    );
  });

  it('fills in a number without an extension as before: no note, no variables', async () => {
    const a = await start();
    const view = await shortcutOn(a, { text: 'Call Ada on +1 415 555 2671 about the 204 invoices' });
    expect(inputBlock(view, 'recipient')?.element?.initial_value).toBe('+1 415 555 2671');
    expect(inputBlock(view, 'variables')?.element?.initial_value).toBeUndefined();
    expect(view.blocks.some((b) => b.block_id === 'note')).toBe(false);
  });

  it.each([
    ['Callback requested 10:00 415 555 2671', '+1 415 555 2671'],
    ['Call Jane at 9:00, 415-555-2671', '+1 415 555 2671'],
    ['Balance due $5.00 4155552671', '+1 415 555 2671'],
    ['Balance $1,234.00 415 555 2671', '+1 415 555 2671'],
    ['Meeting 14:30 +44 20 7183 8750', '+44 20 7183 8750'],
    ['Reached at 10:00 0044 20 7183 8750', '+44 20 7183 8750'],
    ['Tel:0044 20 7183 8750', '+44 20 7183 8750'],
  ])('fills in the number of %j: a time or an amount before it is not part of it', async (text, number) => {
    const a = await start();
    const view = await shortcutOn(a, { text });
    expect(view.blocks.some((b) => b.block_id === 'note')).toBe(false);
    expect(inputBlock(view, 'recipient')?.element?.initial_value).toBe(number);
  });

  it('opens the modal with an empty number and a note when the message has no number', async () => {
    const a = await start();
    const view = await shortcutOn(a, { text: 'See you at the 10:30 meeting in room 4155 on 2026-12-01' });
    expect(view.blocks[0]?.block_id).toBe('note');
    expect(view.blocks[0]?.text?.text).toContain("I couldn't find a phone number in that message");
    const recipient = inputBlock(view, 'recipient');
    expect(recipient?.element?.type).toBe('plain_text_input');
    expect(recipient?.element?.initial_value).toBeUndefined();
    // The number typed in is checked like any other.
    const res = await a.interact(viewSubmission(a, view, { input: { recipient: '4155' } }));
    expect(JSON.parse(res.body).errors).toEqual({ recipient: expect.stringContaining('too short') });
  });
});

describe('messagePhoneText', () => {
  it('reads rich text, tel: links and section text, and skips other links', () => {
    const text = messagePhoneText({
      text: 'see below',
      blocks: [
        ...richText([
          { type: 'link', url: 'tel:+14155552671', text: 'call' },
          { type: 'link', url: 'https://x.example/4155550100', text: 'https://x.example/4155550100' },
        ]),
        { type: 'section', text: { type: 'mrkdwn', text: 'Backup: +44 20 7183 8750' } },
      ],
    });
    expect(text).toContain('+14155552671');
    expect(text).toContain('Backup: +44 20 7183 8750');
    expect(text).not.toContain('4155550100');
  });
});
