import type { CountryCode } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import { CallRequestError } from '../../src/calls/errors.js';
import {
  findPhoneNumbers,
  isSupportedRegion,
  normalizeRecipient,
  type Recipient,
} from '../../src/calls/phone.js';

function refusal(raw: string, region: CountryCode): CallRequestError {
  try {
    normalizeRecipient(raw, region);
  } catch (error) {
    if (error instanceof CallRequestError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

const SF: Recipient = { e164: '+14155552671', display: '+1 415 555 2671', country: 'US' };
const LONDON: Recipient = { e164: '+442071838750', display: '+44 20 7183 8750', country: 'GB' };

describe('normalizeRecipient', () => {
  it.each<[string, CountryCode, Recipient]>([
    ['+14155552671', 'US', SF],
    ['+1 (415) 555-2671', 'US', SF],
    ['(415) 555-2671', 'US', SF],
    ['415.555.2671', 'US', SF],
    ['4155552671', 'US', SF],
    ['1 415 555 2671', 'US', SF],
    ['tel:+14155552671', 'US', SF],
    ['  +1 415 555 2671  ', 'US', SF],
    ['+1 415\u2013555\u20132671', 'US', SF],
    ['+1\u00A0415\u00A0555\u00A02671', 'US', SF],
    ['+442071838750', 'US', LONDON],
    ['+44 20 7183 8750', 'US', LONDON],
    ['020 7183 8750', 'GB', LONDON],
    ['00 44 20 7183 8750', 'US', LONDON],
    ['0044 20 7183 8750', 'US', LONDON],
    ['00442071838750', 'GB', LONDON],
    ['+61 2 9374 4000', 'US', { e164: '+61293744000', display: '+61 2 9374 4000', country: 'AU' }],
    ['+49 30 901820', 'US', { e164: '+4930901820', display: '+49 30 901820', country: 'DE' }],
    ['+91 98765 43210', 'US', { e164: '+919876543210', display: '+91 98765 43210', country: 'IN' }],
    ['+33 1 23 45 67 89', 'US', { e164: '+33123456789', display: '+33 1 23 45 67 89', country: 'FR' }],
    ['01 23 45 67 89', 'FR', { e164: '+33123456789', display: '+33 1 23 45 67 89', country: 'FR' }],
  ])('reads %j (default region %s)', (raw, region, expected) => {
    expect(normalizeRecipient(raw, region)).toEqual(expected);
  });

  it('leaves out the country of a number that belongs to none', () => {
    const recipient = normalizeRecipient('+800 1234 5678', 'US');
    expect(recipient).toEqual({ e164: '+80012345678', display: '+800 1234 5678' });
    expect('country' in recipient).toBe(false);
  });

  it.each<[string, string, CountryCode, string[]]>([
    ['empty', '', 'US', ['No phone number was given', '`+14155552671`']],
    ['blank', '   ', 'US', ['No phone number was given']],
    ['letters', 'abc', 'US', ['`abc` is not a phone number', 'only digits']],
    [
      'an extension',
      '+1 415 555 2671 ext 5',
      'US',
      ['has an extension (`5`)', "can't dial extensions", '`+1 415 555 2671`', '`Extension=5`'],
    ],
    ['a plus sign alone', '+', 'US', ['`+` is not a phone number']],
    ['a plus in the middle', '415+5552671', 'US', ['is not a phone number']],
    [
      'too short, with country code',
      '+1234567890',
      'US',
      ['`+1234567890` is not a valid number', 'too short', '9 digits after +1', 'area code'],
    ],
    ['too short, without country code', '555-2671', 'US', ['too short for a US number (it has 7 digits)']],
    ['a single digit', '1', 'US', ['`1` is not a valid number: it is too short']],
    ['too long', '+1 415 555 26712', 'US', ['too long', '11 digits after +1', 'extra digits']],
    ['the wrong length', '+44 1234 5678', 'US', ['wrong number of digits', 'country code +44']],
    ['an unknown country code', '+999 123 4567', 'US', ['`+999 123 4567`', 'known country code', '`+44`']],
    [
      'possible but not valid',
      '+1 000 555 2671',
      'US',
      ['right number of digits', 'no number with country code +1 starts like that', 'area code'],
    ],
    [
      'possible but not valid in the region',
      '020 7183 875',
      'GB',
      ['`020 7183 875`', 'no UK number starts like that'],
    ],
  ])('refuses %s', (_, raw, region, parts) => {
    const error = refusal(raw, region);
    expect(error.field).toBe('recipient');
    for (const part of parts) expect(error.userMessage).toContain(part);
  });

  it('says how to write a number, and how numbers without + are read', () => {
    expect(refusal('555-2671', 'US').userMessage).toContain(
      'Write it with its country code, e.g. `+14155552671` (numbers without + are read as US numbers).',
    );
    expect(refusal('7183 875', 'GB').userMessage).toContain('numbers without + are read as UK numbers');
    expect(refusal('123', 'DE').userMessage).toContain('numbers without + are read as DE numbers');
  });

  it('shows the number as it was typed', () => {
    expect(refusal('  +1 (234) 567-890 ', 'US').userMessage).toMatch(
      /^`\+1 \(234\) 567-890` is not a valid number/,
    );
  });
});

describe('normalizeRecipient, as pasted', () => {
  it.each<[string, CountryCode, Recipient]>([
    // The country code in parentheses, as some address books and signatures write it.
    ['(+44) 20 7183 8750', 'US', LONDON],
    ['(+44)2071838750', 'US', LONDON],
    ['( +44 ) 20 7183 8750', 'US', LONDON],
    ['(+44) (0)20 7183 8750', 'US', LONDON],
    ['(+1) 415 555 2671', 'GB', SF],
    ['tel:(+1) 415 555 2671', 'GB', SF],
    // Invisible format characters that contact cards and Outlook put around or inside numbers.
    ['\u202A+1 415 555 2671\u202C', 'US', SF],
    ['\u200E+14155552671', 'US', SF],
    ['\u200F+14155552671\u200F', 'US', SF],
    ['+1415555\u200B2671', 'US', SF],
    ['\u2066+14155552671\u2069', 'US', SF],
    ['\u2067+1 415 555 2671\u2068', 'US', SF],
    ['\uFEFF+14155552671', 'US', SF],
    ['\u2066(+44) 20 7183 8750\u2069', 'US', LONDON],
  ])('reads %j (default region %s)', (raw, region, expected) => {
    expect(normalizeRecipient(raw, region)).toEqual(expected);
  });

  it.each<[string, string[]]>([
    ['(+44) abc', ['`(+44) abc` is not a phone number', 'only digits']],
    ['(44+) 20 7183 8750', ['is not a phone number']],
    ['((+44) 20 7183 8750', ['is not a phone number']],
    ['+(+44) 20 7183 8750', ['is not a phone number']],
    ['(+)', ['is not a phone number']],
    ['\u200E', ['No phone number was given']],
  ])('refuses %j', (raw, parts) => {
    const error = refusal(raw, 'US');
    expect(error.field).toBe('recipient');
    for (const part of parts) expect(error.userMessage).toContain(part);
  });

  it('leaves the invisible characters out of its messages', () => {
    const error = refusal('\u202A+1 415 555 26712\u202C', 'US');
    expect(error.userMessage).toContain('`+1 415 555 26712` is not a valid number: it is too long');
    expect(error.userMessage).not.toMatch(/\p{Cf}/u);
  });
});

describe('normalizeRecipient, read again', () => {
  it('answers the same text and region with the same reading, and anything else afresh', () => {
    const first = normalizeRecipient('(415) 555-2671', 'US');
    expect(normalizeRecipient('(415) 555-2671', 'US')).toEqual(first);
    expect(Object.isFrozen(first)).toBe(true);
    // The same digits in another region are another number.
    expect(normalizeRecipient('(415) 555-2671', 'CA').e164).toBe('+14155552671');
    expect(normalizeRecipient('020 7183 8750', 'GB').e164).toBe('+442071838750');
    expect(() => normalizeRecipient('020 7183 8750', 'US')).toThrow(CallRequestError);
    // A wrong number after a right one is still refused.
    normalizeRecipient('+14155552671', 'US');
    expect(() => normalizeRecipient('+1415555267', 'US')).toThrow(/too short/);
  });
});

describe('isSupportedRegion', () => {
  it.each([
    ['US', true],
    ['GB', true],
    ['DE', true],
    ['UK', false],
    ['XX', false],
    ['us', false],
    ['', false],
  ])('%j → %s', (code, expected) => {
    expect(isSupportedRegion(code)).toBe(expected);
  });
});

describe('findPhoneNumbers', () => {
  it('finds each number in a message once, in order', () => {
    const text = 'Call Jane on +1 415 555 2671 or her office 020 7183 8750. Again: +1 (415) 555-2671';
    expect(findPhoneNumbers(text, 'GB')).toEqual([SF, LONDON]);
  });

  it('reads Slack tel: links by their number', () => {
    const text = 'Lead: <tel:+14155552671|+1 415-555-2671>, backup <tel:+442071838750>';
    expect(findPhoneNumbers(text, 'US')).toEqual([SF, LONDON]);
  });

  it('reads numbers without + in the default region, and 00 as +', () => {
    expect(findPhoneNumbers('ring (415) 555-2671', 'US')).toEqual([SF]);
    expect(findPhoneNumbers('ring 00 44 20 7183 8750', 'US')).toEqual([LONDON]);
  });

  it('ignores digits in links, invalid numbers and plain numbers that are not phone numbers', () => {
    const text = 'see <https://example.com/leads/4155552671|the lead>, order 12345, +1 000 555 2671';
    expect(findPhoneNumbers(text, 'US')).toEqual([]);
  });

  it('reads numbers with invisible format characters around or inside them', () => {
    expect(findPhoneNumbers('Mobile: \u202A+1 415 555 2671\u202C', 'GB')).toEqual([SF]);
    expect(findPhoneNumbers('Mobile: +1415555\u200B2671, office \u2066+44 20 7183 8750\u2069', 'US')).toEqual(
      [SF, LONDON],
    );
  });

  it('reports the extension written after a number, and shows the number without it', () => {
    for (const text of [
      'Call Ada on +1 415 555 2671 ext. 204',
      'Call Ada on +1 415 555 2671 x204',
      'Call Ada on +1 415 555 2671 #204',
      'Call Ada on +1 415 555 2671 extension 204',
      'Call Ada on <tel:+14155552671;ext=204|Ada>',
    ]) {
      expect(findPhoneNumbers(text, 'US')).toEqual([{ ...SF, extension: '204' }]);
    }
    // The number written twice, once with its extension: one number, with the extension.
    expect(findPhoneNumbers('+1 415 555 2671 (Ada: +1 415 555 2671 x204)', 'US')).toEqual([
      { ...SF, extension: '204' },
    ]);
    // Without one, no extension at all (not even an undefined key).
    expect(findPhoneNumbers('+1 415 555 2671 about 204 invoices', 'US')[0]).not.toHaveProperty('extension');
  });

  it('finds nothing in text without numbers', () => {
    expect(findPhoneNumbers('no numbers here', 'US')).toEqual([]);
  });
});

describe('normalizeRecipient, more than one number', () => {
  it.each<[string, CountryCode, string[]]>([
    ['+14155552671 +14155552672', 'US', ['I found two phone numbers: `+14155552671` and `+14155552672`']],
    ['415 555 2671 415 555 2672', 'US', ['`415 555 2671` and `415 555 2672`']],
    ['+1 415 555 2671 020 7183 8750', 'GB', ['`+1 415 555 2671` and `020 7183 8750`']],
    [
      '+14155552671 +14155552672 +442071838750',
      'US',
      ['I found 3 phone numbers: `+14155552671`, `+14155552672` and `+442071838750`', 'the others'],
    ],
  ])('names each number of %j (default region %s), and says one call per command', (raw, region, parts) => {
    const error = refusal(raw, region);
    expect(error.field).toBe('recipient');
    for (const part of [...parts, 'One call per command']) expect(error.userMessage).toContain(part);
  });

  it('says when the same number is written twice', () => {
    expect(refusal('+14155552671 +14155552671', 'US').userMessage).toContain(
      '`+14155552671 +14155552671` is the same number written twice. Write it once, e.g. `/call +14155552671`.',
    );
    expect(refusal('+14155552671 +1 415 555 2671', 'US').userMessage).toContain(
      '`+14155552671 +1 415 555 2671` is the same number written twice (`+14155552671` and `+1 415 555 2671`)',
    );
  });

  it('reads a number in groups as one number, and a wrong one as one wrong number', () => {
    expect(normalizeRecipient('+1 415 555 2671', 'US')).toEqual(SF);
    expect(normalizeRecipient('0044 20 7183 8750', 'US')).toEqual(LONDON);
    expect(normalizeRecipient('1 415 555 2671', 'US')).toEqual(SF);
    expect(refusal('+1 415 555 2671 3', 'US').userMessage).toContain('too long');
  });
});

describe('normalizeRecipient, with an extension or letters', () => {
  it.each<[string, string, string]>([
    ['+1 415 555 2671 x123', '+1 415 555 2671', '123'],
    ['+14155552671 ext. 123', '+14155552671', '123'],
    ['(415) 555-2671 #9', '(415) 555-2671', '9'],
    ['tel:+14155552671;ext=123', 'tel:+14155552671', '123'],
  ])('says %j has an extension the agent cannot dial', (raw, main, extension) => {
    const message = refusal(raw, 'US').userMessage;
    expect(message).toContain(`has an extension (\`${extension}\`). The AI agent can't dial extensions`);
    expect(message).toContain(`give the main number only, \`${main}\``);
    expect(message).toContain(`\`Extension=${extension}\``);
  });

  it('gives the digits of a number written with letters', () => {
    expect(refusal('1-800-FLOWERS', 'US').userMessage).toContain(
      '`1-800-FLOWERS` has letters in it, and only digits can be dialled. Write it in digits: on a phone keypad, it is `1-800-3569377`.',
    );
  });
});

describe('numbers a spreadsheet turned into numbers of its own', () => {
  it.each(['1.41555E+10', '1.41555e10', '4.42071838750E+11'])(
    '%s is scientific notation, with how to fix it',
    (raw) => {
      const message = refusal(raw, 'US').userMessage;
      expect(message).toContain('scientific notation');
      expect(message).toContain('Format the phone column as Text');
    },
  );

  it.each(['4155552671.0', '+442071838750.00'])('%s is a decimal number, with how to fix it', (raw) => {
    const message = refusal(raw, 'US').userMessage;
    expect(message).toContain('decimal number');
    expect(message).toContain('Format the phone column as Text');
  });

  it('a dotted number is still a number', () => {
    expect(normalizeRecipient('415.555.2671', 'US').e164).toBe('+14155552671');
  });
});
