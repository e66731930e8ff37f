/**
 * Batches (issue 9, items 1–2): reading a list of numbers (a CSV file or pasted lines) and previewing what would be
 * called, with the same checks as a single call, before anything is sent. Pure: no Slack, no HTTP, no store, no clock.
 *
 * The list:
 * - one row per call; the phone number, then any dynamic variables named by the header row (`CustomerName`, ...),
 *   and optional per-row `agent`, `from`, `campaign` and `when` (or `at`) columns that override the batch-wide
 *   choices;
 * - a CSV file (comma, semicolon or tab separated, RFC 4180 quoting) or lines pasted in a text box, one number each.
 *
 * Problems with the list as a whole (a bad column name, a quote that is never closed, extra columns without a header)
 * throw a CallRequestError: the rep fixes the list and uploads it again. Problems with one row skip that row, with the
 * message a single call would get, and the rest of the batch goes on.
 */
import { type CallCatalog, resolveChoices } from './call-request.js';
import { MAX_VALUE_LENGTH, parseAssignmentLines } from './command.js';
import type { DirectoryEntry } from './directory.js';
import { CallRequestError } from './errors.js';
import { checkHygiene } from './hygiene.js';
import { normalizeRecipient, type Recipient } from './phone.js';

// ---------------------------------------------------------------------------------------------------------------
// Reading the list

export interface BatchTable {
  /** The header row's cells, trimmed; empty when the list has no header row. */
  header: string[];
  /** The data rows; `line` is the 1-based line of the text the row starts on (for messages such as "line 7"). */
  rows: { line: number; cells: string[] }[];
}

type Delimiter = ',' | ';' | '\t';

/** Tried in this order; on a tie the earlier one wins. */
const DELIMITERS: readonly Delimiter[] = [',', ';', '\t'];
/** How many rows the delimiter is guessed from. */
const SNIFF_ROWS = 20;

/**
 * Reads a CSV file or pasted lines into rows of cells.
 *
 * - A byte order mark at the start is dropped; line ends may be CRLF, LF or CR.
 * - The delimiter is the one a first line `sep=;` names (Excel writes it), or else it is guessed: the one of comma,
 *   semicolon and tab that splits the first rows into the same number (more than one) of cells; text without any of
 *   them is one column (pasted numbers, one per line).
 * - Quoting follows RFC 4180: a cell that starts with `"` runs to the next lone `"`, `""` inside it is one `"`, and it
 *   may hold delimiters and line breaks (which become `\n`). Spaces before the opening quote are allowed. A quote that
 *   is never closed throws a CallRequestError, since it would silently swallow the rest of the list.
 * - Spaces around unquoted cells are removed. Blank lines, and rows whose cells are all empty (`,,,` from
 *   spreadsheets), are skipped; line numbers still count them.
 * - The first row is the header when one of its cells names the number column (`phone`, `number`, `tel`, `mobile`,
 *   `recipient`, ...), or when it has several cells and its first one does not look like a phone number (see
 *   looksLikeNumber). A first row of one cell (pasted numbers, one per line) that is not a number is the header only
 *   when it reads as one (`Phone Number`, `Numbers`, `Mobile #`; see namesTheColumn): anything else (`John`) is a
 *   row, which the preview skips with its line and reason instead of dropping it unseen.
 */
export function readBatchTable(text: string): BatchTable {
  let body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // Excel may put `sep=;` on the first line to name the delimiter.
  const sep = /^sep=([,;\t])[ \t]*(?:\r\n|\r|\n|$)/i.exec(body);
  let delimiter: Delimiter;
  let firstLine = 1;
  if (sep) {
    delimiter = DELIMITERS.find((d) => d === sep[1]) ?? ',';
    body = body.slice(sep[0].length);
    firstLine = 2;
  } else {
    delimiter = detectDelimiter(body);
  }
  const records = parseRecords(body, delimiter, Number.POSITIVE_INFINITY, firstLine);
  const first = records[0];
  if (first && isHeaderRow(first.cells)) {
    return { header: first.cells.map((cell) => cell.trim()), rows: records.slice(1) };
  }
  return { header: [], rows: records };
}

interface TableRow {
  line: number;
  cells: string[];
}

/**
 * The rows of `text` split with `delimiter`, skipping blank ones; `text` starts on line `firstLine`. At most `limit`
 * rows are read. Throws a CallRequestError for a quote that is never closed.
 */
