// Coverage, as the database confirms it (docs/ARCHITECTURE.md, "The ledger"). Pure: no I/O, no clock.
//
// A *segment* is one connection attempt's claim: "every trade timed in [start, end] that this socket's
// symbols traded reached a candle row the database committed". Its end only moves at a *checkpoint* (every
// flush tick) once every candle row pushed up to that checkpoint has been committed (the sink's commit
// notice), and never past what the socket proves it received (its newest trade, less the order slack) nor
// past the oldest trade still held in memory (an open candle, a 100-tick series waiting to resume).
// Candle rows carry the epoch (checkpoint number) they were pushed in; an epoch is settled when all its rows
// have a notice. A row refused by the fence, dead-lettered or lost cuts a hole in its symbol's segment.
// Nothing here has to remember to record a gap: whatever is not confirmed is not covered.
import type { Candle } from '../aggregate/types.js';
import type { CommitNotice } from '../store/sink/sinkTypes.js';

/** What the tracker reads of one feed connection at a checkpoint (feed/stats.ts ConnectionStats). */
export interface ConnView {
  symbols: readonly string[];
  /** Connection attempts so far: a new one starts a new segment. */
  attempts: number;
  /** The current attempt's first and newest trade times (exchange ts); NaN / -Infinity before its first. */
  firstTs: number;
  maxTs: number;
  /** Trades the consumer threw on (lost), and their time range since the last read (the tracker resets it). */
  faults: number;
  faultMinTs: number;
  faultMaxTs: number;
}

export interface Segment {
  /** The coverage row's id once written (the ledger sets it). */
  id: number | null;
  readonly symbols: ReadonlySet<string>;
  readonly symbolList: readonly string[];
  /** Moves only while nothing is confirmed or written (a hole at the live edge pushes it on). */
  start: number;
  /** Confirmed end (≥ start). */
  end: number;
  /** What the coverage row says now (the ledger updates it after a write). */
  persistedEnd: number | null;
  /** Never extended past this (a hole was cut after it). */
  limit: number;
  /** Checkpoints taken before it was created never extend it. */
  readonly fromEpoch: number;
  /** Still fed by its connection. */
  open: boolean;
  /** Its row is being inserted now (the ledger's write): its start must not move under it. */
  inserting?: boolean;
}

interface Checkpoint {
  epoch: number;
  ends: Array<[Segment, number]>;
}

/** Checkpoints a connection no longer listed (its feed ended) still gets candidates for (~10 s of ticks). */
const LINGER_CHECKPOINTS = 40;

/** Notes for the same reason this close together are one (thousands of rows dropped in an outage: one note). */
const NOTE_JOIN_MS = 5_000;

/** Holds trades' order: on-time trades reach us within this of each other's exchange-time order. */
export const ORDER_SLACK_MS = 1_000;

/** Tagged on a candle row when it is pushed: the epoch it was pushed in. */
interface Tagged {
  epoch?: number;
}

export interface TrackerOptions {
  /** First epoch number: larger than any epoch of an earlier run (a spool file may bring their rows back). */
  firstEpoch: number;
  intervalMs: number;
  slackMs?: number;
}

export class CoverageTracker {
  readonly slackMs: number;
  private readonly intervalMs: number;
  private readonly firstEpoch: number;
  epoch: number;
  /** Rows of each epoch still without a notice. */
  private readonly pending = new Map<number, number>();
  /** Every epoch below it is settled. */
  private settledBelow: number;
  private readonly checkpoints: Checkpoint[] = [];
  /** Every segment of this run (the ledger writes them). */
  readonly segments: Segment[] = [];
  private readonly current = new Map<
    object,
    { attempts: number; seg: Segment | null; view: ConnView; missing: number }
  >();
  /** Holes cut so far (counter). */
  holes = 0;
  /** Per symbol, the end of the latest hole cut: a segment opened later starts after it. */
  private readonly holeUntil = new Map<string, number>();
  /** Holes cut by rows that were not stored, as labels for the derived gaps: [symbols, from, to, reason]. */
  readonly notes: Array<{ symbols: string[]; from: number; to: number; reason: string }> = [];

