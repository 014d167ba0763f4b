// One collecting session, as the scheduler runs it: the feed starts at once; trades are classified by their
// conditions and, with the calendar, only those the session's candles take reach the aggregators; the
// 100-tick series of the session date continues the stored one (resumed once per date, waiting for the
// database without holding up the feed); at the close every open candle is written.
import type { Aggregators } from '../aggregate/aggregator.js';
import { type ConditionRules, inSessionCandles } from '../aggregate/conditions.js';
import type { SecondAggregator } from '../aggregate/secondAggregator.js';
import type { TickAggregator } from '../aggregate/tickAggregator.js';
import type { TickCandle, Trade } from '../aggregate/types.js';
import { etDate, sessionOn } from '../calendar/index.js';
import type { Clock } from '../clock.js';
import type { Shard } from '../cluster/shards.js';
import type { Logger } from '../log/logger.js';
import { Backoff, RETRY_DELAYS } from '../retry/backoff.js';
import type { SessionRun } from '../scheduler/index.js';
import type { FeedGap } from '../store/writeGaps.js';

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
  /** Replicas: the shards held, and their handover marks. Absent: one feed for every symbol. */
  shards?: SessionShards;
  /** When the feed of `shard` last subscribed (the end of its handover gap). */
  subscribedAt?: (shard: Shard) => number | null;
  /** Waits (bounded) until the candles pushed so far are written: a hand-over unlocks only after. */
  candlesSettled?: () => Promise<unknown>;
  /** Every raw trade (the archive), before any filter; null when off. */
  archive: ((t: Trade) => void) | null;
  /** Where a gap in the 100-tick series goes (trades it could not hold while waiting to resume). */
  onGap: (g: FeedGap) => void;
  /** Trades held for the 100-tick series while its resume waits for the database. */
  maxPendingTrades?: number;
  /** Resume retry backoff (default RETRY_DELAYS['session.resume']). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** The lock manager as the session sees it. */
export interface SessionShards {
  held(): Shard[];
  /** The feed of `shard` starts at `now`: the handover gap's start (the previous owner's mark), or null. */
  claimMark(shard: Shard, now: number): Promise<number | null>;
  /** The feed of `shards` ended at the close: no handover owed. */
  clearMarks(shards: Shard[]): Promise<void>;
}

export interface SessionStats {
  /** Trades timed outside the session's candles (pre/post-market, extended-hours prints in the tail). */
  outside: number;
  /** Trades that missed the 100-tick series because its resume waited too long (a gap row covers them). */
  tickOverflow: number;
  /** Resume attempts that failed (the database was unreachable). */
  resumeRetries: number;
  /** Handover gaps recorded (a shard taken over from another owner, or from our own earlier run). */
  handovers: number;
}

