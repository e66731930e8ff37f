/**
 * Calling hours: the local times of day and days of the week at which the person called may be rung, and whether a
 * call may start at a given instant.
 *
 * A number may be in more than one zone (a +1 907 number is in Adak or Anchorage time; a +1 800 number anywhere in
 * North America). The strictest reading wins: a call may start only when it is within the window in every zone the
 * number may be in.
 *
 * Local times come from Intl, instant by instant, so daylight-saving changes are right whichever way the clocks go.
 * Nothing here depends on the process's `TZ`.
 */
import type { When } from './when.js';
import { isValidTimeZone, zoneOffsetMinutes } from './when.js';

export interface CallingWindow {
  /** Minutes after local midnight, 0–1439. */
  startMinute: number;
  /** Minutes after local midnight, exclusive, greater than `startMinute`; at most 1440 (midnight at the day's end). */
  endMinute: number;
  /** Allowed local weekdays: 0 = Sunday … 6 = Saturday. */
  days: ReadonlySet<number>;
}

export type WindowCheck =
  | { ok: true }
  | {
      ok: false;
      /** The earliest instant ≥ `startAt` within the window in every zone; undefined when none in the next 14 days. */
      nextAllowed?: Date;
      /** The zones checked, as given (without repeats). */
      zones: string[];
      /** True when the number may be in more than one zone. */
      uncertain: boolean;
      /** Each zone's local time at `startAt` (`Sat 06:00`), and whether that time is within the window. */
      localTimes: { zone: string; at: string; inWindow: boolean }[];
    };

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;
/** How far ahead `nextAllowed` is looked for. */
const HORIZON_DAYS = 14;

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const SHORT_DAY_NAMES = DAY_NAMES.map((name) => name.slice(0, 3));
const ALL_DAYS: ReadonlySet<number> = new Set([0, 1, 2, 3, 4, 5, 6]);

// ---------------------------------------------------------------------------------------------------------------
// Reading settings

const HOURS_FORMAT = 'HH:MM-HH:MM on a 24-hour clock, e.g. "08:00-21:00" (or "8-21")';
const HOURS = /^(\d{1,2})(?::(\d{2}))?\s*[-\u2010-\u2015]\s*(\d{1,2})(?::(\d{2}))?$/;

/**
 * Reads calling hours written `HH:MM-HH:MM` on a 24-hour clock (`08:00-21:00`, `8:30-17:45`) or as whole hours
 * (`8-21`); an en dash (`08:00–21:00`, as `describeWindow` writes them) is accepted too. The end is exclusive and may
 * be `24:00`; the window can't cross midnight. Throws an Error saying what is wrong and naming the accepted format.
 */
export function parseCallingHours(text: string): { startMinute: number; endMinute: number } {
  const typed = text.trim();
  const match = HOURS.exec(typed);
  if (!match) {
    const clock = /[ap]\.?m\.?\b/i.test(typed)
      ? ' Use the 24-hour clock: 8am is 08:00 and 9pm is 21:00.'
      : '';
    throw new Error(`Calling hours "${typed}" are not in the form ${HOURS_FORMAT}.${clock}`);
  }
  const startMinute = minuteOfDay(typed, match[1], match[2], false);
  const endMinute = minuteOfDay(typed, match[3], match[4], true);
  if (endMinute <= startMinute) {
    throw new Error(
      `Calling hours "${typed}" end before they start. Give the start first, e.g. "08:00-21:00"; ` +
        'the hours can\'t run past midnight (use "24:00" for midnight at the end of the day).',
    );
  }
  return { startMinute, endMinute };
}

function minuteOfDay(
  typed: string,
  hourText: string | undefined,
  minuteText: string | undefined,
  isEnd: boolean,
): number {
  const hour = Number(hourText ?? '');
  const minute = Number(minuteText ?? '0');
  const midnightAtEnd = isEnd && hour === 24 && minute === 0;
  if (!midnightAtEnd && (hour > 23 || minute > 59)) {
    const written = `${hourText ?? ''}:${minuteText ?? '00'}`;
    throw new Error(
      `Calling hours "${typed}": ${written} is not a time of day (hours 0-23, minutes 00-59). ` +
        `Write them ${HOURS_FORMAT}.`,
    );
  }
  return hour * 60 + minute;
}

const DAY_FORMAT =
  'day names or ranges separated by commas, e.g. "mon-fri", "mon,tue,sat", "sun-thu" or "every day"';
const EVERY_DAY = new Set(['', 'all', 'daily', 'every day', 'everyday', 'all days', 'any', 'any day']);
const NAMED_SETS: Record<string, readonly number[]> = {
  weekdays: [1, 2, 3, 4, 5],
  weekends: [0, 6],
  weekend: [0, 6],
};

/**
 * Reads the days calls are allowed on: `every day` (also `all`, `daily` or nothing at all), `weekdays`, `weekends`,
 * or day names and ranges separated by commas or spaces (`mon-fri`, `mon,tue,sat`, `monday to friday`). Names are
 * three letters or in full, in any case. Ranges may wrap round the week (`fri-mon` is Friday to Monday). Throws an
 * Error saying what is wrong and naming the accepted format.
 */
