/**
 * Phone numbers: turning what a rep typed into an E.164 number that Iqra can dial, with messages that say exactly what
 * is wrong with it when it can't be.
 */
import {
  type CountryCode,
  findPhoneNumbersInText,
  isSupportedCountry,
  ParseError,
  type PhoneNumber,
  parsePhoneNumberWithError,
  validatePhoneNumberLength,
} from 'libphonenumber-js';
import { CallRequestError } from './errors.js';
import { withoutFormatCharacters } from './format-characters.js';
import { listWords } from './listing.js';

export interface Recipient {
  /** `+14155552671` */
  e164: string;
  /** International format, e.g. `+1 415 555 2671`. */
  display: string;
  /** The country the number belongs to; undefined for non-geographic numbers such as `+800`. */
  country?: CountryCode;
}

const EXAMPLE = '+14155552671';
/** Unicode dashes and the minus sign, which some keyboards and documents put in numbers. */
const DASHES = /[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D]/g;

export function isSupportedRegion(code: string): code is CountryCode {
  return isSupportedCountry(code);
}

/**
 * Reads a number as typed: with a country code (`+44 20 7183 8750`, `0044 20 7183 8750`, `tel:+442071838750`) or
 * without one, in `defaultRegion` (`(415) 555-2671`). Spaces, dashes, dots and parentheses are allowed, also around
 * the country code (`(+44) 20 7183 8750`); invisible format characters are ignored. The number must be a valid (not
 * only a possible) number.
 */
export function normalizeRecipient(raw: string, defaultRegion: CountryCode): Recipient {
  // A command's number is read twice on its way to the ack (is the request complete? then the draft): the second
  // time is answered from the first.
  if (lastRead?.raw === raw && lastRead.region === defaultRegion) return lastRead.recipient;
  const recipient = Object.freeze(readRecipient(raw, defaultRegion));
  lastRead = { raw, region: defaultRegion, recipient };
  return recipient;
}

/** The last number read, and what it was read as (frozen: it is handed out again). */
let lastRead: { raw: string; region: CountryCode; recipient: Readonly<Recipient> } | undefined;

/**
 * Digits in other forms as ASCII: full-width forms (`＋１ （４１５） ５５５－２６７１`, as Japanese and Chinese keyboards
 * type them) and Arabic-Indic digits (`٤١٥`, `۴۱۵`). libphonenumber reads them in a message (the "Call this number"
 * form finds them), so a number typed with them is read too.
 */
export function withAsciiDigits(text: string): string {
  return text
    .replace(/[\uFF01-\uFF5E\u3000]/g, (ch) => ch.normalize('NFKC'))
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06f0));
}

function readRecipient(raw: string, defaultRegion: CountryCode): Recipient {
  // Without the invisible characters, so that messages quote the number as the rep sees it (its digits in ASCII).
  const typed = withAsciiDigits(withoutFormatCharacters(raw)).trim();
  const howTo = howToWrite(defaultRegion);
  if (typed === '') throw new CallRequestError('recipient', `No phone number was given. ${howTo}`);
  const extension = splitExtension(typed);
  if (extension) throw extensionError(typed, extension);
  try {
    return readOne(typed, defaultRegion, howTo);
  } catch (error) {
    // `+14155552671 +14155552672`: two numbers, not one wrong one.
    const numbers = error instanceof CallRequestError ? splitNumbers(typed, defaultRegion) : undefined;
    if (numbers) throw severalNumbersError(typed, numbers, defaultRegion);
    throw error;
  }
}

