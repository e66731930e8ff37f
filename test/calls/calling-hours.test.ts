import { describe, expect, it } from 'vitest';
import {
  type CallingWindow,
  checkCallingWindow,
  describeWindow,
  parseCallingDays,
  parseCallingHours,
  type WindowCheck,
} from '../../src/calls/calling-hours.js';

const LA = 'America/Los_Angeles';
const NEW_YORK = 'America/New_York';
const LONDON = 'Europe/London';
const ADAK = 'America/Adak';
const ANCHORAGE = 'America/Anchorage';

/** What libphonenumber lists for a +1 800 number. */
const TOLL_FREE = [
  'America/Adak',
  'America/Anchorage',
  'America/Anguilla',
  'America/Antigua',
  'America/Barbados',
  'America/Boise',
  'America/Cayman',
  'America/Chicago',
  'America/Denver',
  'America/Dominica',
  'America/Edmonton',
  'America/Fort_Nelson',
  'America/Grand_Turk',
  'America/Grenada',
  'America/Halifax',
  'America/Jamaica',
  'America/Juneau',
  'America/Los_Angeles',
  'America/Lower_Princes',
  'America/Montserrat',
  'America/Nassau',
  'America/New_York',
  'America/North_Dakota/Center',
  'America/Phoenix',
  'America/Port_of_Spain',
  'America/Puerto_Rico',
  'America/Regina',
  'America/Santo_Domingo',
  'America/St_Johns',
  'America/St_Kitts',
  'America/St_Lucia',
  'America/St_Thomas',
  'America/St_Vincent',
  'America/Toronto',
  'America/Tortola',
  'America/Vancouver',
  'America/Winnipeg',
  'Atlantic/Bermuda',
  'Pacific/Guam',
  'Pacific/Honolulu',
  'Pacific/Pago_Pago',
  'Pacific/Saipan',
];

function window(hours: string, days = 'every day'): CallingWindow {
  return { ...parseCallingHours(hours), days: parseCallingDays(days) };
}

const EIGHT_TO_NINE = window('08:00-21:00');
const WEEKDAYS = window('08:00-21:00', 'mon-fri');

type Refusal = Extract<WindowCheck, { ok: false }>;

function refused(startAt: string, zones: readonly string[], win: CallingWindow): Refusal {
  const check = checkCallingWindow(new Date(startAt), zones, win);
  if (check.ok) throw new Error(`expected ${startAt} to be refused in ${zones.join(', ')}`);
  return check;
}

/** The next allowed instant, as an ISO string (or undefined). */
function next(startAt: string, zones: readonly string[], win: CallingWindow): string | undefined {
  return refused(startAt, zones, win).nextAllowed?.toISOString();
}

function allowed(startAt: string, zones: readonly string[], win: CallingWindow): boolean {
  return checkCallingWindow(new Date(startAt), zones, win).ok;
}

