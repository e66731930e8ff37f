/**
 * When to place a call: `now`, or a time the requester wrote in plain English (`at "tomorrow 10am"`), read in the
 * requester's IANA zone (or in a zone the phrase names).
 *
 * chrono-node does the reading, with three things it gets wrong handled here (see the notes in the code):
 * - it ignores IANA zone names, so the requester's zone goes in as an offset in minutes, and the wall-clock time it
 *   reads is turned into an instant with the zone's rules at that time (not the offset at `now`), so that a DST change
 *   between now and then is right in both directions;
 * - its `forwardDate` handling of weekdays ("friday 3pm", "this friday 3pm") and dates without a year ("Dec 3 10am")
 *   compares a zone-shifted reference with a real instant, so the outcome depends on the process's own zone; those
 *   cases are moved forward here instead ("next friday" and "last friday" counted here too, "last" not moved at all);
 * - its DST-dependent abbreviations (ET, CT, MT, PT, CET) are decided with the process's own zone; they are read
 *   here with the rules of the zone they stand for.
 *
 * One reading of chrono's is refused rather than corrected: a clock time from 1 to 7 without am or pm ("tomorrow at 3",
 * "friday 4:30"), which chrono takes as the morning. A rep almost always means the afternoon, and a call to a customer
 * at 3 AM is the worst mistake this can make; the refusal offers the am, pm and 24-hour spellings.
 *
 * Nothing here depends on the process's `TZ`.
 */
import type { ParsedComponents } from 'chrono-node';
// The English parser alone (the one `chrono-node`'s own `parse` uses): the package root loads 15 more languages.
import * as chrono from 'chrono-node/en';
import { CallRequestError } from './errors.js';
import { listWords } from './listing.js';

export type When =
  | { kind: 'now' }
  | { kind: 'scheduled'; at: Date; timeZone: string; zoneSource: 'requester' | 'phrase'; phrase: string };

export interface WhenContext {
  now: Date;
  /** The requester's IANA zone, e.g. `America/Los_Angeles`. */
  timeZone: string;
  maxScheduleDays: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** A time at most this far in the past is taken as "now" (the rep typed "10:00" at 10:00:30). */
const NOW_GRACE_MS = 60_000;

const NOW_PHRASE = /^(?:now|right now|immediately|asap)[.!]?$/i;
/** Words that may stand around the part chrono understood without changing its meaning. */
const FILLERS = new Set(['at', 'on', 'the', 'in']);
/** chrono's abbreviations whose offset depends on DST, with the zone whose rules they follow. */
const DST_ABBREVIATIONS: Record<string, string> = {
  ET: 'America/New_York',
  CT: 'America/Chicago',
  MT: 'America/Denver',
  PT: 'America/Los_Angeles',
  CET: 'Europe/Paris',
};
/**
 * Clock hours that chrono reads as the morning when no am or pm is written, and that are refused then: "3" is far more
 * likely 3pm. From 8 to 11 the morning is a normal time to call, and chrono's reading stands; 12 is noon.
 */
const AMBIGUOUS_HOURS = { first: 1, last: 7 };
/** What to suggest when nothing better comes from the requester's words: checked like any suggestion. */
const FALLBACK_EXAMPLES = ['tomorrow 10am', 'in 2 hours'];

// ---------------------------------------------------------------------------------------------------------------
// Zones

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, fmt);
  }
  return fmt;
}

/** The canonical spelling of an IANA zone name Intl accepts (any case), or undefined. */
const canonicalZones = new Map<string, string | undefined>();

/** The canonical name of a zone, or undefined when Intl does not know it. Cached: building a formatter is costly. */
function canonicalTimeZone(name: string): string | undefined {
  if (name.trim() === '') return undefined;
  if (canonicalZones.has(name)) return canonicalZones.get(name);
  let canonical: string | undefined;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    canonical = undefined;
  }
  if (canonical !== undefined) canonical = CURRENT_ZONE_NAMES[canonical] ?? canonical;
  if (canonicalZones.size < 5000) canonicalZones.set(name, canonical);
  return canonical;
}

/**
 * Zones the IANA database renamed, by the old name Node's ICU still gives as canonical (`Asia/Kolkata` comes back as
 * `Asia/Calcutta`): the name people use now is the one shown. Intl accepts both.
 */
const CURRENT_ZONE_NAMES: Readonly<Record<string, string>> = {
  'Asia/Calcutta': 'Asia/Kolkata',
  'Europe/Kiev': 'Europe/Kyiv',
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Asia/Rangoon': 'Asia/Yangon',
  'Asia/Katmandu': 'Asia/Kathmandu',
  'America/Godthab': 'America/Nuuk',
  'Africa/Asmera': 'Africa/Asmara',
  'Atlantic/Faeroe': 'Atlantic/Faroe',
  'Pacific/Truk': 'Pacific/Chuuk',
  'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Enderbury': 'Pacific/Kanton',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
};

