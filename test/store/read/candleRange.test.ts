// The web API's range reads: bounded, oldest first, the latest `limit` of the window, NULL prices kept as
// null, primary-key index ranges only; gaps read whether or not backfill's columns exist yet.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candleRange, gapsBetween, MAX_RANGE_LIMIT } from '../../../src/store/read/candleRange.js';
import { upsertSecondCandles, upsertTickCandles } from '../../../src/store/write/writeCandles.js';
import { upsertGaps } from '../../../src/store/write/writeGaps.js';
import { pgliteTestDb, pgTestDb, type TestDb } from '../../helpers/pg.js';
import { sec, T0, tick } from '../candles.js';

describe.each(['postgres', 'pglite'] as const)('candle ranges on %s', (kind) => {
  let db: TestDb;

  beforeAll(async () => {
    db = kind === 'postgres' ? await pgTestDb('range') : await pgliteTestDb();
    // 100 seconds of AAPL (second 50 volume-only: no price), 10 of MSFT.
    const aapl = Array.from({ length: 100 }, (_, i) => sec('AAPL', i, 3, 100 + i));
    const volumeOnly = aapl[50]!;
    Object.assign(volumeOnly, { open: null, high: null, low: null, close: null });
    await upsertSecondCandles(db.admin, aapl);
    await upsertSecondCandles(
      db.admin,
      Array.from({ length: 10 }, (_, i) => sec('MSFT', i)),
    );
    // Tick candles over two New York dates.
    await upsertTickCandles(db.admin, [
      ...Array.from({ length: 5 }, (_, i) => tick('AAPL', i, 100, '2024-07-03')),
      ...Array.from({ length: 3 }, (_, i) => ({
        ...tick('AAPL', i, 100, '2024-07-05'),
        startAt: T0 + 2 * 86_400_000 + i * 1000,
        endAt: T0 + 2 * 86_400_000 + i * 1000 + 900,
      })),
    ]);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('returns the latest `limit` candles of the window, oldest first, with `more` when cut', async () => {
    const r = await candleRange(db.admin, { symbol: 'AAPL', kind: '1s', from: null, to: null, limit: 10 });
    expect(r.more).toBe(true);
    expect(r.candles.map((c) => (c.kind === '1s' ? c.bucket : 0))).toEqual(
      Array.from({ length: 10 }, (_, i) => T0 + (90 + i) * 1000),
    );
    // Paging back: to = the first one returned (exclusive).
    const older = await candleRange(db.admin, {
      symbol: 'AAPL',
      kind: '1s',
      from: null,
      to: T0 + 90_000,
      limit: 10,
    });
    expect(older.candles.map((c) => (c.kind === '1s' ? c.bucket : 0))).toEqual(
      Array.from({ length: 10 }, (_, i) => T0 + (80 + i) * 1000),
    );
    const all = await candleRange(db.admin, { symbol: 'AAPL', kind: '1s', from: T0, to: null, limit: 1000 });
    expect(all.more).toBe(false);
    expect(all.candles).toHaveLength(100);
    expect(all.candles.every((c) => c.symbol === 'AAPL')).toBe(true);
  });

  it('keeps a volume-only candle: prices null, never zero', async () => {
    const r = await candleRange(db.admin, {
      symbol: 'AAPL',
      kind: '1s',
      from: T0 + 50_000,
      to: T0 + 51_000,
      limit: 5,
    });
    expect(r.candles).toHaveLength(1);
    const c = r.candles[0]!;
    expect([c.open, c.high, c.low, c.close]).toEqual([null, null, null, null]);
    expect(c.volume).toBe(30);
    expect(c.tradeCount).toBe(3);
  });

  it('clamps the limit', async () => {
    const r = await candleRange(db.admin, { symbol: 'AAPL', kind: '1s', from: null, to: null, limit: 1e9 });
    expect(r.candles).toHaveLength(100);
    const one = await candleRange(db.admin, { symbol: 'AAPL', kind: '1s', from: null, to: null, limit: 0 });
    expect(one.candles).toHaveLength(1);
    expect(MAX_RANGE_LIMIT).toBe(5_000);
  });

  it('reads 100-tick candles across session dates in (date, seq) order, by their end time', async () => {
    const r = await candleRange(db.admin, { symbol: 'AAPL', kind: '100t', from: null, to: null, limit: 100 });
    expect(r.candles.map((c) => (c.kind === '100t' ? `${c.sessionDate}#${c.seq}` : ''))).toEqual([
      '2024-07-03#0',
      '2024-07-03#1',
      '2024-07-03#2',
      '2024-07-03#3',
      '2024-07-03#4',
      '2024-07-05#0',
      '2024-07-05#1',
      '2024-07-05#2',
    ]);
    const window = await candleRange(db.admin, {
      symbol: 'AAPL',
      kind: '100t',
      from: T0 + 1_000,
      to: T0 + 3_900,
      limit: 100,
    });
    expect(window.candles.map((c) => (c.kind === '100t' ? c.seq : -1))).toEqual([1, 2]);
    const latest = await candleRange(db.admin, {
      symbol: 'AAPL',
      kind: '100t',
      from: null,
      to: null,
      limit: 2,
    });
    expect(latest.more).toBe(true);
    expect(latest.candles.map((c) => (c.kind === '100t' ? c.seq : -1))).toEqual([1, 2]);
  });

  it('uses only primary-key index ranges', async () => {
    const client = await db.admin.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const plan1 = await client.query(
        `EXPLAIN SELECT * FROM candles_1s WHERE symbol = 'AAPL' AND bucket >= '-infinity'::timestamptz
           AND bucket < $1::timestamptz ORDER BY bucket DESC LIMIT 10`,
        [new Date(T0 + 50_000).toISOString()],
      );
      const text1 = plan1.rows.map((r) => Object.values(r)[0]).join('\n');
      expect(text1).toMatch(/Index (Only )?Scan Backward using candles_1s_pkey/);
      const plan2 = await client.query(
        `EXPLAIN SELECT * FROM candles_100t WHERE symbol = 'AAPL' AND session_date >= '2024-07-01'::date
           AND session_date <= '2024-07-05'::date AND end_at < now() ORDER BY session_date DESC, seq DESC LIMIT 10`,
      );
      const text2 = plan2.rows.map((r) => Object.values(r)[0]).join('\n');
      expect(text2).toMatch(/Index Scan Backward using candles_100t_pkey/);
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });

  it('reads gaps overlapping the window, a whole-connection gap for every symbol, fill state when present', async () => {
    await upsertGaps(db.admin, [
      { symbol: '*', startedAt: T0 + 10_000, endedAt: T0 + 15_000, reason: 'closed 1006' },
      { symbol: 'MSFT', startedAt: T0 + 20_000, endedAt: T0 + 21_000, reason: 'stale' },
      { symbol: 'AAPL', startedAt: T0 - 86_400_000, endedAt: T0 - 86_000_000, reason: 'yesterday' },
    ]);
    const aapl = await gapsBetween(db.admin, T0, T0 + 60_000, 'AAPL');
    expect(aapl.gaps.map((g) => [g.symbol, g.startedAt, g.endedAt, g.reason])).toEqual([
      ['*', T0 + 10_000, T0 + 15_000, 'closed 1006'],
    ]);
    expect(aapl.gaps[0]).toMatchObject({ filledAt: null, filledTrades: null, fillError: null });
    const all = await gapsBetween(db.admin, T0, T0 + 60_000);
    expect(all.gaps.map((g) => g.symbol)).toEqual(['*', 'MSFT']);
    // Overlap, not containment: a window inside the gap finds it.
    expect((await gapsBetween(db.admin, T0 + 12_000, T0 + 13_000, 'AAPL')).gaps).toHaveLength(1);

    // The backfill's fill state (migration 0003) comes back with the same read.
    await db.admin.query(
      `UPDATE feed_gaps SET filled_at = to_timestamp($1 / 1000.0), filled_trades = 42 WHERE symbol = '*'`,
      [T0 + 100_000],
    );
    await db.admin.query(`UPDATE feed_gaps SET fill_error = 'HTTP 429' WHERE symbol = 'MSFT'`);
    const filled = await gapsBetween(db.admin, T0, T0 + 60_000);
    expect(filled.gaps[0]).toMatchObject({
      symbol: '*',
      filledAt: T0 + 100_000,
      filledTrades: 42,
      fillError: null,
    });
    expect(filled.gaps[1]).toMatchObject({ symbol: 'MSFT', filledAt: null, fillError: 'HTTP 429' });
  });
});
