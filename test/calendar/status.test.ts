// statusAt at chosen instants, and property tests over 1990–2035.
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  etDate,
  type Session,
  sessionOn,
  sessions,
  statusAt,
  withinSession,
} from '../../src/calendar/index.js';

const et = (s: string) => DateTime.fromISO(s, { zone: 'America/New_York' }).toMillis();
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('statusAt', () => {
  it('weekend: Saturday noon, next open Monday', () => {
    const s = statusAt(et('2025-01-18T12:00'));
    expect(s).toMatchObject({ open: false, reason: 'weekend', session: null, currentClose: null });
    expect(iso(s.nextOpen)).toBe('2025-01-21T14:30:00.000Z'); // Monday is MLK day
    expect(iso(s.nextClose)).toBe('2025-01-21T21:00:00.000Z');
  });

  it('holiday with its name', () => {
    const s = statusAt(et('2024-11-28T10:00'));
    expect(s).toMatchObject({ open: false, reason: 'holiday', holiday: 'Thanksgiving Day', session: null });
    expect(iso(s.nextOpen)).toBe('2024-11-29T14:30:00.000Z');
    expect(iso(s.nextClose)).toBe('2024-11-29T18:00:00.000Z'); // early close the day after
  });

  it('special closure is a holiday', () => {
    const s = statusAt(et('2025-01-09T11:00'));
    expect(s.reason).toBe('holiday');
    expect(s.holiday).toMatch(/Carter/);
    expect(iso(s.nextOpen)).toBe('2025-01-10T14:30:00.000Z');
  });

  it('before open, at open, during, at close, after close', () => {
    const before = statusAt(et('2024-06-12T09:29:59.999'));
    expect(before).toMatchObject({ open: false, reason: 'before-open', currentClose: null });
    expect(before.session?.date).toBe('2024-06-12');
    expect(iso(before.nextOpen)).toBe('2024-06-12T13:30:00.000Z');

    const atOpen = statusAt(et('2024-06-12T09:30'));
    expect(atOpen).toMatchObject({ open: true, reason: 'open' });
    expect(iso(atOpen.currentClose)).toBe('2024-06-12T20:00:00.000Z');
    expect(iso(atOpen.nextClose)).toBe('2024-06-12T20:00:00.000Z');
    expect(iso(atOpen.nextOpen)).toBe('2024-06-13T13:30:00.000Z');

    expect(statusAt(et('2024-06-12T15:59:59.999')).open).toBe(true);

    const atClose = statusAt(et('2024-06-12T16:00'));
    expect(atClose).toMatchObject({ open: false, reason: 'after-close' });
    expect(atClose.session?.date).toBe('2024-06-12');
    expect(iso(atClose.nextOpen)).toBe('2024-06-13T13:30:00.000Z');
  });

  it('Friday evening: next open is Monday (or Tuesday after a Monday holiday)', () => {
    expect(iso(statusAt(et('2024-06-14T20:00')).nextOpen)).toBe('2024-06-17T13:30:00.000Z');
    expect(iso(statusAt(et('2025-01-17T16:00')).nextOpen)).toBe('2025-01-21T14:30:00.000Z');
  });

  it('early-close day after 13:00', () => {
    const s = statusAt(et('2024-12-24T13:30'));
    expect(s).toMatchObject({ open: false, reason: 'early-close' });
    expect(s.session?.earlyClose).toBe(true);
    expect(iso(s.nextOpen)).toBe('2024-12-26T14:30:00.000Z');
    expect(statusAt(et('2024-12-24T12:59:59')).open).toBe(true);
  });

  it('midnight ET belongs to the new ET day, whatever the UTC date', () => {
    // 2024-03-11 00:30 EDT = 04:30Z; 2024-03-10 23:30 EDT = 2024-03-11 03:30Z (still Sunday in New York)
    expect(statusAt(Date.parse('2024-03-11T03:30:00Z')).reason).toBe('weekend');
    expect(statusAt(Date.parse('2024-03-11T04:30:00Z')).reason).toBe('before-open');
  });

  it('etDate gives the New York date of an instant, across midnight and DST', () => {
    expect(etDate(Date.parse('2024-03-11T03:59:59.999Z'))).toBe('2024-03-10'); // 23:59:59.999 EDT
    expect(etDate(Date.parse('2024-03-11T04:00:00Z'))).toBe('2024-03-11');
    expect(etDate(Date.parse('2024-11-04T04:59:59.999Z'))).toBe('2024-11-03'); // 23:59:59.999 EST
    expect(etDate(Date.parse('2024-11-04T05:00:00Z'))).toBe('2024-11-04');
    fc.assert(
      fc.property(fc.integer({ min: START, max: END }), (t) => {
        expect(etDate(t)).toBe(DateTime.fromMillis(t, { zone: 'America/New_York' }).toISODate());
      }),
      { numRuns: 2000 },
    );
  });

  it('throws a RangeError outside the supported years', () => {
    expect(() => statusAt(Date.parse('1989-06-01T15:00:00Z'))).toThrow(RangeError);
    expect(() => statusAt(Date.parse('2036-06-01T15:00:00Z'))).toThrow(RangeError);
  });
});