function parseRecords(
  text: string,
  delimiter: Delimiter,
  limit = Number.POSITIVE_INFINITY,
  firstLine = 1,
): TableRow[] {
  const rows: TableRow[] = [];
  const n = text.length;
  let line = firstLine;
  let i = 0;
  while (i < n && rows.length < limit) {
    const start = line;
    const cells: string[] = [];
    let ended = false;
    while (!ended) {
      // One cell: optional spaces, an optional quoted section, then anything up to the delimiter or line end.
      let quoted: string | undefined;
      let rest = '';
      let j = i;
      while (j < n && (text.charAt(j) === ' ' || (text.charAt(j) === '\t' && delimiter !== '\t'))) j++;
      if (text.charAt(j) === '"') {
        const opened = line;
        quoted = '';
        j++;
        for (;;) {
          if (j >= n) throw unclosedQuote(opened);
          const ch = text.charAt(j);
          if (ch === '"') {
            if (text.charAt(j + 1) === '"') {
              quoted += '"';
              j += 2;
              continue;
            }
            j++;
            break;
          }
          const br = lineBreakAt(text, j);
          if (br > 0) {
            quoted += '\n';
            line++;
            j += br;
            continue;
          }
          quoted += ch;
          j++;
        }
      } else {
        j = i;
      }
      while (j < n && text.charAt(j) !== delimiter && lineBreakAt(text, j) === 0) {
        rest += text.charAt(j);
        j++;
      }
      // Text after a closing quote (`"Doe" Jr`) is kept, as spreadsheets do; spaces around the cell are not.
      cells.push(quoted === undefined ? rest.trim() : quoted + rest.trimEnd());
      if (j >= n) {
        i = n;
        ended = true;
      } else if (text.charAt(j) === delimiter) {
        i = j + 1;
      } else {
        i = j + lineBreakAt(text, j);
        line++;
        ended = true;
      }
    }
    if (cells.some((cell) => cell.trim() !== '')) rows.push({ line: start, cells });
  }
  return rows;
}

/** The length of the line break at `at` (2 for CRLF, 1 for LF or CR), or 0. */
function lineBreakAt(text: string, at: number): number {
  const ch = text.charAt(at);
  if (ch === '\r') return text.charAt(at + 1) === '\n' ? 2 : 1;
  return ch === '\n' ? 1 : 0;
}

function unclosedQuote(line: number): CallRequestError {
  return new CallRequestError(
    'command',
    `The quote (\`"\`) that opens on line ${line} of the list is never closed, so I can't tell where that cell ends. ` +
      'Close it with another `"`, or remove it. (Inside a quoted cell, write a quote as `""`.)',
  );
}

/**
 * The delimiter that splits the first rows into the same number of cells, more than one; among several, the one
 * that agrees on the most rows, then gives the most cells. A comma when none splits the first row (one column).
 */
function detectDelimiter(text: string): Delimiter {
  let best: { delimiter: Delimiter; agreeing: number; cells: number } | undefined;
  for (const delimiter of DELIMITERS) {
    let rows: TableRow[];
    try {
      rows = parseRecords(text, delimiter, SNIFF_ROWS);
    } catch {
      continue; // a quote that only looks unclosed when split this way
    }
    const cells = rows[0]?.cells.length ?? 0;
    if (cells < 2) continue;
    const agreeing = rows.filter((row) => row.cells.length === cells).length;
    if (!best || agreeing > best.agreeing || (agreeing === best.agreeing && cells > best.cells)) {
      best = { delimiter, agreeing, cells };
    }
  }
  return best?.delimiter ?? ',';
}

/** Digits with the characters numbers are written with (`+1 (415) 555-2671`, `tel:+44…`), or many digits. */
const NUMBER_CHARACTERS = /^(?:tel:)?[\d\s+().\-/\u2010-\u2015\u2212]+$/i;

/**
 * Whether a cell looks like a phone number, perhaps a mistyped one: only the characters numbers are written with, or
 * at least five digits (`+1 415 555 2671 ext 12`). Stricter than "is a valid number" on purpose: a first row whose
 * number is wrong (`555-0199`) is a data row to skip with a reason, not a header to drop silently.
 */