  constructor(o: TrackerOptions) {
    this.slackMs = o.slackMs ?? ORDER_SLACK_MS;
    this.intervalMs = o.intervalMs;
    this.firstEpoch = o.firstEpoch;
    this.epoch = o.firstEpoch;
    this.settledBelow = o.firstEpoch;
  }

  /** A candle row is being pushed to the sink: it belongs to the current epoch. O(1). */
  tag(row: Candle): void {
    (row as Tagged).epoch = this.epoch;
    this.pending.set(this.epoch, (this.pending.get(this.epoch) ?? 0) + 1);
  }

  /**
   * The end of an epoch: each connection's candidate end is the newest trade it received and the oldest
   * trade still held (`heldFrom`, exchange ts), less the order slack; it applies once the epoch is settled.
   */
  checkpoint(conns: ReadonlyMap<object, ConnView>, heldFrom: number): void {
    const ends: Array<[Segment, number]> = [];
    for (const [key, c] of conns) {
      let cur = this.current.get(key);
      if (!cur || cur.attempts !== c.attempts) {
        if (cur?.seg) cur.seg.open = false;
        cur = { attempts: c.attempts, seg: null, view: c, missing: 0 };
        this.current.set(key, cur);
      }
      cur.missing = 0;
    }
    for (const [key, cur] of this.current) {
      // A connection whose feed ended (shutdown, the close) keeps its last view for a while: what it received
      // before it ended is confirmed as its rows commit (the last ones at the final checkpoint, after the drain).
      if (!conns.has(key) && ++cur.missing > LINGER_CHECKPOINTS) {
        if (cur.seg) cur.seg.open = false;
        this.current.delete(key);
        continue;
      }
      const c = cur.view;
      if (cur.seg === null && Number.isFinite(c.firstTs)) {
        // The subscription was in effect when the first trade was sent: trades after it (less its order
        // slack, since earlier ones may still have been sent before ours took effect) all come to us.
        cur.seg = this.open(c.symbols, c.firstTs + this.slackMs);
      }
      if (c.faults > 0) {
        this.hole(
          c.symbols,
          c.faultMinTs - this.slackMs,
          c.faultMaxTs + this.slackMs,
          'trade consumer error',
        );
        c.faults = 0;
        c.faultMinTs = Number.POSITIVE_INFINITY;
        c.faultMaxTs = Number.NEGATIVE_INFINITY;
      }
      const seg = cur.seg;
      if (seg === null || !seg.open) continue;
      const end = Math.min(c.maxTs, heldFrom) - this.slackMs;
      if (end > seg.start) ends.push([seg, end]);
    }
    this.checkpoints.push({ epoch: this.epoch, ends });
    this.epoch++;
    this.validate();
  }

  /** The sink's commit notice: rows settle; those not stored cut a hole in their symbol's coverage. */
  onNotice(n: CommitNotice): void {
    this.settle(n.committed);
    if (n.refused.length > 0) {
      this.settle(n.refused);
      for (const r of n.refused) this.holeOf(r, 'rows refused by the write fence');
    }
    if (n.dropped.length > 0) {
      this.settle(n.dropped);
      for (const r of n.dropped) this.holeOf(r, 'rows not stored');
    }
    this.validate();
  }

  /** The feeds of these symbols stop (a shard handed over or lost): their segments end where confirmed. */
  stopSymbols(symbols: readonly string[]): void {
    const set = new Set(symbols);
    for (const s of this.segments) if (s.open && s.symbolList.some((x) => set.has(x))) s.open = false;
  }