/** One number, `typed` as the rep wrote it (format characters removed, trimmed, not empty). */
function readOne(typed: string, defaultRegion: CountryCode, howTo: string): Recipient {
  const text = prepare(typed);
  const spreadsheet = spreadsheetNumberError(text, typed);
  if (spreadsheet) throw spreadsheet;
  if (!/^\+?[\d\s().-]+$/.test(text) || !/\d/.test(text)) {
    const vanity = vanityError(typed);
    if (vanity) throw vanity;
    const letters = /[a-z]/i.test(text)
      ? ' A phone number has only digits (and spaces, dashes or dots).'
      : '';
    throw new CallRequestError('recipient', `${code(typed)} is not a phone number.${letters} ${howTo}`);
  }
  const international = text.startsWith('+');
  const options = { defaultCountry: defaultRegion };

  let parsed: PhoneNumber | undefined;
  let parseError: string | undefined;
  try {
    parsed = parsePhoneNumberWithError(text, options);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    parseError = error.message;
  }
  const lengthProblem = validatePhoneNumberLength(text, options) ?? parseError;
  // What the number was read as: "number with country code +44", "US number".
  const kind = international
    ? parsed
      ? `number with country code +${parsed.countryCallingCode}`
      : 'phone number'
    : `${regionName(defaultRegion)} number`;
  const digits = parsed
    ? international
      ? ` (it has ${parsed.nationalNumber.length} digits after +${parsed.countryCallingCode})`
      : ` (it has ${parsed.nationalNumber.length} digits)`
    : '';

  switch (lengthProblem) {
    case undefined:
      break;
    case 'INVALID_COUNTRY':
      throw new CallRequestError(
        'recipient',
        international
          ? `${code(typed)} is not a valid number: it does not start with a known country code ` +
              `(e.g. \`+1\` for the US and Canada, \`+44\` for the UK). Check the digits after the +. ${howTo}`
          : `${code(typed)} has no country code. Write it with its country code, e.g. ${code(EXAMPLE)}.`,
      );
    case 'TOO_SHORT':
      throw new CallRequestError(
        'recipient',
        `${code(typed)} is not a valid number: it is too short for a ${kind}${digits}. ` +
          `Check for missing digits, such as the area code. ${howTo}`,
      );
    case 'TOO_LONG':
      throw new CallRequestError(
        'recipient',
        `${code(typed)} is not a valid number: it is too long for a ${kind}${digits}. Check for extra digits. ${howTo}`,
      );
    case 'INVALID_LENGTH':
      throw new CallRequestError(
        'recipient',
        `${code(typed)} is not a valid number: it has the wrong number of digits for a ${kind}${digits}. ` +
          `Check for missing or extra digits. ${howTo}`,
      );
    default:
      throw new CallRequestError('recipient', `${code(typed)} is not a phone number. ${howTo}`);
  }

  if (!parsed) throw new CallRequestError('recipient', `${code(typed)} is not a phone number. ${howTo}`);
  if (!parsed.isValid()) {
    throw new CallRequestError(
      'recipient',
      `${code(typed)} is not a valid number: it has the right number of digits, but no ${kind} ` +
        `starts like that. Check the area code and the other digits. ${howTo}`,
    );
  }
  return toRecipient(parsed);
}

/**
 * A number a spreadsheet turned into a number of its own: `1.41555E+10` (scientific notation, the last digits lost) or
 * `4155552671.0` (a decimal, as pandas and some exports write a number column). Neither can be read back as it was.
 */
function spreadsheetNumberError(text: string, typed: string): CallRequestError | undefined {
  const fix =
    'Format the phone column as Text in the spreadsheet (or write the numbers with their `+` and country code, e.g. ' +
    '`+14155552671`), then export it again.';
  if (/^\+?\d(?:\.\d+)?e\+?\d+$/i.test(text)) {
    return new CallRequestError(
      'recipient',
      `${code(typed)} is a number in scientific notation, as a spreadsheet shows a long number: its last digits are ` +
        `lost. ${fix}`,
    );
  }
  if (/^\+?\d{6,}\.0+$/.test(text)) {
    return new CallRequestError(
      'recipient',
      `${code(typed)} was written as a decimal number (\`.0\` at the end), as a spreadsheet or script exports a number ` +
        `column. ${fix}`,
    );
  }
  return undefined;
}

/** `typed` as libphonenumber reads it: no `tel:`, plain dashes, single spaces, `00` as `+`, `(+44)` as `+(44)`. */
function prepare(typed: string): string {
  return (
    typed
      .replace(/^tel:/i, '')
      .replace(DASHES, '-')
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/^00\s*/, '+')
      // `(+44) 20 7183 8750`: the country code in parentheses. libphonenumber reads the `+` only before them.
      .replace(/^\(\s*\+/, '+(')
  );
}

/**
 * `text` read as one valid number, or undefined. Without `defaultRegion` only a number with its country code (`+`,
 * `00`) can be read.
 */
function validNumber(text: string, defaultRegion?: CountryCode): PhoneNumber | undefined {
  const prepared = prepare(withAsciiDigits(withoutFormatCharacters(text)).trim());
  if (!/^\+?[\d\s().-]+$/.test(prepared) || !/\d/.test(prepared)) return undefined;
  if (!prepared.startsWith('+') && !defaultRegion) return undefined;
  try {
    const parsed = parsePhoneNumberWithError(
      prepared,
      defaultRegion ? { defaultCountry: defaultRegion } : {},
    );
    return parsed.isValid() ? parsed : undefined;
  } catch (error) {
    if (error instanceof ParseError) return undefined;
    throw error;
  }
}

/**
 * How many of `words` (a number written in groups, then maybe more) form the longest valid number at their start; 0
 * when no start of them is one. `+1 415 555 2671 3 complaints` → 4. Without `defaultRegion` only a number with its
 * country code (`+`, `00`) is found.
 */
export function numberWordCount(words: readonly string[], defaultRegion?: CountryCode): number {
  for (let count = words.length; count > 0; count--) {
    if (validNumber(words.slice(0, count).join(' '), defaultRegion)) return count;
  }
  return 0;
}

