import { describe, expect, it } from 'vitest';
import { CallRequestError } from '../../src/calls/errors.js';
import {
  describeInZone,
  isValidTimeZone,
  resolveWhen,
  slackDateToken,
  type When,
  type WhenContext,
  zoneOffsetMinutes,
} from '../../src/calls/when.js';

const LA = 'America/Los_Angeles';
const LONDON = 'Europe/London';
const KOLKATA = 'Asia/Kolkata';
const SYDNEY = 'Australia/Sydney';

function ctx(now: string, timeZone: string, maxScheduleDays = 30): WhenContext {
  return { now: new Date(now), timeZone, maxScheduleDays };
}

function scheduled(phrase: string, context: WhenContext): Extract<When, { kind: 'scheduled' }> {
  const when = resolveWhen(phrase, context);
  if (when.kind !== 'scheduled')
    throw new Error(`expected a scheduled time for "${phrase}", got ${when.kind}`);
  return when;
}

/** The instant `phrase` resolves to, as an ISO string. */
function at(phrase: string, context: WhenContext): string {
  return scheduled(phrase, context).at.toISOString();
}

function whenError(phrase: string, context: WhenContext): CallRequestError {
  try {
    resolveWhen(phrase, context);
  } catch (err) {
    if (err instanceof CallRequestError) {
      expect(err.field).toBe('when');
      return err;
    }
    throw err;
  }
  throw new Error(`expected "${phrase}" to be refused`);
}

describe('resolveWhen: now', () => {
  it.each([undefined, '', '   ', 'now', 'Right Now', 'IMMEDIATELY', 'asap', 'ASAP'])(
    '%j is now',
    (phrase) => {
      expect(resolveWhen(phrase, ctx('2026-06-01T12:00:00Z', LA))).toEqual({ kind: 'now' });
    },
  );

  it('a time less than 60 s ago is now, not tomorrow', () => {
    // 10:00:30 PDT
    expect(resolveWhen('10am', ctx('2026-06-10T17:00:30Z', LA))).toEqual({ kind: 'now' });
  });
});

describe('resolveWhen: the requester’s zone', () => {
  it('reads "tomorrow 10am" in the requester’s zone, not the process’s', () => {
    const when = scheduled('tomorrow 10am', ctx('2026-06-01T12:00:00Z', 'UTC'));
    expect(when).toEqual({
      kind: 'scheduled',
      at: new Date('2026-06-02T10:00:00.000Z'),
      timeZone: 'UTC',
      zoneSource: 'requester',
      phrase: 'tomorrow 10am',
    });
    expect(at('tomorrow 10am', ctx('2026-06-01T00:00:00Z', KOLKATA))).toBe('2026-06-02T04:30:00.000Z');
    expect(at('10am', ctx('2026-06-01T00:00:00Z', KOLKATA))).toBe('2026-06-01T04:30:00.000Z');
  });

  it('reads ISO dates without a zone in the requester’s zone, and with Z as UTC', () => {
    expect(scheduled('2026-12-01 09:30', ctx('2026-11-20T12:00:00Z', LA))).toMatchObject({
      at: new Date('2026-12-01T17:30:00.000Z'),
      zoneSource: 'requester',
    });
    expect(scheduled('2026-12-01T09:30:00Z', ctx('2026-11-20T12:00:00Z', LA))).toMatchObject({
      at: new Date('2026-12-01T09:30:00.000Z'),
      timeZone: LA,
      zoneSource: 'phrase',
    });
  });
});

