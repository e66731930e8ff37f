/**
 * The `/call` grammar:
 *
 *   /call <number> [agent=A] [from=N] [campaign=C] [at "<when>" | at <words>] [Key=Value ...] [meta.Key=Value ...]
 *
 * An unquoted time (`at friday 3pm`) runs up to the next `key=value`, the word `force` or the end.
 *
 * This module only reads the text Slack sends: it removes Slack's markup, decodes its entities and splits the text
 * into the parts of a call request. It does not check that the number, agent or time make sense; that is done later.
 * It only asks libphonenumber where a number ends when something follows it (`/call dnc add <number> <reason>`), and
 * recognises what is plainly not a number to call: an extension, letters, a word where the number should be.
 */
// The English parser alone (the one `chrono-node`'s own `parse` uses): the package root loads 15 more languages.
import * as chrono from 'chrono-node/en';
import type { CountryCode } from 'libphonenumber-js';
import { type CallField, CallRequestError } from './errors.js';
import { withoutFormatCharacters } from './format-characters.js';
import { extensionError, numberWordCount, splitExtension, vanityError, withAsciiDigits } from './phone.js';

export interface CallCommand {
  kind: 'call';
  /** The number as typed (Slack markup removed, entities decoded). Not validated here. */
  recipient: string;
  agent?: string;
  from?: string;
  campaign?: string;
  /** The time phrase, quotes removed; undefined when absent. */
  when?: string;
  /** Dynamic variables, in the order given, keys as typed. */
  variables: Record<string, string>;
  /** From `meta.Key=Value`, keys without the `meta.` prefix. */
  metadata: Record<string, string>;
  /** `force`: an admin places the call outside calling hours (recorded in the audit log). */
  force?: boolean;
}

/** `/call dnc add|remove|check <number> [reason]`, `/call dnc list`, `/call dnc import` (admins). */
export type DncCommand =
  | { kind: 'dnc'; op: 'add'; number: string; reason?: string }
  | { kind: 'dnc'; op: 'remove' | 'check'; number: string }
  | { kind: 'dnc'; op: 'list' | 'import' };

/** `/call history`: the requester's latest calls. `/call status <id>`: one call, by request id or Iqra queue id. */
export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'history' }
  | { kind: 'status'; id: string }
  | DncCommand
  | { kind: 'audit'; count: number }
  /** `/call doctor` (admins): checks Slack, Iqra, the database and the guards, and says what to fix. */
  | { kind: 'doctor' }
  /** `/call batch`: the form for calling a list. */
  | { kind: 'batch' }
  | CallCommand;

export const USAGE =
  '/call <number> [agent=A] [from=N] [campaign=C] [at "<when>"] [Key=Value ...] [meta.Key=Value ...]';

/** The longest value accepted for any option, variable or metadata entry. */
export const MAX_VALUE_LENGTH = 1000;

/** Variable and metadata keys travel as multipart field names (`DynamicVariables[Key]`). */
const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
/** Metadata the app sets itself on every call. */
const APP_METADATA = ['SlackTeamId', 'SlackChannelId', 'SlackUserId', 'RequestId'];
const HELP_WORDS = new Set(['help', '?', '--help']);
/** Straight and curly double quotes; Slack clients turn `"` into `“ ”`. Any of them opens or closes a quote. */
const QUOTES = new Set(['"', '\u201C', '\u201D', '\u201E', '\u201F']);
/** A token that is (part of) a phone number: digits, `+`, parentheses, dots and dashes, maybe `tel:` first. */
const NUMBER_TOKEN = /^(?:tel:)?[\d+().\-\u2010-\u2015\u2212]+$/i;
const NUMBER_EXAMPLE = '/call +14155552671 agent=sales';
/** A word of a number written with letters, in capitals as such numbers are (`FLOWERS`, `GOT-JUNK`, `2FLOWERS`). */
const VANITY_WORD = /^[A-Z\d]*[A-Z][A-Z\d]*(?:-[A-Z\d]+)*$/;
const WHEN_EXAMPLE = 'at "tomorrow 10am"';

interface Token {
  /**
   * The token as typed, Slack markup resolved, entities decoded and format characters removed, quotes kept.
   * For messages.
   */
  source: string;
  /** The text before the first `=` that is outside quotes and markup; undefined when there is no such `=`. */
  key?: string;
  /** The text after that `=`, or the whole token when there is none; quotes removed. */
  value: string;
  /** The value part contained a quoted section. */
  quoted: boolean;
  /** A quote was opened and never closed; the token runs to the end of the text. */
  unterminated: boolean;
}