describe('checkCallingWindow', () => {
  it('reads the time in the number’s zone, not the rep’s: 07:30 in LA (10:30 in New York) is refused', () => {
    // Wed 10 Jun 2026, 14:30Z: 07:30 PDT, 10:30 EDT.
    const check = refused('2026-06-10T14:30:00Z', [LA], EIGHT_TO_NINE);
    expect(check.nextAllowed?.toISOString()).toBe('2026-06-10T15:00:00.000Z'); // 08:00 PDT
    expect(check.zones).toEqual([LA]);
    expect(check.uncertain).toBe(false);
    expect(check.localTimes).toEqual([{ zone: LA, at: 'Wed 07:30', inWindow: false }]);
    // The same instant is fine for a New York number.
    expect(allowed('2026-06-10T14:30:00Z', [NEW_YORK], EIGHT_TO_NINE)).toBe(true);
  });

  it('refuses after hours, with the next morning', () => {
    // Wed 21:30 PDT.
    expect(next('2026-06-11T04:30:00Z', [LA], EIGHT_TO_NINE)).toBe('2026-06-11T15:00:00.000Z');
  });

  it('allows 08:00 exactly and up to the last instant before 21:00; refuses 21:00 exactly', () => {
    expect(allowed('2026-06-10T15:00:00.000Z', [LA], EIGHT_TO_NINE)).toBe(true); // 08:00
    expect(allowed('2026-06-11T03:59:00.000Z', [LA], EIGHT_TO_NINE)).toBe(true); // 20:59
    expect(allowed('2026-06-11T03:59:59.999Z', [LA], EIGHT_TO_NINE)).toBe(true); // 20:59:59.999
    expect(next('2026-06-11T04:00:00.000Z', [LA], EIGHT_TO_NINE)).toBe('2026-06-11T15:00:00.000Z'); // 21:00
    expect(next('2026-06-10T14:59:59.999Z', [LA], EIGHT_TO_NINE)).toBe('2026-06-10T15:00:00.000Z'); // 07:59:59
    expect(next('2026-06-10T14:59:30.000Z', [LA], EIGHT_TO_NINE)).toBe('2026-06-10T15:00:00.000Z'); // 07:59:30
  });

  it('refuses a weekend, with Monday 08:00 next', () => {
    // Sat 13 Jun 2026, 10:00 PDT.
    const check = refused('2026-06-13T17:00:00Z', [LA], WEEKDAYS);
    expect(check.nextAllowed?.toISOString()).toBe('2026-06-15T15:00:00.000Z');
    expect(check.localTimes).toEqual([{ zone: LA, at: 'Sat 10:00', inWindow: false }]);
    // Friday 21:00 is refused, and waits for Monday too.
    expect(next('2026-06-13T04:00:00Z', [LA], WEEKDAYS)).toBe('2026-06-15T15:00:00.000Z');
    expect(allowed('2026-06-13T03:59:00Z', [LA], WEEKDAYS)).toBe(true); // Fri 20:59
  });

  it('uses the local weekday, not the UTC one', () => {
    // Mon 15 Jun 2026, 01:00Z is still Sunday 18:00 in LA: refused, Monday 08:00 next.
    expect(next('2026-06-15T01:00:00Z', [LA], WEEKDAYS)).toBe('2026-06-15T15:00:00.000Z');
    // …and already Monday 09:00 in Sydney.
    expect(allowed('2026-06-14T23:00:00Z', ['Australia/Sydney'], WEEKDAYS)).toBe(true);
  });

  it('opens at 08:00 on the new offset on the days the clocks change in Los Angeles', () => {
    // Sun 8 Mar 2026: 02:00 PST becomes 03:00 PDT, so 08:00 is 15:00Z (16:00Z the day before).
    expect(next('2026-03-08T09:00:00Z', [LA], EIGHT_TO_NINE)).toBe('2026-03-08T15:00:00.000Z');
    expect(next('2026-03-07T14:00:00Z', [LA], EIGHT_TO_NINE)).toBe('2026-03-07T16:00:00.000Z');
    // Sun 1 Nov 2026: 02:00 PDT becomes 01:00 PST, so 08:00 is 16:00Z.
    expect(next('2026-11-01T07:00:00Z', [LA], EIGHT_TO_NINE)).toBe('2026-11-01T16:00:00.000Z');
    // 21:00 PST on that day is 05:00Z the next day.
    expect(allowed('2026-11-02T04:59:00Z', [LA], EIGHT_TO_NINE)).toBe(true);
    expect(next('2026-11-02T05:00:00Z', [LA], EIGHT_TO_NINE)).toBe('2026-11-02T16:00:00.000Z');
  });

  it('opens at 08:00 on the new offset on the days the clocks change in London', () => {
    // Sun 29 Mar 2026: 01:00 GMT becomes 02:00 BST, so 08:00 is 07:00Z.
    expect(next('2026-03-29T00:30:00Z', [LONDON], EIGHT_TO_NINE)).toBe('2026-03-29T07:00:00.000Z');
    // Sun 25 Oct 2026: 02:00 BST becomes 01:00 GMT, so 08:00 is 08:00Z.
    expect(next('2026-10-25T00:00:00Z', [LONDON], EIGHT_TO_NINE)).toBe('2026-10-25T08:00:00.000Z');
    expect(allowed('2026-10-25T07:30:00Z', [LONDON], EIGHT_TO_NINE)).toBe(false); // 07:30 GMT
  });

  it('opens when the clocks jump past a start time that does not exist that day', () => {
    // A window from 02:30: on 8 Mar 2026 Los Angeles goes from 01:59 PST to 03:00 PDT (10:00Z).
    expect(next('2026-03-08T09:00:00Z', [LA], window('02:30-05:00'))).toBe('2026-03-08T10:00:00.000Z');
  });

  it('opens again when the clocks go back through the window', () => {
    // 01:00–01:30 happens twice on 1 Nov 2026 in LA: 08:00Z (PDT) and 09:00Z (PST).
    expect(allowed('2026-11-01T08:10:00Z', [LA], window('01:00-01:30'))).toBe(true);
    expect(next('2026-11-01T08:40:00Z', [LA], window('01:00-01:30'))).toBe('2026-11-01T09:00:00.000Z');
  });

  it('needs the window in every zone of a number that may be in several (Alaska: Adak and Anchorage)', () => {
    // Wed 10 Jun 2026, 16:30Z: 08:30 in Anchorage (AKDT) but 07:30 in Adak (HDT).
    const check = refused('2026-06-10T16:30:00Z', [ADAK, ANCHORAGE], EIGHT_TO_NINE);
    expect(check.uncertain).toBe(true);
    expect(check.zones).toEqual([ADAK, ANCHORAGE]);
    expect(check.localTimes).toEqual([
      { zone: ADAK, at: 'Wed 07:30', inWindow: false },
      { zone: ANCHORAGE, at: 'Wed 08:30', inWindow: true },
    ]);
    // The later of the two openings: 08:00 in Adak, 09:00 in Anchorage.
    expect(check.nextAllowed?.toISOString()).toBe('2026-06-10T17:00:00.000Z');
    // In the evening Anchorage closes first: 21:00 AKDT is 05:00Z.
    expect(allowed('2026-06-11T04:59:00Z', [ADAK, ANCHORAGE], EIGHT_TO_NINE)).toBe(true);
    expect(next('2026-06-11T05:00:00Z', [ADAK, ANCHORAGE], EIGHT_TO_NINE)).toBe('2026-06-11T17:00:00.000Z');
  });

  it('finds the narrow common window of a toll-free number when there is one', () => {
    // 08:00–21:00 everywhere from Guam to Newfoundland: Guam 08:00 (Sunday) is Saturday 11:00 in Pago Pago and
    // 18:30 in St. John's.
    const check = refused('2026-03-07T12:00:00Z', TOLL_FREE, EIGHT_TO_NINE);
    expect(check.uncertain).toBe(true);
    expect(check.zones).toHaveLength(TOLL_FREE.length);
    expect(check.localTimes).toHaveLength(TOLL_FREE.length);
    expect(check.nextAllowed?.toISOString()).toBe('2026-03-07T22:00:00.000Z');
    expect(checkCallingWindow(new Date('2026-03-07T22:00:00Z'), TOLL_FREE, EIGHT_TO_NINE)).toEqual({
      ok: true,
    });
  });

  it('gives no next time when the zones of a toll-free number never share a window', () => {
    // 09:00–17:00 is 8 hours; the zones of +1 800 span more than 10.
    const check = refused('2026-06-10T18:00:00Z', TOLL_FREE, window('09:00-17:00'));
    expect(check.nextAllowed).toBeUndefined();
    expect('nextAllowed' in check).toBe(false);
    expect(check.uncertain).toBe(true);
  });

  it('gives no next time when no day is allowed, and looks at most 14 days ahead', () => {
    const never: CallingWindow = { startMinute: 480, endMinute: 1260, days: new Set() };
    expect(next('2026-06-10T18:00:00Z', [LA], never)).toBeUndefined();
    // Sundays only, from a Monday: six days ahead.
    expect(next('2026-06-15T18:00:00Z', [LA], window('08:00-21:00', 'sun'))).toBe('2026-06-21T15:00:00.000Z');
  });

  it('allows a window that runs to midnight, on to the end of the day', () => {
    const evening = window('20:00-24:00');
    expect(allowed('2026-06-11T06:59:00Z', [LA], evening)).toBe(true); // 23:59 PDT
    expect(next('2026-06-11T07:00:00Z', [LA], evening)).toBe('2026-06-12T03:00:00.000Z'); // 00:00 → 20:00
  });

  it('lists each zone only once', () => {
    const check = refused('2026-06-10T14:30:00Z', [LA, LA], EIGHT_TO_NINE);
    expect(check.zones).toEqual([LA]);
    expect(check.uncertain).toBe(false);
  });

  it('refuses bad arguments with a RangeError', () => {
    const at = new Date('2026-06-10T18:00:00Z');
    expect(() => checkCallingWindow(at, [], EIGHT_TO_NINE)).toThrow(RangeError);
    expect(() => checkCallingWindow(at, ['Mars/Olympus'], EIGHT_TO_NINE)).toThrow(/Mars\/Olympus/);
    expect(() => checkCallingWindow(new Date(Number.NaN), [LA], EIGHT_TO_NINE)).toThrow(RangeError);
    expect(() => checkCallingWindow(at, [LA], { ...EIGHT_TO_NINE, endMinute: 400 })).toThrow(RangeError);
    expect(() => checkCallingWindow(at, [LA], { ...EIGHT_TO_NINE, endMinute: 1500 })).toThrow(RangeError);
  });
});