describe('resolveWhen: DST changes between now and then', () => {
  it('Los Angeles, spring: asked in PST, called in PDT', () => {
    expect(at('tomorrow 10am', ctx('2026-03-07T12:00:00Z', LA))).toBe('2026-03-08T17:00:00.000Z');
  });

  it('Los Angeles, spring, asked at 23:30 PST: "tomorrow" stays 8 March (a re-parse at -420 would say the 9th)', () => {
    expect(at('tomorrow 10am', ctx('2026-03-08T07:30:00Z', LA))).toBe('2026-03-08T17:00:00.000Z');
  });

  it('Los Angeles, autumn: asked in PDT, called in PST', () => {
    expect(at('tomorrow 10am', ctx('2026-10-31T19:00:00Z', LA))).toBe('2026-11-01T18:00:00.000Z');
  });

  it('London, 29 March 2026 (GMT → BST) and 25 October 2026 (BST → GMT)', () => {
    expect(at('tomorrow 10am', ctx('2026-03-28T12:00:00Z', LONDON))).toBe('2026-03-29T09:00:00.000Z');
    expect(at('tomorrow 10am', ctx('2026-10-24T12:00:00Z', LONDON))).toBe('2026-10-25T10:00:00.000Z');
  });

  it('Sydney, 5 April 2026 (AEDT → AEST) and 4 October 2026 (AEST → AEDT)', () => {
    expect(at('tomorrow 10am', ctx('2026-04-04T00:00:00Z', SYDNEY))).toBe('2026-04-05T00:00:00.000Z');
    expect(at('tomorrow 10am', ctx('2026-10-03T00:00:00Z', SYDNEY))).toBe('2026-10-03T23:00:00.000Z');
  });

  it('a skipped wall time moves forward by the gap; a repeated one is the first', () => {
    // 02:30 does not exist in LA on 8 March 2026: 03:30 PDT.
    expect(at('tomorrow 2:30am', ctx('2026-03-07T12:00:00Z', LA))).toBe('2026-03-08T10:30:00.000Z');
    // 01:30 happens twice in LA on 1 November 2026: the first, PDT.
    expect(at('tomorrow 1:30am', ctx('2026-10-31T19:00:00Z', LA))).toBe('2026-11-01T08:30:00.000Z');
  });

  it('"in 2 hours" across a DST change is exactly 2 hours later', () => {
    expect(at('in 2 hours', ctx('2026-03-08T09:30:00Z', LA))).toBe('2026-03-08T11:30:00.000Z');
    expect(at('in 2 hours', ctx('2026-11-01T08:30:00Z', LA))).toBe('2026-11-01T10:30:00.000Z');
    expect(scheduled('in 30 minutes', ctx('2026-03-29T00:45:00Z', LONDON))).toMatchObject({
      at: new Date('2026-03-29T01:15:00.000Z'),
      zoneSource: 'requester',
    });
  });
});

describe('resolveWhen: forward dates', () => {
  // Saturday 7 March 2026, 12:00 PST.
  const saturdayNoon = ctx('2026-03-07T20:00:00Z', LA);

  it('a weekday name is the next one, never the one just gone', () => {
    expect(at('friday 3pm', saturdayNoon)).toBe('2026-03-13T22:00:00.000Z'); // PDT by then
    expect(at('monday 10am', saturdayNoon)).toBe('2026-03-09T17:00:00.000Z');
    expect(at('on friday at 3pm', saturdayNoon)).toBe('2026-03-13T22:00:00.000Z');
  });

  it('today’s weekday is today if the time is still ahead, else a week later', () => {
    expect(at('saturday 3pm', saturdayNoon)).toBe('2026-03-07T23:00:00.000Z');
    expect(at('saturday 11am', saturdayNoon)).toBe('2026-03-14T18:00:00.000Z');
  });

  it('a time of day already gone today is tomorrow', () => {
    expect(at('10am', ctx('2026-06-10T18:00:00Z', LA))).toBe('2026-06-11T17:00:00.000Z');
    expect(at('10am', ctx('2026-06-10T16:00:00Z', LA))).toBe('2026-06-10T17:00:00.000Z');
  });

  it('a date without a year already gone this year is next year', () => {
    expect(at('Dec 3 10am', ctx('2026-12-10T20:00:00Z', LA, 400))).toBe('2027-12-03T18:00:00.000Z');
    expect(at('Dec 3 10am', ctx('2026-11-20T20:00:00Z', LA))).toBe('2026-12-03T18:00:00.000Z');
  });
});