// The sessions with hours NYSE set by hand; everything else is 6.5 h, or 3.5 h on a scheduled early close.
const IRREGULAR = new Set([
  '1990-12-24',
  '1990-12-27',
  '1991-01-17',
  '1991-02-25',
  '1991-12-24',
  '1992-11-27',
  '1992-12-24',
  '1994-02-11',
  '1995-12-18',
  '1996-01-08',
  '1997-10-27',
  '2001-09-17',
  '2001-10-08',
  '2002-09-11',
  '2003-03-20',
  '2004-06-07',
  '2005-06-01',
  '2006-12-27',
]);

const START = Date.parse('1990-01-01T05:00:00Z');
const END = Date.parse('2035-12-20T00:00:00Z');

describe('properties', () => {
  const all: Session[] = sessions('1990-01-01', '2035-12-31');

  it('every session is a weekday, opens before it closes, lasts 3.5–6.5 h unless NYSE set odd hours', () => {
    // An independent reading of ET wall time (Intl, not luxon), collected so 11,577 sessions stay fast.
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    const wall = (ms: number) => {
      const p = Object.fromEntries(fmt.formatToParts(ms).map((x) => [x.type, x.value]));
      return { date: `${p.year}-${p.month}-${p.day}`, weekday: p.weekday, time: `${p.hour}:${p.minute}` };
    };
    const bad: string[] = [];
    let prevClose = 0;
    for (const s of all) {
      const o = wall(s.open);
      const c = wall(s.close);
      const hours = (s.close - s.open) / 3_600_000;
      const regular = o.time === '09:30' && ['16:00', '13:00'].includes(c.time) && [6.5, 3.5].includes(hours);
      const ok =
        o.date === s.date &&
        c.date === s.date &&
        !['Sat', 'Sun'].includes(o.weekday ?? '') &&
        s.open < s.close &&
        s.open > prevClose &&
        (regular || (IRREGULAR.has(s.date) && hours >= 3)) &&
        s.earlyClose === c.time < '16:00';
      if (!ok) bad.push(`${s.date} ${o.weekday} ${o.time}-${c.time} early=${s.earlyClose}`);
      prevClose = s.close;
    }
    expect(bad).toEqual([]);
    expect(all.length).toBe(11_577); // the sum of the per-year counts in published.test.ts
    // and the irregular ones really are irregular (the table has no stale entries)
    const odd = all.filter((s) => {
      const o = wall(s.open).time;
      const c = wall(s.close).time;
      return o !== '09:30' || !['16:00', '13:00'].includes(c);
    });
    expect(new Set(odd.map((s) => s.date))).toEqual(IRREGULAR);
  });

  it('statusAt(t): nextOpen > t; open exactly when t is inside a session', () => {
    fc.assert(
      fc.property(fc.integer({ min: START, max: END }), (t) => {
        const s = statusAt(t);
        expect(s.nextOpen).toBeGreaterThan(t);
        expect(s.nextClose).toBeGreaterThan(t);
        const day = DateTime.fromMillis(t, { zone: 'America/New_York' }).toISODate() ?? '';
        const today = sessionOn(day);
        const inside = today !== null && today.open <= t && t < today.close;
        expect(s.open).toBe(inside);
        if (s.open) expect(s.currentClose).toBe(today?.close);
        else expect(s.currentClose).toBeNull();
        // nothing opens between t and nextOpen
        const next = sessions(
          day,
          DateTime.fromMillis(s.nextOpen, { zone: 'America/New_York' }).toISODate() ?? '',
        );
        for (const x of next) if (x.open > t) expect(x.open).toBeGreaterThanOrEqual(s.nextOpen);
      }),
      { numRuns: 3000 },
    );
  });

  it('sessionOn agrees with sessions for random dates', () => {
    fc.assert(
      fc.property(fc.integer({ min: START, max: END }), (t) => {
        const d = new Date(t).toISOString().slice(0, 10);
        const one = sessionOn(d);
        const list = sessions(d, d);
        expect(list).toEqual(one ? [one] : []);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("withinSession: which trades a session's candles take", () => {
  it('from the open (inclusive) to the close (exclusive), early closes included', () => {
    const s = sessionOn('2024-07-03')!; // 13:30Z–17:00Z, an early close
    expect(withinSession(s, s.open - 1)).toBe(false); // a pre-market print during the lead
    expect(withinSession(s, s.open)).toBe(true);
    expect(withinSession(s, s.close - 1)).toBe(true); // reported late, during the tail: still in
    expect(withinSession(s, s.close)).toBe(false); // the post-market side
    expect(withinSession(s, Date.parse('2024-07-03T16:59:59.999Z'))).toBe(true);
  });
});
