// One collecting session, as the scheduler runs it: feed, trade rules, aggregators, and the close.
// The feed starts at once; trades are classified by their conditions and, with the calendar, only those the
// session's candles take reach the aggregators; the 100-tick series of the session date continues the stored
// one (resumed once per date, waiting for the database without holding up the feed); at the close every open
// candle is written.
import type { Aggregators } from '../aggregate/aggregator.js';
import { type ConditionRules, inSessionCandles } from '../aggregate/conditions.js';
import type { SecondAggregator } from '../aggregate/secondAggregator.js';
import type { TickAggregator } from '../aggregate/tickAggregator.js';
import type { TickCandle, Trade } from '../aggregate/types.js';
import { etDate } from '../calendar/index.js';
import type { Clock } from '../clock.js';
import type { Shard } from '../cluster/shards.js';
import type { Logger } from '../log/logger.js';
import { Backoff, RETRY_DELAYS } from '../retry/backoff.js';
import type { SessionRun } from '../scheduler/index.js';

export interface SessionDeps {
  clock: Clock;
  log: Logger;
  rules: ConditionRules;
  aggs: Aggregators<{ second: SecondAggregator; tick: TickAggregator }>;
  /** SESSION_TAIL_MS: after the close, candles still take the trades not marked extended-hours. */
  tailMs: number;
  /** The stored 100-tick candles to continue for a session date (throws while the database is down). */
  loadTickCandles: (sessionDate: string, symbols?: readonly string[]) => Promise<TickCandle[]>;
  /** Waits (bounded) until the spool holds no 100-tick rows from an earlier run. */
  spoolDrained: (signal: AbortSignal) => Promise<unknown>;
  /** Runs the feed (of one shard, if given) until the run's close or abort, handing over every valid trade. */
  runFeed: (run: SessionRun, onTrade: (t: Trade) => void, shard?: Shard) => Promise<unknown>;
  /** Every symbol (the feed's, without replicas). */
  symbols: readonly string[];
  /** Replicas: the shards held. Absent: one feed for every symbol. */
  shards?: SessionShards;
  /** Waits (bounded) until the candles pushed so far are written: a hand-over unlocks only after. */
  candlesSettled?: () => Promise<unknown>;
  /** Every raw trade (the archive), before any filter; null when off. */
  archive: ((t: Trade) => void) | null;
  /**
   * The ledger (ledger/tracker.ts): trades timed in [from, to] may be missing from the candles of these
   * symbols (the 100-tick series could not hold them while it waited to resume).
   */
  onHole: (symbols: readonly string[], from: number, to: number, reason: string) => void;
  /** The ledger: these symbols' feed has stopped here (handed over or lost). */
  onStopSymbols: (symbols: readonly string[]) => void;
  /** Trades held for the 100-tick series while its resume waits for the database. */
  maxPendingTrades?: number;
  /** Resume retry backoff (default RETRY_DELAYS['session.resume']). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** The lock manager as the session sees it. */
export interface SessionShards {
  held(): Shard[];
}

export interface SessionStats {
  /** Trades timed outside the session's candles (pre/post-market, extended-hours prints in the tail). */
  outside: number;
  /** Trades that missed the 100-tick series because its resume waited too long (their time is uncovered). */
  tickOverflow: number;
  /** Resume attempts that failed (the database was unreachable). */
  resumeRetries: number;
}

export interface SessionRunner {
  run: (r: SessionRun) => Promise<void>;
  stats: SessionStats;
  /** The oldest trade held for a 100-tick series still waiting to resume (exchange ts; +Infinity: none). */
  heldFrom(): number;
  /** Lock-manager hooks (cluster/lockManager.ts ShardHooks). */
  acquired(shard: Shard): void;
  release(shard: Shard): Promise<number | null>;
  lost(shards: Shard[]): void;
}

/** One feed run: every symbol (no replicas) or one shard. */
interface Part {
  shard: Shard | null;
  pending: Trade[] | null;
  overflowFrom: number | null;
  overflowTo: number;
  abort: AbortController;
  /** Handed over or lost: trades still arriving are not ours. */
  gone: boolean;
  done: Promise<void>;
}

interface RunContext {
  r: SessionRun;
  date: string;
  parts: Map<number, Part>;
  ended: boolean;
}

const WHOLE = -1;
/** How long a 100-tick resume may go on after its feed stopped (within the collector's quick stop step). */
const RESUME_GRACE_MS = 1_000;

export function createSessionRunner(d: SessionDeps): SessionRunner {
  const stats: SessionStats = { outside: 0, tickOverflow: 0, resumeRetries: 0 };
  const log = d.log.child({ component: 'session' });
  const { second, tick } = d.aggs.parts;
  const maxPending = d.maxPendingTrades ?? 500_000;
  /** `date \0 part` whose series is resumed (the aggregators hold it). */
  const resumed = new Set<string>();
  const partKey = (date: string, p: Part) => `${date}\u0000${p.shard?.index ?? WHOLE}`;
  let current: RunContext | null = null;

  const startPart = (ctx: RunContext, shard: Shard | null): void => {
    const part: Part = {
      shard,
      pending: null,
      overflowFrom: null,
      overflowTo: Number.NEGATIVE_INFINITY,
      abort: new AbortController(),
      gone: false,
      done: Promise.resolve(),
    };
    part.pending = resumed.has(partKey(ctx.date, part)) ? null : [];
    ctx.parts.set(shard?.index ?? WHOLE, part);
    part.done = runPart(ctx, part).catch((err) => {
      log.error({ err: String(err), shard: shard?.index }, 'feed run failed');
    });
  };

  const runPart = async (ctx: RunContext, part: Part): Promise<void> => {
    const { r, date } = ctx;
    const { session } = r;
    const signal = AbortSignal.any([r.signal, part.abort.signal]);
    const symbols = part.shard?.symbols ?? d.symbols;
    // Until the series is resumed, 1-second candles go on and 100-tick trades wait here (bounded). The feed
    // clock judges a trade once, on arrival: held trades join the series later without a second verdict.
    const take = (t: Trade): void => {
      if (part.pending === null) d.aggs.add(t);
      else {
        const id = d.aggs.admit(t);
        if (id < 0) return;
        d.aggs.addTo('second', id, t);
        if (part.pending.length < maxPending) part.pending.push(t);
        else {
          stats.tickOverflow++;
          part.overflowFrom ??= t.ts;
          if (t.ts > part.overflowTo) part.overflowTo = t.ts;
        }
      }
    };
    const onTrade = (t: Trade): void => {
      if (part.gone) return;
      d.archive?.(t);
      t.flags = d.rules.ofIds(t.conditions);
      if (session === null || inSessionCandles(session.open, session.close, d.tailMs, t.ts, t.flags)) take(t);
      else stats.outside++;
    };

    // The resume outlives the feed by a moment: trades held for the series still join it when the feed stops
    // (a shutdown) just before the database answered.
    const resumeAbort = new AbortController();
    const resumeSignal = AbortSignal.any([part.abort.signal, resumeAbort.signal]);
    const resume = async (): Promise<void> => {
      if (part.pending === null) return;
      const p = RETRY_DELAYS['session.resume'];
      const backoff = new Backoff({
        ...p,
        baseMs: d.retryBaseMs ?? p.baseMs,
        maxMs: d.retryMaxMs ?? p.maxMs,
      });
      // Spooled rows from a previous run must be in the table first, or we would resume an older candle.
      await d.spoolDrained(resumeSignal);
      for (;;) {
        try {
          tick.resume(await d.loadTickCandles(date, part.shard?.symbols));
          break;
        } catch (err) {
          if (resumeSignal.aborted) return;
          stats.resumeRetries++;
          if (stats.resumeRetries === 1)
            log.warn(
              { date, err: String(err) },
              'cannot read the stored 100-tick candles yet: collecting, retrying',
            );
          await d.clock.sleep(backoff.next(), resumeSignal);
          if (resumeSignal.aborted) return;
        }
      }
      if (part.gone) return;
      const held = part.pending;
      if (part.overflowFrom !== null) {
        // The series missed trades: their time stays uncovered, for the backfill to rebuild from the tape.
        d.onHole(symbols, part.overflowFrom, part.overflowTo, 'tick-resume-wait');
        log.warn(
          { date, missed: stats.tickOverflow },
          '100-tick series resumed late: trades missed, their time left uncovered',
        );
      }
      part.pending = null;
      resumed.add(partKey(date, part));
      const ids = d.aggs.ids!;
      for (const t of held) d.aggs.addTo('tick', ids.idOf(t.symbol), t);
    };

    const resuming = resume();
    await d.runFeed({ ...r, signal }, onTrade, part.shard ?? undefined);
    const grace = new AbortController();
    await Promise.race([resuming, d.clock.sleep(RESUME_GRACE_MS, grace.signal)]);
    grace.abort();
    resumeAbort.abort();
    await resuming;
    if (part.pending !== null) {
      // Stopped before the database answered: the held trades never reached the series; their time stays
      // uncovered (the backfill rebuilds the series from the tape).
      const p = part.pending;
      const from = Math.min(
        p[0]?.ts ?? Number.POSITIVE_INFINITY,
        part.overflowFrom ?? Number.POSITIVE_INFINITY,
      );
      const to = Math.max(p[p.length - 1]?.ts ?? Number.NEGATIVE_INFINITY, part.overflowTo);
      if (from <= to) d.onHole(symbols, from, to, 'tick-resume-wait');
      part.pending = null;
    }
  };

  const run = async (r: SessionRun): Promise<void> => {
    const { session, signal } = r;
    const date = session?.date ?? etDate(d.clock.now());
    const ctx: RunContext = { r, date, parts: new Map(), ended: false };
    current = ctx;
    const outsideBefore = stats.outside;
    const tradesBefore = second.stats.trades;
    const uncountedBefore = second.stats.uncounted;
    if (!d.shards) {
      startPart(ctx, null);
      await ctx.parts.get(WHOLE)!.done;
    } else {
      for (const s of d.shards.held()) startPart(ctx, s);
      // Shards come and go (lock manager): the run lasts until the close or shutdown.
      if (r.close === null) await untilAborted(signal);
      else if (r.close > d.clock.now()) await d.clock.sleep(r.close - d.clock.now(), signal);
    }
    ctx.ended = true;
    await Promise.all([...ctx.parts.values()].map((p) => p.done));
    current = null;
    const outside = stats.outside - outsideBefore;
    const uncounted = second.stats.uncounted - uncountedBefore;
    const counted = second.stats.trades - tradesBefore - uncounted;
    log.info(
      { date, counted, uncounted, outside },
      `session ended: ${counted} trades in candles, ${uncounted} that update nothing, ${outside} outside the session`,
    );
    // The close: write every open candle, incomplete tick candles as such.
    d.aggs.drain();
  };

  /** Forget a shard here: its open candles are written now, a re-acquire resumes it from the store. */
  const forget = (shard: Shard): void => {
    d.aggs.release(shard.symbols);
    for (const k of [...resumed]) if (k.endsWith(`\u0000${shard.index}`)) resumed.delete(k);
  };

  return {
    run,
    stats,
    heldFrom() {
      let min = Number.POSITIVE_INFINITY;
      for (const p of current?.parts.values() ?? []) {
        const first = p.pending?.[0];
        if (first && first.ts < min) min = first.ts;
      }
      return min;
    },
    acquired(shard) {
      const ctx = current;
      if (ctx && !ctx.ended && !ctx.parts.has(shard.index)) startPart(ctx, shard);
    },
    async release(shard) {
      const ctx = current;
      const part = ctx?.parts.get(shard.index);
      if (!ctx || !part) {
        forget(shard);
        return null;
      }
      const stoppedAt = d.clock.now();
      part.abort.abort();
      await part.done;
      part.gone = true;
      d.onStopSymbols(shard.symbols);
      ctx.parts.delete(shard.index);
      forget(shard);
      await d.candlesSettled?.();
      return stoppedAt;
    },
    lost(shards) {
      const ctx = current;
      for (const s of shards) {
        const part = ctx?.parts.get(s.index);
        if (part) {
          part.gone = true;
          part.abort.abort();
          ctx!.parts.delete(s.index);
        }
        d.onStopSymbols(s.symbols);
        forget(s);
      }
    },
  };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
