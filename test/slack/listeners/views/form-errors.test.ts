import { describe, expect, it } from 'vitest';
import { type CallCatalog, resolveChoices } from '../../../../src/calls/call-request.js';
import { parseAssignmentLines } from '../../../../src/calls/command.js';
import { Directory } from '../../../../src/calls/directory.js';
import { CallRequestError } from '../../../../src/calls/errors.js';
import { checkHygiene } from '../../../../src/calls/hygiene.js';
import { normalizeRecipient } from '../../../../src/calls/phone.js';
import { resolveWhen } from '../../../../src/calls/when.js';
import {
  FIELD_ERROR_MAX,
  formFieldError,
  formWording,
  plainFieldError,
} from '../../../../src/slack/listeners/views/form-errors.js';

/** The refusal `check` throws (it must throw one). */
function refusal(check: () => unknown): CallRequestError {
  try {
    check();
  } catch (err) {
    if (err instanceof CallRequestError) return err;
    throw err;
  }
  throw new Error('no refusal');
}

const ctx = {
  now: new Date('2026-11-27T17:00:00.000Z'),
  timeZone: 'America/Los_Angeles',
  maxScheduleDays: 30,
};

const catalog = (o: Partial<CallCatalog> = {}): CallCatalog => ({
  agents: new Directory(
    'agent',
    [
      { alias: 'sales', id: 'a1' },
      { alias: 'support', id: 'a2' },
    ],
    undefined,
  ),
  numbers: new Directory(
    'number',
    [
      { alias: 'main', id: 'n1' },
      { alias: 'backup', id: 'n2' },
    ],
    undefined,
  ),
  campaigns: new Directory('campaign', [{ alias: 'webinar', id: 'c1' }], undefined),
  campaignRequired: true,
  defaultRegion: 'US',
  ...o,
});

/** Every shape of refusal the form's fields can get, from the real checks. */
const REFUSALS: [string, () => unknown][] = [
  ...[
    '   ',
    'Jane',
    'tomorrow 10am',
    '+1234567890',
    '+1 415',
    '+1 415 555 26711111',
    '+44 20 7183 875',
    '+999 123',
    '0207 183 8750 0',
    '+14155552671 +14155552672',
    '+14155552671 +14155552672 +14155552673',
    '+14155552671 +1 415 555 2671',
    '+14155552671 +14155552671 +14155552671',
    '+1 415 555 2671 x204',
    '+1 415 555 2671 ext. 204',
    'tel:+14155552671;ext=204',
    '1-800-FLOWERS',
    '1.41555E+10',
    '4155552671.0',
    '<+1 415 555 2671> & more',
  ].map((n): [string, () => unknown] => [`number ${JSON.stringify(n)}`, () => normalizeRecipient(n, 'US')]),
  ...[
    'yesterday 10am',
    'yesterday',
    'tomorrow',
    'tomorrow 3',
    'tomorrow at 3',
    'friday 4:30',
    'whenever',
    'tomorrow 10am and friday 3pm',
    'tomorrow 10am please',
    'in 400 days',
    'in 40 days 10am',
    'tomorrow 10am Europe/London Asia/Tokyo',
    'tomorrow 10am PST Europe/London',
    '10am-11am tomorrow',
    'tonight & <b>',
  ].map((w): [string, () => unknown] => [`time ${JSON.stringify(w)}`, () => resolveWhen(w, ctx)]),
  ...(
    [
      ['variables', 'Plan Pro'],
      ['variables', '=x'],
      ['variables', '1x=a'],
      ['variables', '__proto__=a'],
      ['variables', 'agent=a'],
      ['variables', 'from=a'],
      ['variables', 'campaign=a'],
      ['variables', 'at=a'],
      ['variables', 'when=a'],
      ['variables', 'A=1\na=2'],
      ['variables', 'A='],
      ['variables', `A=${'x'.repeat(1001)}`],
      ['variables', 'Name=`Ada`\nName=Bob'],
      ['metadata', 'Source webinar'],
      ['metadata', '=x'],
      ['metadata', 'meta.1x=a'],
      ['metadata', 'SlackUserId=U1'],
      ['metadata', '__proto__=1'],
      ['metadata', 'S=1\nmeta.s=2'],
      ['metadata', 'S='],
    ] as const
  ).map(([field, text]): [string, () => unknown] => [
    `${field} ${JSON.stringify(text).slice(0, 30)}`,
    () => parseAssignmentLines(text, field),
  ]),
  ['variable named like a secret', () => checkHygiene({ api_key: 'x' }, {})],
  ['variable holding a card number', () => checkHygiene({ Card: '4242 4242 4242 4242' }, {})],
  ['variable holding a token', () => checkHygiene({ Note: 'xoxb-1234567890-abcdef' }, {})],
  ['metadata holding a password', () => checkHygiene({}, { Note: 'password=hunter2' })],
  ['metadata named like a PIN', () => checkHygiene({}, { customer_pin: '1234' })],
  ['no agent', () => resolveChoices({}, catalog())],
  ['unknown agent', () => resolveChoices({ agent: 'retired' }, catalog())],
  ['no caller-ID number', () => resolveChoices({ agent: 'sales' }, catalog())],
  ['unknown caller-ID number', () => resolveChoices({ agent: 'sales', from: 'old' }, catalog())],
  ['no campaign', () => resolveChoices({ agent: 'sales', from: 'main' }, catalog())],
  ['unknown campaign', () => resolveChoices({ agent: 'sales', from: 'main', campaign: 'x' }, catalog())],
  [
    'no agents configured',
    () => resolveChoices({}, catalog({ agents: new Directory('agent', [], undefined) })),
  ],
  [
    'no campaigns configured',
    () =>
      resolveChoices(
        { agent: 'sales', from: 'main' },
        catalog({ campaigns: new Directory('campaign', [], undefined) }),
      ),
  ],
];

