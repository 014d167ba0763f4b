// A session with replicas (fake clock, fake lock manager): one feed run per shard held, a shard handed over
// writes its open candles and stops its feed before it is let go, a lost one stops at once and its late
// trades are not ours, a re-acquired one resumes its series from the store, and the ledger is told when a
// shard's symbols stop feeding here (coverage ends where the database confirmed it; the gap is derived).
import { describe, expect, it } from 'vitest';
import { Aggregators } from '../../src/aggregate/aggregator.js';
import { ConditionRules } from '../../src/aggregate/conditions.js';
import { SecondAggregator } from '../../src/aggregate/secondAggregator.js';
import { TickAggregator } from '../../src/aggregate/tickAggregator.js';
import type { Candle, Trade } from '../../src/aggregate/types.js';
import { sessionOn } from '../../src/calendar/index.js';
import { cutShards } from '../../src/cluster/shards.js';
import { createSessionRunner } from '../../src/collect/session.js';
import { nullLogger } from '../../src/log/logger.js';
import { trade } from '../aggregate/trades.js';
import { FakeClock, flushMicrotasks } from '../helpers/fakeClock.js';

const session = sessionOn('2026-03-03')!;
const shards = cutShards(['A1', 'A2', 'B1', 'B2'], 2, 'test');
const [s0, s1] = shards as [(typeof shards)[0], (typeof shards)[0]];

function harness() {
  const clock = new FakeClock(session.open + 60_000);
  const out: Candle[] = [];
  const stops: string[][] = [];
  const aggs = new Aggregators({
    second: new SecondAggregator({}, (c) => out.push(c)),
    tick: new TickAggregator({ size: 3 }, (c) => out.push(c)),
  });
  const feeds = new Map<number, { onTrade: (t: Trade) => void; signal: AbortSignal }>();
  const loads: string[][] = [];
  let settled = 0;
  const held = [s0, s1];
  const runner = createSessionRunner({
    clock,
    log: nullLogger(),
    rules: new ConditionRules('sip'),
    aggs,
    tailMs: 10_000,
    loadTickCandles: async (_date, symbols) => {
      loads.push([...(symbols ?? [])]);
      return [];
    },
    spoolDrained: async () => true,
    runFeed: (r, onTrade, shard) =>
      new Promise<void>((done) => {
        feeds.set(shard!.index, { onTrade, signal: r.signal });
        r.signal.addEventListener('abort', () => done(), { once: true });
      }),
    archive: null,
    symbols: ['A1', 'A2', 'B1', 'B2'],
    onHole: () => undefined,
    onStopSymbols: (symbols) => stops.push([...symbols]),
    shards: { held: () => held },
    candlesSettled: async () => {
      settled++;
    },
  });
  const abort = new AbortController();
  const done = runner.run({ close: session.close, session, signal: abort.signal });
  const at = (sym: string, ms: number) => trade(sym, clock.now() + ms, 10, 100, { receivedAt: clock.now() });
  return { clock, out, stops, runner, done, abort, feeds, loads, settled: () => settled, at };
}

describe('a session with replicas', () => {
  it('runs one feed per shard; hand-over drains first, loss drops late trades, re-acquire resumes', async () => {
    const h = harness();
    await flushMicrotasks();
    expect([...h.feeds.keys()]).toEqual([0, 1]);
    expect(h.loads).toEqual([
      ['A1', 'A2'],
      ['B1', 'B2'],
    ]);
    await h.clock.advance(300);
    h.feeds.get(0)!.onTrade(h.at('A1', 0));
    h.feeds.get(0)!.onTrade(h.at('A1', 1));
    h.feeds.get(1)!.onTrade(h.at('B1', 0));

    const stopped = await h.runner.release(s0);
    expect(stopped).toBe(h.clock.now());
    expect(h.feeds.get(0)!.signal.aborted).toBe(true);
    expect(h.stops).toEqual([['A1', 'A2']]);
    expect(h.settled()).toBe(1);
    // A1's open 1-second candle and partial 100-tick candle were written at the hand-over; B1's were not.
    expect(h.out.map((c) => [c.kind, c.symbol, c.tradeCount])).toEqual([
      ['1s', 'A1', 2],
      ['100t', 'A1', 2],
    ]);
    h.feeds.get(0)!.onTrade(h.at('A1', 2)); // a trade still in the socket: not ours any more
    h.runner.lost([s1]);
    expect(h.feeds.get(1)!.signal.aborted).toBe(true);
    expect(h.stops).toEqual([
      ['A1', 'A2'],
      ['B1', 'B2'],
    ]);
    h.feeds.get(1)!.onTrade(h.at('B1', 1));
    expect(h.out.filter((c) => c.symbol === 'B1').map((c) => [c.kind, c.tradeCount])).toEqual([
      ['1s', 1],
      ['100t', 1],
    ]);

    // Taken again: a fresh run that resumes A's series from the store.
    h.runner.acquired(s0);
    await flushMicrotasks();
    expect(h.feeds.get(0)!.signal.aborted).toBe(false);
    expect(h.loads.at(-1)).toEqual(['A1', 'A2']);

    h.abort.abort();
    await h.done;
    expect(h.out.filter((c) => c.symbol === 'A1')).toHaveLength(2); // nothing more for A1 after the hand-over
  });
});
