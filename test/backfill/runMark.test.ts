// The durable run mark on both databases: it follows what the sink has settled, a clean stop is recorded,
// and a start after an unclean one records the gap from the mark to each connection's first subscription.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRunMark } from '../../src/backfill/runMark.js';
import type { ConnectionStats } from '../../src/feed/stats.js';
import { nullLogger } from '../../src/log/logger.js';
import type { FeedGap } from '../../src/store/writeGaps.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { pgliteTestDb, pgTestDb, type TestDb } from '../helpers/pg.js';

const T0 = Date.UTC(2026, 2, 2, 15, 0);

describe.each(['postgres', 'pglite'] as const)('run mark on %s', (kind) => {
  let db: TestDb;
  beforeAll(async () => {
    db = kind === 'postgres' ? await pgTestDb('runmark') : await pgliteTestDb();
  });
  afterAll(() => db?.close());

  async function markAt(): Promise<{ mark: number; clean: boolean }> {
    const r = await db.admin.query(
      `SELECT (extract(epoch FROM mark_at) * 1000)::float8 AS m, clean_stop FROM collector_marks WHERE name = 'collector'`,
    );
    return { mark: Math.round(r.rows[0].m), clean: r.rows[0].clean_stop };
  }

  /** Advances the fake clock one mark period at a time, letting each database update finish. */
  async function tick(clock: FakeClock, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      await clock.advance(1_000);
      for (let k = 0; k < 20 && clock.pending === 0; k++) await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('advances with the sink, then an unclean stop becomes a gap up to the first subscription', async () => {
    const pool = db.pool();
    const clock = new FakeClock(T0);
    const sink = { rowsPushed: 0, bufferedRows: 0 };
    const conns: ConnectionStats[] = [];
    const gaps: FeedGap[] = [];
    const deps = {
      pool,
      clock,
      log: nullLogger(),
      symbols: ['AAPL', 'MSFT'],
      sink,
      connections: () => conns,
      holdMs: 3_000,
      sessionAt: () => null,
      tailMs: 0,
      skipMarketHours: true,
      pushGap: (g: FeedGap) => gaps.push(g),
    };
    const run1 = await startRunMark(deps);
    // The first run ever, no calendar: its first second is partial, so a gap up to its first subscription.
    conns.push({
      symbols: ['AAPL', 'MSFT'],
      state: 'subscribed',
      connects: 1,
      subscribedAt: T0 + 200,
      lastTradeAt: null,
    });
    await tick(clock, 1);
    expect(gaps).toEqual([
      { symbol: '*', symbols: ['AAPL', 'MSFT'], startedAt: T0, endedAt: T0 + 200, reason: 'start' },
    ]);
    gaps.length = 0;
    conns.length = 0;
    sink.rowsPushed = 10;
    sink.bufferedRows = 10; // nothing settled yet: the mark stays
    await tick(clock, 3);
    expect((await markAt()).mark).toBe(T0);
    sink.bufferedRows = 0; // all settled
    await tick(clock, 4);
    const m = await markAt();
    expect(m.mark).toBe(T0 + 8_000 - 3_000);
    expect(m.clean).toBe(false);
    // kill -9: run1 never stops. Run 2 starts 4 s later and subscribes 1.5 s after that.
    void run1;
    clock.set(T0 + 12_000);
    const run2 = await startRunMark(deps);
    conns.push({
      symbols: ['AAPL', 'MSFT'],
      state: 'subscribed',
      connects: 1,
      subscribedAt: T0 + 13_500,
      lastTradeAt: null,
    });
    await tick(clock, 1);
    expect(gaps).toEqual([
      {
        symbol: '*',
        symbols: ['AAPL', 'MSFT'],
        startedAt: T0 + 5_000,
        endedAt: T0 + 13_500,
        reason: 'unclean stop',
      },
    ]);
    // SIGTERM: the feed stops, a gap opens at that instant, the mark records a clean stop there.
    gaps.length = 0;
    const stopAt = clock.now();
    run2.stopping();
    expect(gaps).toEqual([
      { symbol: '*', symbols: ['AAPL', 'MSFT'], startedAt: stopAt, endedAt: stopAt, reason: 'stopped' },
    ]);
    await clock.advance(500);
    await run2.stop(true);
    expect(await markAt()).toEqual({ mark: stopAt, clean: true });
    // The next start extends that same row (same symbol and start) to its first subscription.
    gaps.length = 0;
    conns.length = 0;
    clock.set(stopAt + 10_000);
    const run3 = await startRunMark(deps);
    conns.push({
      symbols: ['AAPL', 'MSFT'],
      state: 'subscribed',
      connects: 1,
      subscribedAt: stopAt + 10_300,
      lastTradeAt: null,
    });
    await tick(clock, 1);
    expect(gaps).toEqual([
      {
        symbol: '*',
        symbols: ['AAPL', 'MSFT'],
        startedAt: stopAt,
        endedAt: stopAt + 10_300,
        reason: 'restart',
      },
    ]);
    await run3.stop(true);
  });

  it('records a late start from the open when the first run starts inside a session', async () => {
    const pool = db.pool();
    await db.admin.query('DELETE FROM collector_marks');
    const clock = new FakeClock(T0); // 10:00 ET, the session opened at 09:30
    const gaps: FeedGap[] = [];
    const open = Date.UTC(2026, 2, 2, 14, 30);
    const run = await startRunMark({
      pool,
      clock,
      log: nullLogger(),
      symbols: ['AAPL'],
      sink: { rowsPushed: 0, bufferedRows: 0 },
      connections: () => [
        { symbols: ['AAPL'], state: 'subscribed', connects: 1, subscribedAt: T0 + 700, lastTradeAt: null },
      ],
      holdMs: 3_000,
      sessionAt: () => ({ date: '2026-03-02', open, close: Date.UTC(2026, 2, 2, 21), earlyClose: false }),
      tailMs: 10_000,
      skipMarketHours: false,
      pushGap: (g) => gaps.push(g),
    });
    await tick(clock, 1);
    expect(gaps).toEqual([
      { symbol: '*', symbols: ['AAPL'], startedAt: open, endedAt: T0 + 700, reason: 'late start' },
    ]);
    await run.stop(true);
  });
});

describe('run mark across a close', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await pgTestDb('runmark_close');
  });
  afterAll(() => db?.close());

  it('a stop mid-session followed by a start after the close: the rest of the session is a gap', async () => {
    const open = Date.UTC(2026, 2, 2, 14, 30);
    const close = Date.UTC(2026, 2, 2, 21, 0);
    const session = { date: '2026-03-02', open, close, earlyClose: false };
    for (const clean of [true, false]) {
      await db.admin.query('DELETE FROM collector_marks');
      const clock = new FakeClock(T0);
      const gaps: FeedGap[] = [];
      const deps = {
        pool: db.pool(),
        clock,
        log: nullLogger(),
        symbols: ['AAPL'],
        sink: { rowsPushed: 0, bufferedRows: 0 },
        connections: () => [],
        holdMs: 0,
        sessionAt: (now: number) => (now >= open && now < close ? session : null),
        tailMs: 10_000,
        skipMarketHours: false,
        pushGap: (g: FeedGap) => gaps.push(g),
      };
      const run = await startRunMark(deps);
      gaps.length = 0; // its own late start
      clock.set(T0 + 60_000);
      if (clean) {
        run.stopping();
        await run.stop(true);
      } else {
        await run.stop(false); // as a crash leaves it: clean_stop false, mark at the last update
      }
      gaps.length = 0;
      clock.set(close + 3_600_000);
      const next = await startRunMark(deps);
      const mark = T0 + 60_000; // holdMs 0 and nothing buffered: the mark is the stop instant either way
      expect(gaps).toEqual([
        {
          symbol: '*',
          symbols: ['AAPL'],
          startedAt: mark,
          endedAt: close + 10_000,
          reason: clean ? 'stopped' : 'unclean stop',
        },
      ]);
      await next.stop(true);
    }
  });
});