describe('resolveWhen: a zone in the phrase wins', () => {
  it('an abbreviation: "10am PST" from a London requester', () => {
    expect(scheduled('10am PST', ctx('2026-11-27T12:00:00Z', LONDON))).toEqual({
      kind: 'scheduled',
      at: new Date('2026-11-27T18:00:00.000Z'),
      timeZone: LONDON,
      zoneSource: 'phrase',
      phrase: '10am PST',
    });
  });

  it('other abbreviations: EST, UTC, GMT (a gone time moves to tomorrow)', () => {
    expect(at('9am EST', ctx('2026-03-07T12:00:00Z', LA))).toBe('2026-03-07T14:00:00.000Z');
    expect(at('15:00 UTC', ctx('2026-06-01T12:00:00Z', KOLKATA))).toBe('2026-06-01T15:00:00.000Z');
    expect(at('10am GMT', ctx('2026-06-01T12:00:00Z', LA))).toBe('2026-06-02T10:00:00.000Z');
  });

  it('"ET" follows New York’s DST rules on the day meant', () => {
    expect(at('10am ET', ctx('2026-03-07T12:00:00Z', LA))).toBe('2026-03-07T15:00:00.000Z'); // EST
    expect(at('10am ET', ctx('2026-03-09T12:00:00Z', LA))).toBe('2026-03-09T14:00:00.000Z'); // EDT
  });

  it('an IANA name: "9:00 Europe/London" from a Los Angeles requester is 9:00 London time', () => {
    // 22:00 on 9 June in LA, 06:00 on 10 June in London: London's 9:00 is three hours away.
    expect(scheduled('9:00 Europe/London', ctx('2026-06-10T05:00:00Z', LA))).toEqual({
      kind: 'scheduled',
      at: new Date('2026-06-10T08:00:00.000Z'),
      timeZone: LONDON,
      zoneSource: 'phrase',
      phrase: '9:00 Europe/London',
    });
  });

  it('a renamed zone keeps its current name (Node’s ICU calls Asia/Kolkata Asia/Calcutta)', () => {
    for (const [written, name] of [
      ['asia/kolkata', 'Asia/Kolkata'],
      ['Asia/Calcutta', 'Asia/Kolkata'],
      ['Europe/Kyiv', 'Europe/Kyiv'],
      ['Asia/Ho_Chi_Minh', 'Asia/Ho_Chi_Minh'],
    ]) {
      expect(scheduled(`tomorrow 10am ${written}`, ctx('2026-06-10T05:00:00Z', LA)).timeZone).toBe(name);
    }
    // 10:00 in Kolkata (UTC+5:30) on 11 June.
    expect(at('tomorrow 10am Asia/Kolkata', ctx('2026-06-10T05:00:00Z', LA))).toBe(
      '2026-06-11T04:30:00.000Z',
    );
  });

  it('an IANA name in any case, with DST care in that zone', () => {
    expect(scheduled('tomorrow 10am america/new_york', ctx('2026-06-10T17:00:00Z', LA))).toMatchObject({
      at: new Date('2026-06-11T14:00:00.000Z'),
      timeZone: 'America/New_York',
      zoneSource: 'phrase',
    });
    expect(at('tomorrow 9:00 Europe/London', ctx('2026-03-28T12:00:00Z', LA))).toBe(
      '2026-03-29T08:00:00.000Z',
    );
  });
});

