// Historical spot checks (1990–2022) and DST edges.
import { describe, expect, it } from 'vitest';
import { holidayName, parseDateArg, sessionOn, sessions } from '../../src/calendar/index.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** [date, expected close in UTC (HH:MM), why] — null close means no session. */
const CASES: Array<[string, string | null, string]> = [
  // 2 pm early closes of the early 1990s, 1 pm from 1993
  ['1990-12-24', '19:00', 'Christmas Eve 1990, 14:00 EST'],
  ['1991-12-24', '19:00', 'Christmas Eve 1991, 14:00'],
  ['1992-11-27', '19:00', 'day after Thanksgiving 1992, 14:00'],
  ['1992-12-24', '19:00', 'Christmas Eve 1992, 14:00'],
  ['1991-11-29', '21:00', 'day after Thanksgiving 1991: full day'],
  ['1993-11-26', '18:00', 'day after Thanksgiving 1993, 13:00'],
  ['1996-12-24', '18:00', 'Christmas Eve 1996, 13:00'],
  // Independence Day early closes as NYSE set them
  ['1990-07-03', '20:00', 'July 3 1990 (Tue): full day, rule starts 1995'],
  ['1995-07-03', '17:00', 'July 3 1995 (Mon), 13:00 EDT'],
  ['1996-07-05', '17:00', 'Friday after a Thursday July 4, 1996'],
  ['2002-07-03', '20:00', 'Wednesday before a Thursday July 4, 2002: full day'],
  ['2002-07-05', '17:00', 'Friday after July 4, 2002'],
  ['2008-07-03', '17:00', 'Thursday July 3, 2008'],
  ['2013-07-03', '17:00', 'Wednesday before July 4, 2013'],
  ['2013-07-05', '20:00', 'Friday after July 4, 2013: full day'],
  ['2019-07-03', '17:00', 'Wednesday July 3, 2019'],
  ['2015-07-02', '20:00', 'July 4 on Saturday (2015): Thursday is a full day'],
  ['2020-07-02', '20:00', 'July 4 on Saturday (2020): Thursday is a full day'],
  ['2021-07-02', '20:00', 'July 4 on Sunday (2021): Friday is a full day'],
  ['2026-07-02', '20:00', 'July 4 on Saturday (2026): Thursday is a full day'],
  // after Christmas
  ['1997-12-26', '18:00', 'Friday after Christmas 1997, 13:00'],
  ['2003-12-26', '18:00', 'Friday after Christmas 2003, 13:00'],
  ['2008-12-26', '21:00', 'Friday after Christmas 2008: full day'],
  ['2014-12-26', '21:00', 'Friday after Christmas 2014: full day'],
  ['2025-12-26', '21:00', 'Friday after Christmas 2025: full day'],
  ['1999-12-31', '18:00', 'Y2K: 13:00 close approved by the NYSE board'],
  // New Year's Day on a Saturday is not observed on the Friday before
  ['2004-12-31', '21:00', 'Friday before New Year 2005 (Sat): open'],
  ['2010-12-31', '21:00', 'Friday before New Year 2011 (Sat): open'],
  ['2021-12-31', '21:00', 'Friday before New Year 2022 (Sat): open'],
  ['2017-01-02', null, "New Year's Day 2017 (Sun) observed Monday"],
  ['2023-01-02', null, "New Year's Day 2023 (Sun) observed Monday"],
  // MLK from 1998, Juneteenth from 2022
  ['1997-01-20', '21:00', 'MLK day 1997: open'],
  ['1998-01-19', null, 'MLK day 1998: first year closed'],
  ['2021-06-18', '20:00', 'Juneteenth 2021: open'],
  ['2022-06-20', null, 'Juneteenth 2022 (Sun) observed Monday'],
  // Christmas on a Saturday: closed the Friday before
  ['1999-12-24', null, 'Christmas 1999 observed'],
  ['2004-12-24', null, 'Christmas 2004 observed'],
  ['2010-12-24', null, 'Christmas 2010 observed'],
  ['2021-12-24', null, 'Christmas 2021 observed'],
  // Good Friday
  ['1990-04-13', null, 'Good Friday 1990'],
  ['2008-03-21', null, 'Good Friday 2008 (early Easter)'],
  ['2011-04-22', null, 'Good Friday 2011 (late Easter)'],
  ['2015-04-03', null, 'Good Friday 2015'],
  // special closures and irregular hours
  ['1994-04-27', null, 'Nixon'],
  ['2001-09-11', null, '9/11'],
  ['2001-09-14', null, '9/11'],
  ['2001-09-17', '20:00', 'reopened after 9/11'],
  ['2004-06-11', null, 'Reagan'],
  ['2007-01-02', null, 'Ford'],
  ['2012-10-29', null, 'Sandy'],
  ['2012-10-30', null, 'Sandy'],
  ['2012-10-31', '20:00', 'reopened after Sandy'],
  ['2018-12-05', null, 'G. H. W. Bush'],
  ['2025-01-09', null, 'Carter'],
  ['1994-02-11', '19:30', 'snowstorm 1994, 14:30 close'],
  ['1997-10-27', '20:30', 'circuit breaker, 15:30 close'],
  ['2005-06-01', '19:56', 'systems problem, 15:56 close'],
];