export function parseCallingDays(text: string): ReadonlySet<number> {
  const typed = text.trim();
  const normalized = typed
    .toLowerCase()
    .replace(/[\u2010-\u2015]/g, '-')
    .replace(/\s+(?:to|through|thru)\s+/g, '-')
    .replace(/\s*-\s*/g, '-')
    .replace(/\s+/g, ' ');
  if (EVERY_DAY.has(normalized)) return new Set(ALL_DAYS);

  const days = new Set<number>();
  const items = normalized.split(/\s*,\s*|\s+/);
  for (const item of items) {
    if (item === '') {
      throw new Error(`Calling days "${typed}" have an empty item between commas. Write ${DAY_FORMAT}.`);
    }
    const named = NAMED_SETS[item];
    if (named) {
      for (const day of named) days.add(day);
      continue;
    }
    const ends = item.split('-');
    if (ends.length > 2)
      throw new Error(`Calling days "${typed}": "${item}" is not a range. Write ${DAY_FORMAT}.`);
    const [first = '', last] = ends;
    const from = dayNumber(typed, first);
    const to = last === undefined ? from : dayNumber(typed, last);
    for (let day = from; ; day = (day + 1) % 7) {
      days.add(day);
      if (day === to) break;
    }
  }
  return days;
}

function dayNumber(typed: string, name: string): number {
  const index = DAY_NAMES.findIndex((full) => {
    const lower = full.toLowerCase();
    return name === lower || name === lower.slice(0, 3);
  });
  if (index === -1) {
    throw new Error(
      `Calling days "${typed}": "${name}" is not a day. Use three-letter or full English day names; write ${DAY_FORMAT}.`,
    );
  }
  return index;
}

// ---------------------------------------------------------------------------------------------------------------
// Describing

const pad2 = (n: number): string => String(n).padStart(2, '0');

function clock(minute: number): string {
  return `${pad2(Math.floor(minute / 60))}:${pad2(minute % 60)}`;
}

/** `08:00–21:00, Monday to Friday`, `08:00–21:00, every day`, `09:00–17:00, Monday, Wednesday and Friday`. */
export function describeWindow(window: CallingWindow): string {
  return `${clock(window.startMinute)}\u2013${clock(window.endMinute)}, ${describeDays(window.days)}`;
}