describe('resolveWhen: refusals', () => {
  const c = ctx('2026-06-10T18:00:00Z', LA); // Wednesday 10 June 2026, 11:00 PDT

  it('a phrase chrono cannot read', () => {
    const err = whenError('whenever you like', c);
    expect(err).toBeInstanceOf(CallRequestError);
    expect(err.userMessage).toContain("I couldn't read “whenever you like” as a time");
    expect(err.userMessage).toContain('`at "tomorrow 10am"`');
    // The ISO example is tomorrow's date, so that it is never out of range.
    expect(err.userMessage).toContain('`at "2026-06-11 09:30"`');
  });

  it('a phrase chrono reads only in part', () => {
    const err = whenError('tomorrow 10am blah', c);
    expect(err.userMessage).toContain('understood “tomorrow 10am”');
    expect(err.userMessage).toContain('not “blah”');
    expect(whenError('the 15th at 10am', c).userMessage).toContain('not “15th”');
    expect(whenError('tomorrow 25:00', c).userMessage).toContain('not “25:00”');
  });

  it('fillers around the time are fine', () => {
    expect(at('at 10am on friday', c)).toBe('2026-06-12T17:00:00.000Z');
    expect(at('tomorrow, 10am.', c)).toBe('2026-06-11T17:00:00.000Z');
  });

  it('"@" reads like "at", with or without spaces around it', () => {
    expect(at('tomorrow @ 3pm', c)).toBe(at('tomorrow at 3pm', c));
    expect(at('tomorrow @ 3pm', c)).toBe('2026-06-11T22:00:00.000Z');
    expect(at('friday @ 2:30pm', c)).toBe('2026-06-12T21:30:00.000Z');
    expect(at('tomorrow @3pm', c)).toBe('2026-06-11T22:00:00.000Z');
    expect(at('@ 3pm', c)).toBe('2026-06-10T22:00:00.000Z');
    expect(scheduled('tomorrow @ 3pm', c).phrase).toBe('tomorrow @ 3pm');
  });

  it('more than one time, or a range', () => {
    expect(whenError('tomorrow 10am and friday 3pm', c).userMessage).toContain('more than one time');
    expect(whenError('10am-11am tomorrow', c).userMessage).toContain('range');
  });

  it('a date without a time of day', () => {
    const tomorrow = whenError('tomorrow', c).userMessage;
    expect(tomorrow).toContain("“tomorrow” doesn't say the time of day");
    expect(tomorrow).toContain('`at "tomorrow 10am"`');
    expect(whenError('monday', c).userMessage).toContain('`at "monday 10am"`');
    expect(whenError('Dec 3', ctx('2026-06-10T18:00:00Z', LA, 365)).userMessage).toContain(
      '`at "Dec 3 10am"`',
    );
    // On the limit's last day "Jul 10 10am" is still allowed (up to 11:00); any hour of a day beyond it is not, and
    // that is what is said (days beyond the limit have tests of their own).
    expect(whenError('Jul 10', c).userMessage).toContain('`at "Jul 10 10am"`');
    expect(whenError('Dec 3', c).userMessage).toContain('more than 30 days from now');
    expect(whenError('tomorrow Europe/London', c).userMessage).toContain(
      '`at "tomorrow 10am Europe/London"`',
    );
    expect(whenError('in 2 days', c).userMessage).toContain('`at "in 2 days 10am"`');
    // "tonight 10am" would be read as 10:00 today: suggest plain examples instead.
    const tonight = whenError('tonight', c).userMessage;
    expect(tonight).toContain('time of day');
    expect(tonight).not.toContain('tonight 10am');
  });

  it('a time in the past, shown in the requester’s zone', () => {
    const err = whenError('today 9am', c);
    expect(err.userMessage).toContain('“today 9am” is in the past');
    expect(err.userMessage).toContain('Wed 10 Jun 2026, 09:00 PDT (America/Los_Angeles)');
    expect(whenError('2026-01-05 09:00', c).userMessage).toContain('in the past');
  });

  it('a time beyond the scheduling limit', () => {
    const err = whenError('2026-12-01 09:30', c);
    expect(err.userMessage).toContain('more than 30 days from now');
    expect(err.userMessage).toContain('Tue 1 Dec 2026, 09:30 PST');
    expect(at('2026-07-09 09:30', c)).toBe('2026-07-09T16:30:00.000Z');
    expect(whenError('in 2 days 10am', ctx('2026-06-10T18:00:00Z', LA, 1)).userMessage).toContain(
      'at most 1 day ahead',
    );
  });

  it('a day beyond the scheduling limit, with no time of day or no am or pm: too far, not "add a time"', () => {
    // Wed 10 Jun 2026, 11:00 in Los Angeles; the limit is Fri 10 Jul 2026, 11:00 PDT.
    const tooFar = (phrase: string, context = c): string => whenError(phrase, context).userMessage;
    for (const phrase of [
      'in 400 days',
      'in 2 years',
      'next year',
      'in 3 months',
      'in 31 days',
      'in 400 days at 3',
    ]) {
      const message = tooFar(phrase);
      expect(message).toContain(`“${phrase}” is on `);
      expect(message).toContain('more than 30 days from now');
      expect(message).toContain(
        'at most 30 days ahead, up to Fri 10 Jul 2026, 11:00 PDT (America/Los_Angeles)',
      );
      expect(message).not.toContain('time of day');
      expect(message).not.toContain('am or pm');
    }
    expect(tooFar('in 400 days')).toBe(
      '“in 400 days” is on Thu 15 Jul 2027, more than 30 days from now. Calls can be scheduled at most 30 days ' +
        'ahead, up to Fri 10 Jul 2026, 11:00 PDT (America/Los_Angeles): give a time before then, e.g. ' +
        '`at "in 30 days 10am"`.',
    );
    // The example is accepted as it is written.
    expect(at('in 30 days 10am', c)).toBe('2026-07-10T17:00:00.000Z');
    // With a time of day, the time itself, with the same advice.
    expect(tooFar('in 500 days at 10am')).toContain('is Sat 23 Oct 2027, 10:00 PDT');
    expect(tooFar('in 500 days at 10am')).toContain('e.g. `at "in 30 days 10am"`');
    // "in 30 days 10am" is past the limit at 09:00 (the limit is 08:00): the day before is offered.
    const early = ctx('2026-06-10T15:00:00Z', LA, 30);
    expect(tooFar('in 2 years', early)).toContain('e.g. `at "in 29 days 10am"`');
    expect(at('in 29 days 10am', early)).toBe('2026-07-09T17:00:00.000Z');
    // A shorter limit: "in 30 days" is too far for 7 days; a zone in the phrase stays in the example.
    const week = ctx('2026-06-10T18:00:00Z', LA, 7);
    expect(tooFar('in 30 days', week)).toContain('more than 7 days from now');
    expect(tooFar('in 2 years Europe/London', week)).toContain('e.g. `at "in 7 days 10am Europe/London"`');
    // Within the limit nothing changes: the time of day is asked for, with an example that is accepted.
    const year = ctx('2026-06-10T18:00:00Z', LA, 365);
    expect(tooFar('in 30 days')).toContain('`at "in 30 days 10am"`');
    expect(tooFar('in 3 months', year)).toContain("doesn't say the time of day");
    expect(at('in 3 months 10am', year)).toBe('2026-09-10T17:00:00.000Z');
  });

  it('a day wholly in the past, with no time of day: in the past, not "add a time"', () => {
    for (const phrase of ['yesterday', 'last year', 'last friday']) {
      const message = whenError(phrase, c).userMessage;
      expect(message).toContain(`“${phrase}” is in the past: I read it as `);
      expect(message).not.toContain('time of day');
    }
    expect(whenError('yesterday', c).userMessage).toContain('I read it as Tue 9 Jun 2026.');
  });

  it('two zones in one phrase', () => {
    expect(whenError('10am Europe/London America/New_York', c).userMessage).toContain(
      'more than one time zone',
    );
    expect(whenError('10am PST Europe/London', c).userMessage).toContain('two time zones');
  });

  it('escapes the requester’s words for mrkdwn', () => {
    const message = whenError('<!channel> soon', c).userMessage;
    expect(message).toContain('&lt;!channel&gt;');
    expect(message).not.toContain('<!channel>');
  });
});