  /**
   * Trades timed in [from, to] for `symbols` may be missing from the candles: no segment covers that time
   * from now on (a later segment starts after it), even where it was already confirmed.
   */
  hole(symbols: readonly string[], from: number, to: number, reason: string): void {
    this.holes++;
    this.note(symbols, from, to, reason);
    for (const x of symbols)
      if (!((this.holeUntil.get(x) ?? Number.NEGATIVE_INFINITY) >= to)) this.holeUntil.set(x, to);
    const set = symbols.length === 1 ? null : new Set(symbols);
    const has = (s: Segment) => (set ? s.symbolList.some((x) => set.has(x)) : s.symbols.has(symbols[0]!));
    for (const s of [...this.segments]) {
      if (s.start >= to || !has(s)) continue;
      // Not written yet and the hole takes its head (the usual case: rows lost at the live edge, one after
      // another): it just starts after the hole, instead of a new segment per lost row.
      if (s.id === null && !s.inserting && from <= s.start) {
        s.start = to;
        if (s.end < to) s.end = to;
        continue;
      }
      const confirmed = s.end;
      // A segment's end is a trade time it covers (inclusive), and trades are whole milliseconds: one timed
      // at `from` may be missing, so what stays covered ends 1 ms before it.
      s.limit = Math.min(s.limit, Math.max(s.start, from - 1));
      s.end = Math.min(s.end, s.limit);
      // The part after the hole stays covered (if it was), and an open segment goes on after it.
      if (s.open || confirmed > to) {
        const next = this.open(s.symbolList, to);
        next.end = Math.max(to, confirmed);
        next.open = s.open;
        s.open = false;
        for (const cur of this.current.values()) if (cur.seg === s) cur.seg = next;
      }
    }
  }

  /** A label for an uncovered stretch; one that touches the previous one for the same reason extends it. */
  note(symbols: readonly string[], from: number, to: number, reason: string): void {
    const last = this.notes[this.notes.length - 1];
    if (last && last.reason === reason && from <= last.to + NOTE_JOIN_MS && to >= last.from - NOTE_JOIN_MS) {
      last.from = Math.min(last.from, from);
      last.to = Math.max(last.to, to);
      for (const x of symbols) if (!last.symbols.includes(x)) last.symbols.push(x);
      return;
    }
    this.notes.push({ symbols: [...symbols], from, to, reason });
  }

  /**
   * Segments that can no longer change and are written (or hold nothing to write) leave memory; `written`
   * says whether the store has a segment's current end.
   */
  prune(written: (s: Segment) => boolean): void {
    const quiet = this.checkpoints.length === 0;
    this.segments.splice(
      0,
      this.segments.length,
      ...this.segments.filter(
        (s) => s.open || !(quiet || s.end >= s.limit) || !(written(s) || s.end <= s.start),
      ),
    );
  }

  /** Epochs of rows not yet settled: 0 when everything pushed has a notice. */
  get unsettledEpochs(): number {
    return this.epoch - this.settledBelow;
  }

  private open(symbols: readonly string[], from: number): Segment {
    // A hole cut before this segment existed (a row refused before the first checkpoint) still holds.
    let start = from;
    for (const x of symbols) {
      const h = this.holeUntil.get(x);
      if (h !== undefined && h > start) start = h;
    }
    const seg: Segment = {
      id: null,
      symbols: new Set(symbols),
      symbolList: [...symbols],
      start,
      end: start,
      persistedEnd: null,
      limit: Number.POSITIVE_INFINITY,
      fromEpoch: this.epoch,
      open: true,
    };
    this.segments.push(seg);
    return seg;
  }

  private settle(rows: readonly object[]): void {
    for (const r of rows) {
      const e = (r as Tagged).epoch;
      // Untagged rows (gaps, ticks) and rows of an earlier run (replayed from its spool) are not ours.
      if (e === undefined || e < this.firstEpoch || e > this.epoch) continue;
      const left = (this.pending.get(e) ?? 0) - 1;
      if (left > 0) this.pending.set(e, left);
      else this.pending.delete(e);
    }
  }

  private holeOf(r: object, reason: string): void {
    const c = r as Candle;
    if (c.kind === '1s') this.hole([c.symbol], c.bucket, c.bucket + this.intervalMs, reason);
    else if (c.kind === '100t')
      this.hole([c.symbol], c.startAt - this.slackMs, c.endAt + this.slackMs, reason);
  }

  private validate(): void {
    while (this.settledBelow < this.epoch && !this.pending.has(this.settledBelow)) this.settledBelow++;
    while (this.checkpoints.length > 0 && this.checkpoints[0]!.epoch < this.settledBelow) {
      const cp = this.checkpoints.shift()!;
      for (const [seg, end] of cp.ends) {
        if (cp.epoch < seg.fromEpoch) continue;
        const e = Math.min(end, seg.limit);
        if (e > seg.end) seg.end = e;
      }
    }
  }
}
