// The one shape every candle aggregator has, their shared plumbing, and Aggregators to run them together.
// Pure: no I/O, no clock reads, no timers. Time comes in as `now` (the collector's clock, epoch ms) through
// flush(), and through each trade's `receivedAt`.
import { FeedClock } from './feedClock.js';
import { SymbolIds } from './symbolIds.js';
import type { Trade } from './types.js';

export interface CandleAggregator<S extends object = object> {
  /** One trade, in arrival order. May emit (synchronously, through the CandleOut given to the constructor). */
  add(t: Trade): void;
  /**
   * Emit what is due at `now`; main calls it every 50 ms so idle symbols flush too. With `maxSymbols`, at
   * most that many symbols' candles in one call; true when some are still due (call again).
   */
  flush(now: number, maxSymbols?: number): boolean;
  /** Emit every candle still held (partial ones as they are): session close and shutdown. */
  drain(): void;
  /**
   * Emit the held candles of `symbols` as drain() would, then forget their state: a shard handed to another
   * collector, whose series a later re-acquire resumes from the store. Optional: aggregators without
   * per-symbol state have nothing to forget.
   */
  release?(symbols: readonly string[]): void;
  /**
   * The exchange time of the oldest trade it holds in no emitted candle version yet (+Infinity: none): the
   * ledger never covers past it. Optional: an aggregator that never holds a trade has no bound.
   */
  heldFrom?(): number;
  /** Plain counters, read by the metrics layer at scrape time. */
  readonly stats: Readonly<S>;
}

/**
 * An aggregator keeping per-symbol state by id (see symbolIds.ts): it can share its id table and its feed clock
 * (feedClock.ts: event time and quarantine, decided once per trade for every part).
 */
export interface IdAggregator<S extends object = object> extends CandleAggregator<S> {
  /** Use `ids` and `clock` from now on; only before the first symbol (throws otherwise). */
  share(ids: SymbolIds, clock: FeedClock): void;
  /** add(t) for a trade whose symbol already has `id` in the shared table and that the clock admitted. */
  addAt(id: number, t: Trade): void;
}

/** The plumbing both aggregators share: their own table and clock until `Aggregators` hands them shared ones. */
export abstract class SymbolKeyedAggregator<S extends object> implements IdAggregator<S> {
  /** Symbol ids: its own table, or the one shared by Aggregators. */
  protected ids = new SymbolIds();
  /** Event time and quarantine: its own, or the one shared by Aggregators. */
  protected clock = new FeedClock();
  abstract readonly stats: Readonly<S>;
  abstract addAt(id: number, t: Trade): void;
  abstract flush(now: number, maxSymbols?: number): boolean;
  abstract drain(): void;
  /** release() for one symbol id this aggregator may or may not have seen. */
  protected abstract releaseId(id: number): void;

  release(symbols: readonly string[]): void {
    for (const sym of symbols) {
      const id = this.ids.peek(sym);
      if (id >= 0) this.releaseId(id);
    }
  }

  add(t: Trade): void {
    const id = this.ids.idOf(t.symbol);
    if (this.clock.admit(id, t.ts, t.receivedAt)) this.addAt(id, t);
  }

  share(ids: SymbolIds, clock: FeedClock): void {
    if (this.ids.size > 0) throw new Error('share: only before the first symbol');
    this.ids = ids;
    this.clock = clock;
  }

  /** Quarantined trades and re-anchored symbols (shared: the same object for every part of Aggregators). */
  get clockStats(): FeedClock['stats'] {
    return this.clock.stats;
  }
}

function isIdAggregator(a: CandleAggregator): a is IdAggregator {
  const x = a as Partial<IdAggregator>;
  return typeof x.addAt === 'function' && typeof x.share === 'function';
}

/**
 * Feeds every trade to each aggregator in turn: `new Aggregators({ second, tick })`. When every part is an
 * IdAggregator they share one SymbolIds table (build it before adding trades to any part): a trade's symbol
 * is looked up once, here, and each part is handed the id.
 */
export class Aggregators<S extends Record<string, CandleAggregator>> implements CandleAggregator {
  readonly parts: S;
  /** The shared table, or null when some part does not take ids. */
  readonly ids: SymbolIds | null;
  /** The shared feed clock (null with ids): each trade is admitted once, here. */
  readonly clock: FeedClock | null;
  /** receivedAt of each symbol's last trade, by shared id (an array write per trade: no string work). */
  readonly lastReceivedAt: number[] = [];
  private readonly list: CandleAggregator[];
  private readonly idList: IdAggregator[];

  constructor(parts: S, clock: FeedClock = new FeedClock()) {
    this.parts = parts;
    this.list = Object.values(parts);
    const idList = this.list.filter(isIdAggregator);
    if (idList.length === this.list.length && idList.length > 0) {
      const ids = new SymbolIds();
      for (const a of idList) a.share(ids, clock);
      this.ids = ids;
      this.clock = clock;
      this.idList = idList;
    } else {
      this.ids = null;
      this.clock = null;
      this.idList = [];
    }
  }

  /**
   * The feed clock's verdict on a trade, once (shared ids only): its symbol id, or -1 when quarantined.
   * For a caller that hands the trade to the parts at different times (addTo), so it is judged only once.
   */
  admit(t: Trade): number {
    const id = this.ids!.idOf(t.symbol);
    this.lastReceivedAt[id] = t.receivedAt;
    return this.clock!.admit(id, t.ts, t.receivedAt) ? id : -1;
  }

  /** An admitted trade (admit() gave `id`) for one part. */
  addTo(part: keyof S, id: number, t: Trade): void {
    (this.parts[part] as unknown as IdAggregator).addAt(id, t);
  }

  /** The oldest trade any part still holds (see CandleAggregator.heldFrom). */
  heldFrom(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const a of this.list) {
      const h = a.heldFrom?.() ?? Number.POSITIVE_INFINITY;
      if (h < min) min = h;
    }
    return min;
  }

  add(t: Trade): void {
    const ids = this.ids;
    if (ids !== null) {
      const id = ids.idOf(t.symbol);
      this.lastReceivedAt[id] = t.receivedAt;
      if (!this.clock!.admit(id, t.ts, t.receivedAt)) return;
      const list = this.idList;
      for (let i = 0; i < list.length; i++) list[i]!.addAt(id, t);
      return;
    }
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i]!.add(t);
  }

  /** [symbol, receivedAt of its last trade] for the first `max` symbols seen (shared ids only). */
  lastTrades(max: number): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    const names = this.ids?.names ?? [];
    for (let id = 0; id < names.length && out.length < max; id++) {
      const at = this.lastReceivedAt[id];
      if (at !== undefined) out.push([names[id]!, at]);
    }
    return out;
  }

  /** Every part's flush; true when a part has more due than `maxSymbols` let it write. */
  flush(now: number, maxSymbols?: number): boolean {
    let more = false;
    for (const a of this.list) if (a.flush(now, maxSymbols)) more = true;
    return more;
  }

  drain(): void {
    for (const a of this.list) a.drain();
  }

  release(symbols: readonly string[]): void {
    for (const a of this.list) a.release?.(symbols);
  }

  /** `{ second: {...}, tick: {...} }`: each part's live stats object (not a copy). */
  get stats(): { [K in keyof S]: S[K]['stats'] } {
    const out = {} as { [K in keyof S]: S[K]['stats'] };
    for (const k of Object.keys(this.parts) as (keyof S)[]) out[k] = this.parts[k]!.stats;
    return out;
  }
}