describe('parseCallingHours', () => {
  it('reads HH:MM-HH:MM and H-H on a 24-hour clock', () => {
    expect(parseCallingHours('08:00-21:00')).toEqual({ startMinute: 480, endMinute: 1260 });
    expect(parseCallingHours('8-21')).toEqual({ startMinute: 480, endMinute: 1260 });
    expect(parseCallingHours(' 8:30 - 17:45 ')).toEqual({ startMinute: 510, endMinute: 1065 });
    expect(parseCallingHours('08:00\u201321:00')).toEqual({ startMinute: 480, endMinute: 1260 });
    expect(parseCallingHours('00:00-24:00')).toEqual({ startMinute: 0, endMinute: 1440 });
  });

  it('says what is wrong and names the format', () => {
    expect(() => parseCallingHours('8am-9pm')).toThrow(
      /HH:MM-HH:MM.*24-hour clock: 8am is 08:00 and 9pm is 21:00/,
    );
    expect(() => parseCallingHours('')).toThrow(/HH:MM-HH:MM on a 24-hour clock/);
    expect(() => parseCallingHours('8')).toThrow(/HH:MM-HH:MM/);
    expect(() => parseCallingHours('08.00-21.00')).toThrow(/HH:MM-HH:MM/);
    expect(() => parseCallingHours('21:00-08:00')).toThrow(/end before they start.*past midnight/);
    expect(() => parseCallingHours('09:00-09:00')).toThrow(/end before they start/);
    expect(() => parseCallingHours('25:00-26:00')).toThrow(/25:00 is not a time of day/);
    expect(() => parseCallingHours('08:60-21:00')).toThrow(/08:60 is not a time of day/);
    expect(() => parseCallingHours('08:00-24:30')).toThrow(/24:30 is not a time of day/);
    expect(() => parseCallingHours('24:00-24:00')).toThrow(/24:00 is not a time of day/);
  });
});