export interface SessionRunner {
  run: (r: SessionRun) => Promise<void>;
  stats: SessionStats;
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

export function createSessionRunner(d: SessionDeps): SessionRunner {
  const stats: SessionStats = { outside: 0, tickOverflow: 0, resumeRetries: 0, handovers: 0 };
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
    const gapSymbol = part.shard?.gapSymbol ?? '*';
    // Until the series is resumed, 1-second candles go on and 100-tick trades wait here (bounded).
    const take = (t: Trade): void => {
      if (part.pending === null) d.aggs.add(t);
      else {
        second.add(t);
        if (part.pending.length < maxPending) part.pending.push(t);
        else {
          stats.tickOverflow++;
          part.overflowFrom ??= t.ts;
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

    const resume = async (): Promise<void> => {
      if (part.pending === null) return;
      const p = RETRY_DELAYS['session.resume'];
      const backoff = new Backoff({
        ...p,
        baseMs: d.retryBaseMs ?? p.baseMs,
        maxMs: d.retryMaxMs ?? p.maxMs,
      });
      // Spooled rows from a previous run must be in the table first, or we would resume an older candle.
      await d.spoolDrained(signal);
      for (;;) {
        try {
          tick.resume(await d.loadTickCandles(date, part.shard?.symbols));
          break;
        } catch (err) {
          if (signal.aborted) return;
          stats.resumeRetries++;
          if (stats.resumeRetries === 1)
            log.warn(
              { date, err: String(err) },
              'cannot read the stored 100-tick candles yet: collecting, retrying',
            );
          await d.clock.sleep(backoff.next(), signal);
          if (signal.aborted) return;
        }
      }
      if (part.gone) return;
      const held = part.pending;
      part.pending = null;
      resumed.add(partKey(date, part));
      for (const t of held) tick.add(t);
      if (part.overflowFrom !== null) {
        // The series missed trades: a gap the backfill rebuilds from the tape.
        d.onGap({
          symbol: gapSymbol,
          startedAt: part.overflowFrom,
          endedAt: d.clock.now(),
          reason: 'tick-resume-wait',
        });
        log.warn(
          { date, missed: stats.tickOverflow },
          '100-tick series resumed late: trades missed, gap recorded',
        );
      }
    };

    const resuming = resume();
    const handover = part.shard ? recordHandover(part.shard, session?.open ?? null, signal) : null;
    await d.runFeed({ ...r, signal }, onTrade, part.shard ?? undefined);
    await resuming;
    await handover;
    if (part.pending !== null) {
      // Stopped before the database answered: the held trades never reached the series; the backfill
      // rebuilds it from the tape.
      const from = part.pending[0]?.ts ?? part.overflowFrom;
      if (from != null)
        d.onGap({ symbol: gapSymbol, startedAt: from, endedAt: d.clock.now(), reason: 'tick-resume-wait' });
    }
    // Ended at the close (not handed over, lost or shut down): the next owner owes no handover gap.
    if (part.shard && d.shards && !signal.aborted) await d.shards.clearMarks([part.shard]);
  };

  /** The gap from the previous owner's durable mark to this feed's subscription (the backfill fills it). */
  const recordHandover = async (shard: Shard, open: number | null, signal: AbortSignal): Promise<void> => {
    if (!d.shards) return;
    const started = d.clock.now();
    let from: number | null;
    try {
      from = await d.shards.claimMark(shard, started);
    } catch (err) {
      log.warn({ shard: shard.index, err: String(err) }, 'could not read the shard handover mark');
      return;
    }
    // No mark: nobody has held the shard since the last close. Inside a session that is a late start: the
    // gap runs from the open. A mark from an earlier session: that session's rest was missed too.
    let reason = 'handover';
    let partialFirst = false;
    if (from === null) {
      // Without the calendar (SKIP_MARKET_HOURS) the first subscription cuts a second in two.
      if (open === null) partialFirst = true;
      else from = open;
      reason = open === null ? 'start' : 'late start';
    } else if (open !== null && from < open) {
      const earlier = sessionOn(etDate(from));
      if (earlier && from < earlier.close + d.tailMs) {
        d.onGap({
          symbol: shard.gapSymbol,
          startedAt: from,
          endedAt: earlier.close + d.tailMs,
          reason: 'unclean stop',
        });
      }
    }
    let end: number | null = null;
    for (let waited = 0; waited < 30_000 && !signal.aborted; waited += 250) {
      const at = d.subscribedAt?.(shard) ?? null;
      if (at !== null && at >= started) {
        end = at;
        break;
      }
      await d.clock.sleep(250, signal);
    }
    const endedAt = end ?? d.clock.now();
    const startedAt =
      partialFirst || from === null ? endedAt - 1_000 : open !== null ? Math.max(from, open) : from;
    if (!(startedAt < endedAt)) return;
    stats.handovers++;
    d.onGap({ symbol: shard.gapSymbol, symbols: [...shard.symbols], startedAt, endedAt, reason });
    log.info(
      { shard: shard.index, startedAt: new Date(startedAt).toISOString(), gapMs: endedAt - startedAt },
      `shard ${shard.index} taken over: handover gap recorded`,
    );
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
        forget(s);
      }
    },
  };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