describe('resolveWhen: suggestions in refusals are phrases it accepts', () => {
  const c = ctx('2026-06-10T18:00:00Z', LA); // Wednesday 10 June 2026, 11:00 PDT

  /** The phrases suggested in a refusal (`at "…"`). */
  function suggestions(message: string): string[] {
    return [...message.matchAll(/`at "([^"`]*)"`/g)].map((m) => m[1] ?? '');
  }

  it('the part understood, with a time of day when it has none, and without a leading "at"', () => {
    expect(whenError('tomorrow 10a', c).userMessage).toContain('`at "tomorrow 10am"`');
    expect(whenError('friday 3', c).userMessage).toContain('`at "friday 3pm"`');
    expect(whenError('tomorrow 10:61', c).userMessage).toContain('`at "tomorrow 10am"`');
    const fifteenth = whenError('the 15th at 10am', c).userMessage;
    expect(fifteenth).toContain('`at "10am"`');
    expect(fifteenth).not.toContain('at "at');
    expect(whenError('tomorrow blah Europe/London', c).userMessage).toContain(
      '`at "tomorrow 10am Europe/London"`',
    );
    // Of two times, the one that can be used.
    expect(whenError('tomorrow and friday 3pm', c).userMessage).toContain('`at "friday 3pm"`');
  });

  it.each([
    ['UTC', 30],
    ['UTC', 1],
    ['Pacific/Kiritimati', 30],
  ] as const)('every suggestion is accepted (TZ=%s, at most %i days ahead)', (tz, days) => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = tz;
      const context = ctx('2026-06-10T18:00:00Z', LA, days);
      for (const phrase of [
        'tomorrow 10a',
        'friday 3',
        'tomorrow 10:61',
        'tomorrow 25:00',
        'the 15th at 10am',
        '10am on the 15th',
        'tomorrow blah Europe/London',
        'tomorrow and friday 3pm',
        'today 9am blah',
        'Dec 3 10am blah',
        '10am-11am tomorrow blah',
        'whenever you like',
        'tomorrow',
        'monday',
        'Dec 3',
        'in 2 days',
        'tonight',
        'today 9am',
        'last friday 3pm',
        '10am-11am tomorrow',
        '10am PST Europe/London',
        '10am Europe/London America/New_York',
        'tomorrow 3',
        'tomorrow at 3',
        'friday at 4:30',
        '4:30',
        'today at 3',
        'Dec 3 at 3',
        'in 2 days 3',
        'tomorrow at 3 Europe/London',
        'this evening 6',
        'today 8',
      ]) {
        const message = whenError(phrase, context).userMessage;
        const suggested = suggestions(message);
        expect(suggested, message).not.toEqual([]);
        for (const suggestion of suggested) {
          expect(() => resolveWhen(suggestion, context), `${suggestion} (from ${message})`).not.toThrow();
        }
      }
    } finally {
      process.env.TZ = saved;
    }
  });
});

