// Deliberately simple oracles: group every kept trade by key, then compute each candle from scratch.
// No incremental state, no caches: the aggregators must agree with these.
import { DateTime } from 'luxon';
import type { SecondCandle, TickCandle, Trade } from '../../src/aggregate/types.js';

export type Event = { kind: 'trade'; trade: Trade } | { kind: 'flush'; now: number };

interface Opts {
  intervalMs: number;
  latenessMs: number;
}

// The consolidated tape's update rules, written out again here from the research table (section C), not
// imported: ids that do not update high/low, open/close, volume. Anything else (unknown ids included)
// updates everything; a trade updates a field only if each of its conditions allows it.
const NO_HIGH_LOW = new Set([2, 7, 12, 13, 15, 16, 20, 21, 29, 37, 52, 53]);
const NO_OPEN_CLOSE = new Set([2, 5, 7, 10, 12, 13, 15, 16, 20, 21, 22, 29, 32, 33, 37, 52, 53]);
const NO_VOLUME = new Set([15, 16, 38]);

export function rulesOf(conditions: readonly number[]): { hl: boolean; oc: boolean; vol: boolean } {
  return {
    hl: !conditions.some((c) => NO_HIGH_LOW.has(c)),
    oc: !conditions.some((c) => NO_OPEN_CLOSE.has(c)),
    vol: !conditions.some((c) => NO_VOLUME.has(c)),
  };
}

/** A trade that updates at least one field (it belongs to a candle). */
export function counts(t: Trade): boolean {
  const r = rulesOf(t.conditions);
  return r.hl || r.oc || r.vol;
}

/** Builds one candle from counted trades given in arrival order (all of one key). */
function fromTrades(trades: readonly Trade[]) {
  const oc = trades.filter((t) => rulesOf(t.conditions).oc);
  const hl = trades.filter((t) => rulesOf(t.conditions).hl);
  const vol = trades.filter((t) => rulesOf(t.conditions).vol);
  let openT = oc[0];
  let closeT = oc[0];
  for (const t of oc) {
    if (t.ts < openT!.ts) openT = t; // ties: the first arrival stays
    if (t.ts >= closeT!.ts) closeT = t; // ties: the last arrival wins
  }
  const volume = vol.reduce((a, t) => a + t.size, 0);
  const pv = vol.reduce((a, t) => a + t.price * t.size, 0);
  return {
    open: openT?.price ?? null,
    close: closeT?.price ?? null,
    high: hl.length > 0 ? Math.max(...hl.map((t) => t.price)) : null,
    low: hl.length > 0 ? Math.min(...hl.map((t) => t.price)) : null,
    volume,
    tradeCount: trades.length,
    vwap: volume > 0 ? pv / volume : null,
    first: Math.min(...trades.map((t) => t.ts)),
    last: Math.max(...trades.map((t) => t.ts)),
    firstOpen: oc[0]?.price ?? null,
    lastClose: oc[oc.length - 1]?.price ?? null,
  };
}

/**
 * The feed clock, stated simply (src/aggregate/feedClock.ts defaults): per symbol, the offset is the largest
 * (ts − collector time) seen; a symbol's first trade more than 1 h from the collector's clock, or a later one
 * more than 5 min ahead of both its symbol's clock and the collector's, or 1 h behind its symbol's clock, is
 * quarantined (and changes nothing), unless it is
 * the 50th in a row of quarantined trades within 5 min of the first of that row: then the clock moves to it.
 */
export class ReferenceClock {
  readonly offsets = new Map<string, number>();
  /** The current row of quarantined trades per symbol: the first one's offset and how many. */
  private readonly rows = new Map<string, { off: number; n: number }>();
  now = Number.NEGATIVE_INFINITY;
  quarantined = 0;

  advance(now: number): void {
    this.now = Math.max(this.now, now);
  }

  admit(t: Trade): boolean {
    this.advance(t.receivedAt);
    const d = t.ts - this.now;
    const off = this.offsets.get(t.symbol);
    const far =
      off === undefined ? Math.abs(d) > 3_600_000 : (d - off > 300_000 && d > 300_000) || off - d > 3_600_000;
    if (!far) {
      this.rows.delete(t.symbol);
      this.offsets.set(t.symbol, Math.max(off ?? d, d));
      return true;
    }
    const row = this.rows.get(t.symbol);
    if (row && Math.abs(d - row.off) <= 300_000) {
      row.n++;
      if (row.n >= 50) {
        this.rows.delete(t.symbol);
        this.offsets.set(t.symbol, d);
        return true;
      }
    } else this.rows.set(t.symbol, { off: d, n: 1 });
    this.quarantined++;
    return false;
  }

  /** The feed's clock for `symbol` now. */
  feedNow(symbol: string): number {
    return this.now + (this.offsets.get(symbol) ?? Number.NEGATIVE_INFINITY);
  }
}

export interface SecondReference {
  candles: Map<string, SecondCandle>;
  dropped: number;
  clock: ReferenceClock;
}

/**
 * The lateness rule, stated once: at each add, the symbol's feed clock (ReferenceClock) is read after the trade
 * was admitted; a trade with feedNow − bucketEnd > latenessMs is dropped. `upTo` stops early.
 */
export function referenceSeconds(events: readonly Event[], o: Opts, upTo = events.length): SecondReference {
  const clock = new ReferenceClock();
  let dropped = 0;
  const groups = new Map<string, Trade[]>();
  for (let i = 0; i < upTo; i++) {
    const e = events[i]!;
    if (e.kind === 'flush') {
      clock.advance(e.now);
      continue;
    }
    const t = e.trade;
    if (!clock.admit(t) || !counts(t)) continue;
    const bucket = Math.floor(t.ts / o.intervalMs) * o.intervalMs;
    if (clock.feedNow(t.symbol) - (bucket + o.intervalMs) > o.latenessMs) {
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
  return { candles, dropped, clock };
}

export interface TickReference {
  candles: Map<string, TickCandle>;
  staleDropped: number;
}

/** Per symbol, per ET date (sessions only move forward), trades in arrival order cut into groups of `size`. */
/** `admit` decides quarantine (a restart starts a new clock: pass admitAll for trades already filtered). */
export function referenceTicks(
  trades: readonly Trade[],
  size: number,
  admit?: (t: Trade) => boolean,
): TickReference {
  const clock = new ReferenceClock();
  const admitted = admit ?? ((t: Trade) => clock.admit(t));
  const session = new Map<string, string>();
  const groups = new Map<string, Trade[]>(); // `${symbol} ${date}` -> trades in arrival order
  let staleDropped = 0;
  for (const t of trades) {
    if (!admitted(t) || !counts(t)) continue;
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
        open: c.firstOpen,
        high: c.high,
        low: c.low,
        close: c.lastClose,
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