function describeDays(days: ReadonlySet<number>): string {
  const allowed = [0, 1, 2, 3, 4, 5, 6].filter((day) => days.has(day));
  if (allowed.length === 7) return 'every day';
  if (allowed.length === 0) return 'no day';
  // Runs of consecutive days, round the week: Friday, Saturday, Sunday and Monday are one run.
  const runs: { first: number; length: number }[] = [];
  for (const day of allowed) {
    if (days.has((day + 6) % 7)) continue; // not the first day of its run
    let length = 1;
    while (days.has((day + length) % 7)) length++;
    runs.push({ first: day, length });
  }
  const items = runs.flatMap(({ first, length }) => {
    const name = (offset: number): string => DAY_NAMES[(first + offset) % 7] ?? '';
    if (length >= 3) return [`${name(0)} to ${name(length - 1)}`];
    return Array.from({ length }, (_, offset) => name(offset));
  });
  const last = items.pop() ?? '';
  return items.length === 0 ? last : `${items.join(', ')} and ${last}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Checking

interface LocalTime {
  /** Minutes after local midnight. */
  minute: number;
  weekday: number;
}

function localTime(ms: number, zone: string): LocalTime {
  const local = new Date(ms + zoneOffsetMinutes(new Date(ms), zone) * MINUTE_MS);
  return { minute: local.getUTCHours() * 60 + local.getUTCMinutes(), weekday: local.getUTCDay() };
}

function inWindow(local: LocalTime, window: CallingWindow): boolean {
  return (
    window.days.has(local.weekday) && local.minute >= window.startMinute && local.minute < window.endMinute
  );
}

function validate(startAt: Date, zones: readonly string[], window: CallingWindow): string[] {
  if (Number.isNaN(startAt.getTime()))
    throw new RangeError('checkCallingWindow: startAt is not a valid date');
  const { startMinute, endMinute } = window;
  if (
    !Number.isInteger(startMinute) ||
    !Number.isInteger(endMinute) ||
    startMinute < 0 ||
    endMinute > MINUTES_PER_DAY ||
    endMinute <= startMinute
  ) {
    throw new RangeError(`checkCallingWindow: invalid window ${startMinute}-${endMinute}`);
  }
  const unique = [...new Set(zones)];
  if (unique.length === 0) throw new RangeError('checkCallingWindow: no time zone to check');
  for (const zone of unique) {
    if (!isValidTimeZone(zone)) throw new RangeError(`Unknown time zone: ${zone}`);
  }
  return unique;
}

/**
 * Whether a call may start at `startAt`: only if, in every zone of `zones`, the local time is within
 * [start, end) of the window on an allowed weekday. If not, also the earliest instant from `startAt` on at which it
 * may (looked for over the next 14 days), and each zone's local time at `startAt` for the message.
 *
 * Throws a RangeError for an invalid date, window or zone, or no zones: those are the caller's mistakes.
 */
export function checkCallingWindow(
  startAt: Date,
  zones: readonly string[],
  window: CallingWindow,
): WindowCheck {
  const unique = validate(startAt, zones, window);
  const start = startAt.getTime();
  const locals = unique.map((zone) => ({ zone, local: localTime(start, zone) }));
  if (locals.every(({ local }) => inWindow(local, window))) return { ok: true };

  const nextAllowed = findNextAllowed(start, unique, window);
  return {
    ok: false,
    ...(nextAllowed !== undefined ? { nextAllowed: new Date(nextAllowed) } : {}),
    zones: unique,
    uncertain: unique.length > 1,
    localTimes: locals.map(({ zone, local }) => ({
      zone,
      at: `${SHORT_DAY_NAMES[local.weekday]} ${clock(local.minute)}`,
      inWindow: inWindow(local, window),
    })),
  };
}

/**
 * The earliest instant ≥ `start` (ms) within the window in every zone, or undefined when there is none in the next
 * 14 days. The set of good instants is made of intervals, and each interval begins either at `start` or where one
 * zone's window opens: at the window's start time on an allowed day (both times, when the clocks go back through
 * it), or at a change of offset (when the clocks go forward past the start time). So only those instants are tried,
 * in order.
 */
function findNextAllowed(start: number, zones: readonly string[], window: CallingWindow): number | undefined {
  const first = Math.ceil(start / MINUTE_MS) * MINUTE_MS;
  const horizon = start + HORIZON_DAYS * DAY_MS;
  const candidates = new Set<number>([first]);
  for (const zone of zones) {
    for (const ms of windowOpenings(start, zone, window)) candidates.add(ms);
    for (const ms of offsetChanges(first, horizon, zone)) candidates.add(ms);
  }
  const order = [...zones];
  const allIn = (ms: number): boolean => {
    for (let i = 0; i < order.length; i++) {
      const zone = order[i] ?? '';
      if (!inWindow(localTime(ms, zone), window)) {
        // Try the zone that ruled out this instant first next time: it often rules out the next one too.
        order.splice(i, 1);
        order.unshift(zone);
        return false;
      }
    }
    return true;
  };
  const sorted = [...candidates].filter((ms) => ms >= start && ms <= horizon).sort((a, b) => a - b);
  return sorted.find(allIn);
}

/** Every instant at which the zone's local time is the window's start on an allowed day, over the next 15 days. */
function windowOpenings(start: number, zone: string, window: CallingWindow): number[] {
  const today = new Date(start + zoneOffsetMinutes(new Date(start), zone) * MINUTE_MS);
  const openings: number[] = [];
  for (let day = 0; day <= HORIZON_DAYS; day++) {
    const date = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + day);
    if (!window.days.has(new Date(date).getUTCDay())) continue;
    const wall = date + window.startMinute * MINUTE_MS;
    // The offsets that may apply around that wall time; each gives an instant if the zone really has that offset
    // then. Two do when the clocks go back through it; none does when they go forward past it.
    const offsets = new Set(
      [wall - DAY_MS, wall, wall + DAY_MS].map((ms) => zoneOffsetMinutes(new Date(ms), zone)),
    );
    for (const offset of offsets) {
      const ms = wall - offset * MINUTE_MS;
      if (zoneOffsetMinutes(new Date(ms), zone) === offset) openings.push(ms);
    }
  }
  return openings;
}

/** The instants (to the minute) in [from, to] at which the zone's offset changes. */
function offsetChanges(from: number, to: number, zone: string): number[] {
  const offsetAt = (ms: number): number => zoneOffsetMinutes(new Date(ms), zone);
  const changes: number[] = [];
  let previous = offsetAt(from);
  for (let ms = from + DAY_MS; ms < to + DAY_MS; ms += DAY_MS) {
    const offset = offsetAt(ms);
    if (offset === previous) continue;
    let lo = ms - DAY_MS;
    let hi = ms;
    while (hi - lo > MINUTE_MS) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
      if (offsetAt(mid) === previous) lo = mid;
      else hi = mid;
    }
    changes.push(hi);
    previous = offset;
  }
  return changes;
}

/** The phrase of a time the app chose itself: a batch's row moved to its callee's next calling window. */
export const NEXT_WINDOW_PHRASE = 'the next calling window';

/** A call moved to the callee's next calling window (`at`), as its time reads in the requester's zone. */
export function atNextWindow(at: Date, requesterTimeZone: string): Extract<When, { kind: 'scheduled' }> {
  return {
    kind: 'scheduled',
    at,
    timeZone: requesterTimeZone,
    zoneSource: 'requester',
    phrase: NEXT_WINDOW_PHRASE,
  };
}