function looksLikeNumber(cell: string): boolean {
  const digits = cell.replace(/\D/g, '').length;
  return (NUMBER_CHARACTERS.test(cell) && digits > 0) || digits >= 5;
}

function isHeaderRow(cells: string[]): boolean {
  if (cells.some((cell) => columnRole(cell) === 'number')) return true;
  const first = (cells[0] ?? '').trim();
  if (first === '' || looksLikeNumber(first)) return false;
  return cells.length > 1 || namesTheColumn(first);
}

/**
 * Words that, besides the number names and phone words, make the one line above a column of numbers its header
 * (`Numbers`, `Contact Number`, `Recipients`). Only for a list of one column, where a name such as `John` is a row.
 */
const COLUMN_WORDS = new Set(['number', 'numbers', 'recipient', 'recipients', 'contact', 'contacts']);

/** Whether a list of one column's first cell reads as the column's name rather than as a (mistyped) row. */
function namesTheColumn(cell: string): boolean {
  if (columnRole(cell) !== 'variable' || namesAPhone(cell)) return true;
  const words = cell
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((word) => COLUMN_WORDS.has(word));
}

// ---------------------------------------------------------------------------------------------------------------
// Columns

type Role = 'number' | 'agent' | 'from' | 'campaign' | 'when' | 'variable';

/** Header names of the number column, lower-cased, without spaces, `_`, `-` and `.` (`Phone Number`, `phone_number`). */
const NUMBER_NAMES = new Set([
  'phone',
  'phonenumber',
  'number',
  'tel',
  'telephone',
  'mobile',
  'mobilenumber',
  'mobilephone',
  'cell',
  'cellphone',
  'recipient',
  'e164',
]);

/**
 * Words that make a header a phone number column when no header is exactly one of NUMBER_NAMES (`Phone_1`,
 * `Primary Phone`, `Work Phone`, `Phone #`, `MobilePhone2`, `Telefon`). Not `number`: `Account Number` is no phone.
 */
const PHONE_WORDS = new Set([
  'phone',
  'phones',
  'mobile',
  'cell',
  'cellphone',
  'tel',
  'telephone',
  'telefon',
  'telefono',
  'telefone',
  'msisdn',
]);

/** Whether a header's words (split at spaces, punctuation, digits and camelCase) include a phone word. */
function namesAPhone(name: string): boolean {
  const words = name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/);
  return words.some((word) => PHONE_WORDS.has(word));
}

/** Per-row choices, by header name (any case). `at` is the command's word for the time. */
const OPTION_ROLES: Record<string, Exclude<Role, 'number' | 'variable'>> = {
  agent: 'agent',
  from: 'from',
  campaign: 'campaign',
  when: 'when',
  at: 'when',
};

function columnRole(name: string): Role {
  const lower = name.trim().toLowerCase();
  if (NUMBER_NAMES.has(lower.replace(/[\s_.-]/g, ''))) return 'number';
  return OPTION_ROLES[lower] ?? 'variable';
}

interface Layout {
  number: number;
  agent?: number;
  from?: number;
  campaign?: number;
  when?: number;
  variables: { index: number; name: string }[];
}

/**
 * Which column holds what. The number column is the one named like a phone number (`phone`, `mobile`, ...), else the
 * one whose name has a phone word in it (`Phone_1`, `Work Phone`), else the first. Throws a
 * CallRequestError for a list whose columns can't be read: variables without a header row, a cell under no column
 * name, two columns with the same name, or a name that can't be a dynamic variable.
 */