describe('historical sessions', () => {
  for (const [date, closeUtc, why] of CASES) {
    it(`${date}: ${why}`, () => {
      const s = sessionOn(date);
      if (closeUtc === null) {
        expect(s).toBeNull();
        expect(holidayName(date)).toBeTruthy();
      } else {
        expect(s).not.toBeNull();
        expect(iso(s?.close ?? 0)).toBe(`${date}T${closeUtc}:00.000Z`);
        expect(s?.earlyClose).toBe(!['20:00', '21:00'].includes(closeUtc));
      }
    });
  }

  it('irregular late openings', () => {
    expect(iso(sessionOn('1990-12-27')?.open ?? 0)).toBe('1990-12-27T16:00:00.000Z'); // 11:00 EST
    expect(iso(sessionOn('1996-01-08')?.open ?? 0)).toBe('1996-01-08T16:00:00.000Z');
    expect(iso(sessionOn('1996-01-08')?.close ?? 0)).toBe('1996-01-08T19:00:00.000Z');
    expect(iso(sessionOn('2002-09-11')?.open ?? 0)).toBe('2002-09-11T16:00:00.000Z'); // 12:00 EDT
  });

  it('names special closures', () => {
    expect(holidayName('2012-10-29')).toBe('Hurricane Sandy');
    expect(holidayName('2018-12-05')).toMatch(/Bush/);
    expect(holidayName('2024-01-02')).toBeUndefined();
    expect(holidayName('2024-01-06')).toBeUndefined(); // a Saturday is a weekend, not a holiday
  });
});

describe('DST edges', () => {
  const openOf = (d: string) => iso(sessionOn(d)?.open ?? 0).slice(11, 16);
  const closeOf = (d: string) => iso(sessionOn(d)?.close ?? 0).slice(11, 16);
  it.each([
    ['2024-03-08', '14:30', '21:00'], // Friday before the March change: EST
    ['2024-03-11', '13:30', '20:00'], // Monday after: EDT
    ['2024-11-01', '13:30', '20:00'], // Friday before the November change: EDT
    ['2024-11-04', '14:30', '21:00'], // Monday after: EST
    ['2025-03-07', '14:30', '21:00'],
    ['2025-03-10', '13:30', '20:00'],
    ['2025-10-31', '13:30', '20:00'],
    ['2025-11-03', '14:30', '21:00'],
    ['2006-03-13', '14:30', '21:00'], // before 2007, DST began in April
    ['2006-04-03', '13:30', '20:00'],
    ['2006-10-27', '13:30', '20:00'],
    ['2006-10-30', '14:30', '21:00'], // and ended on the last Sunday of October
    ['2007-03-12', '13:30', '20:00'], // 2007: second Sunday of March
    ['2007-11-02', '13:30', '20:00'],
    ['2007-11-05', '14:30', '21:00'],
    ['1990-04-02', '13:30', '20:00'],
    ['2035-03-12', '13:30', '20:00'],
  ])('%s opens %s and closes %s UTC', (date, open, close) => {
    expect(openOf(date)).toBe(open);
    expect(closeOf(date)).toBe(close);
  });

  it('the DST Sundays themselves are not sessions', () => {
    expect(sessions('2024-03-09', '2024-03-10')).toEqual([]);
    expect(sessions('2024-11-02', '2024-11-03')).toEqual([]);
  });
});

describe('arguments and range', () => {
  it('parseDateArg accepts real dates in range', () => {
    expect(parseDateArg('2024-02-29')).toBe('2024-02-29');
    expect(parseDateArg('1990-01-01')).toBe('1990-01-01');
    expect(parseDateArg('2035-12-31')).toBe('2035-12-31');
  });
  it.each([
    ['2023-02-29', /not a real calendar date/],
    ['2024-13-01', /not a real calendar date/],
    ['24-01-01', /expected YYYY-MM-DD/],
    ['2024/01/01', /expected YYYY-MM-DD/],
    ['', /expected YYYY-MM-DD/],
    ['1989-12-29', /outside .* 1990–2035/],
    ['2036-01-02', /outside .* 1990–2035/],
  ])('parseDateArg(%j) throws', (s, msg) => {
    expect(() => parseDateArg(s)).toThrow(msg);
  });
  it('throws RangeError outside 1990–2035', () => {
    expect(() => sessionOn('1989-12-29')).toThrow(RangeError);
    expect(() => sessions('2035-12-01', '2036-01-31')).toThrow(RangeError);
  });
});
