// One session on a fake clock: the feed starts at once even while the database is down, the 100-tick series
// resumes once the stored candles can be read, and only the trades of the session's candles are aggregated.
import { describe, expect, it } from 'vitest';
import { Aggregators } from '../../src/aggregate/aggregator.js';
import { ConditionRules } from '../../src/aggregate/conditions.js';
import { SecondAggregator } from '../../src/aggregate/secondAggregator.js';
import { TickAggregator } from '../../src/aggregate/tickAggregator.js';
import type { Candle, TickCandle, Trade } from '../../src/aggregate/types.js';
import { sessionOn } from '../../src/calendar/index.js';
import { createSessionRunner } from '../../src/collect/session.js';
import { nullLogger } from '../../src/log/logger.js';
import type { SessionRun } from '../../src/scheduler/index.js';
import { trade } from '../aggregate/trades.js';
import { FakeClock, flushMicrotasks } from '../helpers/fakeClock.js';

const session = sessionOn('2026-03-03')!;

function harness(opts: { failReads: number; maxPending?: number }) {
  const clock = new FakeClock(session.open - 1_000);
  const out: Candle[] = [];
  const holes: Array<{ symbols: readonly string[]; from: number; to: number; reason: string }> = [];
  const second = new SecondAggregator({}, (c) => out.push(c));
  const tick = new TickAggregator({ size: 3 }, (c) => out.push(c));
  const aggs = new Aggregators({ second, tick });
  let reads = 0;
  let feed: ((t: Trade) => void) | null = null;
  let endFeed: () => void = () => undefined;
  const stored: TickCandle = {
    kind: '100t',
    symbol: 'X',
    sessionDate: session.date,
    seq: 4,
    open: 10,
    high: 11,
    low: 9,
    close: 10.5,
    volume: 200,
    tradeCount: 2,
    vwap: 10.2,
    startAt: session.open + 1,
    endAt: session.open + 2,
  };
  const runner = createSessionRunner({
    clock,
    log: nullLogger(),
    rules: new ConditionRules('sip'),
    aggs,
    tailMs: 10_000,
    loadTickCandles: async () => {
      if (reads++ < opts.failReads) throw new Error('ECONNREFUSED');
      return [stored];
    },
    spoolDrained: async () => true,
    runFeed: (_r, onTrade) =>
      new Promise<void>((done) => {
        feed = onTrade;
        endFeed = done;
      }),
    archive: null,
    symbols: ['X'],
    onHole: (symbols, from, to, reason) => holes.push({ symbols, from, to, reason }),
    onStopSymbols: () => undefined,
    retryBaseMs: 1_000,
    retryMaxMs: 1_000,
    ...(opts.maxPending === undefined ? {} : { maxPendingTrades: opts.maxPending }),
  });
  const abort = new AbortController();
  const run: SessionRun = { close: session.close, session, signal: abort.signal };
  const done = runner.run(run);
  return {
    clock,
    out,
    holes,
    runner,
    done,
    abort,
    reads: () => reads,
    send: (t: Trade) => feed!(t),
    end: () => endFeed(),
    started: () => feed !== null,
  };
}

const at = (ms: number, price: number, conditions: number[] = []) =>
  trade('X', session.open + ms, price, 100, { conditions });