/**
 * `defaultRegion` is the region numbers without a country code are read in (`DEFAULT_PHONE_REGION`). It is only
 * needed to tell where such a number ends when a reason follows it (`/call dnc add 415 555 2671 3 complaints`);
 * numbers with their country code are read without it.
 */
export function parseCallCommand(text: string, defaultRegion?: CountryCode): ParsedCommand {
  const plain = withoutFormatCharacters(decodeEntities(text)).trim();
  if (plain === '' || HELP_WORDS.has(plain.toLowerCase())) return { kind: 'help' };
  const [word, ...rest] = plain.split(/\s+/);
  if (word?.toLowerCase() === 'history') {
    if (rest.length > 0)
      throw new CallRequestError(
        'command',
        '`/call history` takes nothing after it: it lists your last 10 calls.',
      );
    return { kind: 'history' };
  }
  if (word?.toLowerCase() === 'status') {
    const id = rest
      .join(' ')
      .replace(/[`"“”]/g, '')
      .trim();
    if (!id || /\s/.test(id)) {
      throw new CallRequestError(
        'command',
        'Give one request id or Iqra queue id, e.g. `/call status req_7k2m9qx4htbd` (`/call history` lists them).',
      );
    }
    return { kind: 'status', id };
  }
  if (word?.toLowerCase() === 'dnc') {
    // A number pasted as a Slack phone link is its tel: target, as in a call (its label may have spaces).
    const words = plain
      .replace(/<tel:([^|<>]*)(?:\|[^<>]*)?>/gi, ' $1 ')
      .trim()
      .split(/\s+/);
    return parseDnc(words.slice(1), defaultRegion);
  }
  if (word?.toLowerCase() === 'batch') {
    if (rest.length > 0) {
      throw new CallRequestError(
        'command',
        '`/call batch` takes nothing after it: it opens a form where you upload a CSV file or paste the numbers.',
      );
    }
    return { kind: 'batch' };
  }
  if (word?.toLowerCase() === 'audit') {
    const count = rest.length === 0 ? 20 : Number(rest[0]);
    if (rest.length > 1 || !Number.isInteger(count) || count < 1 || count > 100) {
      throw new CallRequestError('command', 'Write `/call audit` or `/call audit 50` (up to 100 entries).');
    }
    return { kind: 'audit', count };
  }
  if (word?.toLowerCase() === 'doctor') {
    if (rest.length > 0) {
      throw new CallRequestError(
        'command',
        '`/call doctor` takes nothing after it: it checks Slack, Iqra, the database and the guards.',
      );
    }
    return { kind: 'doctor' };
  }
  return new Parser(tokenize(text)).parse();
}

const DNC_USAGE =
  '`/call dnc add <number> [reason]`, `/call dnc remove <number>`, `/call dnc check <number>`, `/call dnc list` or `/call dnc import`';

/**
 * The do-not-call subcommands. The number is read from the words before the first word with a letter: it ends where
 * they stop being a valid number, so that a reason that starts with a digit (`+14155552671 3 complaints`) is not
 * read as part of it. The rest is the reason. A number without its country code can only be ended so with
 * `defaultRegion`; without it, it runs up to the first word with a letter.
 */
function parseDnc(words: string[], defaultRegion?: CountryCode): DncCommand {
  const [op, ...rest] = words;
  const verb = op?.toLowerCase();
  if (verb === 'list' || verb === 'import') {
    if (rest.length > 0)
      throw new CallRequestError('command', `\`/call dnc ${verb}\` takes nothing after it.`);
    return { kind: 'dnc', op: verb };
  }
  if (verb === 'add' || verb === 'remove' || verb === 'check') {
    const numberWords = leadingNumberWords(rest, defaultRegion);
    const number = numberWords.join(' ').trim();
    if (!number) {
      throw new CallRequestError('recipient', `Which number? e.g. \`/call dnc ${verb} +14155552671\`.`);
    }
    const after = rest.slice(numberWords.length);
    const reason = after.join(' ').trim();
    if (verb !== 'add' && reason) {
      throw new CallRequestError(
        'command',
        `\`/call dnc ${verb}\` takes one number, e.g. \`/call dnc ${verb} +14155552671\`.`,
      );
    }
    const second = leadingNumberWords(after, defaultRegion);
    if (second.length > 0 && numberWordCount(second, defaultRegion) === second.length) {
      throw new CallRequestError(
        'command',
        `I found two numbers: ${code(number)} and ${code(second.join(' '))}. \`/call dnc add\` takes one number ` +
          `at a time, e.g. ${code(`/call dnc add ${number}`)}; to add a list, use \`/call dnc import\`.`,
      );
    }
    return verb === 'add'
      ? { kind: 'dnc', op: 'add', number, ...(reason ? { reason } : {}) }
      : { kind: 'dnc', op: verb, number };
  }
  throw new CallRequestError('command', `Write ${DNC_USAGE}.`);
}

/**
 * The words a number is written in at the start of `words`: up to the first word with a letter, and of those the
 * longest start that is a valid number, if one is.
 */
function leadingNumberWords(words: string[], defaultRegion?: CountryCode): string[] {
  const candidates: string[] = [];
  for (const w of words) {
    if (candidates.length > 0 && /[A-Za-z]/.test(w.replace(/^<?tel:/i, ''))) break;
    candidates.push(w);
  }
  const complete = numberWordCount(candidates, defaultRegion);
  return complete > 0 ? candidates.slice(0, complete) : candidates;
}

class Parser {
  private readonly command: CallCommand = { kind: 'call', recipient: '', variables: {}, metadata: {} };
  /** Lower-cased keys already given ('agent', 'when', 'var:name', 'meta:name') → the key as typed. */
  private readonly seen: SeenKeys = new Map();
  private numberParts: string[] = [];
  private numberState: 'none' | 'open' | 'closed' = 'none';
  /** The index of the token after the number's last token (where an extension would be). */
  private numberEnd = -1;
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): CallCommand {
    while (this.i < this.tokens.length) {
      const token = this.at(this.i);
      const isNumber = token.key === undefined && !isAtKeyword(token) && isNumberToken(token);
      if (!isNumber && this.numberState === 'open') this.numberState = 'closed';
      if (token.key !== undefined) this.keyValue(token);
      else if (isForce(token)) this.forceWord(token);
      else if (isAtKeyword(token)) this.atPhrase(token);
      else if (isNumber) this.numberToken(token);
      else this.strayWord(token);
    }
    if (this.numberParts.length === 0) this.missingNumber();
    this.command.recipient = this.numberParts.join(' ');
    return this.command;
  }

  private forceWord(token: Token): void {
    if (this.command.force) throw new CallRequestError('command', '`force` is given twice. Give it once.');
    this.command.force = true;
    this.i += 1;
    void token;
  }

  private at(index: number): Token {
    const token = this.tokens[index];
    if (!token) throw new Error(`no token at ${index}`);
    return token;
  }

  private numberToken(token: Token): void {
    if (token.unterminated) throw unterminated(token, 'recipient');
    if (this.numberState === 'closed') {
      const second: string[] = [];
      for (let j = this.i; j < this.tokens.length; j++) {
        const t = this.at(j);
        if (t.key !== undefined || isAtKeyword(t) || !isNumberToken(t)) break;
        second.push(numberText(t));
      }
      throw new CallRequestError(
        'recipient',
        `I found a number in two places: ${code(this.numberParts.join(' '))} and ${code(second.join(' '))}. ` +
          `Write the number once, in one place, e.g. ${code(NUMBER_EXAMPLE)}.`,
      );
    }
    this.numberParts.push(numberText(token));
    this.numberState = 'open';
    this.i++;
    this.numberEnd = this.i;
  }

  /** The number's parts when the token at `this.i` follows it directly (`+1 415 555 2671 x123`), else none. */
  private partsBefore(): string[] {
    return this.i === this.numberEnd ? this.numberParts : [];
  }

  /**
   * Refuses the token at `this.i` when it, with the number right before it, is a number with an extension
   * (`+1 415 555 2671 x123`, `… ext. 123`, `… #123`, `+14155552671x123`, `+14155552671;ext=123`): Iqra can't dial
   * one, and it would be lost without a word.
   */
  private checkExtension(token: Token): void {
    const before = this.partsBefore();
    const text = token.key === undefined ? token.value : `${token.key}=${token.value}`;
    const candidates = [[...before, text]];
    // `ext 123`, `# 123`: the digits are the next token.
    const next = this.tokens[this.i + 1];
    if (
      token.key === undefined &&
      next?.key === undefined &&
      !next?.quoted &&
      /^\d{1,10}#?$/.test(next?.value ?? '')
    ) {
      candidates.unshift([...before, text, next?.value ?? '']);
    }
    for (const words of candidates) {
      const typed = collapse(words.join(' '));
      const split = splitExtension(typed);
      if (split) throw extensionError(typed, split, `/call ${split.main} Extension=${split.extension}`);
    }
  }

  /**
   * Refuses a number written with letters, `1-800-FLOWERS` or `+1 800 FLOWERS`, naming its digits. Letters in a word
   * of their own count only in capitals after the start of a number, so that `+1 415 sales` is a stray word.
   */
  private checkVanity(token: Token): void {
    const before = this.partsBefore();
    if (this.numberParts.length > 0 && before.length === 0) return;
    const words = [...before, token.value];
    if (!/\d/.test(token.value)) {
      if (before.length === 0 || !VANITY_WORD.test(token.value)) return;
      for (let j = this.i + 1; j < this.tokens.length; j++) {
        const t = this.at(j);
        if (t.key !== undefined || t.quoted || !VANITY_WORD.test(t.value)) break;
        words.push(t.value);
      }
    }
    const error = vanityError(collapse(words.join(' ')));
    if (error) throw error;
  }

  private keyValue(token: Token): void {
    const key = token.key ?? '';
    const lower = key.toLowerCase();
    if (lower.endsWith(';ext')) this.checkExtension(token);
    if (key.trim() === '') {
      throw new CallRequestError(
        'command',
        `${code(token.source)} has nothing before the \`=\`. Options are written as \`key=value\`, e.g. \`agent=sales\`.`,
      );
    }
    if (lower === 'agent' || lower === 'from' || lower === 'campaign') {
      this.option(token, lower);
    } else if (lower === 'at' || lower === 'when') {
      this.whenOption(token);
    } else if (lower.startsWith('meta.')) {
      this.metadataEntry(token, key.slice('meta.'.length));
    } else {
      this.variable(token);
    }
  }

  private option(token: Token, name: 'agent' | 'from' | 'campaign'): void {
    const key = token.key ?? name;
    if (token.unterminated) throw unterminated(token, name);
    this.once(name, key, name, `${name}=${OPTION_EXAMPLES[name]}`);
    // An alias, an id or a number: invisible characters in it are never meant.
    const value = withoutFormatCharacters(token.value);
    checkValue(value, key, name, `${key}=${OPTION_EXAMPLES[name]}`);
    this.command[name] = value;
    this.i++;
  }

  private whenOption(token: Token): void {
    const key = token.key ?? 'at';
    if (token.unterminated) throw unterminated(token, 'when');
    this.i++;
    const words = [withoutFormatCharacters(token.value)];
    if (!token.quoted) words.push(...this.unquotedWords());
    const phrase = collapse(words.join(' '));
    if (phrase === '') {
      throw new CallRequestError(
        'when',
        `${code(`${key}=`)} has no time after it. Write the time after it, e.g. ${code(`${key}="tomorrow 10am"`)}.`,
      );
    }
    this.setWhen(key, phrase);
  }

  private atPhrase(token: Token): void {
    this.i++;
    const next = this.tokens[this.i];
    let phrase = '';
    if (next && next.key === undefined && next.quoted) {
      if (next.unterminated) throw unterminated(next, 'when');
      phrase = collapse(next.value);
      this.i++;
    } else {
      phrase = collapse(this.unquotedWords().join(' '));
    }
    if (phrase === '') {
      throw new CallRequestError(
        'when',
        `${code(token.source)} needs a time after it, e.g. ${code(WHEN_EXAMPLE)} or \`at "Friday 2:30pm"\`.`,
      );
    }
    this.setWhen(token.source, phrase);
  }

  /**
   * The bare tokens from here up to the next `key=value` token, `force` or the end, consumed. `force` ends the time
   * so that it may be written after it (`at friday 3pm force`) as well as before it; no time phrase has that word.
   */
  private unquotedWords(): string[] {
    const words: string[] = [];
    while (this.i < this.tokens.length) {
      const t = this.at(this.i);
      if (t.key !== undefined || isForce(t)) break;
      if (t.unterminated) throw unterminated(t, 'when');
      words.push(t.value);
      this.i++;
    }
    return words;
  }

  private setWhen(key: string, phrase: string): void {
    const previous = this.seen.get('when');
    if (previous !== undefined) {
      const same = previous.toLowerCase() === key.toLowerCase();
      throw new CallRequestError(
        'when',
        same
          ? `${code(key)} is given twice. Give the time once, e.g. ${code(WHEN_EXAMPLE)}.`
          : `The time is given twice, with ${code(previous)} and ${code(key)}, which mean the same thing. ` +
              `Give the time once, e.g. ${code(WHEN_EXAMPLE)}.`,
      );
    }
    this.seen.set('when', key);
    checkValue(phrase, key, 'when', WHEN_EXAMPLE);
    this.command.when = phrase;
  }

  private variable(token: Token): void {
    const key = token.key ?? '';
    if (token.unterminated) throw unterminated(token, 'variables');
    checkVariable(key, token.value, this.seen, 'command');
    this.command.variables[key] = token.value;
    this.i++;
  }

  private metadataEntry(token: Token, key: string): void {
    const typed = token.key ?? `meta.${key}`;
    if (token.unterminated) throw unterminated(token, 'metadata');
    checkMetadata(key, typed, token.value, this.seen, 'command');
    this.command.metadata[key] = token.value;
    this.i++;
  }

  private once(id: string, key: string, field: CallField, example: string): void {
    once(this.seen, id, key, field, example);
  }

  private strayWord(token: Token): never {
    if (token.unterminated) throw unterminated(token, 'command');
    this.checkExtension(token);
    this.checkVanity(token);
    const words: string[] = [];
    for (let j = this.i; j < this.tokens.length; j++) {
      const t = this.at(j);
      if (t.key !== undefined || isAtKeyword(t) || isForce(t) || t.unterminated) break;
      // A number after the word is not part of it (`Name=Ada Lovelace +14155552671`).
      if (j > this.i && t.key === undefined && isNumberToken(t) && digitCount(t.value) >= 7) break;
      words.push(t.value);
    }
    const time = chrono.parse(collapse(words.join(' ')))[0]?.text;
    const timeHint = time
      ? ` To schedule the call, put \`at\` before the time: ${code(`at "${time}"`)}.`
      : '';
    // Right after a `key=value`, the word is most likely the rest of a value with a space (`Name=Ada Lovelace`).
    const previous = this.tokens[this.i - 1];
    const value =
      previous?.key !== undefined
        ? collapse(`${withoutFormatCharacters(previous.value)} ${words.join(' ')}`)
        : undefined;
    // In single quotes (`Name='Jane Doe'`, `Name=‘Jane Doe’`): only double quotes group words here, and the single ones
    // would be kept in the value, so the example drops them.
    const singleQuoted = value === undefined ? undefined : /^['‘](.*)['’]$/.exec(value)?.[1];
    const belongsTo =
      previous?.key !== undefined && !previous.value.includes('"')
        ? ` If it belongs to ${code(previous.key)}, put the value in ${singleQuoted !== undefined ? 'double ' : ''}quotes: ` +
          `${code(`${previous.key}="${singleQuoted ?? value}"`)}${singleQuoted !== undefined ? ' (single quotes do not group words)' : ''}.`
        : '';
    if (this.numberParts.length === 0 && !belongsTo) this.notANumber(token, time);
    const hint =
      belongsTo || timeHint
        ? `${belongsTo}${timeHint}`
        : ` If it is a value, put its name and \`=\` in front of it, e.g. \`agent=sales\` or \`FirstName=Ada\`.`;
    throw new CallRequestError(
      'command',
      `I don't understand ${code(token.source)}. After the number, options are written as \`key=value\` ` +
        `(e.g. \`agent=sales\`) and a time as ${code(WHEN_EXAMPLE)}.${hint}`,
    );
  }

  /** A word where the number should be: `/call Jane +14155552671`, `/call tomorrow 10am`. */
  private notANumber(token: Token, time: string | undefined): never {
    const after = time
      ? ` To schedule the call, write the time after the number, with \`at\` before it: ` +
        `${code(`/call +14155552671 at "${time}"`)}.`
      : ' Anything else goes after the number, e.g. `FirstName=Ada`.';
    throw new CallRequestError(
      'recipient',
      `${code(token.source)} is not a phone number. A call needs the number first, with its country code, ` +
        `e.g. ${code(NUMBER_EXAMPLE)}.${after}`,
    );
  }

  private missingNumber(): never {
    const when = this.command.when ?? '';
    const swallowed = when.split(' ').some((word) => NUMBER_TOKEN.test(word) && digitCount(word) >= 7);
    const hint = swallowed
      ? ` It looks like the number became part of the time ${code(when)}: put the number first, or quote the time, e.g. ${code(`/call +14155552671 ${WHEN_EXAMPLE}`)}.`
      : '';
    throw new CallRequestError(
      'recipient',
      `Which number should I call? Write it first, with its country code, e.g. ${code(NUMBER_EXAMPLE)}.${hint}`,
    );
  }
}

