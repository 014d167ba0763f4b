// Builders for test trades: arrival counter and receivedAt filled in so each case states only what it tests.
import { UPDATES_ALL } from '../../src/aggregate/conditions.js';
import type { Candle, SecondCandle, TickCandle, Trade } from '../../src/aggregate/types.js';

let nextSeq = 0;

export function trade(
  symbol: string,
  ts: number,
  price: number,
  size = 1,
  extra: Partial<Trade> = {},
): Trade {
  return {
    symbol,
    price,
    size,
    ts,
    conditions: [],
    flags: UPDATES_ALL,
    darkPool: false,
    marketStatus: 'open',
    seq: nextSeq++,
    receivedAt: ts,
    ...extra,
  };
}

/** Collects what an aggregator emits, with the latest version per key. */
export class Collector {
  readonly all: Candle[] = [];
  readonly out = (c: Candle): void => {
    this.all.push(c);
  };

  get seconds(): SecondCandle[] {
    return this.all.filter((c): c is SecondCandle => c.kind === '1s');
  }

  get ticks(): TickCandle[] {
    return this.all.filter((c): c is TickCandle => c.kind === '100t');
  }

  /** Latest emitted version per key: what the store holds after its upserts. */
  latest(): Map<string, Candle> {
    const m = new Map<string, Candle>();
    for (const c of this.all) m.set(candleKey(c), c);
    return m;
  }

  clear(): void {
    this.all.length = 0;
  }
}

export function candleKey(c: Candle): string {
  return c.kind === '1s' ? `1s ${c.symbol} ${c.bucket}` : `t ${c.symbol} ${c.sessionDate} ${c.seq}`;
}