describe('formFieldError', () => {
  it.each(REFUSALS)('words the refusal of %s for a form field, in plain text', (_, check) => {
    const err = refusal(check);
    const text = formFieldError(err.field, err.userMessage);
    expect(text).not.toContain('`');
    expect(text).not.toContain('/call');
    expect(text).not.toMatch(/\bcommand/i);
    expect(text).not.toMatch(/\bat "/);
    expect(text).not.toMatch(/leave out .?at/);
    expect(text).not.toMatch(/\b(?:agent|from|campaign)=/);
    expect(text).not.toMatch(/&(?:lt|gt|amp);/);
    expect(text).not.toMatch(/,\./);
    expect(text.length).toBeLessThan(500);
    // Still a sentence that says something: the rewording drops no part of it.
    expect(text.length).toBeGreaterThan(err.userMessage.length * 0.7);
  });

  it('puts what to type in quotes and undoes Slack’s escapes', () => {
    const err = refusal(() => normalizeRecipient('+1 <415> & 555', 'US'));
    expect(err.userMessage).toContain('`+1 &lt;415&gt; &amp; 555`');
    expect(formFieldError(err.field, err.userMessage)).toContain('“+1 <415> & 555” is not a phone number');
  });

  it('leaves a message without command syntax as it is, but for its quotes', () => {
    const message = 'The value of `Plan` is 1001 characters long; the most is 1000. Shorten it.';
    expect(formFieldError('variables', message)).toBe(
      'The value of “Plan” is 1001 characters long; the most is 1000. Shorten it.',
    );
    expect(formFieldError('agent', 'No agents are configured: ask an admin to set IQRA_AGENTS.')).toBe(
      'No agents are configured: ask an admin to set IQRA_AGENTS.',
    );
  });

  it('rewrites a field’s own examples only on that field', () => {
    // A variable may be named like an option in the command's words; only the option fields drop `agent=`.
    expect(formFieldError('variables', 'e.g. `agent=sales`')).toBe('e.g. “agent=sales”');
    expect(formFieldError('agent', 'e.g. `agent=sales`')).toBe('e.g. “sales”');
  });
});

describe('formWording', () => {
  it('keeps mrkdwn (for the line under the time field) with the form’s examples', () => {
    const err = refusal(() => resolveWhen('tomorrow 3', ctx));
    expect(err.userMessage).toBe(
      '“tomorrow 3” doesn\'t say am or pm. Write `at "tomorrow 3pm"` (or `at "tomorrow 3am"`, or 24-hour time `at "tomorrow 15:00"`).',
    );
    expect(formWording('when', err.userMessage)).toBe(
      "“tomorrow 3” doesn't say am or pm. Write `tomorrow 3pm` (or `tomorrow 3am`, or 24-hour time `tomorrow 15:00`).",
    );
  });
});

describe('plainFieldError', () => {
  it('turns a stray backtick into a quote', () => {
    expect(plainFieldError('I don’t know the agent “a`b”.')).toBe("I don’t know the agent “a'b”.");
  });

  it(`cuts a very long error to ${FIELD_ERROR_MAX} characters`, () => {
    const text = plainFieldError(`\`${'x'.repeat(2000)}\``);
    expect(text).toHaveLength(FIELD_ERROR_MAX);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('the batch form', () => {
  /** The time refusals of the REFUSALS above, as the batch's start gets them (src/services/batch-desk.ts). */
  const starts = REFUSALS.filter(([name]) => name.startsWith('time '));

  it.each(starts)('words the refusal of the start %s for the batch form', (_, check) => {
    const err = refusal(check);
    const message = `The batch's start: ${err.userMessage}`;
    const text = formWording('when', message, 'batch');
    expect(text.startsWith("The batch's start: ")).toBe(true);
    expect(text).not.toMatch(/\bat "/);
    expect(text).not.toMatch(/leave out .?at\b/);
    expect(text).not.toContain('/call');
    expect(text).not.toMatch(/\bcommand/i);
    // Not the call form's words: a batch starts, it does not call.
    expect(text).not.toContain('to call now');
    expect((text.match(/`/g) ?? []).length % 2).toBe(0);
    expect(text.length).toBeGreaterThan(message.length * 0.7);
  });

  it('says how to start now', () => {
    const err = refusal(() => resolveWhen('yesterday 10am', ctx));
    expect(formWording('when', `The batch's start: ${err.userMessage}`, 'batch')).toMatch(
      /Give a time in the future, e\.g\. `tomorrow 10am`, or leave Start empty to start the batch now\.$/,
    );
    // The call form keeps its own words.
    expect(formWording('when', err.userMessage)).toMatch(/or leave this field empty to call now\.$/);
  });

  it.each([
    ['agent', () => catalog().agents.resolve('retired'), 'Choose one of those, e.g. “sales”.'],
    ['number', () => catalog().numbers.resolve('old'), 'Choose one of those, e.g. “main”.'],
    ['campaign', () => catalog().campaigns.resolve('spring'), 'Choose one of those, e.g. “webinar”.'],
  ] as const)('words the refusal of a batch-wide %s no longer configured', (_, check, fix) => {
    const err = refusal(check);
    const text = formFieldError(err.field, err.userMessage, 'batch');
    expect(text).not.toContain('`');
    expect(text).not.toMatch(/\b(?:agent|from|campaign)=/);
    expect(text).toContain(fix);
  });

  it('speaks of the channel chosen for the batch’s progress, not of where the command was typed', () => {
    const message =
      "Calls can't be placed from this channel. Use <#C0CALLS01>, <#C0CALLS02>, or ask an admin (<@U0ADMIN1>) to allow this one.";
    expect(formWording('command', message, 'batch')).toBe(
      "Calls can't be placed from the channel chosen under Post progress in. Choose <#C0CALLS01>, <#C0CALLS02> there, or ask an admin (<@U0ADMIN1>) to allow this one.",
    );
    // The call form (and the command) keep the message as it is.
    expect(formWording('command', message)).toBe(message);
  });

  it('leaves the call form’s own rewrites out of the batch form', () => {
    const err = refusal(() => normalizeRecipient('+14155552671 +14155552672', 'US'));
    expect(formWording('recipient', err.userMessage, 'batch')).not.toContain('This form places one call');
    expect(formWording('recipient', err.userMessage)).toContain('This form places one call');
  });
});