const OPTION_EXAMPLES: Record<'agent' | 'from' | 'campaign', string> = {
  agent: 'sales',
  from: '+14155550100',
  campaign: 'spring-promo',
};

/** Keys already given in one request, lower-cased (`agent`, `when`, `var:name`, `meta:name`) → the key as typed. */
type SeenKeys = Map<string, string>;

/** Where a variable or metadata entry was written: in the `/call` text, or as a line of the modal's field. */
type WrittenIn = 'command' | 'lines';

/**
 * The command's options: in the modal they have fields of their own, so they are not variable names there. A Map,
 * so that a name such as `constructor` or `__proto__` finds nothing (an object would find what it inherits).
 */
const OPTION_FIELDS: ReadonlyMap<string, string> = new Map([
  ['agent', 'the agent'],
  ['from', 'the caller-ID number'],
  ['campaign', 'the campaign'],
  ['at', 'the time'],
  ['when', 'the time'],
]);

/**
 * Variables and metadata are kept in plain objects, where `__proto__` is not a key: setting it changes the object's
 * prototype, and the value would be lost without a word. It is refused (in any case, so that no later lower-casing
 * makes it one). Other names objects inherit (`constructor`, `toString`) are ordinary keys once set.
 */
function isReservedName(key: string): boolean {
  return key.toLowerCase() === '__proto__';
}

