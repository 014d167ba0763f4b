// NYSE's published holiday and early-close schedules (2023–2027) in full, and session counts per year.
import { describe, expect, it } from 'vitest';
import { formatSessionLine, holidaysOfYear, sessions } from '../../src/calendar/index.js';

const PUBLISHED: Record<number, { holidays: string[]; earlyCloses: string[] }> = {
  2023: {
    holidays: [
      '2023-01-02',
      '2023-01-16',
      '2023-02-20',
      '2023-04-07',
      '2023-05-29',
      '2023-06-19',
      '2023-07-04',
      '2023-09-04',
      '2023-11-23',
      '2023-12-25',
    ],
    earlyCloses: ['2023-07-03', '2023-11-24'],
  },
  2024: {
    holidays: [
      '2024-01-01',
      '2024-01-15',
      '2024-02-19',
      '2024-03-29',
      '2024-05-27',
      '2024-06-19',
      '2024-07-04',
      '2024-09-02',
      '2024-11-28',
      '2024-12-25',
    ],
    earlyCloses: ['2024-07-03', '2024-11-29', '2024-12-24'],
  },
  2025: {
    holidays: [
      '2025-01-01',
      '2025-01-09', // National Day of Mourning, President Carter
      '2025-01-20',
      '2025-02-17',
      '2025-04-18',
      '2025-05-26',
      '2025-06-19',
      '2025-07-04',
      '2025-09-01',
      '2025-11-27',
      '2025-12-25',
    ],
    earlyCloses: ['2025-07-03', '2025-11-28', '2025-12-24'],
  },
  2026: {
    holidays: [
      '2026-01-01',
      '2026-01-19',
      '2026-02-16',
      '2026-04-03',
      '2026-05-25',
      '2026-06-19',
      '2026-07-03',
      '2026-09-07',
      '2026-11-26',
      '2026-12-25',
    ],
    earlyCloses: ['2026-11-27', '2026-12-24'],
  },
  2027: {
    holidays: [
      '2027-01-01',
      '2027-01-18',
      '2027-02-15',
      '2027-03-26',
      '2027-05-31',
      '2027-06-18',
      '2027-07-05',
      '2027-09-06',
      '2027-11-25',
      '2027-12-24',
    ],
    earlyCloses: ['2027-11-26'],
  },
};

describe('NYSE published schedules 2023–2027', () => {
  for (const [yearText, pub] of Object.entries(PUBLISHED)) {
    const year = Number(yearText);
    it(`${year}: holidays match exactly`, () => {
      expect(holidaysOfYear(year).map(([d]) => d)).toEqual(pub.holidays);
    });
    it(`${year}: early closes (13:00 ET) match exactly`, () => {
      const early = sessions(`${year}-01-01`, `${year}-12-31`).filter((s) => s.earlyClose);
      expect(early.map((s) => s.date)).toEqual(pub.earlyCloses);
      for (const s of early) expect(s.close - s.open).toBe(3.5 * 3_600_000);
    });
  }

  it('every weekday that is not a published holiday is a session', () => {
    for (const [yearText, pub] of Object.entries(PUBLISHED)) {
      const got = sessions(`${yearText}-01-01`, `${yearText}-12-31`).map((s) => s.date);
      const expected: string[] = [];
      for (
        let t = Date.UTC(Number(yearText), 0, 1);
        new Date(t).getUTCFullYear() === Number(yearText);
        t += 86_400_000
      ) {
        const d = new Date(t);
        const iso = d.toISOString().slice(0, 10);
        if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && !pub.holidays.includes(iso)) expected.push(iso);
      }
      expect(got).toEqual(expected);
    }
  });

  it('names holidays', () => {
    expect(holidaysOfYear(2024)).toContainEqual(['2024-11-28', 'Thanksgiving Day']);
    expect(holidaysOfYear(2025)).toContainEqual([
      '2025-01-09',
      'National Day of Mourning for former President Jimmy Carter',
    ]);
    expect(holidaysOfYear(2027)).toContainEqual(['2027-06-18', 'Juneteenth National Independence Day']);
  });
});

// Trading days per year. Sources: NYSE's schedules for 2023–2025 (250, 252, 250: 2023 had 10 weekday
// holidays out of 260 weekdays), and the commonly cited historical counts (e.g. 248 in 2001 after 9/11,
// 250 in 2012 after Sandy, 253 in 2020); later years follow the rules alone.
const COUNTS: Record<number, number> = {
  1990: 253,
  1991: 253,
  1992: 254,
  1993: 253,
  1994: 252,
  1995: 252,
  1996: 254,
  1997: 253,
  1998: 252,
  1999: 252,
  2000: 252,
  2001: 248,
  2002: 252,
  2003: 252,
  2004: 252,
  2005: 252,
  2006: 251,
  2007: 251,
  2008: 253,
  2009: 252,
  2010: 252,
  2011: 252,
  2012: 250,
  2013: 252,
  2014: 252,
  2015: 252,
  2016: 252,
  2017: 251,
  2018: 251,
  2019: 252,
  2020: 253,
  2021: 252,
  2022: 251,
  2023: 250,
  2024: 252,
  2025: 250,
  2026: 251,
  2027: 251,
  2028: 251,
  2029: 251,
  2030: 251,
  2031: 251,
  2032: 252,
  2033: 251,
  2034: 250,
  2035: 251,
};

describe('sessions per year 1990–2035', () => {
  it('matches the expected counts', () => {
    const got: Record<number, number> = {};
    for (let y = 1990; y <= 2035; y++) got[y] = sessions(`${y}-01-01`, `${y}-12-31`).length;
    expect(got).toEqual(COUNTS);
  });

  it('formats a session line for the CLI', () => {
    const [s] = sessions('2024-07-03', '2024-07-03');
    expect(s && formatSessionLine(s)).toBe('2024-07-03\t2024-07-03T13:30:00.000Z\t2024-07-03T17:00:00.000Z');
  });
});
