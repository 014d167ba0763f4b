// Higher timeframes on real PostgreSQL and PGlite: candles_1m equals a reference aggregation of the
// 1-second rows after ordinary writes, late amendments (a second re-upserted with more trades), seconds of
// odd lots only (NULL prices), and a backfill that deletes a window; 5m/1h/1d read the same way.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecondCandle } from '../../../src/aggregate/types.js';
import { type Bar, latestBars, readBars, type Timeframe } from '../../../src/store/read/timeframes.js';
import { upsertSecondCandles } from '../../../src/store/write/writeCandles.js';
import { pgliteTestDb, pgTestDb, type TestDb, waitFor } from '../../helpers/pg.js';
import { sec, T0 } from '../candles.js';

type Nullable<T> = { [K in keyof T]: K extends 'open' | 'high' | 'low' | 'close' ? T[K] | null : T[K] };
type Sec = Nullable<SecondCandle>;

/** The rules, written out plainly: what a bar of the seconds in [start, start + len) is. */
function reference(rows: Sec[], bucketOf: (ms: number) => number, kind: Timeframe): Bar[] {
  const groups = new Map<string, Sec[]>();
  for (const r of [...rows].sort((a, b) => a.bucket - b.bucket)) {
    const k = `${r.symbol}|${bucketOf(r.bucket)}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: Bar[] = [];
  for (const [k, g] of groups) {
    const priced = (f: (r: Sec) => number | null) => g.map(f).filter((v): v is number => v !== null);
    const weighted = g.filter((r) => r.vwap !== null && r.volume > 0);
    const wv = weighted.reduce((a, r) => a + r.volume, 0);
    out.push({
      kind,
      symbol: k.split('|')[0]!,
      bucket: Number(k.split('|')[1]),
      open: priced((r) => r.open)[0] ?? null,
      high: priced((r) => r.high).length ? Math.max(...priced((r) => r.high)) : null,
      low: priced((r) => r.low).length ? Math.min(...priced((r) => r.low)) : null,
      close: priced((r) => r.close).at(-1) ?? null,
      volume: g.reduce((a, r) => a + r.volume, 0),
      tradeCount: g.reduce((a, r) => a + r.tradeCount, 0),
      vwap: wv > 0 ? weighted.reduce((a, r) => a + r.vwap! * r.volume, 0) / wv : null,
    });
  }
  return out.sort((a, b) => a.bucket - b.bucket || a.symbol.localeCompare(b.symbol));
}

const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;
const round = (b: Bar) => ({ ...b, vwap: b.vwap === null ? null : Math.round(b.vwap * 1e9) / 1e9 });

describe.each(['postgres', 'pglite'] as const)('timeframes on %s', (kind) => {
  let db: TestDb;
  let pool: pg.Pool;
  /** What candles_1s holds, kept beside it. */
  const stored = new Map<string, Sec>();
  const write = async (rows: Sec[]) => {
    await upsertSecondCandles(pool, rows as SecondCandle[]);
    for (const r of rows) {
      const k = `${r.symbol}|${r.bucket}`;
      const prev = stored.get(k);
      if (!prev || r.tradeCount >= prev.tradeCount) stored.set(k, r);
    }
  };
  const all1m = async (symbol: string) =>
    (await readBars(pool, { timeframe: '1m', symbol, limit: 100_000, order: 'asc' })).map(round);
  const ref = (symbol: string, tf: Timeframe, bucketOf: (ms: number) => number) =>
    reference(
      [...stored.values()].filter((r) => r.symbol === symbol),
      bucketOf,
      tf,
    ).map(round);

  beforeAll(async () => {
    db = kind === 'postgres' ? await pgTestDb('timeframes') : await pgliteTestDb();
    pool = db.pool({ max: 1 });
    // Three minutes and a bit of AAPL with gaps, varying prices; MSFT sparse.
    const rows: Sec[] = [];
    for (let i = 0; i < 200; i += 1 + (i % 3)) rows.push(sec('AAPL', i, 1 + (i % 5), 100 + Math.sin(i) * 3));
    for (let i = 5; i < 200; i += 37) rows.push(sec('MSFT', i, 2, 300 + i));
    // Seconds of odd lots only: volume and trades, no prices. One opens minute 2, one closes minute 1.
    rows.push({ ...sec('AAPL', 120, 2), open: null, high: null, low: null, close: null });
    rows.push({ ...sec('AAPL', 119, 1), open: null, high: null, low: null, close: null });
    await write(
      rows.filter(
        (r) =>
          !rows.some(
            (o) =>
              o !== r && o.symbol === r.symbol && o.bucket === r.bucket && rows.indexOf(o) > rows.indexOf(r),
          ),
      ),
    );
  });
  afterAll(() => db?.close());

  it('keeps one bar per minute with a counted trade, equal to the reference', async () => {
    const got = await all1m('AAPL');
    expect(got.length).toBe(4);
    expect(got).toEqual(ref('AAPL', '1m', minuteOf));
    expect(await all1m('MSFT')).toEqual(ref('MSFT', '1m', minuteOf));
  });

  it('follows a late amendment of a second and a late new second', async () => {
    const before = (await all1m('AAPL'))[1]!;
    await write([sec('AAPL', 61, 40, 250), { ...sec('AAPL', 118, 7, 50) }]);
    const got = await all1m('AAPL');
    expect(got).toEqual(ref('AAPL', '1m', minuteOf));
    expect(got[1]!.high).toBeGreaterThan(before.high!);
    expect(got[1]!.tradeCount).toBeGreaterThan(before.tradeCount);
    // A re-sent row with fewer trades is refused by the upsert, and the bar does not move either.
    await write([sec('AAPL', 61, 1, 1)]);
    expect(await all1m('AAPL')).toEqual(got);
  });

  it('drops and recomputes bars when a backfill deletes a window', async () => {
    await db.admin.query(
      `DELETE FROM candles_1s WHERE symbol = 'AAPL' AND bucket >= to_timestamp($1 / 1000.0) AND bucket < to_timestamp($2 / 1000.0)`,
      [T0 + 60_000, T0 + 150_000],
    );
    for (const [k, r] of stored)
      if (r.symbol === 'AAPL' && r.bucket >= T0 + 60_000 && r.bucket < T0 + 150_000) stored.delete(k);
    const got = await all1m('AAPL');
    expect(got.map((b) => b.bucket)).toEqual([T0, T0 + 120_000, T0 + 180_000]);
    expect(got).toEqual(ref('AAPL', '1m', minuteOf));
  });

  it('reads 5m, 1h and 1d bars under the same rules, by range and latest', async () => {
    const five = (ms: number) => Math.floor(ms / 300_000) * 300_000;
    const got5 = (await readBars(pool, { timeframe: '5m', symbol: 'AAPL', limit: 10, order: 'asc' })).map(
      round,
    );
    expect(got5).toEqual(ref('AAPL', '5m', five));
    // T0 is 10:30 New York on 2024-07-03: the day bar starts at 04:00 UTC.
    const nyDay = () => Date.UTC(2024, 6, 3, 4);
    const gotD = (
      await readBars(pool, { timeframe: '1d', symbol: 'MSFT', from: T0, to: T0 + 1, limit: 5, order: 'desc' })
    ).map(round);
    expect(gotD).toEqual(ref('MSFT', '1d', nyDay));
    const gotH = await latestBars(pool, { timeframe: '1h', limit: 5 });
    expect(gotH.map((b) => `${b.symbol}@${b.bucket}`)).toEqual([
      `AAPL@${Date.UTC(2024, 6, 3, 14)}`,
      `MSFT@${Date.UTC(2024, 6, 3, 14)}`,
    ]);
    const last1m = await latestBars(pool, { timeframe: '1m', symbol: 'AAPL', limit: 2 });
    expect(last1m.map((b) => b.bucket)).toEqual([T0 + 180_000, T0 + 120_000]);
    // A range ending inside a bar leaves that bar out.
    const cut = await readBars(pool, {
      timeframe: '1m',
      symbol: 'AAPL',
      from: T0,
      to: T0 + 120_000,
      limit: 10,
      order: 'asc',
    });
    expect(cut.map((b) => b.bucket)).toEqual([T0]);
  });
});

describe('two writers of one minute at once (postgres)', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await pgTestDb('rollup_race');
  });
  afterAll(() => db?.close());

  it('the second waits for the first and its bar holds both seconds', async () => {
    const a = await db.admin.connect();
    const b = await db.pool({ max: 1 }).connect();
    try {
      await a.query('BEGIN');
      await upsertSecondCandles(a as unknown as pg.Pool, [sec('RACE', 1, 2, 10)]);
      const bPid = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await b.query('BEGIN');
      // B's trigger blocks on A's minute lock until A commits, then recomputes seeing A's second.
      const bDone = upsertSecondCandles(b as unknown as pg.Pool, [sec('RACE', 2, 3, 20)]).then(() =>
        b.query('COMMIT'),
      );
      const watch = db.pool({ max: 1 });
      await waitFor(async () => {
        const w = await watch.query(
          `SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND objsubid = 2 AND NOT granted`,
          [bPid],
        );
        return w.rowCount === 1;
      }, 'B waiting on the minute lock');
      await a.query('COMMIT');
      await bDone;
      const bar = await db.admin.query(`SELECT trade_count, high FROM candles_1m WHERE symbol = 'RACE'`);
      expect(bar.rows).toEqual([{ trade_count: 5, high: 21 }]);
    } finally {
      a.release();
      b.release();
    }
  });
});