function once(seen: SeenKeys, id: string, key: string, field: CallField, example: string): void {
  const previous = seen.get(id);
  if (previous !== undefined) {
    const spelling =
      previous === key ? '' : ` (${code(previous)} and ${code(key)} are the same, case does not matter)`;
    throw new CallRequestError(
      field,
      `${code(key)} is given twice${spelling}. Give it once, e.g. ${code(example)}.`,
    );
  }
  seen.set(id, key);
}

/** A dynamic variable's name and value: a valid name, given once, with a value of acceptable length. */
function checkVariable(key: string, value: string, seen: SeenKeys, writtenIn: WrittenIn): void {
  if (!KEY_PATTERN.test(key)) {
    const options =
      writtenIn === 'command'
        ? `, and options as ${code('agent=…')}, ${code('from=…')}, ${code('campaign=…')} or ${code(WHEN_EXAMPLE)}`
        : ', one per line';
    throw new CallRequestError(
      'variables',
      `${code(key)} can't be used as a variable name: a name starts with a letter or \`_\` and has only ` +
        `letters, digits, \`_\` and \`-\`, up to 64 characters. Write variables like \`FirstName=Ada\`${options}.`,
    );
  }
  if (isReservedName(key)) {
    throw new CallRequestError(
      'variables',
      `${code(key)} is not allowed as a variable name. Give the variable another name, e.g. \`Proto=…\`.`,
    );
  }
  once(seen, `var:${key.toLowerCase()}`, key, 'variables', `${key}=…`);
  checkValue(
    value,
    key,
    'variables',
    writtenIn === 'command' ? `${key}="Ada Lovelace"` : `${key}=Ada Lovelace`,
  );
}