/** True for a zone name Intl accepts (`Europe/London`, `UTC`); false for `Mars/Olympus`, `PST8`, ''. */
export function isValidTimeZone(name: string): boolean {
  return canonicalTimeZone(name) !== undefined;
}

interface Wall {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/** `11/28/2026, 06:38:43`: what the formatter writes in en-US with a 24-hour clock. */
const EN_US_NUMERIC = /^(\d{1,2})\/(\d{1,2})\/(\d{4}), (\d{2}):(\d{2}):(\d{2})$/;

function wallAt(at: Date, timeZone: string): Wall {
  const fmt = partsFormatter(timeZone);
  const millisecond = ((at.getTime() % 1000) + 1000) % 1000;
  // The formatted string, read back, is about four times cheaper than `formatToParts` (this runs a dozen times per
  // call); anything not in the expected shape (a year before 1000, another ICU) goes through the parts instead.
  const m = EN_US_NUMERIC.exec(fmt.format(at));
  if (m) {
    return {
      year: Number(m[3]),
      month: Number(m[1]),
      day: Number(m[2]),
      hour: Number(m[4]),
      minute: Number(m[5]),
      second: Number(m[6]),
      millisecond,
    };
  }
  const fields: Record<string, number> = {};
  for (const part of fmt.formatToParts(at)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year ?? Number.NaN,
    month: fields.month ?? Number.NaN,
    day: fields.day ?? Number.NaN,
    hour: fields.hour ?? Number.NaN,
    minute: fields.minute ?? Number.NaN,
    second: fields.second ?? Number.NaN,
    millisecond,
  };
}

function wallToUtcMs(w: Wall): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);
}

function utcMsToWall(ms: number): Wall {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
  };
}

/** The zone's offset from UTC at `at`, in minutes: -420 for Los Angeles in summer, 330 for Kolkata. */
export function zoneOffsetMinutes(at: Date, timeZone: string): number {
  const w = wallAt(at, timeZone);
  return Math.round((wallToUtcMs(w) - at.getTime()) / MINUTE_MS);
}

/** How a wall-clock time becomes an instant: with an IANA zone's rules, or with a fixed offset ("10am PST"). */
type ZoneRule = { kind: 'iana'; name: string } | { kind: 'fixed'; minutes: number };

function offsetAt(ms: number, rule: ZoneRule): number {
  return rule.kind === 'fixed' ? rule.minutes : zoneOffsetMinutes(new Date(ms), rule.name);
}

function wallIn(at: Date, rule: ZoneRule): Wall {
  return rule.kind === 'fixed' ? utcMsToWall(at.getTime() + rule.minutes * MINUTE_MS) : wallAt(at, rule.name);
}

/**
 * The instant a wall-clock time stands for in the zone. A time that happens twice (the hour repeated when DST ends)
 * is the first of the two; a time that does not exist (the hour skipped when DST starts) is moved forward by the
 * gap: 02:30 on the day Los Angeles skips to 03:00 is 03:30 PDT. (Temporal's "compatible" choice.)
 */
function wallToInstant(w: Wall, rule: ZoneRule): Date {
  const local = wallToUtcMs(w);
  if (rule.kind === 'fixed') return new Date(local - rule.minutes * MINUTE_MS);
  const before = offsetAt(local - DAY_MS, rule);
  const after = offsetAt(local + DAY_MS, rule);
  const candidates = [...new Set([before, after])]
    .map((offset) => local - offset * MINUTE_MS)
    .filter((ms) => offsetAt(ms, rule) * MINUTE_MS === local - ms)
    .sort((a, b) => a - b);
  return new Date(candidates[0] ?? local - before * MINUTE_MS);
}

