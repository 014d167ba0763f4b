// The page's candle rules (web/candles.js, plain browser JavaScript with no DOM): where a candle sits on the
// time axis, and what is drawn for prices that are missing (never a zero).
import { describe, expect, it } from 'vitest';

type C = Record<string, unknown>;
interface CandlesModule {
  candleX(c: C): number;
  candleMs(c: C): number;
  drawable(c: C): { open: number; high: number; low: number; close: number } | null;
  isBarKind(k: string): boolean;
}
// A runtime path: the type checker does not follow it into the browser module.
const path = '../../web/candles.js';
const { candleX, candleMs, drawable, isBarKind } = (await import(path)) as CandlesModule;

const sec = (over: C = {}): C => ({
  kind: '1s',
  symbol: 'AAPL',
  bucket: Date.UTC(2024, 6, 3, 14, 30, 5),
  open: 10,
  high: 12,
  low: 9,
  close: 11,
  volume: 100,
  tradeCount: 3,
  vwap: 10.5,
  ...over,
});

describe('web/candles.js', () => {
  it('places a 1-second candle at its second and a 100-tick one at day·10⁶ + seq', () => {
    expect(candleX(sec())).toBe(Date.UTC(2024, 6, 3, 14, 30, 5) / 1000);
    const t = (seq: number, sessionDate = '2024-07-03') => ({ kind: '100t', sessionDate, seq, endAt: 5 });
    const day = Date.UTC(2024, 6, 3) / 86_400_000;
    expect(candleX(t(0))).toBe(day * 1e6);
    expect(candleX(t(41))).toBe(day * 1e6 + 41);
    // Strictly increasing through the session and across dates, however many end in one second.
    expect(candleX(t(0, '2024-07-05'))).toBeGreaterThan(candleX(t(999_999)));
    expect(candleMs(t(3))).toBe(5);
    expect(candleMs(sec())).toBe(Date.UTC(2024, 6, 3, 14, 30, 5));
  });

  it('places a bar (1m … 1d) at its start and tells the bar kinds from the streamed ones', () => {
    const start = Date.UTC(2024, 6, 3, 4, 0, 0); // a New York day's start
    for (const kind of ['1m', '5m', '1h', '1d']) {
      expect(candleX(sec({ kind, bucket: start })), kind).toBe(start / 1000);
      expect(candleMs(sec({ kind, bucket: start })), kind).toBe(start);
      expect(isBarKind(kind), kind).toBe(true);
    }
    expect(['1s', '100t', '2m'].filter(isBarKind)).toEqual([]);
    expect(drawable(sec({ kind: '1m', open: null, high: null, low: null, close: null }))).toBeNull();
  });

  it('draws nothing for a volume-only candle and fills partial prices from those it has', () => {
    expect(drawable(sec({ open: null, high: null, low: null, close: null }))).toBeNull();
    expect(drawable(sec())).toEqual({ open: 10, high: 12, low: 9, close: 11 });
    // Only a last price (e.g. trades that set close but not high/low): a flat candle at it, not at zero.
    expect(drawable(sec({ open: null, high: null, low: null, close: 11 }))).toEqual({
      open: 11,
      high: 11,
      low: 11,
      close: 11,
    });
    expect(drawable(sec({ high: null, low: null }))).toEqual({ open: 10, high: 11, low: 10, close: 11 });
    expect(drawable(sec({ open: null, close: null }))).toEqual({ open: 12, high: 12, low: 9, close: 12 });
  });
});
