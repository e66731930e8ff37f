import type { CountryCode } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import {
  type CallCommand,
  formatAssignmentLines,
  type ParsedCommand,
  parseAssignmentLines,
  parseCallCommand,
  timeFieldPhrase,
  USAGE,
} from '../../src/calls/command.js';
import { type CallField, CallRequestError } from '../../src/calls/errors.js';
import { normalizeRecipient } from '../../src/calls/phone.js';

const HELP: ParsedCommand = { kind: 'help' };

function call(recipient: string, rest: Partial<Omit<CallCommand, 'kind' | 'recipient'>> = {}): CallCommand {
  return { kind: 'call', recipient, variables: {}, metadata: {}, ...rest };
}

interface Failure {
  field: CallField;
  message: string;
}

function failure(field: CallField, message: string): Failure {
  return { field, message };
}

function parseError(text: string): CallRequestError {
  try {
    parseCallCommand(text);
  } catch (error) {
    if (error instanceof CallRequestError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

const NUMBER = '+14155552671';
const NBSP = '\u00A0';
const LONG = 'x'.repeat(1001);

const accepted: [string, ParsedCommand][] = [
  // Help
  ['', HELP],
  [`  ${NBSP}\t `, HELP],
  ['help', HELP],
  ['HELP', HELP],
  [' Help ', HELP],
  ['?', HELP],
  ['--help', HELP],
  ['--HELP', HELP],
  // Numbers, as people write them
  [NUMBER, call(NUMBER)],
  [`  ${NUMBER}  `, call(NUMBER)],
  ['+1 (415) 555-2671', call('+1 (415) 555-2671')],
  ['+1 415 555 2671', call('+1 415 555 2671')],
  ['+1  415   555-2671', call('+1 415 555-2671')],
  ['415.555.2671', call('415.555.2671')],
  ['(415) 555-2671', call('(415) 555-2671')],
  ['00 44 20 7183 8750', call('00 44 20 7183 8750')],
  ['+1 415\u2013555\u20132671', call('+1 415\u2013555\u20132671')],
  ['tel:+14155552671', call('tel:+14155552671')],
  ['"+1 415 555 2671" agent=sales', call('+1 415 555 2671', { agent: 'sales' })],
  // Slack markup for numbers: the tel: target counts
  ['<tel:+14155552671|+1 415-555-2671>', call(NUMBER)],
  ['<tel:+14155552671>', call(NUMBER)],
  ['<tel:+14155552671|+1 415-555-2671> agent=sales', call(NUMBER, { agent: 'sales' })],
  // Non-breaking and other Unicode spaces separate tokens
  [`+1${NBSP}415${NBSP}555${NBSP}2671${NBSP}agent=sales`, call('+1 415 555 2671', { agent: 'sales' })],
  [`${NUMBER}\u2003campaign=q3\u202Fagent=sales`, call(NUMBER, { agent: 'sales', campaign: 'q3' })],
  // Options, any case
  [
    `${NUMBER} agent=sales from=+14155550100 campaign=spring`,
    call(NUMBER, { agent: 'sales', from: '+14155550100', campaign: 'spring' }),
  ],
  [
    `${NUMBER} AGENT=Sales From=main Campaign=Q3`,
    call(NUMBER, { agent: 'Sales', from: 'main', campaign: 'Q3' }),
  ],
  [`${NUMBER} agent="Sales Team"`, call(NUMBER, { agent: 'Sales Team' })],
  // The number after options
  [`agent=sales ${NUMBER}`, call(NUMBER, { agent: 'sales' })],
  ['agent=sales +1 415 555 2671 campaign=q3', call('+1 415 555 2671', { agent: 'sales', campaign: 'q3' })],
  // Times
  [`${NUMBER} at "tomorrow 10am"`, call(NUMBER, { when: 'tomorrow 10am' })],
  [`${NUMBER} at \u201Ctomorrow 10am\u201D`, call(NUMBER, { when: 'tomorrow 10am' })],
  [`${NUMBER} at \u201Etomorrow 10am\u201F`, call(NUMBER, { when: 'tomorrow 10am' })],
  [`${NUMBER} at \u201Dtomorrow 10am\u201D`, call(NUMBER, { when: 'tomorrow 10am' })],
  [`${NUMBER} AT "friday 3pm"`, call(NUMBER, { when: 'friday 3pm' })],
  [`${NUMBER} at tomorrow 10am agent=sales`, call(NUMBER, { when: 'tomorrow 10am', agent: 'sales' })],
  [`${NUMBER} at friday at 3pm`, call(NUMBER, { when: 'friday at 3pm' })],
  [`${NUMBER} at friday 3pm Europe/London`, call(NUMBER, { when: 'friday 3pm Europe/London' })],
  [`${NUMBER} at=\u201Ctomorrow 10am\u201D`, call(NUMBER, { when: 'tomorrow 10am' })],
  [
    `${NUMBER} at=tomorrow 10am Plan=Pro`,
    call(NUMBER, { when: 'tomorrow 10am', variables: { Plan: 'Pro' } }),
  ],
  [`${NUMBER} when=tomorrow 10am campaign=q3`, call(NUMBER, { when: 'tomorrow 10am', campaign: 'q3' })],
  [`${NUMBER} WHEN="in 2 hours"`, call(NUMBER, { when: 'in 2 hours' })],
  [`${NUMBER} at "2025-06-01 09:30"`, call(NUMBER, { when: '2025-06-01 09:30' })],
  // Dynamic variables
  [
    `${NUMBER} CustomerName="Jane Doe" Plan=Pro`,
    call(NUMBER, { variables: { CustomerName: 'Jane Doe', Plan: 'Pro' } }),
  ],
  [`${NUMBER} Query="a=b c=d"`, call(NUMBER, { variables: { Query: 'a=b c=d' } })],
  [`${NUMBER} Formula=a=b`, call(NUMBER, { variables: { Formula: 'a=b' } })],
  [`${NUMBER} Name=\u201CJane Doe\u201D`, call(NUMBER, { variables: { Name: 'Jane Doe' } })],
  [`${NUMBER} LastName=O'Brien`, call(NUMBER, { variables: { LastName: "O'Brien" } })],
  [`${NUMBER} Name="Jane O'Brien"`, call(NUMBER, { variables: { Name: "Jane O'Brien" } })],
  [`${NUMBER} _id=7 order-ref=A-1`, call(NUMBER, { variables: { _id: '7', 'order-ref': 'A-1' } })],
  [`${NUMBER} Notes=${'x'.repeat(1000)}`, call(NUMBER, { variables: { Notes: 'x'.repeat(1000) } })],
  // Metadata
  [
    `${NUMBER} meta.Source=webinar META.Lead_Id=42`,
    call(NUMBER, { metadata: { Source: 'webinar', Lead_Id: '42' } }),
  ],
  [
    `${NUMBER} Source=form meta.Source="Spring webinar"`,
    call(NUMBER, { variables: { Source: 'form' }, metadata: { Source: 'Spring webinar' } }),
  ],
  // Entities are decoded, and an escaped quote is not a quote
  [`${NUMBER} Company=AT&amp;T`, call(NUMBER, { variables: { Company: 'AT&T' } })],
  [`${NUMBER} Note=&lt;urgent&gt;`, call(NUMBER, { variables: { Note: '<urgent>' } })],
  [`${NUMBER} Note=&quot;hi&quot; Tag=it&#39;s`, call(NUMBER, { variables: { Note: '"hi"', Tag: "it's" } })],
  // Links in values
  [`${NUMBER} Site=<http://x.com|x.com>`, call(NUMBER, { variables: { Site: 'x.com' } })],
  [`${NUMBER} Site=<http://x.com>`, call(NUMBER, { variables: { Site: 'http://x.com' } })],
  [`${NUMBER} Email=<mailto:a@b.co|a@b.co>`, call(NUMBER, { variables: { Email: 'a@b.co' } })],
  [
    `${NUMBER} Page=<https://x.com/p?a=1&amp;b=2|Our Plans> Plan=Pro`,
    call(NUMBER, { variables: { Page: 'Our Plans', Plan: 'Pro' } }),
  ],
  [
    `${NUMBER} Note="see <http://x.com|x.com> today"`,
    call(NUMBER, { variables: { Note: 'see x.com today' } }),
  ],
];

const refused: [string, Failure][] = [
  // Repeated keys
  [`${NUMBER} agent=a agent=b`, failure('agent', '`agent` is given twice')],
  [`${NUMBER} agent=a AGENT=b`, failure('agent', 'case does not matter')],
  [`${NUMBER} from=a from=b`, failure('from', '`from` is given twice')],
  [`${NUMBER} campaign=a Campaign=b`, failure('campaign', 'given twice')],
  [`${NUMBER} at "tomorrow" when=friday`, failure('when', 'The time is given twice')],
  [`${NUMBER} at noon when=friday`, failure('when', 'which mean the same thing')],
  [`${NUMBER} at "noon" at "friday"`, failure('when', '`at` is given twice')],
  [`${NUMBER} at=noon at=friday`, failure('when', '`at` is given twice')],
  [`${NUMBER} Plan=Pro plan=Basic`, failure('variables', '`plan` is given twice')],
  [`${NUMBER} meta.Src=a meta.src=b`, failure('metadata', '`meta.src` is given twice')],
  // Unterminated quotes
  [`${NUMBER} Name="Jane Doe`, failure('variables', 'The quote in `Name="Jane Doe` is never closed')],
  [`${NUMBER} at "tomorrow 10am`, failure('when', 'The quote in `"tomorrow 10am` is never closed')],
  [`${NUMBER} campaign=\u201Cspring`, failure('campaign', 'never closed')],
  [`${NUMBER} "hello there`, failure('command', 'never closed')],
  // Empty values
  [`${NUMBER} agent=`, failure('agent', '`agent=` has no value')],
  [`${NUMBER} from= agent=sales`, failure('from', '`from=` has no value')],
  [`${NUMBER} Name=""`, failure('variables', '`Name=` has no value')],
  [`${NUMBER} meta.Source=`, failure('metadata', '`meta.Source=` has no value')],
  [`${NUMBER} at=`, failure('when', '`at=` has no time after it')],
  // Bad keys
  [`${NUMBER} 1st=x`, failure('variables', "`1st` can't be used as a variable name")],
  [`${NUMBER} first.name=Ada`, failure('variables', 'a name starts with a letter')],
  [`${NUMBER} ${'K'.repeat(65)}=x`, failure('variables', 'up to 64 characters')],
  [`${NUMBER} meta.1x=y`, failure('metadata', "`meta.1x` can't be used as a metadata name")],
  [`${NUMBER} meta.=y`, failure('metadata', "can't be used as a metadata name")],
  [`${NUMBER} =x`, failure('command', 'has nothing before the `=`')],
  // Metadata the app sets itself
  [`${NUMBER} meta.SlackUserId=U1`, failure('metadata', '`meta.SlackUserId` is set by the app')],
  [`${NUMBER} meta.requestid=abc`, failure('metadata', 'is set by the app')],
  [`${NUMBER} META.SlackTeamId=T1`, failure('metadata', 'is set by the app')],
  [`${NUMBER} meta.slackchannelid=C1`, failure('metadata', 'is set by the app')],
  // The number
  [
    '+1 415 agent=sales 555 2671',
    failure('recipient', 'I found a number in two places: `+1 415` and `555 2671`'),
  ],
  [`${NUMBER} agent=sales +14155550100`, failure('recipient', 'Write the number once')],
  ['agent=sales', failure('recipient', 'Which number should I call?')],
  ['agent=sales campaign=q3', failure('recipient', '`/call +14155552671 agent=sales`')],
  ['at 10am +14155552671', failure('recipient', 'the number became part of the time')],
  // Stray words
  [`${NUMBER} tomorrow 10am`, failure('command', 'put `at` before the time: `at "tomorrow 10am"`')],
  [`${NUMBER} sales`, failure('command', "I don't understand `sales`")],
  [`${NUMBER} sales`, failure('command', 'options are written as `key=value`')],
  [`${NUMBER} at "tomorrow" 10am`, failure('command', "I don't understand `10am`")],
  ['call +14155552671', failure('recipient', '`call` is not a phone number')],
  // `at` with nothing after it
  [`${NUMBER} at`, failure('when', '`at` needs a time after it')],
  [`${NUMBER} at agent=sales`, failure('when', 'needs a time after it')],
  [`${NUMBER} at ""`, failure('when', 'needs a time after it')],
  // Too long
  [
    `${NUMBER} Notes=${LONG}`,
    failure('variables', 'The value of `Notes` is 1001 characters long; the most is 1000'),
  ],
  [`${NUMBER} agent=${LONG}`, failure('agent', '1001 characters')],
  [`${NUMBER} at "${LONG}"`, failure('when', '1001 characters')],
];

describe('parseCallCommand', () => {
  it.each(accepted)('reads %j', (text, expected) => {
    expect(parseCallCommand(text)).toEqual(expected);
  });

  it.each(refused)('refuses %j', (text, expected) => {
    const error = parseError(text);
    expect(error.field).toBe(expected.field);
    expect(error.userMessage).toContain(expected.message);
  });

  it('keeps variables in the order they were written, with their keys as typed', () => {
    const parsed = parseCallCommand(`${NUMBER} zeta=1 Alpha=2 mid_Key=3`);
    expect(parsed.kind === 'call' && Object.keys(parsed.variables)).toEqual(['zeta', 'Alpha', 'mid_Key']);
  });

  it('says how to write every mistake, with an example in code', () => {
    for (const [text] of refused) {
      expect(parseError(text).userMessage, text).toMatch(/`[^`]+`/);
    }
  });

  it('escapes Slack markup characters when it quotes what was typed', () => {
    const error = parseError(`${NUMBER} Note="<http://x.com|x.com> &lt;b&gt;`);
    expect(error.userMessage).toContain('&lt;b&gt;');
    expect(error.userMessage).not.toMatch(/<b>/);
  });

  it('shortens a long quoted token in a message', () => {
    const error = parseError(`${NUMBER} "${'y'.repeat(300)}`);
    expect(error.userMessage.length).toBeLessThan(400);
    expect(error.userMessage).toContain('…');
  });
});

describe('force', () => {
  it.each<[string, ParsedCommand]>([
    [`${NUMBER} force`, call(NUMBER, { force: true })],
    [`${NUMBER} force at friday 3pm`, call(NUMBER, { when: 'friday 3pm', force: true })],
    // `force` ends an unquoted time, as a `key=value` does.
    [`${NUMBER} at friday 3pm force`, call(NUMBER, { when: 'friday 3pm', force: true })],
    [
      `${NUMBER} at friday 3pm FORCE agent=sales`,
      call(NUMBER, { when: 'friday 3pm', force: true, agent: 'sales' }),
    ],
    [
      `${NUMBER} at friday 3pm agent=sales force`,
      call(NUMBER, { when: 'friday 3pm', force: true, agent: 'sales' }),
    ],
    [`${NUMBER} at=friday 3pm force`, call(NUMBER, { when: 'friday 3pm', force: true })],
    [`${NUMBER} when=friday 3pm force`, call(NUMBER, { when: 'friday 3pm', force: true })],
    // Only the word itself: other words, and a quoted "force", stay in the time.
    [`${NUMBER} at friday 3pm forced`, call(NUMBER, { when: 'friday 3pm forced' })],
    [`${NUMBER} at friday 3pm "force"`, call(NUMBER, { when: 'friday 3pm force' })],
  ])('reads %j', (text, expected) => {
    expect(parseCallCommand(text)).toEqual(expected);
  });

  it('refuses it twice, and an `at` that only has `force` after it', () => {
    expect(parseError(`${NUMBER} at friday 3pm force force`).userMessage).toContain('`force` is given twice');
    const error = parseError(`${NUMBER} at force`);
    expect(error.field).toBe('when');
    expect(error.userMessage).toContain('`at` needs a time after it');
  });
});

describe('invisible format characters (pasted from contact cards and Outlook)', () => {
  const FORMAT = /\p{Cf}/u;

  it.each<[string, ParsedCommand]>([
    ['\u202A+1 415 555 2671\u202C', call('+1 415 555 2671')],
    [`\u200E${NUMBER}`, call(NUMBER)],
    [`\u200F${NUMBER}\u200F`, call(NUMBER)],
    ['+1415555\u200B2671', call(NUMBER)],
    [`\u2066${NUMBER}\u2069 agent=sales`, call(NUMBER, { agent: 'sales' })],
    [`\u2067${NUMBER}\u2068`, call(NUMBER)],
    [`\uFEFF${NUMBER}`, call(NUMBER)],
    ['\u202A+1 415 555 2671\u202C \u202Aagent=sales\u202C', call('+1 415 555 2671', { agent: 'sales' })],
    [
      `${NUMBER} \u200E at \u200Efriday 3pm\u200E force\u200E`,
      call(NUMBER, { when: 'friday 3pm', force: true }),
    ],
    [
      `${NUMBER} \u200Ecampaign=q3\u200E \u200Bfrom=+14155550100\u200B`,
      call(NUMBER, { campaign: 'q3', from: '+14155550100' }),
    ],
    [`${NUMBER} \u200ECustomerName=Ada`, call(NUMBER, { variables: { CustomerName: 'Ada' } })],
    ['\u200Ehelp\u200E', HELP],
    ['\u200Ehistory', { kind: 'history' }],
    [
      'dnc add \u202A+1 415 555 2671\u202C spam',
      { kind: 'dnc', op: 'add', number: '+1 415 555 2671', reason: 'spam' },
    ],
    // In a variable's value they are part of the text: emoji sequences are joined by U+200D.
    [
      `${NUMBER} Family=\u{1F468}\u200D\u{1F469}\u200D\u{1F467}`,
      call(NUMBER, { variables: { Family: '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}' } }),
    ],
  ])('reads %j', (text, expected) => {
    expect(parseCallCommand(text)).toEqual(expected);
  });

  it('leaves them out of the messages', () => {
    for (const text of [`\u200E${NUMBER} \u200Esales\u200E`, `\u202A${NUMBER}\u202C \u202A1st=x`]) {
      expect(parseError(text).userMessage, text).not.toMatch(FORMAT);
    }
  });
});

describe('variable and metadata names that are also names of object properties', () => {
  it('reads constructor, toString and hasOwnProperty as ordinary names', () => {
    const parsed = parseCallCommand(`${NUMBER} constructor=a toString=b hasOwnProperty=c meta.valueOf=d`);
    expect(parsed).toEqual(
      call(NUMBER, {
        variables: { constructor: 'a', toString: 'b', hasOwnProperty: 'c' },
        metadata: { valueOf: 'd' },
      }),
    );
    expect(parseAssignmentLines('constructor=a\ntoString=b', 'variables')).toEqual({
      constructor: 'a',
      toString: 'b',
    });
    expect(parseAssignmentLines('constructor=a', 'metadata')).toEqual({ constructor: 'a' });
  });

  it.each<[string, CallField, string]>([
    [`${NUMBER} __proto__=x`, 'variables', '`__proto__` is not allowed as a variable name'],
    [`${NUMBER} __PROTO__=x`, 'variables', 'is not allowed as a variable name'],
    [`${NUMBER} meta.__proto__=x`, 'metadata', '`meta.__proto__` is not allowed as a metadata name'],
  ])('refuses %j', (text, field, message) => {
    const error = parseError(text);
    expect(error.field).toBe(field);
    expect(error.userMessage).toContain(message);
  });

  it.each([
    ['__proto__=x', 'variables', '`__proto__` is not allowed as a variable name'],
    ['__proto__=x', 'metadata', '`__proto__` is not allowed as a metadata name'],
    ['meta.__proto__=x', 'metadata', 'is not allowed as a metadata name'],
  ] as const)('refuses %j in the %s field', (text, field, message) => {
    const error = linesError(text, field);
    expect(error.field).toBe(field);
    expect(error.userMessage).toContain(message);
    expect(error.userMessage).not.toContain('[object Object]');
  });
});

describe('a value with a space, not quoted', () => {
  it.each<[string, string]>([
    [`${NUMBER} Name=Ada Lovelace`, '`Name="Ada Lovelace"`'],
    [`${NUMBER} Name=Ada King Lovelace agent=sales`, '`Name="Ada King Lovelace"`'],
    [`${NUMBER} meta.Source=Spring webinar`, '`meta.Source="Spring webinar"`'],
    [`${NUMBER} agent=Sales Team`, '`agent="Sales Team"`'],
  ])('suggests quotes for %j', (text, example) => {
    const error = parseError(text);
    expect(error.field).toBe('command');
    expect(error.userMessage).toContain("I don't understand");
    expect(error.userMessage).toContain('options are written as `key=value`');
    expect(error.userMessage).toContain(`put the value in quotes: ${example}`);
  });

  it('names the key the word may belong to', () => {
    expect(parseError(`${NUMBER} Name=Ada Lovelace`).userMessage).toContain(
      "I don't understand `Lovelace`. After the number, options are written as `key=value`",
    );
    expect(parseError(`${NUMBER} Name=Ada Lovelace`).userMessage).toContain('If it belongs to `Name`');
  });

  it('does not suggest quotes for a word that does not follow a value', () => {
    for (const text of [`${NUMBER} sales`, `sales ${NUMBER}`, `${NUMBER} at "tomorrow" 10am`]) {
      expect(parseError(text).userMessage, text).not.toContain('put the value in quotes');
    }
    expect(parseError(`${NUMBER} sales`).userMessage).toContain('put its name and `=` in front of it');
  });
});

describe('USAGE', () => {
  it('is one line that shows every part of the grammar', () => {
    expect(USAGE).not.toContain('\n');
    for (const part of [
      '/call <number>',
      'agent=',
      'from=',
      'campaign=',
      'at "<when>"',
      'Key=Value',
      'meta.Key=Value',
    ]) {
      expect(USAGE).toContain(part);
    }
  });
});

function linesError(text: string, field: 'variables' | 'metadata'): CallRequestError {
  try {
    parseAssignmentLines(text, field);
  } catch (error) {
    if (error instanceof CallRequestError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseAssignmentLines (the modal’s variables and metadata fields)', () => {
  it.each([
    ['', {}],
    ['\n  \n', {}],
    ['CustomerName=Jane Doe', { CustomerName: 'Jane Doe' }],
    ['  CustomerName = Jane Doe  \r\nPlan=Pro', { CustomerName: 'Jane Doe', Plan: 'Pro' }],
    ['Name="Jane Doe"\nNick=\u201CJD\u201D', { Name: 'Jane Doe', Nick: 'JD' }],
    ['Quote=""hi""', { Quote: '"hi"' }],
    ['Formula=a=b c=d', { Formula: 'a=b c=d' }],
    ["LastName=O'Brien", { LastName: "O'Brien" }],
    ['Company=AT&amp;T', { Company: 'AT&amp;T' }],
    ['_id=7\n\norder-ref=A-1', { _id: '7', 'order-ref': 'A-1' }],
    [`Notes=${'x'.repeat(1000)}`, { Notes: 'x'.repeat(1000) }],
  ])('reads variables %j', (text, expected) => {
    expect(parseAssignmentLines(text, 'variables')).toEqual(expected);
  });

  it('reads metadata, with or without the meta. prefix', () => {
    expect(parseAssignmentLines('Source=webinar\nmeta.Lead_Id=42', 'metadata')).toEqual({
      Source: 'webinar',
      Lead_Id: '42',
    });
  });

  it.each([
    ['Plan Pro', 'variables', '`Plan Pro` is not `Key=Value`'],
    ['=Pro', 'variables', 'has nothing before the `=`'],
    ['1st=x', 'variables', "`1st` can't be used as a variable name"],
    ['first.name=Ada', 'variables', 'a name starts with a letter'],
    [`${'K'.repeat(65)}=x`, 'variables', 'up to 64 characters'],
    ['Plan=Pro\nplan=Basic', 'variables', '`plan` is given twice (`Plan` and `plan` are the same'],
    ['Name=', 'variables', '`Name=` has no value'],
    ['Name=""', 'variables', '`Name=` has no value'],
    [
      `Notes=${'x'.repeat(1001)}`,
      'variables',
      'The value of `Notes` is 1001 characters long; the most is 1000',
    ],
    ['agent=sales', 'variables', 'the agent has its own field in this form'],
    ['When=tomorrow', 'variables', 'the time has its own field'],
    ['SlackUserId=U1', 'metadata', '`SlackUserId` is set by the app on every call'],
    ['meta.requestid=abc', 'metadata', 'is set by the app'],
    ['1x=y', 'metadata', "`1x` can't be used as a metadata name: a name starts"],
    ['Src=a\nmeta.src=b', 'metadata', '`meta.src` is given twice'],
    ['Source', 'metadata', 'Write one entry per line'],
  ] as const)('refuses %j in %s', (text, field, message) => {
    const error = linesError(text, field);
    expect(error.field).toBe(field);
    expect(error.userMessage).toContain(message);
    expect(error.userMessage).toMatch(/`[^`]+`/);
  });

  it('refuses the same names as the command does', () => {
    for (const key of ['1st', 'first.name', 'K'.repeat(65)]) {
      expect(linesError(`${key}=x`, 'variables').userMessage).toContain(
        parseError(`${NUMBER} ${key}=x`).userMessage.split(':')[0] ?? 'missing',
      );
    }
  });

  it('reads back what formatAssignmentLines wrote', () => {
    const values = { CustomerName: 'Jane Doe', Note: '"hi"', Pad: ' x ', Formula: 'a=b', Multi: 'one\ntwo' };
    expect(parseAssignmentLines(formatAssignmentLines(values), 'variables')).toEqual({
      ...values,
      Multi: 'one two',
    });
  });
});

/** The command as parsed, then its number read as the call request reads it. */
function numberError(text: string, region: CountryCode = 'US'): CallRequestError {
  const parsed = parseCallCommand(text);
  if (parsed.kind !== 'call') throw new Error(`expected ${JSON.stringify(text)} to be a call`);
  try {
    normalizeRecipient(parsed.recipient, region);
  } catch (error) {
    if (error instanceof CallRequestError) return error;
    throw error;
  }
  throw new Error(`expected the number of ${JSON.stringify(text)} to be refused`);
}

describe('timeFieldPhrase (the modal’s time field, read as what follows `at`)', () => {
  it.each([
    ['tomorrow 10am', 'tomorrow 10am'],
    ['  in 2 hours ', 'in 2 hours'],
    ['at "tomorrow 10am"', 'tomorrow 10am'],
    ['AT “friday 3pm”', 'friday 3pm'],
    ['"tomorrow 10am"', 'tomorrow 10am'],
    ['„tomorrow 10am“', 'tomorrow 10am'],
    ['at=tomorrow 10am', 'tomorrow 10am'],
    ['when = "in 2 hours"', 'in 2 hours'],
    ['at 10am', '10am'],
    ['\u200Eat "tomorrow 10am"\u200F', 'tomorrow 10am'],
    // Words that only start like a keyword are kept, and so is what would be left empty (and refused as a time).
    ['attic 10am', 'attic 10am'],
    ['whenever', 'whenever'],
    ['at=', 'at='],
    ['""', '""'],
    ['at', 'at'],
  ])('%j → %j', (typed, phrase) => {
    expect(timeFieldPhrase(typed)).toBe(phrase);
  });
});

describe('two numbers in one command', () => {
  it.each<[string, string[]]>([
    [
      '+14155552671 +14155552672',
      ['I found two phone numbers: `+14155552671` and `+14155552672`', 'One call per command'],
    ],
    [
      '+1 415 555 2671 +1 415 555 2672 agent=sales',
      ['two phone numbers: `+1 415 555 2671` and `+1 415 555 2672`', '`/call +1 415 555 2671`'],
    ],
    ['(415) 555-2671 (415) 555-2672', ['`(415) 555-2671` and `(415) 555-2672`', 'One call per command']],
    ['+14155552671 0044 20 7183 8750', ['`+14155552671` and `0044 20 7183 8750`']],
  ])('names both numbers of %j and says one call per command', (text, parts) => {
    const error = numberError(text);
    expect(error.field).toBe('recipient');
    for (const part of parts) expect(error.userMessage).toContain(part);
    expect(error.userMessage).not.toContain('is not a phone number');
  });

  it.each(['+1 415 555 2671', '0044 20 7183 8750', '(415) 555-2671', '1 415 555 2671', '+44 20 7183 8750'])(
    'still reads %j, a number written in groups, as one number',
    (text) => {
      const parsed = parseCallCommand(`${text} agent=sales`);
      expect(parsed.kind === 'call' && normalizeRecipient(parsed.recipient, 'US').e164).toMatch(/^\+\d+$/);
    },
  );
});

describe('an extension after the number', () => {
  it.each<[string, string, string]>([
    ['+1 415 555 2671 x123', '+1 415 555 2671', '123'],
    ['+14155552671 ext. 123', NUMBER, '123'],
    ['+14155552671 ext 123 agent=sales', NUMBER, '123'],
    ['+14155552671 Ext.123', NUMBER, '123'],
    ['+14155552671 extension 42', NUMBER, '42'],
    ['+14155552671 #123', NUMBER, '123'],
    ['+14155552671x123', NUMBER, '123'],
    ['(415) 555-2671 x 7', '(415) 555-2671', '7'],
    ['<tel:+14155552671;ext=123|+1 415 555 2671 ext. 123>', NUMBER, '123'],
    ['+14155552671;ext=123', NUMBER, '123'],
  ])('says %j has an extension the agent cannot dial', (text, main, extension) => {
    const error = parseError(text);
    expect(error.field).toBe('recipient');
    expect(error.userMessage).toContain(`has an extension (\`${extension}\`)`);
    expect(error.userMessage).toContain("The AI agent can't dial extensions");
    expect(error.userMessage).toContain(`give the main number only, \`${main}\``);
    expect(error.userMessage).toContain(`\`Extension=${extension}\``);
    expect(error.userMessage).toContain(`which the agent can read: \`/call ${main} Extension=${extension}\``);
    expect(error.userMessage).not.toContain("I don't understand");
  });
});

describe('no number first', () => {
  it.each<[string, string[]]>([
    [
      'Jane +14155552671',
      ['`Jane` is not a phone number', 'A call needs the number first', '`/call +14155552671 agent=sales`'],
    ],
    ['call +14155552671', ['`call` is not a phone number', 'the number first']],
    ['Jane', ['`Jane` is not a phone number', 'the number first']],
    ['force Jane +14155552671', ['`Jane` is not a phone number']],
    ['tomorrow 10am +14155552671', ['the number first', '`/call +14155552671 at "tomorrow 10am"`']],
  ])('says %j does not start with a number', (text, parts) => {
    const error = parseError(text);
    expect(error.field).toBe('recipient');
    for (const part of parts) expect(error.userMessage).toContain(part);
    expect(error.userMessage).not.toContain('After the number');
  });

  it.each<[string, string, string]>([
    ['1-800-FLOWERS', '1-800-FLOWERS', '1-800-3569377'],
    ['1-800-flowers agent=sales', '1-800-flowers', '1-800-3569377'],
    ['+1-800-GOT-JUNK', '+1-800-GOT-JUNK', '+1-800-468-5865'],
    ['1800FLOWERS', '1800FLOWERS', '18003569377'],
    ['+1 800 FLOWERS', '+1 800 FLOWERS', '+1 800 3569377'],
    ['1 800 GOT JUNK agent=sales', '1 800 GOT JUNK', '1 800 468 5865'],
  ])('asks for the digits of %j, a number with letters', (text, typed, digits) => {
    const error = parseError(text);
    expect(error.field).toBe('recipient');
    expect(error.userMessage).toContain(`\`${typed}\` has letters in it`);
    expect(error.userMessage).toContain(`Write it in digits: on a phone keypad, it is \`${digits}\``);
    expect(error.userMessage).not.toContain('After the number');
  });

  it('still reads a value with a space after an option as that value', () => {
    expect(parseError('agent=Sales Team +14155552671').userMessage).toContain(
      'put the value in quotes: `agent="Sales Team"`',
    );
    expect(parseError(`${NUMBER} SALES`).userMessage).toContain("I don't understand `SALES`");
    expect(parseError('415 555 2671 SALES').userMessage).toContain("I don't understand `SALES`");
  });
});

describe('/call dnc: where the number ends and the reason begins', () => {
  it.each<[string, ParsedCommand]>([
    ['dnc add +14155552671 3 complaints', { kind: 'dnc', op: 'add', number: NUMBER, reason: '3 complaints' }],
    [
      'dnc add +1 415 555 2671 called twice',
      { kind: 'dnc', op: 'add', number: '+1 415 555 2671', reason: 'called twice' },
    ],
    [
      'dnc add +1 415 555 2671 2 calls, 1 complaint',
      { kind: 'dnc', op: 'add', number: '+1 415 555 2671', reason: '2 calls, 1 complaint' },
    ],
    [
      'dnc add 0044 20 7183 8750 12 calls',
      { kind: 'dnc', op: 'add', number: '0044 20 7183 8750', reason: '12 calls' },
    ],
    ['dnc add +14155552671', { kind: 'dnc', op: 'add', number: NUMBER }],
    ['dnc add +1 (415) 555-2671', { kind: 'dnc', op: 'add', number: '+1 (415) 555-2671' }],
    ['dnc add +14155552671 #123', { kind: 'dnc', op: 'add', number: NUMBER, reason: '#123' }],
    [
      'dnc add <tel:+14155552671|+1 415-555-2671> 2 complaints',
      { kind: 'dnc', op: 'add', number: NUMBER, reason: '2 complaints' },
    ],
    ['dnc remove +1 415 555 2671', { kind: 'dnc', op: 'remove', number: '+1 415 555 2671' }],
    ['dnc check (415) 555-2671', { kind: 'dnc', op: 'check', number: '(415) 555-2671' }],
  ])('reads %j', (text, expected) => {
    expect(parseCallCommand(text)).toEqual(expected);
  });

  it('ends a number without a country code where it is complete in the default region', () => {
    expect(parseCallCommand('dnc add 415 555 2671 3 complaints', 'US')).toEqual({
      kind: 'dnc',
      op: 'add',
      number: '415 555 2671',
      reason: '3 complaints',
    });
    expect(parseCallCommand('dnc add 020 7183 8750 2 calls', 'GB')).toEqual({
      kind: 'dnc',
      op: 'add',
      number: '020 7183 8750',
      reason: '2 calls',
    });
    expect(parseCallCommand('dnc add 415 555 2671 spam', 'US')).toEqual({
      kind: 'dnc',
      op: 'add',
      number: '415 555 2671',
      reason: 'spam',
    });
  });

  it.each<[string, string[]]>([
    ['dnc check +14155552671 3', ['`/call dnc check` takes one number']],
    ['dnc remove +1 415 555 2671 2', ['`/call dnc remove` takes one number']],
    [
      'dnc add +14155552671 +14155552672',
      ['one number at a time', '`/call dnc add +14155552671`', '`/call dnc import`'],
    ],
    ['dnc remove +14155552671 +14155552672', ['`/call dnc remove` takes one number']],
  ])('refuses %j', (text, parts) => {
    const error = parseError(text);
    for (const part of parts) expect(error.userMessage).toContain(part);
  });
});