/** A metadata entry: `key` is its name without `meta.`, `typed` the key as written (for messages). */
function checkMetadata(
  key: string,
  typed: string,
  value: string,
  seen: SeenKeys,
  writtenIn: WrittenIn,
): void {
  const example = writtenIn === 'command' ? '`meta.Source=webinar`' : '`Source=webinar`';
  if (!KEY_PATTERN.test(key)) {
    const after = writtenIn === 'command' ? 'after `meta.` a name' : 'a name';
    throw new CallRequestError(
      'metadata',
      `${code(typed)} can't be used as a metadata name: ${after} starts with a letter or \`_\` ` +
        `and has only letters, digits, \`_\` and \`-\`, up to 64 characters, e.g. ${example}.`,
    );
  }
  if (isReservedName(key)) {
    throw new CallRequestError(
      'metadata',
      `${code(typed)} is not allowed as a metadata name. Give the entry another name, e.g. ` +
        `${writtenIn === 'command' ? '`meta.Proto=…`' : '`Proto=…`'}.`,
    );
  }
  const reserved = APP_METADATA.find((name) => name.toLowerCase() === key.toLowerCase());
  if (reserved) {
    throw new CallRequestError(
      'metadata',
      `${code(typed)} is set by the app on every call, so it can't be given. ` +
        `Leave it out, or use another name, e.g. ${example}.`,
    );
  }
  once(seen, `meta:${key.toLowerCase()}`, typed, 'metadata', `${typed}=…`);
  checkValue(value, typed, 'metadata', `${typed}=webinar`);
}