describe('resolveWhen: a clock time from 1 to 7 without am or pm', () => {
  const c = ctx('2026-06-10T18:00:00Z', LA); // Wednesday 10 June 2026, 11:00 PDT

  it.each([
    'tomorrow at 3',
    '3:30',
    'at 3',
    '@ 3',
    '3:00',
    "3 o'clock",
    'tomorrow 3.30',
    'tomorrow at 1',
    'tomorrow at 7:59',
    'friday at 4:30',
    'friday 4:30',
    '4:30',
    'Jun 13 at 3',
    '2026-06-20 3:00',
    'tomorrow at 3 PST',
    'in 2 days at 3',
    // chrono leaves a bare number after a day out ("tomorrow" and "3"): the same refusal, not "tomorrow 10am".
    'tomorrow 3',
    'friday 3',
    '3 tomorrow',
  ])('%j is refused: chrono would read it as the morning', (phrase) => {
    expect(whenError(phrase, c).userMessage).toContain(`“${phrase}” doesn't say am or pm.`);
  });

  it('says what to write instead: pm, am or 24-hour time, in the requester’s words', () => {
    expect(whenError('tomorrow 3', c).userMessage).toBe(
      "“tomorrow 3” doesn't say am or pm. " +
        'Write `at "tomorrow 3pm"` (or `at "tomorrow 3am"`, or 24-hour time `at "tomorrow 15:00"`).',
    );
    expect(whenError('friday at 4:30', c).userMessage).toBe(
      "“friday at 4:30” doesn't say am or pm. " +
        'Write `at "friday at 4:30pm"` (or `at "friday at 4:30am"`, or 24-hour time `at "friday at 16:30"`).',
    );
    expect(whenError("3 o'clock", c).userMessage).toContain(
      'Write `at "3pm"` (or `at "3am"`, or 24-hour time `at "15:00"`).',
    );
    // Of the two 3s, the time of day is the one rewritten.
    expect(whenError('Dec 3 at 3', ctx('2026-06-10T18:00:00Z', LA, 365)).userMessage).toContain(
      '`at "Dec 3 at 3pm"`',
    );
    // A zone in the phrase stays in the suggestion.
    expect(whenError('tomorrow at 3 Europe/London', c).userMessage).toContain(
      '`at "tomorrow at 3pm Europe/London"`',
    );
    expect(whenError('tomorrow 3 Europe/London', c).userMessage).toContain(
      '`at "tomorrow 3pm Europe/London"`',
    );
    // 3am today is gone: only what can be used is offered.
    expect(whenError('today at 3', c).userMessage).toBe(
      '“today at 3” doesn\'t say am or pm. Write `at "today at 3pm"` (or 24-hour time `at "today at 15:00"`).',
    );
    // On the limit's last day 3am is allowed and 3pm (after 11:00) is not: only 3am is offered.
    expect(whenError('Jul 10 at 3', c).userMessage).toBe(
      '“Jul 10 at 3” doesn\'t say am or pm. Write `at "Jul 10 at 3am"`.',
    );
    // Beyond the limit at either hour: refused as too far, not for am or pm.
    expect(whenError('Dec 3 at 3', c).userMessage).toContain('more than 30 days from now');
  });

  it('the suggestions are read as the afternoon, the morning and the afternoon', () => {
    expect(at('tomorrow 3pm', c)).toBe('2026-06-11T22:00:00.000Z');
    expect(at('tomorrow 3am', c)).toBe('2026-06-11T10:00:00.000Z');
    expect(at('tomorrow 15:00', c)).toBe('2026-06-11T22:00:00.000Z');
    expect(at('friday at 4:30pm', c)).toBe('2026-06-12T23:30:00.000Z');
  });

  it('am or pm written, a part of the day named, or 24-hour time: read as written', () => {
    expect(at('3 a.m.', c)).toBe('2026-06-11T10:00:00.000Z');
    expect(at('tomorrow at 3 in the morning', c)).toBe('2026-06-11T10:00:00.000Z');
    expect(at('tomorrow morning at 7', c)).toBe('2026-06-11T14:00:00.000Z');
    expect(at('tonight at 9', c)).toBe('2026-06-11T04:00:00.000Z');
    expect(at('this evening at 6', c)).toBe('2026-06-11T01:00:00.000Z');
    expect(at('tomorrow afternoon at 3', c)).toBe('2026-06-11T22:00:00.000Z');
    expect(at('3:30 tonight', c)).toBe('2026-06-10T22:30:00.000Z');
    // A leading zero is 24-hour time, meant as written.
    expect(at('03:00', c)).toBe('2026-06-11T10:00:00.000Z');
    expect(at('07:30', c)).toBe('2026-06-11T14:30:00.000Z');
    expect(at('tomorrow 03:00', c)).toBe('2026-06-11T10:00:00.000Z');
    expect(at('15:00', c)).toBe('2026-06-10T22:00:00.000Z');
    expect(at('tomorrow 0:30', c)).toBe('2026-06-11T07:30:00.000Z');
    expect(at('2026-06-20 03:00', c)).toBe('2026-06-20T10:00:00.000Z');
    expect(at('2026-06-20T03:00', c)).toBe('2026-06-20T10:00:00.000Z');
    expect(at('2026-06-20T03:00:00Z', c)).toBe('2026-06-20T03:00:00.000Z');
    expect(at('noon', c)).toBe('2026-06-10T19:00:00.000Z');
    expect(at('midnight', c)).toBe('2026-06-11T07:00:00.000Z');
    expect(at('in 3 hours', c)).toBe('2026-06-10T21:00:00.000Z');
  });

  it('8 to 11 without am or pm stay the morning, and 12 is noon', () => {
    expect(at('tomorrow at 8', c)).toBe('2026-06-11T15:00:00.000Z');
    expect(at('tomorrow 10', c)).toBe('2026-06-11T17:00:00.000Z');
    expect(at('friday at 11:30', c)).toBe('2026-06-12T18:30:00.000Z');
    expect(at('friday at 12', c)).toBe('2026-06-12T19:00:00.000Z');
    expect(at('tomorrow 12', c)).toBe('2026-06-11T19:00:00.000Z');
    expect(at('12:30', c)).toBe('2026-06-10T19:30:00.000Z');
  });

  it('a bare hour from 8 to 12 after a day is read like "tomorrow at 8" (chrono reads only two digits, "tomorrow 10")', () => {
    expect(at('tomorrow 8', c)).toBe('2026-06-11T15:00:00.000Z');
    expect(at('tomorrow 9', c)).toBe('2026-06-11T16:00:00.000Z');
    expect(at('9 tomorrow', c)).toBe('2026-06-11T16:00:00.000Z');
    expect(at('friday 9', c)).toBe('2026-06-12T16:00:00.000Z');
    expect(at('Jun 13 9', c)).toBe('2026-06-13T16:00:00.000Z');
    expect(at('tomorrow 9 Europe/London', c)).toBe('2026-06-11T08:00:00.000Z');
    expect(resolveWhen('tomorrow 9', c)).toMatchObject({ kind: 'scheduled', phrase: 'tomorrow 9' });
    // What is wrong with that time is said of it.
    expect(whenError('today 8', c).userMessage).toContain(
      '“today 8” is in the past: I read it as Wed 10 Jun 2026, 08:00 PDT',
    );
  });

  it('a bare number after a part of the day suggests the time it stands for', () => {
    expect(whenError('this evening 6', c).userMessage).toContain('`at "this evening at 6"`');
    expect(whenError('tonight 9', c).userMessage).toContain('`at "tonight at 9"`');
  });
});

