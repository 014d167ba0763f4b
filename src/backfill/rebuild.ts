// Candles from the tape, by the same pure aggregators the live collector uses (one code path).
// Each print becomes a Trade whose flags come from its `sl` letters (ConditionRules.ofLetters), the session
// rule is inSessionCandles, and the 100-tick series counts in `seq` order. Pure: no I/O, no clock.

import { type ConditionRules, inSessionCandles } from '../aggregate/conditions.js';
import { SecondAggregator } from '../aggregate/secondAggregator.js';
import { TickAggregator } from '../aggregate/tickAggregator.js';
import type { SecondCandle, TickCandle, Trade } from '../aggregate/types.js';
import type { TapeTrade } from './tickApi.js';
import type { SecondWindow } from './writeTape.js';

export interface SessionBounds {
  open: number;
  close: number;
  tailMs: number;
}

export interface RebuildInput {
  symbol: string;
  sessionDate: string;
  /** The tape from `cutTs` (or earlier) on, in seq order. */
  tape: readonly TapeTrade[];
  /** Which trades enter candles; null = every trade of the ET day (SKIP_MARKET_HOURS). */
  session: SessionBounds | null;
  /** [start, end) of the session date's ET day. */
  day: { start: number; end: number };
  rules: ConditionRules;
  intervalMs: number;
  tickSize: number;
  /** 1-second buckets to rebuild (bucket starts in [fromMs, toMs)). */
  windows: readonly SecondWindow[];
  /** The 100-tick series is rebuilt from this seq, starting with the first counted trade at or after cutTs. */
  fromSeq: number;
  cutTs: number;
}

export interface Rebuilt {
  seconds: SecondCandle[];
  ticks: TickCandle[];
  /** Prints of the tape that entered a rebuilt candle. */
  trades: number;
}

/** The tape print as the aggregators' Trade. */
export function tapeTrade(symbol: string, t: TapeTrade, rules: ConditionRules): Trade {
  return {
    symbol,
    price: t.price,
    size: t.shares,
    ts: t.ts,
    conditions: [],
    flags: rules.ofLetters(t.sl),
    darkPool: t.mkt === 'D',
    marketStatus: null,
    seq: t.seq,
    receivedAt: t.ts,
  };
}

export function rebuild(input: RebuildInput): Rebuilt {
  const seconds: SecondCandle[] = [];
  const ticks: TickCandle[] = [];
  const inWindow = (bucket: number) => input.windows.some((w) => bucket >= w.fromMs && bucket < w.toMs);
  // Lateness without bound: the whole tape is known, nothing is late.
  const second = new SecondAggregator(
    { intervalMs: input.intervalMs, graceMs: 0, latenessMs: Number.POSITIVE_INFINITY },
    (c) => {
      if (c.kind === '1s' && inWindow(c.bucket)) seconds.push(c);
    },
  );
  const tick = new TickAggregator({ size: input.tickSize, checkpointMs: Number.POSITIVE_INFINITY }, (c) => {
    if (c.kind === '100t') ticks.push(c);
  });
  if (input.fromSeq > 0) {
    // Continue the series at fromSeq: resume from a full candle fromSeq − 1.
    tick.resume([
      {
        kind: '100t',
        symbol: input.symbol,
        sessionDate: input.sessionDate,
        seq: input.fromSeq - 1,
        open: null,
        high: null,
        low: null,
        close: null,
        volume: 0,
        tradeCount: input.tickSize,
        vwap: null,
        startAt: input.cutTs,
        endAt: input.cutTs,
      },
    ]);
  }
  const s = input.session;
  let trades = 0;
  for (const p of input.tape) {
    if (p.ts < input.day.start || p.ts >= input.day.end) continue;
    const t = tapeTrade(input.symbol, p, input.rules);
    if (s !== null && !inSessionCandles(s.open, s.close, s.tailMs, t.ts, t.flags)) continue;
    const bucket = t.ts - (t.ts % input.intervalMs);
    const forSecond = inWindow(bucket);
    const forTick = t.ts >= input.cutTs;
    if (forSecond) second.add(t);
    if (forTick) tick.add(t);
    if (forSecond || forTick) trades++;
  }
  second.drain();
  tick.drain();
  // drain() may re-emit a candle already written full; keep the last version of each seq.
  const bySeq = new Map<number, TickCandle>();
  for (const c of ticks) bySeq.set(c.seq, c);
  return { seconds, ticks: [...bySeq.values()].sort((a, b) => a.seq - b.seq), trades };
}