/**
 * The modal's dynamic variables or metadata field: one `Key=Value` per line (blank lines are skipped), with the
 * command's rules and messages for names and values. A value may be wrapped in quotes (straight or curly), which are
 * removed; everything after the first `=` is the value, spaces and `=` included. In the metadata field a `meta.`
 * prefix is allowed. Throws a CallRequestError for `field` on the first problem.
 */
export function parseAssignmentLines(text: string, field: 'variables' | 'metadata'): Record<string, string> {
  const values: Record<string, string> = {};
  const seen: SeenKeys = new Map();
  const example = field === 'variables' ? 'CustomerName=Jane Doe' : 'Source=webinar';
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq === -1) {
      throw new CallRequestError(
        field,
        `${code(line)} is not \`Key=Value\`. Write one ${field === 'variables' ? 'variable' : 'entry'} per line, ` +
          `with \`=\` between its name and its value, e.g. ${code(example)}.`,
      );
    }
    const typed = line.slice(0, eq).trim();
    const value = unquote(line.slice(eq + 1).trim());
    if (typed === '') {
      throw new CallRequestError(
        field,
        `${code(line)} has nothing before the \`=\`. Write the name first, e.g. ${code(example)}.`,
      );
    }
    if (field === 'variables') {
      const option = OPTION_FIELDS.get(typed.toLowerCase());
      if (option) {
        throw new CallRequestError(
          'variables',
          `${code(typed)} can't be a variable here: ${option} has its own field in this form. ` +
            `Choose it there and remove this line, or give the variable another name, e.g. ${code(`Preferred${capitalized(typed)}=…`)}.`,
        );
      }
      checkVariable(typed, value, seen, 'lines');
      values[typed] = value;
    } else {
      const key = /^meta\./i.test(typed) ? typed.slice('meta.'.length) : typed;
      checkMetadata(key, typed, value, seen, 'lines');
      values[key] = value;
    }
  }
  return values;
}