describe('resolveWhen: "this", "next" and "last" with a weekday', () => {
  // Monday 4 May 2026, 12:00 UTC: 14:00 in Berlin, 17:30 in Kolkata, 05:00 in Los Angeles.
  const monday = '2026-05-04T12:00:00Z';
  const BERLIN = 'Europe/Berlin';

  it.each(['UTC', 'Pacific/Chatham', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Kiritimati'])(
    'TZ=%s',
    (tz) => {
      const saved = process.env.TZ;
      try {
        process.env.TZ = tz;
        const berlin = ctx(monday, BERLIN);
        // "this monday 3pm" is the bare weekday: today at 15:00, still ahead in Berlin.
        expect(at('monday 3pm', berlin)).toBe('2026-05-04T13:00:00.000Z');
        expect(at('this monday 3pm', berlin)).toBe('2026-05-04T13:00:00.000Z');
        expect(at('this monday at 3pm', berlin)).toBe('2026-05-04T13:00:00.000Z');
        expect(at('3pm this monday', berlin)).toBe('2026-05-04T13:00:00.000Z');
        expect(at('this friday 3pm', berlin)).toBe('2026-05-08T13:00:00.000Z');
        // 13:00 is gone today: a week later, with or without "this".
        expect(at('monday 1pm', berlin)).toBe('2026-05-11T11:00:00.000Z');
        expect(at('this monday 1pm', berlin)).toBe('2026-05-11T11:00:00.000Z');
        // 15:00 is gone in Kolkata (17:30 there): a week later, with or without "this".
        const kolkata = ctx(monday, KOLKATA);
        expect(at('monday 3pm', kolkata)).toBe('2026-05-11T09:30:00.000Z');
        expect(at('this monday 3pm', kolkata)).toBe('2026-05-11T09:30:00.000Z');
        // "next" is that weekday in the week after this one (weeks from Monday), as chrono reads it.
        expect(at('next monday 3pm', berlin)).toBe('2026-05-11T13:00:00.000Z');
        expect(at('next friday 3pm', berlin)).toBe('2026-05-15T13:00:00.000Z');
        expect(at('friday next week 3pm', berlin)).toBe('2026-05-15T13:00:00.000Z');
        expect(at('next sunday 3pm', berlin)).toBe('2026-05-17T13:00:00.000Z');
        expect(at('next monday 3pm', kolkata)).toBe('2026-05-11T09:30:00.000Z');
        // "last" is in the past: refused, not moved to the next one.
        const last = whenError('last friday 3pm', berlin).userMessage;
        expect(last).toContain('“last friday 3pm” is in the past');
        expect(last).toContain('Fri 1 May 2026, 15:00');
        expect(whenError('past monday 3pm', berlin).userMessage).toContain('is in the past');
        expect(whenError('monday of last week 3pm', berlin).userMessage).toContain('is in the past');
        // Sunday 23:30 in Kiritimati (+14), 09:30 UTC: 23:45 is still ahead today.
        const kiritimati = ctx('2026-05-03T09:30:00Z', 'Pacific/Kiritimati');
        expect(at('this sunday 11:45pm', kiritimati)).toBe('2026-05-03T09:45:00.000Z');
        expect(at('sunday 11:45pm', kiritimati)).toBe('2026-05-03T09:45:00.000Z');
        expect(at('next monday 1am', kiritimati)).toBe('2026-05-03T11:00:00.000Z');
        expect(at('next sunday 11:45pm', kiritimati)).toBe('2026-05-10T09:45:00.000Z');
        expect(whenError('last sunday 11am', kiritimati).userMessage).toContain('is in the past');
      } finally {
        process.env.TZ = saved;
      }
    },
  );
});

describe('resolveWhen: the process’s own zone does not matter', () => {
  it.each(['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'])('TZ=%s', (tz) => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = tz;
      // The change took effect: JS dates now use the new zone, not vitest's Pacific/Chatham (+12:45 in July).
      const july = new Date('2026-07-01T00:00:00Z');
      expect(july.getTimezoneOffset()).not.toBe(-765);
      expect(july.getTimezoneOffset() + zoneOffsetMinutes(july, tz)).toBe(0);
      const saturdayNoon = ctx('2026-03-07T20:00:00Z', LA);
      expect(at('friday 3pm', saturdayNoon)).toBe('2026-03-13T22:00:00.000Z');
      expect(at('tomorrow 10am', ctx('2026-03-07T12:00:00Z', LA))).toBe('2026-03-08T17:00:00.000Z');
      expect(at('10am ET', ctx('2026-03-07T12:00:00Z', LA))).toBe('2026-03-07T15:00:00.000Z');
      expect(at('Dec 3 10am', ctx('2026-12-10T20:00:00Z', LA, 400))).toBe('2027-12-03T18:00:00.000Z');
      expect(at('in 2 hours', ctx('2026-03-08T09:30:00Z', LA))).toBe('2026-03-08T11:30:00.000Z');
    } finally {
      process.env.TZ = saved;
    }
    expect(process.env.TZ).toBe(saved);
  });

  it('"in 2 hours" landing in the process zone’s own DST gap is still 2 hours (chrono alone says 3)', () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'America/New_York'; // skips 02:00-03:00 local on 8 March 2026
      expect(at('in 2 hours', ctx('2026-03-08T00:30:00Z', 'UTC'))).toBe('2026-03-08T02:30:00.000Z');
      expect(at('in 90 minutes', ctx('2026-03-08T00:30:00Z', 'UTC'))).toBe('2026-03-08T02:00:00.000Z');
    } finally {
      process.env.TZ = saved;
    }
  });
});

