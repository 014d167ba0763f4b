import { describe, expect, it } from 'vitest';
import { DailyBaseline } from '../../src/http/fillSnapshot.js';

const at = (iso: string) => Date.parse(iso);

describe('daily counters on /health', () => {
  it('count from start-up, not from the first scrape, and reset at New York midnight', () => {
    const daily = new DailyBaseline(at('2025-03-10T14:00:00Z'));
    // A gap and a reconnect happen before anyone asks.
    expect(daily.read(at('2025-03-10T15:00:00Z'), { reconnects: 1, gaps: 1 })).toEqual({
      reconnects: 1,
      gaps: 1,
    });
    expect(daily.read(at('2025-03-11T03:59:00Z'), { reconnects: 3, gaps: 2 })).toEqual({
      reconnects: 3,
      gaps: 2,
    });
    // 04:00Z on 2025-03-11 is midnight in New York (EDT): a new day starts from the counts then.
    expect(daily.read(at('2025-03-11T04:00:00Z'), { reconnects: 3, gaps: 2 })).toEqual({
      reconnects: 0,
      gaps: 0,
    });
    expect(daily.read(at('2025-03-11T14:00:00Z'), { reconnects: 5, gaps: 3 })).toEqual({
      reconnects: 2,
      gaps: 1,
    });
  });
});
