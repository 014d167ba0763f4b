// Deliberately simple oracles: group every kept trade by key, then compute each candle from scratch.
// No incremental state, no caches: the aggregators must agree with these.
import { DateTime } from 'luxon';
import type { SecondCandle, TickCandle, Trade } from '../../src/aggregate/types.js';

export type Event = { kind: 'trade'; trade: Trade } | { kind: 'flush'; now: number };

interface Opts {
  intervalMs: number;
  latenessMs: number;
}

/** Builds one candle from trades given in arrival order (all of one key). */
function fromTrades(trades: readonly Trade[]) {
  let openT = trades[0]!;
  let closeT = trades[0]!;
  for (const t of trades) {
    if (t.ts < openT.ts) openT = t; // ties: the first arrival stays
    if (t.ts >= closeT.ts) closeT = t; // ties: the last arrival wins
  }
  const volume = trades.reduce((a, t) => a + t.size, 0);
  const pv = trades.reduce((a, t) => a + t.price * t.size, 0);
  return {
    open: openT.price,
    close: closeT.price,
    high: Math.max(...trades.map((t) => t.price)),
    low: Math.min(...trades.map((t) => t.price)),
    volume,
    tradeCount: trades.length,
    vwap: volume > 0 ? pv / volume : null,
    first: openT.ts,
    last: closeT.ts,
  };
}

export interface SecondReference {
  candles: Map<string, SecondCandle>;
  dropped: number;
}

/**
 * The lateness rule, stated once: at each add, `now` is the largest collector time seen so far (flush `now`
 * or a trade's receivedAt); a trade with now − bucketEnd > latenessMs is dropped. `upTo` stops early.
 */
export function referenceSeconds(events: readonly Event[], o: Opts, upTo = events.length): SecondReference {
  let now = Number.NEGATIVE_INFINITY;
  let dropped = 0;
  const groups = new Map<string, Trade[]>();
  for (let i = 0; i < upTo; i++) {
    const e = events[i]!;
    if (e.kind === 'flush') {
      now = Math.max(now, e.now);
      continue;
    }
    const t = e.trade;
    now = Math.max(now, t.receivedAt);
    const bucket = Math.floor(t.ts / o.intervalMs) * o.intervalMs;
    if (now - (bucket + o.intervalMs) > o.latenessMs) {
      dropped++;
      continue;
    }
    const k = `1s ${t.symbol} ${bucket}`;
    const g = groups.get(k) ?? [];
    g.push(t);
    groups.set(k, g);
  }
  const candles = new Map<string, SecondCandle>();
  for (const [k, g] of groups) {
    const c = fromTrades(g);
    const t0 = g[0]!;
    candles.set(k, {
      kind: '1s',
      symbol: t0.symbol,
      bucket: Math.floor(t0.ts / o.intervalMs) * o.intervalMs,
      open: c.open,
      high: c.high,
      low: c.low,
      close: c.close,
      volume: c.volume,
      tradeCount: c.tradeCount,
      vwap: c.vwap,
      firstTradeAt: c.first,
      lastTradeAt: c.last,
    });
  }
  return { candles, dropped };
}

export interface TickReference {
  candles: Map<string, TickCandle>;
  staleDropped: number;
}

/** Per symbol, per ET date (sessions only move forward), trades in arrival order cut into groups of `size`. */
export function referenceTicks(trades: readonly Trade[], size: number): TickReference {
  const session = new Map<string, string>();
  const groups = new Map<string, Trade[]>(); // `${symbol} ${date}` -> trades in arrival order
  let staleDropped = 0;
  for (const t of trades) {
    const date = DateTime.fromMillis(t.ts, { zone: 'America/New_York' }).toISODate()!;
    const cur = session.get(t.symbol);
    if (cur !== undefined && date < cur) {
      staleDropped++;
      continue;
    }
    session.set(t.symbol, date);
    const k = `${t.symbol} ${date}`;
    const g = groups.get(k) ?? [];
    g.push(t);
    groups.set(k, g);
  }
  const candles = new Map<string, TickCandle>();
  for (const [k, g] of groups) {
    const [symbol, date] = k.split(' ') as [string, string];
    for (let seq = 0; seq * size < g.length; seq++) {
      const part = g.slice(seq * size, seq * size + size);
      const c = fromTrades(part);
      candles.set(`t ${symbol} ${date} ${seq}`, {
        kind: '100t',
        symbol,
        sessionDate: date,
        seq,
        open: part[0]!.price,
        high: c.high,
        low: c.low,
        close: part[part.length - 1]!.price,
        volume: c.volume,
        tradeCount: c.tradeCount,
        vwap: c.vwap,
        startAt: part[0]!.ts,
        endAt: part[part.length - 1]!.ts,
      });
    }
  }
  return { candles, staleDropped };
}