/** The most groups a text is split into when looking for several numbers in it. */
const MAX_GROUPS = 12;

/**
 * `typed` read as two or more valid numbers one after the other (`+14155552671 +14155552672`), each as typed; undefined
 * when it can't be. The first number is the longest that leaves valid numbers after it.
 */
function splitNumbers(typed: string, defaultRegion: CountryCode): string[] | undefined {
  const groups = typed.split(/\s+/);
  if (groups.length < 2 || groups.length > MAX_GROUPS) return undefined;
  const dead = new Set<number>();
  const from = (start: number): string[] | undefined => {
    if (start === groups.length) return [];
    if (dead.has(start)) return undefined;
    for (let end = groups.length; end > start; end--) {
      const piece = groups.slice(start, end).join(' ');
      const digits = piece.replace(/\D/g, '').length;
      if (digits < 3 || digits > 17 || !validNumber(piece, defaultRegion)) continue;
      const rest = from(end);
      if (rest) return [piece, ...rest];
    }
    dead.add(start);
    return undefined;
  };
  const numbers = from(0);
  return numbers && numbers.length > 1 ? numbers : undefined;
}

function severalNumbersError(typed: string, numbers: string[], defaultRegion: CountryCode): CallRequestError {
  const e164 = new Set(numbers.map((n) => validNumber(n, defaultRegion)?.number ?? n));
  const named = listWords(numbers.map(code));
  if (e164.size === 1) {
    const spellings = new Set(numbers).size > 1 ? ` (${named})` : '';
    return new CallRequestError(
      'recipient',
      `${code(typed)} is the same number written ${numbers.length === 2 ? 'twice' : `${numbers.length} times`}` +
        `${spellings}. Write it once, e.g. ${code(`/call ${numbers[0]}`)}.`,
    );
  }
  const others =
    numbers.length === 2 ? 'the other one with a second command' : 'the others with a command each';
  return new CallRequestError(
    'recipient',
    `I found ${numbers.length === 2 ? 'two' : numbers.length} phone numbers: ${named}. One call per command: ` +
      `call one of them, e.g. ${code(`/call ${numbers[0]}`)}, and ${others} (or call a list with \`/call batch\`).`,
  );
}

export interface Extension {
  /** The number before the extension, as typed. */
  main: string;
  /** The extension's digits. */
  extension: string;
}

/**
 * A number followed by an extension: `+1 415 555 2671 x123`, `… ext. 123`, `… extension 123`, `… #123`,
 * `tel:+14155552671;ext=123`. Undefined for anything else.
 */
