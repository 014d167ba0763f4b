// One collecting session, as the scheduler runs it: the feed starts at once; trades are classified by their
// conditions and, with the calendar, only those the session's candles take reach the aggregators; the
// 100-tick series of the session date continues the stored one (resumed once per date, waiting for the
// database without holding up the feed); at the close every open candle is written.
import type { Aggregators } from '../aggregate/aggregator.js';
import { type ConditionRules, inSessionCandles } from '../aggregate/conditions.js';
import type { SecondAggregator } from '../aggregate/secondAggregator.js';
import type { TickAggregator } from '../aggregate/tickAggregator.js';
import type { TickCandle, Trade } from '../aggregate/types.js';
import { etDate } from '../calendar/index.js';
import type { Clock } from '../clock.js';
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
  loadTickCandles: (sessionDate: string) => Promise<TickCandle[]>;
  /** Waits (bounded) until the spool holds no 100-tick rows from an earlier run. */
  spoolDrained: (signal: AbortSignal) => Promise<unknown>;
  /** Runs the feed until the run's close or abort, handing over every valid trade. */
  runFeed: (run: SessionRun, onTrade: (t: Trade) => void) => Promise<unknown>;
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

export interface SessionStats {
  /** Trades timed outside the session's candles (pre/post-market, extended-hours prints in the tail). */
  outside: number;
  /** Trades that missed the 100-tick series because its resume waited too long (a gap row covers them). */
  tickOverflow: number;
  /** Resume attempts that failed (the database was unreachable). */
  resumeRetries: number;
}

export function createSessionRunner(d: SessionDeps): {
  run: (r: SessionRun) => Promise<void>;
  stats: SessionStats;
} {
  const stats: SessionStats = { outside: 0, tickOverflow: 0, resumeRetries: 0 };
  const log = d.log.child({ component: 'session' });
  const { second, tick } = d.aggs.parts;
  const maxPending = d.maxPendingTrades ?? 500_000;
  const resumed = new Set<string>();

  const run = async (r: SessionRun): Promise<void> => {
    const { session, signal } = r;
    const date = session?.date ?? etDate(d.clock.now());
    // Until the series is resumed, 1-second candles go on and 100-tick trades wait here (bounded).
    let pending: Trade[] | null = resumed.has(date) ? null : [];
    let overflowFrom: number | null = null;
    const take = (t: Trade): void => {
      if (pending === null) d.aggs.add(t);
      else {
        second.add(t);
        if (pending.length < maxPending) pending.push(t);
        else {
          stats.tickOverflow++;
          overflowFrom ??= t.ts;
        }
      }
    };
    const onTrade = (t: Trade): void => {
      d.archive?.(t);
      t.flags = d.rules.ofIds(t.conditions);
      if (session === null || inSessionCandles(session.open, session.close, d.tailMs, t.ts, t.flags)) take(t);
      else stats.outside++;
    };

    const resume = async (): Promise<void> => {
      if (pending === null) return;
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
          tick.resume(await d.loadTickCandles(date));
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
      const held = pending;
      pending = null;
      resumed.add(date);
      for (const t of held) tick.add(t);
      if (overflowFrom !== null) {
        // The series missed trades: a gap the backfill rebuilds from the tape.
        d.onGap({ symbol: '*', startedAt: overflowFrom, endedAt: d.clock.now(), reason: 'tick-resume-wait' });
        log.warn(
          { date, missed: stats.tickOverflow },
          '100-tick series resumed late: trades missed, gap recorded',
        );
      }
    };

    const outsideBefore = stats.outside;
    const tradesBefore = second.stats.trades;
    const uncountedBefore = second.stats.uncounted;
    const resuming = resume();
    await d.runFeed(r, onTrade);
    await resuming;
    if (pending !== null) {
      // Stopped before the database answered: the held trades never reached the series; the backfill
      // rebuilds it from the tape.
      const from = pending[0]?.ts ?? overflowFrom;
      if (from != null)
        d.onGap({ symbol: '*', startedAt: from, endedAt: d.clock.now(), reason: 'tick-resume-wait' });
    }
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
  return { run, stats };
}