describe('parseCallingDays', () => {
  const sorted = (days: ReadonlySet<number>): number[] => [...days].sort((a, b) => a - b);

  it('reads every day', () => {
    for (const text of ['', '  ', 'every day', 'Every Day', 'ALL', 'daily']) {
      expect(sorted(parseCallingDays(text))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
  });

  it('reads ranges and lists, in any case, with three-letter or full names', () => {
    expect(sorted(parseCallingDays('mon-fri'))).toEqual([1, 2, 3, 4, 5]);
    expect(sorted(parseCallingDays('Monday-Friday'))).toEqual([1, 2, 3, 4, 5]);
    expect(sorted(parseCallingDays('Monday to Friday'))).toEqual([1, 2, 3, 4, 5]);
    expect(sorted(parseCallingDays('MON \u2013 FRI'))).toEqual([1, 2, 3, 4, 5]);
    expect(sorted(parseCallingDays('mon,tue,sat'))).toEqual([1, 2, 6]);
    expect(sorted(parseCallingDays('Mon, Tue, Saturday'))).toEqual([1, 2, 6]);
    expect(sorted(parseCallingDays('sun-thu'))).toEqual([0, 1, 2, 3, 4]);
    expect(sorted(parseCallingDays('mon-wed, fri'))).toEqual([1, 2, 3, 5]);
    expect(sorted(parseCallingDays('weekdays'))).toEqual([1, 2, 3, 4, 5]);
    expect(sorted(parseCallingDays('weekends'))).toEqual([0, 6]);
    expect(sorted(parseCallingDays('sat'))).toEqual([6]);
  });

  it('reads ranges that wrap round the week', () => {
    expect(sorted(parseCallingDays('fri-mon'))).toEqual([0, 1, 5, 6]);
    expect(sorted(parseCallingDays('sat-sun'))).toEqual([0, 6]);
  });

  it('says what is wrong and names the format', () => {
    expect(() => parseCallingDays('funday')).toThrow(/"funday" is not a day.*"mon-fri"/);
    expect(() => parseCallingDays('tues')).toThrow(/three-letter or full English day names/);
    expect(() => parseCallingDays('mon-')).toThrow(/"" is not a day/);
    expect(() => parseCallingDays('mon,,tue')).toThrow(/empty item/);
    expect(() => parseCallingDays('mon-tue-wed')).toThrow(/"mon-tue-wed" is not a range/);
  });
});

describe('describeWindow', () => {
  it('writes the hours and the days', () => {
    expect(describeWindow(WEEKDAYS)).toBe('08:00\u201321:00, Monday to Friday');
    expect(describeWindow(EIGHT_TO_NINE)).toBe('08:00\u201321:00, every day');
    expect(describeWindow(window('8:30-17:45', 'sun-thu'))).toBe('08:30\u201317:45, Sunday to Thursday');
    expect(describeWindow(window('9-17', 'sat,sun'))).toBe('09:00\u201317:00, Saturday and Sunday');
    expect(describeWindow(window('9-17', 'mon,wed,fri'))).toBe(
      '09:00\u201317:00, Monday, Wednesday and Friday',
    );
    expect(describeWindow(window('9-17', 'fri-mon'))).toBe('09:00\u201317:00, Friday to Monday');
    expect(describeWindow(window('9-17', 'mon-wed,fri'))).toBe(
      '09:00\u201317:00, Monday to Wednesday and Friday',
    );
    expect(describeWindow(window('20-24', 'tue'))).toBe('20:00\u201324:00, Tuesday');
  });

  it('writes what the parsers read back', () => {
    const original = window('08:30-21:00', 'mon-fri');
    const [hours = '', days = ''] = describeWindow(original).split(', ');
    const again = window(hours, days);
    expect(again.startMinute).toBe(original.startMinute);
    expect(again.endMinute).toBe(original.endMinute);
    expect([...again.days].sort()).toEqual([...original.days].sort());
  });
});