/**
 * The inverse of parseAssignmentLines, for filling the modal in: `Key=Value` lines. A value that starts or ends with
 * a space or a quote is wrapped in quotes, so that reading the lines back gives it exactly; line breaks in a value
 * become spaces.
 */
export function formatAssignmentLines(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([key, raw]) => {
      const value = raw.replace(/\r\n|\r|\n/g, ' ');
      const edge = /^[\s"\u201C-\u201F]|[\s"\u201C-\u201F]$/.test(value);
      return `${key}=${edge ? `"${value}"` : value}`;
    })
    .join('\n');
}

/**
 * The modal's time field read as the command reads what follows `at`: the field holds "the words you would write after
 * `at`", and a rep who writes them as the command's examples and refusals do (`at "tomorrow 10am"`, `“friday 3pm”`,
 * `when=in 2 hours`) means the same time. A leading `at`, `at=` or `when=` and one pair of quotes (straight or curly)
 * around the rest are removed; text that would be left empty is kept as it is (and refused as a time).
 */
export function timeFieldPhrase(text: string): string {
  const typed = text.trim();
  const phrase = unquote(
    withoutFormatCharacters(typed)
      .trim()
      .replace(/^(?:(?:at|when)\s*=|at\s)\s*/i, ''),
  ).trim();
  return phrase === '' ? typed : phrase;
}

/** The value without one pair of surrounding quotes (straight or curly), if it has them. */
function unquote(value: string): string {
  if (value.length >= 2 && QUOTES.has(value.charAt(0)) && QUOTES.has(value.charAt(value.length - 1))) {
    return value.slice(1, -1);
  }
  return value;
}

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}

function checkValue(value: string, key: string, field: CallField, example: string): void {
  if (value === '') {
    throw new CallRequestError(
      field,
      `${code(`${key}=`)} has no value. Write the value right after the \`=\`, e.g. ${code(example)}.`,
    );
  }
  if (value.length > MAX_VALUE_LENGTH) {
    throw new CallRequestError(
      field,
      `The value of ${code(key)} is ${value.length} characters long; the most is ${MAX_VALUE_LENGTH}. Shorten it.`,
    );
  }
}

function unterminated(token: Token, field: CallField): CallRequestError {
  return new CallRequestError(
    field,
    `The quote in ${code(token.source)} is never closed. Close it with another \`"\`, e.g. \`Name="Ada Lovelace"\`.`,
  );
}

function isForce(token: Token): boolean {
  return token.key === undefined && !token.quoted && token.value.toLowerCase() === 'force';
}