function layoutOf(table: BatchTable): Layout {
  const { header, rows } = table;
  const width = rows.reduce((most, row) => Math.max(most, row.cells.length), header.length);
  const filledAt = (index: number) => rows.find((row) => (row.cells[index] ?? '').trim() !== '');

  if (header.length === 0) {
    for (let index = 1; index < width; index++) {
      const row = filledAt(index);
      if (row) {
        throw new CallRequestError(
          'variables',
          `Line ${row.line} of the list has more than one column, but the list has no header row, so I can't tell ` +
            'what the other columns are. Add a first line that names the columns, e.g. ' +
            '`phone,CustomerName,agent`. If they are more numbers, put each number on its own line.',
        );
      }
    }
    return { number: 0, variables: [] };
  }

  const named = header.flatMap((name, index) => (columnRole(name) === 'number' ? [index] : []));
  // `CustomerID,Name,Phone_1`: the phone column, not the IDs in the first one (they may read as valid numbers).
  const numberColumns =
    named.length > 0 ? named : header.flatMap((name, index) => (namesAPhone(name) ? [index] : []));
  if (numberColumns.length > 1) {
    throw new CallRequestError(
      'recipient',
      `The list has more than one phone number column (${numberColumns.map((i) => code(header[i] ?? '')).join(', ')}). ` +
        'Keep the one to call, or rename the others (e.g. `AltPhone`) to pass them on as variables.',
    );
  }
  const layout: Layout = { number: numberColumns[0] ?? 0, variables: [] };
  /** Lower-cased names already used → the name as written. */
  const seen = new Map<string, string>();
  const badNames: { name: string; index: number }[] = [];
  for (let index = 0; index < width; index++) {
    if (index === layout.number) continue;
    const name = header[index] ?? '';
    if (name === '') {
      const row = filledAt(index);
      if (row) {
        throw new CallRequestError(
          'variables',
          `Line ${row.line} of the list has a value in column ${index + 1}, which has no name in the header row. ` +
            'Name the column in the first line (e.g. `CustomerName`), or remove the value.',
        );
      }
      continue;
    }
    const previous = seen.get(name.toLowerCase());
    if (previous !== undefined) {
      const spelling =
        previous === name ? '' : ` (${code(previous)} and ${code(name)}: case does not matter)`;
      throw new CallRequestError(
        'variables',
        `The header row names the column ${code(name)} twice${spelling}. Keep one, or rename the other.`,
      );
    }
    seen.set(name.toLowerCase(), name);
    const role = columnRole(name);
    if (role === 'variable') {
      if (isVariableName(name)) layout.variables.push({ index, name });
      else badNames.push({ name, index });
    } else if (role !== 'number') {
      if (layout[role] !== undefined) {
        throw new CallRequestError(
          role,
          `The header row has more than one column for ${OPTION_TITLES[role]} (\`${role}\`). Keep one.`,
        );
      }
      layout[role] = index;
    }
  }
  if (badNames.length > 0) throw badVariableNames(badNames);
  return layout;
}

const OPTION_TITLES: Record<'agent' | 'from' | 'campaign' | 'when', string> = {
  agent: 'the agent',
  from: 'the caller-ID number',
  campaign: 'the campaign',
  when: 'the time',
};

/**
 * A header name used as a dynamic variable's name must pass the command's key rules (checked by the command's own
 * parser, so the two can't drift apart) and must not be named like a secret or payment data (the hygiene rules; the
 * whole column would be refused row by row, so it is refused once, for the whole list).
 */
/**
 * Whether a header can name a dynamic variable. A name like a secret or payment data is refused at once
 * (checkHygiene throws); the others that can't be names are all refused together, by badVariableNames.
 */
function isVariableName(name: string): boolean {
  if (/[=\r\n]/.test(name)) return false;
  try {
    parseAssignmentLines(`${name}=x`, 'variables');
  } catch (error) {
    if (!(error instanceof CallRequestError)) throw error;
    return false;
  }
  checkHygiene({ [name]: '' }, {});
  return true;
}

/**
 * All the header names that can't be variables, in one answer (a CRM export has several: `First Name`, `Record ID`),
 * each with a name it could have instead.
 */
