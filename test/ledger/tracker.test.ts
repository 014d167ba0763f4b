// The coverage tracker's bookkeeping in the cases the property test does not stress: thousands of rows lost in
// an outage stay a handful of segments and notes, and a connection whose feed ended still has its last rows
// confirmed as they commit.
import { describe, expect, it } from 'vitest';
import type { SecondCandle } from '../../src/aggregate/types.js';
import { type ConnView, CoverageTracker } from '../../src/ledger/tracker.js';

const T0 = Date.UTC(2026, 2, 3, 15, 0);

function view(maxTs: number): ConnView {
  return {
    symbols: ['A', 'B'],
    attempts: 1,
    firstTs: T0,
    maxTs,
    faults: 0,
    faultMinTs: Number.POSITIVE_INFINITY,
    faultMaxTs: Number.NEGATIVE_INFINITY,
  };
}

const candle = (symbol: string, bucket: number): SecondCandle => ({
  kind: '1s',
  symbol,
  bucket,
  open: 1,
  high: 1,
  low: 1,
  close: 1,
  volume: 1,
  tradeCount: 1,
  vwap: 1,
  firstTradeAt: bucket,
  lastTradeAt: bucket,
});

describe('the coverage tracker', () => {
  it('10,000 rows dropped at the live edge: a few segments and one note, and none of their time covered', () => {
    const t = new CoverageTracker({ firstEpoch: 1, intervalMs: 1000 });
    const conn = view(T0 + 5_000);
    const conns = new Map<object, ConnView>([[conn, conn]]);
    t.checkpoint(conns, Number.POSITIVE_INFINITY); // opens the segment at T0 + 1 s
    const dropped: SecondCandle[] = [];
    for (let i = 0; i < 10_000; i++) {
      const c = candle(i % 2 ? 'A' : 'B', T0 + 2_000 + i * 10);
      t.tag(c);
      dropped.push(c);
    }
    conn.maxTs = T0 + 200_000;
    t.checkpoint(conns, Number.POSITIVE_INFINITY);
    t.onNotice({ table: 'candles_1s', committed: [], refused: [], dropped });
    expect(t.segments.length).toBeLessThanOrEqual(2);
    expect(t.notes).toHaveLength(1);
    const lastLost = T0 + 2_000 + 9_999 * 10 + 1_000;
    for (const s of t.segments) expect(s.end <= T0 + 2_000 || s.start >= lastLost).toBe(true);
  });

  it('a connection whose feed ended gets its last rows confirmed as they commit', () => {
    const t = new CoverageTracker({ firstEpoch: 1, intervalMs: 1000 });
    const conn = view(T0 + 1_500);
    t.checkpoint(new Map([[conn, conn]]), Number.POSITIVE_INFINITY);
    const last = candle('A', T0 + 9_000);
    t.tag(last);
    conn.maxTs = T0 + 10_000;
    // The feed ends: the connection is no longer listed when the final checkpoint comes.
    t.checkpoint(new Map(), Number.POSITIVE_INFINITY);
    expect(t.segments[0]!.end).toBe(T0 + 1_000); // not before its rows commit
    t.onNotice({ table: 'candles_1s', committed: [last], refused: [], dropped: [] });
    expect(t.segments[0]!.end).toBe(T0 + 9_000);
  });
});