function isAtKeyword(token: Token): boolean {
  return token.key === undefined && !token.quoted && token.value.toLowerCase() === 'at';
}

function isNumberToken(token: Token): boolean {
  return NUMBER_TOKEN.test(numberText(token).replace(/\s/g, ''));
}

/** A number's token as the number: full-width and Arabic-Indic digits as ASCII (`＋１ ４１５` is `+1 415`). */
function numberText(token: Token): string {
  return collapse(withAsciiDigits(token.value));
}

function digitCount(text: string): number {
  return text.replace(/\D/g, '').length;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * `text` as Slack mrkdwn inline code, shortened if long. Backticks inside would end the code, so they
 * become `'`; `&`, `<` and `>` are escaped as Slack requires.
 */
function code(text: string): string {
  const plain = text.replace(/`/g, "'");
  const short = plain.length > 80 ? `${plain.slice(0, 79)}…` : plain;
  return `\`${short.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}\``;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", apos: "'" };

/** Slack escapes `&`, `<` and `>`; decode those and the quote entities, in one pass. */
export function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|apos);/g, (_, name: string) => ENTITIES[name] ?? _);
}

/**
 * The text a piece of Slack markup stands for: `<tel:+1…|label>` → the tel: target; `<http://x|label>` → the label;
 * `<http://x>` → the URL; `<mailto:a@b|label>` → the label; `<mailto:a@b>` → the address.
 */
function resolveMarkup(inner: string): string {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? '' : inner.slice(bar + 1);
  if (/^tel:/i.test(target)) return target.slice('tel:'.length);
  if (label !== '') return label;
  if (/^mailto:/i.test(target)) return target.slice('mailto:'.length);
  return target;
}

/**
 * Splits the text on whitespace (any Unicode whitespace). A quoted section (`"…"` or curly quotes) and a piece of
 * Slack markup (`<…>`) stay in one token even if they contain spaces. Entities are decoded after splitting, so that
 * an escaped `&lt;` is never read as markup.
 *
 * Format characters are removed from keys and from bare tokens (the number, `at`, `force`, the words of a time), so
 * that `\u202A+1 415 555 2671\u202C` is the number and `\u200Eagent=sales` the agent; a token of nothing else is no
 * token. A value after `=` keeps them, because there they may be part of the text: emoji sequences are joined with
 * U+200D, Persian words use U+200C. The options take them out of their values themselves.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  /** The markup starting at `at` (a `<` with a `>` later and no `<` between), or undefined. */
  const markupAt = (at: number): { text: string; end: number } | undefined => {
    const close = text.indexOf('>', at + 1);
    const open = text.indexOf('<', at + 1);
    if (close === -1 || (open !== -1 && open < close)) return undefined;
    return { text: resolveMarkup(text.slice(at + 1, close)), end: close + 1 };
  };
  while (i < n) {
    if (/\s/.test(text.charAt(i))) {
      i++;
      continue;
    }
    let source = '';
    let before = '';
    let after = '';
    let sawEq = false;
    let quoted = false;
    let open = false;
    const append = (s: string) => {
      if (sawEq) after += s;
      else before += s;
    };
    while (i < n && !/\s/.test(text.charAt(i))) {
      const ch = text.charAt(i);
      const markup = ch === '<' ? markupAt(i) : undefined;
      if (markup) {
        source += markup.text;
        append(markup.text);
        i = markup.end;
      } else if (QUOTES.has(ch)) {
        quoted = true;
        let content = '';
        let j = i + 1;
        while (j < n && !QUOTES.has(text.charAt(j))) {
          const inner = text.charAt(j) === '<' ? markupAt(j) : undefined;
          if (inner) {
            content += inner.text;
            j = inner.end;
          } else {
            content += text.charAt(j);
            j++;
          }
        }
        append(content);
        if (j >= n) {
          source += ch + content;
          open = true;
          i = n;
        } else {
          source += ch + content + text.charAt(j);
          i = j + 1;
        }
      } else if (ch === '=' && !sawEq) {
        sawEq = true;
        quoted = false;
        source += ch;
        i++;
      } else {
        source += ch;
        append(ch);
        i++;
      }
    }
    const shown = withoutFormatCharacters(decodeEntities(source));
    if (shown === '') continue;
    const token: Token = {
      source: shown,
      value: sawEq ? decodeEntities(after) : withoutFormatCharacters(decodeEntities(before)),
      quoted,
      unterminated: open,
    };
    if (sawEq) token.key = withoutFormatCharacters(decodeEntities(before));
    tokens.push(token);
  }
  return tokens;
}