describe('a session', () => {
  it('starts the feed while the database is down, and resumes the 100-tick series once it answers', async () => {
    const h = harness({ failReads: 3 });
    await flushMicrotasks();
    expect(h.started()).toBe(true); // the feed runs before any read succeeded
    h.send(at(1_000, 11));
    h.send(at(1_500, 12));
    for (let i = 0; i < 3; i++) await h.clock.advance(1_000);
    expect(h.reads()).toBe(4);
    h.send(at(5_000, 13));
    h.end();
    await h.done;
    const ticks = h.out.filter((c) => c.kind === '100t');
    // Stored seq 4 held 2 trades: the first trade of this run completes it, the next two start seq 5.
    expect(ticks.map((c) => [c.seq, c.tradeCount])).toEqual([
      [4, 3],
      [5, 2],
    ]);
    expect(ticks[0]).toMatchObject({ open: 10, close: 11, high: 11, low: 9 });
    expect(h.out.filter((c) => c.kind === '1s').map((c) => c.tradeCount)).toEqual([2, 1]);
    expect(h.runner.stats.resumeRetries).toBe(3);
    expect(h.holes).toEqual([]);
  });

  it('holds a bounded number of trades for the series, and leaves the time of those it could not uncovered', async () => {
    const h = harness({ failReads: 2, maxPending: 1 });
    await flushMicrotasks();
    h.send(at(1_000, 11));
    h.send(at(1_100, 12));
    h.send(at(1_200, 13));
    // The held trade bounds what the ledger may cover.
    expect(h.runner.heldFrom()).toBe(session.open + 1_000);
    for (let i = 0; i < 2; i++) await h.clock.advance(1_000);
    expect(h.runner.heldFrom()).toBe(Number.POSITIVE_INFINITY);
    h.end();
    await h.done;
    expect(h.runner.stats.tickOverflow).toBe(2);
    expect(h.holes).toEqual([
      { symbols: ['X'], from: session.open + 1_100, to: session.open + 1_200, reason: 'tick-resume-wait' },
    ]);
    // 1-second candles never waited.
    expect(h.out.filter((c) => c.kind === '1s').map((c) => c.tradeCount)).toEqual([3]);
  });

  it("leaves the held trades' time uncovered when the session ends before the database ever answered", async () => {
    const h = harness({ failReads: 1_000 });
    await flushMicrotasks();
    h.send(at(1_000, 11));
    h.send(at(1_400, 12));
    h.end();
    h.abort.abort();
    await flushMicrotasks();
    await h.clock.advance(1_000); // the resume's grace after the feed stopped
    await h.done;
    expect(h.holes).toEqual([
      { symbols: ['X'], from: session.open + 1_000, to: session.open + 1_400, reason: 'tick-resume-wait' },
    ]);
  });

  it('a stop just before the database answers: the held trades still join the series (a short grace)', async () => {
    const h = harness({ failReads: 1 });
    await flushMicrotasks();
    h.send(at(1_000, 11));
    h.end();
    h.abort.abort();
    await flushMicrotasks();
    await h.clock.advance(1_000); // the retry comes within the grace
    await h.done;
    expect(h.out.filter((c) => c.kind === '100t').map((c) => [c.seq, c.tradeCount])).toEqual([[4, 3]]);
    expect(h.holes).toEqual([]);
  });

  it('judges a held trade by the feed clock once: after a long outage it still joins the series', async () => {
    // The database answers only after 20 minutes: the held trades are by then 20 minutes behind the clock,
    // but they were on time when they came (a second verdict would quarantine them as 1 h behind … or late).
    const h = harness({ failReads: 3 });
    await flushMicrotasks();
    h.send(at(1_000, 11));
    h.send(at(1_100, 12));
    h.send(at(1_200, 13));
    // The outage goes on; on-time trades keep arriving (their clock is 61 minutes on).
    h.send(at(61 * 60_000, 14));
    for (let i = 0; i < 3; i++) await h.clock.advance(1_000);
    expect(h.reads()).toBe(4);
    h.end();
    await h.done;
    const ticks = h.out.filter((c) => c.kind === '100t');
    // The stored candle held 2; all four trades joined the series (none quarantined on its second look).
    expect(ticks.reduce((n, c) => n + c.tradeCount, 0)).toBe(2 + 4);
    expect(h.holes).toEqual([]);
  });

  it('aggregates only the trades of the session’s candles: the closing cross yes, pre-market and Form T no', async () => {
    const h = harness({ failReads: 0 });
    await flushMicrotasks();
    await flushMicrotasks();
    const close = session.close - session.open;
    h.send(at(-500, 20)); // pre-market, in the lead
    h.send(at(100, 21));
    h.send(at(close + 200, 22, [8])); // closing print, in the tail
    h.send(at(close + 300, 23, [12])); // a Form T report in the tail
    h.send(at(close + 400, 24, [15])); // the official close: updates nothing
    h.end();
    await h.done;
    const secs = h.out.filter((c) => c.kind === '1s');
    expect(secs.map((c) => c.close)).toEqual([21, 22]);
    expect(h.runner.stats.outside).toBe(2);
  });
});