const EXTENSION =
  /^((?:tel:)?[+(]?[\d\s().-]*\d\)?)\s*,?\s*(?:;\s*ext\s*=|(?:ext(?:ension|n)?|x)\s*[.:]?|#)\s*(\d{1,10})\s*#?$/i;

export function splitExtension(typed: string): Extension | undefined {
  const match = EXTENSION.exec(withoutFormatCharacters(typed).replace(DASHES, '-').trim());
  const main = match?.[1]?.trim();
  const extension = match?.[2];
  if (!main || !extension || main.replace(/\D/g, '').length < 3) return undefined;
  return { main, extension };
}

/**
 * The dynamic variable that carries an extension to the agent, as `/call` suggests it and the "Call this number" form
 * fills it in: `Extension=204`.
 */
export function extensionVariable(extension: string): string {
  return `Extension=${extension}`;
}

/**
 * Iqra dials the number only, so an extension would be lost without a word. `command`, when given, is the command
 * that writes the main number and the extension as a variable, as an example.
 */
export function extensionError(
  typed: string,
  { main, extension }: Extension,
  command?: string,
): CallRequestError {
  const example = command ? `: ${code(command)}` : '';
  return new CallRequestError(
    'recipient',
    `${code(typed)} has an extension (${code(extension)}). The AI agent can't dial extensions: give the main number ` +
      `only, ${code(main)}, and put the extension in a variable, e.g. ${code(extensionVariable(extension))}, which the ` +
      `agent can read${example}.`,
  );
}

/** The digits of the letters on a phone keypad (ITU E.161). */
const KEYPAD: Record<string, string> = Object.fromEntries(
  ['abc', 'def', 'ghi', 'jkl', 'mno', 'pqrs', 'tuv', 'wxyz'].flatMap((letters, index) =>
    [...letters].map((letter) => [letter, String(index + 2)]),
  ),
);

/**
 * A number written with letters (`1-800-FLOWERS`, `+1 800 GOT JUNK`): refused with its digits on a phone keypad.
 * Undefined for text that does not look like one: it starts with at least three digits (so that `10am` is no number)
 * and has at least three letters, 7 to 15 of them and digits in all.
 */
export function vanityError(typed: string): CallRequestError | undefined {
  const text = withoutFormatCharacters(typed).replace(DASHES, '-').trim();
  if (!/^\+?\(?\d[\d\s().-]*[a-z][a-z\d\s().-]*$/i.test(text)) return undefined;
  const lead = text.slice(0, text.search(/[a-z]/i)).replace(/\D/g, '').length;
  const letters = text.replace(/[^a-z]/gi, '').length;
  const symbols = text.replace(/[^a-z\d]/gi, '').length;
  if (lead < 3 || lead > 9 || letters < 3 || symbols < 7 || symbols > 15) return undefined;
  const digits = text.replace(/[a-z]/gi, (letter) => KEYPAD[letter.toLowerCase()] ?? letter);
  return new CallRequestError(
    'recipient',
    `${code(typed)} has letters in it, and only digits can be dialled. Write it in digits: on a phone keypad, it is ` +
      `${code(digits)}.`,
  );
}

/** A number found in a message, with the extension written after it, if any. */
export interface FoundNumber extends Recipient {
  /**
   * The extension's digits (`+1 415 555 2671 ext. 204`, `x204`, `#204`, `extension 204`, `;ext=204`): Iqra dials the
   * number only, so whoever fills a form from the message must be told, as `/call` tells (extensionError).
   */
  extension?: string;
}

/**
 * The distinct valid numbers in free text (a Slack message), in the order they appear, each with the extension written
 * after it (the first one seen, when the number is written more than once). Slack markup is read first:
 * `<tel:+1…|label>` counts as its number, and URLs are skipped so that digits in links are not taken for numbers.
 */
export function findPhoneNumbers(text: string, defaultRegion: CountryCode): FoundNumber[] {
  const plain = text
    .replace(/<([^<>]*)>/g, (_, inner: string) => ` ${markupText(inner)} `)
    .replace(/&(amp|lt|gt|quot|#39);/g, (entity: string, name: string) => ENTITIES[name] ?? entity)
    .replace(DASHES, '-')
    // A clock time (`10:00`, `9:30:15`) is no part of a number, but libphonenumber would take its minutes as the start
    // of the number written after it (`Callback 10:00 415 555 2671` → `00 415 555 2671`, no valid number): it goes.
    .replace(/(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])/g, ' ')
    // So is an amount of money (`$1,234.00 415 555 2671`).
    .replace(/[$€£¥₹]\s?\d[\d,]*(?:\.\d+)?/g, ' ')
    // `00 44 20 …` is an international number even where 00 is not the international prefix; not the `00` that ends
    // an amount or a time (`$5.00 415…`, `10.00 415…`), which would make the number after it `+415…`.
    .replace(/(^|[^\w+])(?<!\d[.,:/-])00[\s.-]?(?=[1-9])/g, '$1+');
  const found = new Map<string, FoundNumber>();
  for (const match of findPhoneNumbersInText(plain, { defaultCountry: defaultRegion })) {
    if (!match.number.isValid()) continue;
    // libphonenumber reads an extension after the number as part of it (`ext`): the number itself is without it.
    const recipient: FoundNumber = toRecipient(match.number);
    const { ext } = match.number;
    const seen = found.get(recipient.e164);
    if (!seen) found.set(recipient.e164, ext ? { ...recipient, extension: ext } : recipient);
    // "+1 415 555 2671 (ext. 204 for Ada)" then "+1 415 555 2671" again: the extension is kept whichever comes first.
    else if (ext && seen.extension === undefined) seen.extension = ext;
  }
  return [...found.values()];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

function markupText(inner: string): string {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  if (/^tel:/i.test(target)) return target.slice('tel:'.length);
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return ''; // http:, https:, mailto:, …
  return bar === -1 ? '' : inner.slice(bar + 1); // mentions and channels: their label, if any
}

/** The number as dialled and shown: without its extension (libphonenumber would show `+1 415 555 2671 ext. 204`). */
function toRecipient(number: PhoneNumber): Recipient {
  const display = number.formatInternational({ formatExtension: (formatted) => formatted });
  const recipient: Recipient = { e164: number.number, display };
  if (number.country) recipient.country = number.country;
  return recipient;
}

function howToWrite(region: CountryCode): string {
  return `Write it with its country code, e.g. ${code(EXAMPLE)} (numbers without + are read as ${regionName(region)} numbers).`;
}

/** `US`, `UK`, … — short, as people write them. */
function regionName(region: CountryCode): string {
  return region === 'GB' ? 'UK' : region;
}

/** `text` as Slack mrkdwn inline code, shortened if long, with `&`, `<` and `>` escaped as Slack requires. */
function code(text: string): string {
  const plain = text.replace(/`/g, "'");
  const short = plain.length > 40 ? `${plain.slice(0, 39)}…` : plain;
  return `\`${short.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}\``;
}
