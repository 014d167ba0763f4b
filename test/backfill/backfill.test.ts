// The backfill end to end on both databases: stored live candles with a hole (a 4 s outage) and a shifted
// 100-tick series are rebuilt from a stand-in tick API (with one 429 and one 500) until every row equals
// the one computed from the whole tape; the gap gets filled_at; a live write never replaces a tape row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConditionRules } from '../../src/aggregate/conditions.js';
import { etDayOf } from '../../src/aggregate/etDay.js';
import type { SecondCandle, TickCandle } from '../../src/aggregate/types.js';
import { RequestLimits } from '../../src/backfill/limits.js';
import { rebuild } from '../../src/backfill/rebuild.js';
import { type BackfillSettings, runBackfill } from '../../src/backfill/runner.js';
import { type TapeTrade, TickApi } from '../../src/backfill/tickApi.js';
import { nullLogger } from '../../src/log/logger.js';
import { upsertSecondCandles, upsertTickCandles } from '../../src/store/write/writeCandles.js';
import { listGaps, upsertGaps } from '../../src/store/write/writeGaps.js';
import { pgliteTestDb, pgTestDb, type TestDb } from '../helpers/pg.js';
import { instantClock, makeTape, startTapeServer, type TapeServer } from './tapeServer.js';

const T0 = Date.UTC(2026, 2, 2, 15, 0, 0); // Monday 10:00 ET
const SYMBOLS = ['AAPL', 'MSFT'];
// Regular, odd lot (volume only), Form T (extended hours, volume only), official close (no update).
const tape = makeTape(SYMBOLS, T0, 2400, 25, ['@   ', '@   ', '   I', '@ F ', '@  M', '@ TI']);
const settings: BackfillSettings = {
  candleLatenessMs: 2_000,
  candleIntervalMs: 1_000,
  tickCandleSize: 100,
  sessionTailMs: 10_000,
  candleConditions: 'sip',
};
const day = etDayOf(T0);

/** Candles from these prints, as the collector computes them. */
function candles(symbol: string, prints: TapeTrade[]) {
  return rebuild({
    symbol,
    sessionDate: day.date,
    tape: prints,
    session: null,
    day,
    rules: new ConditionRules('sip'),
    intervalMs: 1000,
    tickSize: 100,
    windows: [{ fromMs: day.start, toMs: day.end }],
    fromSeq: 0,
    cutTs: day.start,
  });
}

