// The data contracts of the pure core (see docs/ARCHITECTURE.md, "The trade" and "Candle semantics").
// Every outer part (feed, store, http) imports these; nothing here imports anything with I/O.

/** One validated trade. `ts` is the exchange's time (epoch ms); `seq` the collector's arrival counter. */
export interface Trade {
  symbol: string;
  price: number;
  size: number;
  ts: number;
  conditions: number[];
  /**
   * What the trade may update (UPDATES_* bits of conditions.ts, plus EXTENDED_HOURS), from its conditions by
   * ConditionRules: set by the producer (the collector for the feed's ids, the backfill for the tape's letters).
   */
  flags: number;
  darkPool: boolean;
  /** EODHD `ms`: 'open' | 'closed' | 'extended-hours' (passed through as received). */
  marketStatus: string | null;
  seq: number;
  /** The collector's clock when the frame was read (epoch ms). */
  receivedAt: number;
}

/**
 * A time candle (1-second by default). `bucket` is the start of its interval, epoch ms. Prices are null when no
 * trade of the candle may set them (a second of odd lots: volume, no price).
 */
export interface SecondCandle {
  kind: '1s';
  symbol: string;
  bucket: number;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number;
  tradeCount: number;
  /** Σ(price·size)/Σ(size); null when volume is 0. */
  vwap: number | null;
  firstTradeAt: number;
  lastTradeAt: number;
}

/** A tick candle (100 trades by default) within one America/New_York session date. */
export interface TickCandle {
  kind: '100t';
  symbol: string;
  /** YYYY-MM-DD, the America/New_York date of its trades. */
  sessionDate: string;
  /** k: holds trades k·N … k·N+N−1 of this symbol's session, in arrival order. */
  seq: number;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  volume: number;
  tradeCount: number;
  vwap: number | null;
  startAt: number;
  endAt: number;
}

export type Candle = SecondCandle | TickCandle;

/** Where finished (or amended) candles go; the sink implements it. Called synchronously, must not throw. */
export type CandleOut = (candle: Candle) => void;

/** An interval in which symbols were not being received: the feed reports it, the store keeps it (`feed_gaps`). */
export interface FeedGap {
  /** '*' when the socket carries every symbol of the feed, else the chunk's symbols joined with ','. */
  symbol: string;
  /** The chunk's symbols (the feed fills it; not stored: `symbol` is the key). */
  symbols?: string[];
  startedAt: number;
  endedAt: number;
  reason: string;
}
