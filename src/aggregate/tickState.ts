// One symbol's 100-tick candle state for TickAggregator. Its numbers live in a region of a Float64Array arena
// shared by many symbols, behind accessors: as plain object fields each double would be a separate boxed
// number somewhere on the heap, and at thousands of symbols every trade paid a cache miss per field touched.

/** Doubles per symbol in the arena. */
export const TICK_REGION = 11;

export class TickState {
  readonly symbol: string;
  /** YYYY-MM-DD of the session its series is in; '' before the first trade. */
  sessionDate = '';
  seq = 0;
  /** Trades in the unfinished candle. */
  count = 0;
  /** Holds trades not yet in an emitted version. */
  dirty = false;
  private readonly a: Float64Array;
  private readonly b: number;

  /** `arena[base … base + TICK_REGION)` is this symbol's. */
  constructor(symbol: string, arena: Float64Array, base: number) {
    this.symbol = symbol;
    this.a = arena;
    this.b = base;
    this.dayStart = Number.NaN;
    this.dayEnd = Number.NaN;
    this.dirtySeenAt = Number.NEGATIVE_INFINITY;
  }

  /** [dayStart, dayEnd): the session date's ET day; NaN until the first trade. */
  get dayStart(): number {
    return this.a[this.b + 0]!;
  }
  set dayStart(v: number) {
    this.a[this.b + 0] = v;
  }

  get dayEnd(): number {
    return this.a[this.b + 1]!;
  }
  set dayEnd(v: number) {
    this.a[this.b + 1] = v;
  }

  get open(): number {
    return this.a[this.b + 2]!;
  }
  set open(v: number) {
    this.a[this.b + 2] = v;
  }

  get high(): number {
    return this.a[this.b + 3]!;
  }
  set high(v: number) {
    this.a[this.b + 3] = v;
  }

  get low(): number {
    return this.a[this.b + 4]!;
  }
  set low(v: number) {
    this.a[this.b + 4] = v;
  }

  get close(): number {
    return this.a[this.b + 5]!;
  }
  set close(v: number) {
    this.a[this.b + 5] = v;
  }

  get volume(): number {
    return this.a[this.b + 6]!;
  }
  set volume(v: number) {
    this.a[this.b + 6] = v;
  }

  /** Σ price·size, in arrival order. */
  get pv(): number {
    return this.a[this.b + 7]!;
  }
  set pv(v: number) {
    this.a[this.b + 7] = v;
  }

  get startAt(): number {
    return this.a[this.b + 8]!;
  }
  set startAt(v: number) {
    this.a[this.b + 8] = v;
  }

  get endAt(): number {
    return this.a[this.b + 9]!;
  }
  set endAt(v: number) {
    this.a[this.b + 9] = v;
  }

  /** `now` of the first flush that saw it dirty; -Infinity when clean. */
  get dirtySeenAt(): number {
    return this.a[this.b + 10]!;
  }
  set dirtySeenAt(v: number) {
    this.a[this.b + 10] = v;
  }
}