describe.each(['postgres', 'pglite'] as const)('backfill on %s', (kind) => {
  let db: TestDb;
  let srv: TapeServer;
  beforeAll(async () => {
    db = kind === 'postgres' ? await pgTestDb('backfill') : await pgliteTestDb();
    srv = await startTapeServer(tape);
  });
  afterAll(async () => {
    await srv?.close();
    await db?.close();
  });

  async function stored() {
    const s = await db.admin.query(
      `SELECT symbol, extract(epoch FROM bucket) * 1000 AS b, open, high, low, close, volume, trade_count, vwap, source
       FROM candles_1s ORDER BY symbol, bucket`,
    );
    const t = await db.admin.query(
      `SELECT symbol, seq, open, high, low, close, volume, trade_count, vwap,
              extract(epoch FROM start_at) * 1000 AS st, extract(epoch FROM end_at) * 1000 AS en
       FROM candles_100t ORDER BY symbol, seq`,
    );
    return { s: s.rows, t: t.rows };
  }
  const row1s = (c: SecondCandle) => [
    c.symbol,
    c.bucket,
    c.open,
    c.high,
    c.low,
    c.close,
    c.volume,
    c.tradeCount,
    c.vwap,
  ];
  const row100t = (c: TickCandle) => [
    c.symbol,
    c.seq,
    c.open,
    c.high,
    c.low,
    c.close,
    c.volume,
    c.tradeCount,
    c.vwap,
    c.startAt,
    c.endAt,
  ];

  it('fills a 4 s outage: every candle equals the whole tape, the gap is filled', async () => {
    const g0 = T0 + 20_300;
    const g1 = T0 + 24_300;
    const pool = db.pool();
    const want1s: SecondCandle[] = [];
    const want100t: TickCandle[] = [];
    for (const s of SYMBOLS) {
      const all = tape[s]!;
      const whole = candles(s, all);
      want1s.push(...whole.seconds);
      want100t.push(...whole.ticks);
      const live = candles(
        s,
        all.filter((p) => p.ts < g0 || p.ts >= g1),
      );
      await upsertSecondCandles(pool, live.seconds);
      await upsertTickCandles(pool, live.ticks);
    }
    await upsertGaps(pool, [
      { symbol: '*', symbols: SYMBOLS, startedAt: g0, endedAt: g1, reason: 'socket closed' },
    ]);
    const before = await stored();
    expect(before.t.length).toBeLessThan(want100t.length + 1); // the live series is short and shifted

    srv.script.push({ status: 429, headers: { 'retry-after': '1' } }, { status: 500 });
    srv.requests.length = 0;
    const clock = instantClock(T0 + 86_400_000);
    const api = new TickApi({
      baseUrl: srv.url,
      token: 't',
      clock,
      limits: new RequestLimits(clock, 900, 1000),
      pageRows: 500,
    });
    const r = await runBackfill({ pool, api, settings, clock, log: nullLogger() });
    expect(r.outcomes.map((o) => o.state)).toEqual(['filled']);
    expect(r.outcomes[0]!.trades).toBe(
      SYMBOLS.reduce((n, s) => n + tape[s]!.filter((p) => p.ts >= g0 && p.ts < g1).length, 0),
    );

    const after = await stored();
    const n = (x: unknown) => (x === null ? null : Number(x));
    expect(
      after.s.map((x) => [x.symbol, n(x.b), x.open, x.high, x.low, x.close, x.volume, x.trade_count, x.vwap]),
    ).toEqual(want1s.map(row1s));
    expect(
      after.t.map((x) => [
        x.symbol,
        x.seq,
        x.open,
        x.high,
        x.low,
        x.close,
        x.volume,
        x.trade_count,
        x.vwap,
        n(x.st),
        n(x.en),
      ]),
    ).toEqual(want100t.map(row100t));
    expect(after.s.some((x) => x.source === 'tape')).toBe(true);
    const gaps = await listGaps(db.admin);
    expect(gaps.every((g) => g.filledAt !== null && g.fillError === null)).toBe(true);
    // A live write after the backfill leaves the tape's rows alone.
    const tapeRow = want1s.find((c) => c.bucket === Math.floor(g0 / 1000) * 1000 + 1000)!;
    await upsertSecondCandles(pool, [{ ...tapeRow, tradeCount: tapeRow.tradeCount + 50, open: 1 }]);
    const again = await db.admin.query(
      'SELECT open FROM candles_1s WHERE symbol = $1 AND bucket = to_timestamp($2 / 1000.0)',
      [tapeRow.symbol, tapeRow.bucket],
    );
    expect(again.rows[0].open).toBe(tapeRow.open);
  });

  it('--dry-run and --symbols: nothing written, and a gap is not marked while some of its symbols were left out', async () => {
    const pool = db.pool();
    await db.admin.query('DELETE FROM feed_gaps');
    await upsertGaps(pool, [
      { symbol: '*', symbols: SYMBOLS, startedAt: T0 + 50_000, endedAt: T0 + 51_000, reason: 'x' },
    ]);
    await db.admin.query(
      `UPDATE candles_1s SET open = -1 WHERE bucket = to_timestamp(${(T0 + 50_000) / 1000})`,
    );
    const clock = instantClock(T0 + 86_400_000);
    const api = new TickApi({
      baseUrl: srv.url,
      token: 't',
      clock,
      limits: new RequestLimits(clock, 900, 1000),
    });
    const dry = await runBackfill({ pool, api, settings, clock, log: nullLogger(), dryRun: true });
    expect(dry.outcomes.map((o) => o.state)).toEqual(['filled']);
    const opens = async () =>
      (
        await db.admin.query(
          `SELECT open FROM candles_1s WHERE bucket = to_timestamp(${(T0 + 50_000) / 1000})`,
        )
      ).rows.map((r) => r.open);
    expect(await opens()).toEqual([-1, -1]);
    expect((await listGaps(db.admin))[0]!.filledAt).toBeNull();
    await runBackfill({ pool, api, settings, clock, log: nullLogger(), symbols: ['AAPL'] });
    expect((await opens()).filter((o) => o === -1).length).toBe(1); // AAPL rebuilt, MSFT not
    expect((await listGaps(db.admin))[0]!.filledAt).toBeNull();
    await runBackfill({ pool, api, settings, clock, log: nullLogger() });
    expect((await opens()).includes(-1)).toBe(false);
    expect((await listGaps(db.admin))[0]!.filledAt).not.toBeNull();
  });

  it('says "not loaded yet" on 404 and leaves the gap unfilled with the reason', async () => {
    const pool = db.pool();
    await upsertGaps(pool, [
      { symbol: 'AAPL', startedAt: T0 + 40_000, endedAt: T0 + 41_000, reason: 'resubscribe' },
    ]);
    srv.always = 404;
    try {
      const clock = instantClock(T0 + 86_400_000);
      const api = new TickApi({
        baseUrl: srv.url,
        token: 't',
        clock,
        limits: new RequestLimits(clock, 900, 1000),
      });
      const r = await runBackfill({ pool, api, settings, clock, log: nullLogger() });
      expect(r.outcomes.map((o) => o.state)).toEqual(['not-loaded']);
      const g = (await listGaps(db.admin, { unfilled: true }))[0]!;
      expect(g.fillError).toBe('not loaded yet');
    } finally {
      srv.always = null;
    }
  });
});
