/**
 * Metadata hygiene: dynamic variables and metadata go to Iqra, are stored with the call and are shown in Slack, so
 * they must not carry secrets (passwords, API keys, tokens) or payment data (card numbers, security codes). A key
 * named like one, or a value that looks like one, is refused before anything is sent, with a message that names the
 * key and says what to do instead. The message never repeats the secret: at most its first four characters.
 */
import { CallRequestError } from './errors.js';

type Part = 'variables' | 'metadata';

interface Finding {
  /** What it looks like, after "looks like": `a password`, `a Stripe secret key`. */
  kind: string;
  /** A safe glimpse of what was found (`sk_l…`, `password=…`), or nothing. */
  glimpse?: string;
  payment: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Keys

interface KeyTerm {
  term: string;
  kind: string;
  payment?: boolean;
}

/** Matched anywhere in the key once case and separators are ignored (`user_password`, `StripeApiKey`). */
const LONG_TERMS: readonly KeyTerm[] = [
  { term: 'password', kind: 'a password' },
  { term: 'passwd', kind: 'a password' },
  { term: 'passphrase', kind: 'a password' },
  { term: 'passcode', kind: 'a password' },
  { term: 'secret', kind: 'a secret' },
  { term: 'token', kind: 'a token' },
  { term: 'apikey', kind: 'an API key' },
  { term: 'accesskey', kind: 'an access key' },
  { term: 'privatekey', kind: 'a private key' },
  { term: 'cardnumber', kind: 'a payment card number', payment: true },
  { term: 'creditcard', kind: 'a payment card number', payment: true },
  { term: 'securitycode', kind: 'a card security code', payment: true },
];

/**
 * Matched only as whole words of the key (`CardCvv`, `customer_pin`, `OTP`), since inside other words they are
 * ordinary (`company`, `shipping`, `hotpot`).
 */
const SHORT_TERMS: readonly KeyTerm[] = [
  { term: 'pwd', kind: 'a password' },
  { term: 'cvv', kind: 'a card security code', payment: true },
  { term: 'cvc', kind: 'a card security code', payment: true },
  { term: 'pan', kind: 'a card number (PAN)', payment: true },
  { term: 'ssn', kind: 'a social security number' },
  { term: 'iban', kind: 'a bank account number (IBAN)', payment: true },
  { term: 'pin', kind: 'a PIN' },
  { term: 'otp', kind: 'a one-time password' },
];

/** Words that contain a term but mean something else. */
const HARMLESS_WORDS = /secretary|secretariat/g;

/** `api_key`, `ApiKey`, `API-KEY`, `x.apiKey` → `['api', 'key']` (also `x`). */
function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .replace(/(\d)([A-Za-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

/** What a key's name says it holds, when that is a secret or payment data. */
function keyFinding(key: string): KeyTerm | undefined {
  const squashed = key
    .toLowerCase()
    .replace(HARMLESS_WORDS, '')
    .replace(/[^a-z0-9]/g, '');
  const long = LONG_TERMS.find(({ term }) => squashed.includes(term));
  if (long) return long;
  const words = keyWords(key);
  // Runs of consecutive words, joined: `c_v_v` and `P-I-N` count as `cvv` and `pin`; a plural `s` is allowed.
  for (let i = 0; i < words.length; i++) {
    let joined = '';
    for (let j = i; j < words.length && joined.length <= 6; j++) {
      joined += words[j];
      const found = SHORT_TERMS.find(({ term }) => joined === term || joined === `${term}s`);
      if (found) return found;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Values

interface Shape {
  pattern: RegExp;
  kind: string;
  /** Show nothing of the match: its beginning says nothing useful (a PEM header). */
  hide?: boolean;
}

const START = '(?<![A-Za-z0-9_-])';

/** Well-known shapes of keys and tokens, most specific first. */
const SHAPES: readonly Shape[] = [
  { pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/, kind: 'a private key (PEM)', hide: true },
  {
    pattern: new RegExp(`${START}eyJ[A-Za-z0-9_-]{5,}\\.eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]*`),
    kind: 'a JSON Web Token',
  },
  { pattern: new RegExp(`${START}(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{8,}`), kind: 'a Stripe secret key' },
  { pattern: new RegExp(`${START}whsec_[0-9A-Za-z]{16,}`), kind: 'a Stripe webhook secret' },
  { pattern: new RegExp(`${START}xox[abposre]-[0-9A-Za-z-]{6,}`), kind: 'a Slack token' },
  { pattern: new RegExp(`${START}xapp-[0-9A-Za-z-]{6,}`), kind: 'a Slack app token' },
  { pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])/, kind: 'an AWS access key' },
  { pattern: new RegExp(`${START}gh[pousr]_[A-Za-z0-9]{20,}`), kind: 'a GitHub token' },
  { pattern: new RegExp(`${START}github_pat_[A-Za-z0-9_]{20,}`), kind: 'a GitHub token' },
  { pattern: new RegExp(`${START}iu_[A-Za-z0-9]+_[A-Za-z0-9]+`), kind: 'an Iqra API key' },
  { pattern: new RegExp(`${START}AIza[0-9A-Za-z_-]{35}`), kind: 'a Google API key' },
];

/** `password=hunter2`, `pwd: x`, `api-key = x`, `?token=x` inside a value. */
const PAIR = /(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9_.-]*)\s*[:=]\s*(?=\S)/g;

/** Runs of digits, with single separators (a space, a dash or a dot, up to three of them) between groups. */
const DIGIT_RUN = /\d+(?:[ \t.\-\u2010-\u2015]{1,3}\d+)*/g;

function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = Number(digits[i]);
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * A number of the length and prefix of a payment card (Visa, Mastercard, American Express, Discover, Diners, JCB,
 * UnionPay, Maestro, RuPay, Mir, Troy). Luhn alone would also catch one 13–19 digit id in ten (order numbers,
 * IMEIs, Snowflake ids); cards also need a card prefix.
 */
function cardShaped(digits: string): boolean {
  const n = digits.length;
  if (n < 13 || n > 19) return false;
  if (digits.startsWith('4')) return n === 13 || n === 16 || n === 19; // Visa
  if (/^(?:5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)/.test(digits)) return n === 16; // Mastercard
  if (/^220[0-4]/.test(digits)) return n >= 16; // Mir
  if (/^3[47]/.test(digits)) return n === 15; // American Express
  if (/^35(?:2[89]|[3-8]\d)/.test(digits)) return n >= 16; // JCB
  if (/^3(?:0[0-5]|095|[689])/.test(digits)) return n >= 14; // Diners Club
  if (/^(?:5[06-9]|6)/.test(digits)) return true; // Discover, UnionPay, Maestro, RuPay
  if (/^8[12]/.test(digits)) return n === 16; // RuPay
  if (digits.startsWith('9792')) return n === 16; // Troy
  return false;
}

/**
 * A card number in the value: 13–19 digits in a row or in groups (`4111 1111 1111 1111`, `5555-5555-5555-4444`)
 * that pass the Luhn check and have a card's prefix and length. Whole groups are tried on their own and together,
 * so a card next to other numbers is found. A run written with a leading `+` is a phone number, not a card.
 */
function findCard(value: string): string | undefined {
  for (const match of value.matchAll(DIGIT_RUN)) {
    const index = match.index ?? 0;
    const phone = value[index - 1] === '+';
    const groups = match[0].split(/[^\d]+/);
    for (let i = 0; i < groups.length; i++) {
      if (i === 0 && phone) continue;
      let digits = '';
      for (let j = i; j < groups.length; j++) {
        digits += groups[j];
        if (digits.length > 19) break;
        if (digits.length >= 13 && cardShaped(digits) && luhn(digits)) return digits;
      }
    }
  }
  return undefined;
}

function valueFinding(value: string): Finding | undefined {
  for (const shape of SHAPES) {
    const match = shape.pattern.exec(value);
    if (match)
      return { kind: shape.kind, payment: false, ...(shape.hide ? {} : { glimpse: glimpse(match[0]) }) };
  }
  for (const match of value.matchAll(PAIR)) {
    const name = match[1] ?? '';
    const term = keyFinding(name);
    if (term) {
      return {
        kind: term.kind,
        payment: term.payment === true,
        glimpse: `${name}${match[0].includes(':') ? ':' : '='}…`,
      };
    }
  }
  const card = findCard(value);
  if (card) return { kind: 'a payment card number', payment: true, glimpse: glimpse(card) };
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages

/** At most the first four characters, then `…`. */
function glimpse(secret: string): string {
  return `${secret.slice(0, 4)}…`;
}

/** `text` as Slack mrkdwn inline code, shortened if long, escaped as Slack requires. */
function code(text: string): string {
  const plain = text.replace(/`/g, "'");
  const short = plain.length > 40 ? `${plain.slice(0, 39)}…` : plain;
  return `\`${short.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}\``;
}

function subject(part: Part, key: string): string {
  return part === 'variables' ? `The dynamic variable ${code(key)}` : `The metadata ${code(key)}`;
}

function advice(part: Part, payment: boolean): string {
  const place =
    part === 'variables'
      ? 'Dynamic variables are given to the agent and stored with the call in Iqra, so they are not the place for'
      : "Iqra's metadata is not the place for";
  return payment
    ? `${place} payment details; leave it out (to refer to a card, give only its last four digits, e.g. \`CardLast4=4242\`).`
    : `${place} secrets; leave it out.`;
}

function refuse(part: Part, message: string): never {
  throw new CallRequestError(part, message);
}

function check(part: Part, entries: Record<string, string>): void {
  for (const [key, value] of Object.entries(entries)) {
    const term = keyFinding(key);
    if (term) {
      refuse(
        part,
        `${subject(part, key)} is named like ${term.kind}. ${advice(part, term.payment === true)} ` +
          'If it is not one, give it a name that does not say so.',
      );
    }
    const found = valueFinding(value);
    if (found) {
      const shown = found.glimpse ? ` (${code(found.glimpse)})` : '';
      refuse(
        part,
        `${subject(part, key)} looks like it contains ${found.kind}${shown}. ${advice(part, found.payment)}`,
      );
    }
  }
}

/**
 * Refuses dynamic variables and metadata that look like secrets or payment data: keys named like them (`api_key`,
 * `Password`, `card_number`, `CVV`, `PIN`…) and values that look like them (card numbers, `password=…` pairs, API
 * keys and tokens of well-known shapes, JWTs, PEM private keys). Throws `CallRequestError('variables' | 'metadata')`
 * for the first one found, variables first; returns normally when all is clean.
 */
export function checkHygiene(variables: Record<string, string>, metadata: Record<string, string>): void {
  check('variables', variables);
  check('metadata', metadata);
}
