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

function readRecipient(raw: string, defaultRegion: CountryCode): Recipient {
  // Without the invisible characters, so that messages quote the number as the rep sees it.
  const typed = withoutFormatCharacters(raw).trim();
  const howTo = howToWrite(defaultRegion);
  if (typed === '') throw new CallRequestError('recipient', `No phone number was given. ${howTo}`);

  const text = typed
    .replace(/^tel:/i, '')
    .replace(DASHES, '-')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^00\s*/, '+')
    // `(+44) 20 7183 8750`: the country code in parentheses. libphonenumber reads the `+` only before them.
    .replace(/^\(\s*\+/, '+(');
  if (!/^\+?[\d\s().-]+$/.test(text) || !/\d/.test(text)) {
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
 * The distinct valid numbers in free text (a Slack message), in the order they appear. Slack markup is read first:
 * `<tel:+1…|label>` counts as its number, and URLs are skipped so that digits in links are not taken for numbers.
 */
export function findPhoneNumbers(text: string, defaultRegion: CountryCode): Recipient[] {
  const plain = text
    .replace(/<([^<>]*)>/g, (_, inner: string) => ` ${markupText(inner)} `)
    .replace(/&(amp|lt|gt|quot|#39);/g, (entity: string, name: string) => ENTITIES[name] ?? entity)
    .replace(DASHES, '-')
    // `00 44 20 …` is an international number even where 00 is not the international prefix.
    .replace(/(^|[^\w+])00[\s.-]?(?=[1-9])/g, '$1+');
  const found = new Map<string, Recipient>();
  for (const match of findPhoneNumbersInText(plain, { defaultCountry: defaultRegion })) {
    if (!match.number.isValid()) continue;
    const recipient = toRecipient(match.number);
    if (!found.has(recipient.e164)) found.set(recipient.e164, recipient);
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

function toRecipient(number: PhoneNumber): Recipient {
  const recipient: Recipient = { e164: number.number, display: number.formatInternational() };
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