/** The same time of day `days` calendar days later (month and year carry over). */
function addDays(w: Wall, days: number): Wall {
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day + days));
  return { ...w, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function weekdayOf(w: Wall): number {
  return new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay();
}

// ---------------------------------------------------------------------------------------------------------------
// Display

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const zoneNameFormatters = new Map<string, Intl.DateTimeFormat>();

function zoneAbbreviation(at: Date, timeZone: string): string {
  let fmt = zoneNameFormatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' });
    zoneNameFormatters.set(timeZone, fmt);
  }
  return fmt.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * `Sat 28 Nov 2026, 10:00 PST (America/Los_Angeles)`: English names from fixed tables (not the machine's locale
 * data), a 24-hour clock, the zone's short name as Intl gives it in en-US (`PST`, `GMT+1`, `UTC`) and the IANA name.
 */
export function describeInZone(at: Date, timeZone: string): string {
  const w = wallAt(at, timeZone);
  return `${dayInWords(w)}, ${pad2(w.hour)}:${pad2(w.minute)} ${zoneAbbreviation(at, timeZone)} (${timeZone})`;
}

/** `Sat 28 Nov 2026`: a wall-clock day in the English names of the tables above. */
function dayInWords(w: Wall): string {
  return `${WEEKDAYS[weekdayOf(w)]} ${w.day} ${MONTHS[w.month - 1]} ${w.year}`;
}

/**
 * A Slack date token: each reader sees the time in their own zone; clients that cannot render it show the fallback,
 * written in `fallbackZone`.
 */
export function slackDateToken(at: Date, fallbackZone: string): string {
  const unix = Math.floor(at.getTime() / 1000);
  return `<!date^${unix}^{date_short_pretty} at {time}|${escapeMrkdwn(describeInZone(at, fallbackZone))}>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading a phrase

function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The requester's words, quoted back in a message: escaped for mrkdwn and cut if very long. */
function quote(text: string): string {
  const short = text.length > 80 ? `${text.slice(0, 79)}…` : text;
  return `“${escapeMrkdwn(short)}”`;
}

function example(text: string): string {
  return `\`at "${escapeMrkdwn(text.replace(/[`"]/g, ''))}"\``;
}

/**
 * Writes the suggestion in a refusal: the first of `candidates` that resolveWhen accepts, else those of `fallback` it
 * accepts (else "in 2 hours"; with an empty `fallback`, nothing: ''). A suggestion the requester copies must not be
 * refused in turn ("tomorrow" has no time of day, "today 9am" may be gone, "2026-12-01 09:30" may be too far ahead).
 */
type Suggest = (candidates: readonly (string | undefined)[], fallback?: readonly string[]) => string;

/** Suggest for a phrase being checked as a suggestion: nothing, so that checking never recurses. */
const NO_SUGGESTION: Suggest = () => '';

function suggester(ctx: WhenContext): Suggest {
  return (candidates, fallback = FALLBACK_EXAMPLES) => {
    const first = candidates.find((text) => text !== undefined && accepts(text, ctx));
    if (first !== undefined) return example(first);
    if (fallback.length === 0) return '';
    const accepted = fallback.filter((text) => accepts(text, ctx));
    // "in 2 hours" is accepted whenever a call can be scheduled at all (at least a day ahead).
    return listWords((accepted.length > 0 ? accepted : ['in 2 hours']).map(example), 'or');
  };
}

function accepts(phrase: string, ctx: WhenContext): boolean {
  try {
    read(phrase, ctx, NO_SUGGESTION);
    return true;
  } catch (err) {
    if (err instanceof CallRequestError) return false;
    throw err;
  }
}

function fail(message: string): never {
  throw new CallRequestError('when', message);
}

/**
 * Finds an IANA zone name written in the phrase ("9:00 Europe/London", any case) and returns the phrase without it.
 * Only tokens with a `/` count: bare `EST` or `UTC` are chrono's abbreviations, read by chrono.
 */
function extractZone(phrase: string, suggest: Suggest): { rest: string; zone: string | undefined } {
  const found: { token: string; zone: string }[] = [];
  for (const raw of phrase.split(/\s+/)) {
    // "@" as in "3pm @Europe/London".
    const token = raw.replace(/^[(,@]+|[),.]+$/g, '');
    if (!token.includes('/')) continue;
    const zone = canonicalTimeZone(token);
    if (zone) found.push({ token: raw, zone });
  }
  if (found.length > 1) {
    fail(
      `${quote(phrase)} names more than one time zone (${found.map((f) => quote(f.zone)).join(', ')}). ` +
        `Give one, e.g. ${suggest([`tomorrow 10am ${found[0]?.zone}`])}.`,
    );
  }
  const first = found[0];
  if (!first) return { rest: phrase, zone: undefined };
  return { rest: phrase.replace(first.token, ' '), zone: first.zone };
}

/**
 * The part chrono understood as a phrase of its own: "at 10am" is "10am" (`at "at 10am"` reads badly). Only "at" and
 * "on" go: "in" is part of "in 2 days".
 */
function withoutFillers(text: string): string {
  return text.trim().replace(/^(?:(?:at|on)\s+)+(?=\S)/i, '');
}

/** The words around the part chrono understood, other than fillers. */
function leftoverWords(text: string, result: chrono.ParsedResult): string[] {
  const around = `${text.slice(0, result.index)} ${text.slice(result.index + result.text.length)}`;
  return around.split(/[\s,.]+/).filter((word) => word !== '' && !FILLERS.has(word.toLowerCase()));
}

/**
 * The word that moves a weekday ("next friday", "friday of last week"), as chrono reads it. "this friday" is the
 * bare "friday": chrono reads it as today or later, and the bare weekday here is the same, never the one just gone.
 */
function weekdayModifier(text: string): 'next' | 'last' | undefined {
  const word = /\b(next|last|past)\b/i.exec(text)?.[1]?.toLowerCase();
  if (word === 'next') return 'next';
  return word === 'last' || word === 'past' ? 'last' : undefined;
}

/**
 * How many days from `today` (0 = Sunday) the weekday is, as chrono counts them (calculation/weekdays.js), but
 * from the requester's day rather than a reference shifted into the process's zone:
 * - bare or "this": the next one, today included (moved a week on by the caller when the time is gone);
 * - "next": the one in next week, weeks from Monday ("next monday" on a Wednesday is in 5 days, "next friday" in 9);
 * - "last": the one before today, so in the past (a week ago on the same weekday).
 */
function daysToWeekday(weekday: number, today: number, modifier: 'next' | 'last' | undefined): number {
  const ahead = (weekday - today + 7) % 7;
  if (modifier === 'last') return ahead - 7;
  if (modifier === 'next') return ((1 - today + 7) % 7 || 7) + ((weekday + 6) % 7);
  return ahead;
}

function certainWeekdayOnly(c: ParsedComponents): boolean {
  return c.isCertain('weekday') && !c.isCertain('day') && !c.isCertain('month') && !c.isCertain('year');
}

function timeOnly(c: ParsedComponents): boolean {
  return !c.isCertain('weekday') && !c.isCertain('day') && !c.isCertain('month') && !c.isCertain('year');
}

function componentsWall(c: ParsedComponents): Wall {
  const get = (name: chrono.Component, fallback: number): number => c.get(name) ?? fallback;
  return {
    year: get('year', Number.NaN),
    month: get('month', Number.NaN),
    day: get('day', Number.NaN),
    hour: get('hour', 12),
    minute: get('minute', 0),
    second: get('second', 0),
    millisecond: get('millisecond', 0),
  };
}

/**
 * The instant for chrono's wall-clock reading in `rule`, moved forward the way `forwardDate` means it ("10am" after
 * 10am is tomorrow, "friday" on a Saturday is next week, "Dec 3" in December after the 3rd is next year). chrono's own
 * forward move is redone here from `now` in the zone, because for weekdays and dates without a year it depends on the
 * process's zone.
 */
function resolveWall(result: chrono.ParsedResult, rule: ZoneRule, now: Date): Date {
  const c = result.start;
  let wall = componentsWall(c);
  const today = wallIn(now, rule);
  const isPast = (w: Wall): boolean => wallToInstant(w, rule).getTime() < now.getTime() - NOW_GRACE_MS;

  if (timeOnly(c)) {
    wall = { ...wall, year: today.year, month: today.month, day: today.day };
    if (isPast(wall)) wall = addDays(wall, 1);
  } else if (certainWeekdayOnly(c)) {
    // chrono counts the days to the weekday, then its forward move compares the zone-shifted reference with the
    // real instant: "this monday 3pm" asked at 14:00 Monday in Berlin was next week's on a UTC machine. So the days
    // are counted here, from the requester's day, with "this", "next" and "last" meaning what chrono means by them.
    const weekday = c.get('weekday') ?? weekdayOf(wall);
    const modifier = weekdayModifier(result.text);
    wall = addDays(
      { ...wall, year: today.year, month: today.month, day: today.day },
      daysToWeekday(weekday, weekdayOf(today), modifier),
    );
    // Only a bare weekday moves on: "next friday" is already ahead, and "last friday" is meant in the past (refused).
    if (modifier === undefined && isPast(wall)) wall = addDays(wall, 7);
  } else if (c.isCertain('month') && !c.isCertain('year')) {
    wall = { ...wall, year: today.year };
    if (isPast(wall)) wall = { ...wall, year: today.year + 1 };
  }
  return wallToInstant(wall, rule);
}

/**
 * The instant for a relative time ("in 2 hours", "in 90 minutes"): now plus the duration, exactly. chrono adds the
 * duration with local-time Date arithmetic in the process's zone, which is an hour off when the result lands in that
 * zone's own DST gap (TZ=America/New_York, "in 2 hours" at 00:30Z on 8 March 2026 gave 03:30Z). Gaps are months apart,
 * so the duration is also measured from a week later and a week earlier, and the value at least two agree on wins.
 */
function relativeInstant(text: string, now: Date, offset: number): Date {
  const measure = (days: number): number => {
    const instant = new Date(now.getTime() + days * DAY_MS);
    const again = chrono.parse(text, { instant, timezone: offset }, { forwardDate: true })[0];
    return again ? again.date().getTime() - instant.getTime() : Number.NaN;
  };
  const here = measure(0);
  // Where the process's zone keeps one offset from now to then (UTC, as servers mostly run), there is no gap to land
  // in: chrono's arithmetic is exact, and one reading is enough. chrono works on the time shifted into the requester's
  // offset, up to 26 hours away from the process's: the window is widened by that much on both sides.
  // Only for spans a call can be scheduled in (at most a year and a bit): the check walks the span in 6-hour steps,
  // and "in 876000 hours" would take tens of milliseconds before being refused as too far.
  const shift = 27 * 3_600_000;
  if (
    Number.isFinite(here) &&
    Math.abs(here) <= STEADY_CHECK_MAX_MS &&
    steadyLocalOffset(now.getTime() - shift, now.getTime() + here + shift)
  ) {
    return new Date(now.getTime() + here);
  }
  const later = measure(7);
  const earlier = measure(-7);
  const agreed = here === later || here === earlier ? here : later === earlier ? later : here;
  return new Date(now.getTime() + (agreed ?? Number.NaN));
}

/** The longest span checked for a steady offset: more than the longest a call can be scheduled ahead (365 days). */
const STEADY_CHECK_MAX_MS = 400 * DAY_MS;

/**
 * Whether the process's own zone (`TZ`) has the same UTC offset throughout [from, to], looked at every 6 hours (offset
 * changes are months apart, and a gap or an overlap lasts an hour or so, but the check also covers both ends exactly).
 */
function steadyLocalOffset(from: number, to: number): boolean {
  const [start, end] = from <= to ? [from, to] : [to, from];
  const offset = new Date(start).getTimezoneOffset();
  for (let t = start; t < end; t += 6 * 3_600_000)
    if (new Date(t).getTimezoneOffset() !== offset) return false;
  return new Date(end).getTimezoneOffset() === offset;
}

/** chrono's DST-dependent abbreviation at the end of the understood text ("10am ET"), as the IANA zone it follows. */
function dstAbbreviationZone(text: string): string | undefined {
  const match = /(?:^|[\s,(])\(?([A-Za-z]{2,4})\)?$/.exec(text);
  return match?.[1] ? DST_ABBREVIATIONS[match[1].toUpperCase()] : undefined;
}

/**
 * The requester's words with a time of day added ("tomorrow" → "tomorrow 10am"), for a suggestion (checked by
 * Suggest, which drops it when "10am" doesn't fit). None when the words have a time of day already, or a vague one
 * ("tonight 10am" would be read as 10:00 today, not what was meant).
 */
function withTimeOfDay(
  text: string,
  result: chrono.ParsedResult,
  zone: string | undefined,
): string | undefined {
  if (result.start.isCertain('hour')) return undefined;
  if (saysPartOfDay(result)) return undefined;
  return withZone(`${withoutFillers(text)} 10am`, zone);
}

/** Whether the words name a part of the day ("tonight", "this evening", "tomorrow morning", "noon"). */
function saysPartOfDay(result: chrono.ParsedResult): boolean {
  const tags = result.tags();
  return tags.has('parser/ENCasualTimeParser') || tags.has('casualReference/tonight');
}

/**
 * A clock time as written: "3", "4:30", "3.30", "3:15:30", "3 o'clock", "03:00"; not a part of a date ("2026-12-01",
 * "12/1") or of a longer number.
 */
const CLOCK_TIME =
  /(?<![\d:/-])(?<!\d\.)(\d{1,2})(?:[:.](\d{2})(?::\d{2})?)?(?:\s*o['’]?\s*clock)?(?![\d:/-]|\.\d)/gi;

interface ClockTime {
  index: number;
  text: string;
  /** Written with a leading zero ("03:00", "07:30"): 24-hour time, meant as written. */
  leadingZero: boolean;
}

/**
 * Where in `text` the clock time chrono read as `hour`:`minute` is written. Of several that fit ("Dec 3 at 3"), one
 * with minutes or "o'clock" first, then one after "at", then the last.
 */
function findClockTime(text: string, hour: number, minute: number): ClockTime | undefined {
  let best: { time: ClockTime; rank: number } | undefined;
  for (const match of text.matchAll(CLOCK_TIME)) {
    const [written, hours = '', minutes] = match;
    if (Number(hours) !== hour || Number(minutes ?? 0) !== minute) continue;
    const index = match.index ?? 0;
    const rank = written !== hours ? 2 : /\bat\s+$/i.test(text.slice(0, index)) ? 1 : 0;
    if (best === undefined || rank >= best.rank) {
      best = {
        time: { index, text: written, leadingZero: hours.length === 2 && hours.startsWith('0') },
        rank,
      };
    }
  }
  return best?.time;
}

/**
 * Whether chrono's reading is a morning hour it guessed: 1 to 7 with no am or pm written ("tomorrow at 3", "4:30",
 * "3 o'clock"). Not when the words say the part of the day ("tomorrow morning at 7", "tonight at 3" is 15:00 anyway),
 * nor for 24-hour time with a leading zero ("03:00", "2026-12-01 07:30") or an ISO time ("2026-12-01T03:00").
 */
function guessedMorning(result: chrono.ParsedResult): boolean {
  const c = result.start;
  const hour = c.get('hour');
  if (hour === null || hour < AMBIGUOUS_HOURS.first || hour > AMBIGUOUS_HOURS.last) return false;
  if (c.isCertain('meridiem') || saysPartOfDay(result) || result.tags().has('parser/ISOFormatParser'))
    return false;
  const written = findClockTime(result.text, hour, c.get('minute') ?? 0);
  // No clock time found in the words to show it was 24-hour time: refused too, a call at night being the worse mistake.
  return !written?.leadingZero;
}

/**
 * Refuses a clock time without am or pm, with the requester's words spelled three ways (pm, am and 24-hour time), each
 * only if accepted. `rewrite` gives the requester's words with the time written as given, or undefined.
 */
function refuseWithoutMeridiem(
  original: string,
  hour: number,
  minute: number,
  rewrite: (time: string) => string | undefined,
  suggest: Suggest,
): never {
  const clock = (h: number): string => (minute === 0 ? `${h}` : `${h}:${pad2(minute)}`);
  const pm = suggest([rewrite(`${clock(hour)}pm`)], []);
  const am = suggest([rewrite(`${clock(hour)}am`)], []);
  const h24 = suggest([rewrite(`${hour + 12}:${pad2(minute)}`)], []);
  const ways = [pm, am, h24 && `24-hour time ${h24}`].filter((way) => way !== '');
  const [first, ...others] = ways;
  const fix =
    first === undefined
      ? `Write the time with am or pm, e.g. ${suggest([], [`tomorrow ${clock(hour)}pm`, `tomorrow ${clock(hour)}am`])}.`
      : `Write ${first}${others.length > 0 ? ` (or ${others.join(', or ')})` : ''}.`;
  fail(`${quote(original)} doesn't say am or pm. ${fix}`);
}

/** A phrase with the zone the requester named in it, so that a suggestion keeps that zone. */
function withZone(text: string, zone: string | undefined): string {
  return zone ? `${text} ${zone}` : text;
}

/**
 * Suggestions from what chrono understood: each part as it is, then each with a time of day added ("tomorrow and
 * friday 3pm" suggests "friday 3pm" before "tomorrow 10am").
 */
function understoodCandidates(
  results: chrono.ParsedResult[],
  zone: string | undefined,
): (string | undefined)[] {
  return [
    ...results.map((r) => withZone(withoutFillers(r.text), zone)),
    ...results.map((r) => withTimeOfDay(r.text, r, zone)),
  ];
}

/**
 * The hour left out of chrono's reading when the requester's words are a day and a bare number ("tomorrow 3", "friday
 * 9", "3 tomorrow", "this evening 6"), or undefined. "03" is 24-hour time, not a bare hour.
 */
function bareHourAfter(result: chrono.ParsedResult, leftover: string[]): number | undefined {
  const [word] = leftover;
  if (leftover.length !== 1 || word === undefined || !/^(?:[1-9]|1[0-2])$/.test(word)) return undefined;
  return result.start.isCertain('hour') ? undefined : Number(word);
}

/**
 * How chrono's wall-clock reading becomes an instant: in the zone the text names ("10am PST"; "10am ET" with New York's
 * rules), else in `zone` (the one written as an IANA name, else the requester's).
 */
function zoneRule(result: chrono.ParsedResult, zone: string): ZoneRule {
  if (!result.start.isCertain('timezoneOffset')) return { kind: 'iana', name: zone };
  const dstZone = dstAbbreviationZone(result.text);
  return dstZone
    ? { kind: 'iana', name: dstZone }
    : { kind: 'fixed', minutes: result.start.get('timezoneOffset') ?? 0 };
}

/** `30 days`, `1 day`: the scheduling limit in words. */
function scheduleDays(ctx: WhenContext): string {
  return `${ctx.maxScheduleDays} day${ctx.maxScheduleDays === 1 ? '' : 's'}`;
}

/**
 * The end of a refusal for a time beyond the limit: the limit, the last moment it allows, and an example near it
 * that is accepted ("in 29 days 10am" when "in 30 days 10am" is a little too far), in the zone the requester named.
 */
function tooFarAdvice(ctx: WhenContext, suggest: Suggest, phraseZone: string | undefined): string {
  const last = new Date(ctx.now.getTime() + ctx.maxScheduleDays * DAY_MS);
  const inDays = (n: number): string | undefined =>
    n < 1 ? undefined : withZone(`in ${n} day${n === 1 ? '' : 's'} 10am`, phraseZone);
  const near = [inDays(ctx.maxScheduleDays), inDays(ctx.maxScheduleDays - 1)];
  return (
    `Calls can be scheduled at most ${scheduleDays(ctx)} ahead, up to ${describeInZone(last, ctx.timeZone)}: ` +
    `give a time before then, e.g. ${suggest(near)}.`
  );
}

/** Refuses `original`, read as `readAs` (a day, or a day and time), for being in the past. */
function failInPast(original: string, readAs: string, suggest: Suggest): never {
  fail(
    `${quote(original)} is in the past: I read it as ${readAs}. ` +
      `Give a time in the future, e.g. ${suggest(['tomorrow 10am'])}, or leave out \`at\` to call now.`,
  );
}

/**
 * Refuses a phrase whose day ("in 400 days", "next year", "yesterday", "in 400 days at 3") is wholly in the past or
 * wholly beyond the scheduling limit, whatever the hour: for a phrase without a time of day (or without am or pm),
 * chrono's hour is a stand-in, and it is the day that decides.
 */
function checkDay(
  original: string,
  result: chrono.ParsedResult,
  rule: ZoneRule,
  ctx: WhenContext,
  suggest: Suggest,
  phraseZone: string | undefined,
): void {
  const day = {
    ...wallIn(resolveWall(result, rule, ctx.now), rule),
    hour: 0,
    minute: 0,
    second: 0,
    millisecond: 0,
  };
  const date = dayInWords(day);
  const start = wallToInstant(day, rule).getTime();
  const end = wallToInstant(addDays(day, 1), rule).getTime();
  if (end <= ctx.now.getTime() - NOW_GRACE_MS) failInPast(original, date, suggest);
  if (start - ctx.now.getTime() > ctx.maxScheduleDays * DAY_MS) {
    fail(
      `${quote(original)} is on ${date}, more than ${scheduleDays(ctx)} from now. ` +
        tooFarAdvice(ctx, suggest, phraseZone),
    );
  }
}

/**
 * Reads `phrase` (the text after `at`) as `now` or a time to place the call. Throws `CallRequestError('when', …)` for
 * a phrase that can't be read as exactly one future time of day within `maxScheduleDays`.
 */
export function resolveWhen(phrase: string | undefined, ctx: WhenContext): When {
  return read(phrase, ctx, suggester(ctx));
}

function read(phrase: string | undefined, ctx: WhenContext, suggest: Suggest): When {
  const original = (phrase ?? '').trim();
  if (original === '' || NOW_PHRASE.test(original)) return { kind: 'now' };
  if (!isValidTimeZone(ctx.timeZone)) throw new RangeError(`Unknown time zone: ${ctx.timeZone}`);

  const { rest: unspelled, zone: phraseZone } = extractZone(original, suggest);
  // "@" is "at": chrono joins a date and a time across "at" ("tomorrow at 3pm") but takes "tomorrow @ 3pm" for two
  // times.
  const rest = unspelled.replace(/\s*@\s*/g, ' at ');
  const zone = phraseZone ?? ctx.timeZone;
  // chrono ignores IANA names; an offset is right for `now`, and resolveWall redoes the wall clock for the target.
  const results = chrono.parse(
    rest,
    { instant: ctx.now, timezone: zoneOffsetMinutes(ctx.now, zone) },
    { forwardDate: true },
  );

  const result = results[0];
  if (!result) {
    // An ISO example the requester can use as it is: tomorrow's date, not a fixed one that goes out of range.
    const tomorrow = addDays(wallAt(ctx.now, ctx.timeZone), 1);
    const iso = `${tomorrow.year}-${pad2(tomorrow.month)}-${pad2(tomorrow.day)} 09:30`;
    fail(
      `I couldn't read ${quote(original)} as a time. ` +
        `Try ${suggest([], ['tomorrow 10am', 'in 2 hours', 'friday 3pm', iso])}.`,
    );
  }
  if (results.length > 1) {
    fail(
      `I found more than one time in ${quote(original)} (${results.map((r) => quote(r.text)).join(', ')}). ` +
        `Give one, e.g. ${suggest(understoodCandidates(results, phraseZone))}.`,
    );
  }
  const leftover = leftoverWords(rest, result);
  if (leftover.length > 0) {
    const understood = withoutFillers(result.text);
    const withTime = (time: string): string => withZone(`${understood} ${time}`, phraseZone);
    // A bare hour after a day ("tomorrow 3", "friday 9", "this evening 6"): chrono leaves the number out.
    const bareHour = bareHourAfter(result, leftover);
    const partOfDay = saysPartOfDay(result);
    if (
      bareHour !== undefined &&
      !partOfDay &&
      bareHour >= AMBIGUOUS_HOURS.first &&
      bareHour <= AMBIGUOUS_HOURS.last
    ) {
      refuseWithoutMeridiem(original, bareHour, 0, withTime, suggest);
    }
    if (bareHour !== undefined && !partOfDay) {
      // From 8 on, the hour is read as "tomorrow at 9" and "tomorrow 10" are (chrono reads two-digit hours only): 8 to
      // 11 are the morning, 12 is noon. Anything wrong with that time (gone, too far) is said of it.
      const spelled = withTime(bareHour === 12 ? '12pm' : `${bareHour}am`);
      let when: When;
      try {
        when = read(spelled, ctx, suggest);
      } catch (err) {
        if (!(err instanceof CallRequestError)) throw err;
        fail(err.userMessage.replace(quote(spelled), quote(original)));
      }
      return when.kind === 'scheduled' ? { ...when, phrase: original } : when;
    }
    const bareHourCandidates = bareHour === undefined ? [] : [withTime(`at ${bareHour}`)];
    fail(
      `In ${quote(original)} I understood ${quote(result.text)} as a time, but not ${quote(leftover.join(' '))}. ` +
        `Write only the time, e.g. ${suggest([...bareHourCandidates, ...understoodCandidates([result], phraseZone)])}.`,
    );
  }
  if (result.end) {
    fail(
      `${quote(original)} is a range of times. Give the one to call at, e.g. ${suggest(['tomorrow 10am'])}.`,
    );
  }

  const relative = result.tags().has('result/relativeDateAndTime');
  const hourless = !relative && !result.start.isCertain('hour');
  if (hourless || (!relative && guessedMorning(result))) {
    // Whatever hour is meant, a day wholly gone or wholly beyond the limit is refused for that: asking for the hour
    // (or for am or pm) would send the requester to fix the wrong thing ("in 400 days 10am" is still too far).
    checkDay(original, result, zoneRule(result, zone), ctx, suggest, phraseZone);
  }
  if (hourless) {
    fail(
      `${quote(original)} doesn't say the time of day, and I won't guess the hour for a call. ` +
        `Add one, e.g. ${suggest([withTimeOfDay(rest, result, phraseZone)], ['tomorrow 9am', 'today 7pm'])}.`,
    );
  }

  if (!relative && guessedMorning(result)) {
    const hour = result.start.get('hour') ?? 0;
    const minute = result.start.get('minute') ?? 0;
    const written = findClockTime(result.text, hour, minute);
    const rewrite = (time: string): string | undefined =>
      written &&
      withZone(
        withoutFillers(
          `${result.text.slice(0, written.index)}${time}${result.text.slice(written.index + written.text.length)}`,
        ),
        phraseZone,
      );
    refuseWithoutMeridiem(original, hour, minute, rewrite, suggest);
  }

  let at: Date;
  let zoneSource: 'requester' | 'phrase' = phraseZone ? 'phrase' : 'requester';
  if (relative) {
    // "in 2 hours" is elapsed time: exactly 2 hours later, whatever DST does in between.
    at = relativeInstant(result.text, ctx.now, zoneOffsetMinutes(ctx.now, zone));
  } else {
    if (result.start.isCertain('timezoneOffset')) {
      // An explicit zone in the text ("10am PST", "…T09:30:00Z") wins over the requester's.
      if (phraseZone) {
        fail(
          `${quote(original)} names two time zones. Give one, e.g. ${suggest([`tomorrow 10am ${phraseZone}`])}.`,
        );
      }
      zoneSource = 'phrase';
    }
    at = resolveWall(result, zoneRule(result, zone), ctx.now);
  }

  const fromNow = at.getTime() - ctx.now.getTime();
  if (fromNow < -NOW_GRACE_MS) failInPast(original, describeInZone(at, ctx.timeZone), suggest);
  if (fromNow <= 0) return { kind: 'now' };
  if (fromNow > ctx.maxScheduleDays * DAY_MS) {
    fail(
      `${quote(original)} is ${describeInZone(at, ctx.timeZone)}, more than ${scheduleDays(ctx)} from now. ` +
        tooFarAdvice(ctx, suggest, phraseZone),
    );
  }
  return { kind: 'scheduled', at, timeZone: phraseZone ?? ctx.timeZone, zoneSource, phrase: original };
}