describe('zones and display', () => {
  it('isValidTimeZone', () => {
    expect(isValidTimeZone('America/Los_Angeles')).toBe(true);
    expect(isValidTimeZone('europe/london')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('not a zone')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });

  it('zoneOffsetMinutes', () => {
    expect(zoneOffsetMinutes(new Date('2026-07-01T12:00:00Z'), LA)).toBe(-420);
    expect(zoneOffsetMinutes(new Date('2026-01-01T12:00:00Z'), LA)).toBe(-480);
    expect(zoneOffsetMinutes(new Date('2026-01-01T12:00:00Z'), KOLKATA)).toBe(330);
    expect(zoneOffsetMinutes(new Date('2026-01-01T12:00:00Z'), SYDNEY)).toBe(660);
    expect(zoneOffsetMinutes(new Date('2026-07-01T12:00:00Z'), 'UTC')).toBe(0);
  });

  it('describeInZone', () => {
    const instant = new Date('2026-11-28T18:00:00Z');
    expect(describeInZone(instant, LA)).toBe('Sat 28 Nov 2026, 10:00 PST (America/Los_Angeles)');
    expect(describeInZone(instant, 'UTC')).toBe('Sat 28 Nov 2026, 18:00 UTC (UTC)');
    expect(describeInZone(new Date('2026-06-01T04:30:00Z'), KOLKATA)).toMatch(
      /^Mon 1 Jun 2026, 10:00 .+ \(Asia\/Kolkata\)$/,
    );
    expect(describeInZone(new Date('2026-09-01T00:00:00Z'), LA)).toBe(
      'Mon 31 Aug 2026, 17:00 PDT (America/Los_Angeles)',
    );
  });

  it('slackDateToken', () => {
    const instant = new Date('2026-11-28T18:00:00.750Z');
    const token = slackDateToken(instant, LA);
    expect(token).toBe(
      '<!date^1795888800^{date_short_pretty} at {time}|Sat 28 Nov 2026, 10:00 PST (America/Los_Angeles)>',
    );
    const unix = Number(/^<!date\^(\d+)\^/.exec(token)?.[1]);
    expect(unix * 1000).toBe(Date.UTC(2026, 10, 28, 18, 0, 0));
  });
});