function badVariableNames(bad: { name: string; index: number }[]): CallRequestError {
  const rename = (name: string) =>
    name
      .replace(/[^A-Za-z0-9_-]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .replace(/^(?=[^A-Za-z_])/, '_')
      .slice(0, 64) || 'Column';
  const listed = bad.map(
    ({ name, index }) => `${code(name)} (column ${index + 1}, e.g. ${code(rename(name))})`,
  );
  const which =
    bad.length === 1
      ? `The column ${listed[0]} can't be a dynamic variable`
      : `These columns can't be dynamic variables: ${listed.join(', ')}`;
  return new CallRequestError(
    'variables',
    `${which}: a variable's name starts with a letter or \`_\` and has only letters, digits, \`_\` and \`-\`, up to ` +
      '64 characters. Rename them in the header row. (The number column is the one named `phone`, `number`, `tel`, ' +
      '`mobile` or `recipient`, else the one with a phone word in its name, else the first; `agent`, `from`, ' +
      '`campaign` and `when` columns choose those per row.)',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Previewing

/** The batch-wide choices from the batch form; a row's own `agent`, `from`, `campaign` or `when` cell wins. */
export interface BatchDefaults {
  agent?: string;
  from?: string;
  campaign?: string;
  /** The batch's start, a time phrase as the rep typed it (`tomorrow 10am`). */
  when?: string;
}

export type BatchRow =
  | {
      line: number;
      status: 'valid';
      recipient: Recipient;
      agent: DirectoryEntry;
      number: DirectoryEntry;
      campaign?: DirectoryEntry;
      /** The row's time phrase, or the batch's; not yet resolved (see previewBatch). */
      whenPhrase?: string;
      /** Non-empty cells only, by header name as written. */
      variables: Record<string, string>;
    }
  | {
      line: number;
      status: 'skipped';
      /** The row's number cell as written (never its other cells, which may hold what hygiene refuses). */
      raw: string;
      /** The same plain-language message a single call would get. */
      reason: string;
    };

export type ValidBatchRow = Extract<BatchRow, { status: 'valid' }>;
export type SkippedBatchRow = Extract<BatchRow, { status: 'skipped' }>;

/** A row not called because an earlier row has the same number: each number is called once, with its first row. */
export interface DuplicateBatchRow {
  line: number;
  /** The number, E.164. */
  e164: string;
  /** The line of the first row with this number (called, or skipped for a reason of its own). */
  of: number;
}

export interface BatchPreview {
  valid: ValidBatchRow[];
  skipped: SkippedBatchRow[];
  /** Rows collapsed into an earlier row with the same E.164 number: `duplicateRows.length`. */
  duplicates: number;
  /** Those rows, by line, each with the line it repeats (for the result file's "every row of the list"). */
  duplicateRows: DuplicateBatchRow[];
  /** Set when the list has more rows than `max`: only the first `max` rows were previewed. */
  tooMany?: { max: number; given: number };
}

/**
 * Checks every row with the rules of a single call, in the same order: the number (normalizeRecipient), the agent,
 * caller-ID number and campaign (resolveChoices: the row's cell, else the batch default, else the configured
 * default), the dynamic variables (the same length limit, and checkHygiene). A row that fails is skipped with the
 * message a single call would get; the others are valid.
 *
 * - Duplicates: rows whose number is the same E.164 number as an earlier row's (`+14155552671`, `(415) 555-2671`)
 *   collapse into that first row, whatever its status: each number is called at most once, with the first row's
 *   details. They are counted in `duplicates`, and kept in `duplicateRows` (with the line they repeat), not in
 *   `skipped`.
 * - Size: a list with more rows than `max` (blank lines and the header not counted; duplicates and skipped rows
 *   counted, since the limit is about the list the rep gave) sets `tooMany`, and only its first `max` rows are
 *   previewed: the rep sees what the list holds and how much is over, without the work (and the message size) of
 *   checking an arbitrarily long list. Whether to refuse the batch or place the first `max` is for the caller.
 * - Times: a row's (or the batch's) time phrase is only checked to be text of acceptable length here. Reading it needs
 *   the rep's Slack time zone and the current time, which this pure function does not have: it is resolved later with
 *   resolveWhen, as a single call's is, and calling hours are checked then, in each callee's zone.
 *
 * Throws a CallRequestError for problems with the list as a whole (see layoutOf), a list with no rows, and a batch
 * default agent, number or campaign that is not configured.
 */
export function previewBatch(
  table: BatchTable,
  defaults: BatchDefaults,
  catalog: CallCatalog,
  options: { max: number },
): BatchPreview {
  const { max } = options;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, not ${max}`);
  if (table.rows.length === 0) {
    throw new CallRequestError(
      'recipient',
      table.header.length > 0
        ? 'The list has a header row but no rows under it. Add the numbers to call, one per line.'
        : 'The list has no numbers in it. Upload a CSV file, or paste the numbers one per line, e.g. `+14155552671`.',
    );
  }
  const layout = layoutOf(table);
  const batch = {
    agent: present(defaults.agent),
    from: present(defaults.from),
    campaign: present(defaults.campaign),
    when: present(defaults.when),
  };
  // Batch-wide choices come from the form; one that is wrong is wrong for every row, so it is refused once.
  if (batch.agent !== undefined) catalog.agents.resolve(batch.agent);
  if (batch.from !== undefined) catalog.numbers.resolve(batch.from);
  if (batch.campaign !== undefined) catalog.campaigns.resolve(batch.campaign);
  if (batch.when !== undefined) checkWhenPhrase(batch.when);

  const preview: BatchPreview = { valid: [], skipped: [], duplicates: 0, duplicateRows: [] };
  if (table.rows.length > max) preview.tooMany = { max, given: table.rows.length };
  /** E.164 → the line of the first row with it. */
  const numbers = new Map<string, number>();
  for (const row of table.rows.slice(0, max)) {
    const cell = (index: number | undefined): string | undefined =>
      index === undefined ? undefined : present(row.cells[index]);
    // A leading `'` is a spreadsheet's "keep as text" mark (this app's own result file writes `'+1 415 555 2671`).
    const raw = (cell(layout.number) ?? '').replace(/^'/, '');
    try {
      const recipient = normalizeRecipient(raw, catalog.defaultRegion);
      const first = numbers.get(recipient.e164);
      if (first !== undefined) {
        preview.duplicates++;
        preview.duplicateRows.push({ line: row.line, e164: recipient.e164, of: first });
        continue;
      }
      numbers.set(recipient.e164, row.line);
      const { agent, number, campaign } = resolveChoices(
        {
          agent: cell(layout.agent) ?? batch.agent,
          from: cell(layout.from) ?? batch.from,
          campaign: cell(layout.campaign) ?? batch.campaign,
        },
        catalog,
      );
      const variables: Record<string, string> = {};
      for (const { index, name } of layout.variables) {
        const value = cell(index);
        if (value === undefined) continue; // an empty cell is no variable, not an empty one
        checkLength(value, name);
        variables[name] = value;
      }
      checkHygiene(variables, {});
      const rowWhen = cell(layout.when);
      if (rowWhen !== undefined) checkWhenPhrase(rowWhen);
      const whenPhrase = rowWhen ?? batch.when;
      preview.valid.push({
        line: row.line,
        status: 'valid',
        recipient,
        agent,
        number,
        ...(campaign ? { campaign } : {}),
        ...(whenPhrase !== undefined ? { whenPhrase } : {}),
        variables,
      });
    } catch (error) {
      if (!(error instanceof CallRequestError)) throw error;
      // A headerless list's first line that is no number may have been meant as the column's name (see isHeaderRow).
      const hint =
        table.header.length === 0 && row === table.rows[0] && raw !== '' && !looksLikeNumber(raw)
          ? ' (If this first line names the column, call it `phone`.)'
          : '';
      preview.skipped.push({ line: row.line, status: 'skipped', raw, reason: `${error.userMessage}${hint}` });
    }
  }
  return preview;
}

/** The text trimmed (line breaks inside a quoted cell kept), or undefined when there is none. */
function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** The command's limit on a value's length, with its message. */
function checkLength(value: string, key: string): void {
  if (value.length > MAX_VALUE_LENGTH) {
    throw new CallRequestError(
      'variables',
      `The value of ${code(key)} is ${value.length} characters long; the most is ${MAX_VALUE_LENGTH}. Shorten it.`,
    );
  }
}

/**
 * What can be checked of a time phrase without the rep's zone and the current time: that it is one line of text of
 * acceptable length. The rest (that it reads as one future time within the scheduling limit) is resolveWhen's job,
 * later, when the rep's zone is known.
 */
function checkWhenPhrase(phrase: string): void {
  if (/[\r\n]/.test(phrase)) {
    throw new CallRequestError(
      'when',
      `The time ${code(phrase)} runs over more than one line. Write it on one line, e.g. \`tomorrow 10am\`.`,
    );
  }
  if (phrase.length > MAX_VALUE_LENGTH) {
    throw new CallRequestError(
      'when',
      `The time is ${phrase.length} characters long; the most is ${MAX_VALUE_LENGTH}. Write only the time, e.g. \`tomorrow 10am\`.`,
    );
  }
}

/** `text` as Slack mrkdwn inline code, shortened if long, escaped as Slack requires. */
function code(text: string): string {
  const plain = text.replace(/`/g, "'").replace(/[\r\n]+/g, ' ');
  const short = plain.length > 40 ? `${plain.slice(0, 39)}…` : plain;
  return `\`${short.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}\``;
}
