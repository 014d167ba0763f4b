// The backfill never destroys what it cannot replace (issue 20). Each case is one of the problems found with
// stand-ins serving one tape: stored live candles with a hole, a gap in the ledger, a tick API on loopback.
// - a --skip-market-hours collection backfilled before the open: rebuilt under the gap's own mode (skip), and a
//   gap that says calendar before the open deletes nothing;
// - an API answering one symbol with 200 and empty arrays: that symbol's rows stay, the gap is "not loaded";
// - a tape with fewer prints than a stored second, or than the stored 100-tick series: refused, rows kept;
// - a gap over several days: every session day in it is rebuilt (the missed Friday);
// - --dry-run says per table what it would replace, delete and insert, and changes nothing;
// - the trades a gap reports are those inside its own interval; filling records tape coverage, and a re-run
//   has nothing to do;
// - a minute whose seconds retention dropped is rebuilt whole from the tape, never from a few seconds.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConditionRules } from '../../src/aggregate/conditions.js';
import { etDayNamed } from '../../src/aggregate/etDay.js';
import type { SecondCandle, TickCandle } from '../../src/aggregate/types.js';
import { RequestLimits } from '../../src/backfill/limits.js';
import { rebuild } from '../../src/backfill/rebuild.js';
import { type BackfillSettings, runBackfill } from '../../src/backfill/runner.js';
import { type TapeTrade, TickApi } from '../../src/backfill/tickApi.js';
import { sessionOn } from '../../src/calendar/index.js';
import { nullLogger } from '../../src/log/logger.js';
import { upsertSecondCandles, upsertTickCandles } from '../../src/store/write/writeCandles.js';
import { pgliteTestDb, pgTestDb, type TestDb } from '../helpers/pg.js';
import { instantClock, makeTape, startTapeServer, type TapeServer } from './tapeServer.js';

const DATE = '2026-03-02'; // a Monday
const T0 = Date.UTC(2026, 2, 2, 15, 0, 0); // 10:00 ET, in the session
const PRE = Date.UTC(2026, 2, 2, 12, 0, 0); // 07:00 ET, before the open
const SYMBOLS = ['AAPL', 'MSFT'];
const SLS = ['@   ', '@   ', '   I', '@ F ', '@  M', '@ TI'];
const settings: BackfillSettings = {
  candleLatenessMs: 2_000,
  candleIntervalMs: 1_000,
  tickCandleSize: 100,
  sessionTailMs: 10_000,
  candleConditions: 'sip',
};
type Mode = 'calendar' | 'skip';

/** Candles of these prints on `date` under the mode's rules, as the live collector computes them. */
function candles(symbol: string, prints: TapeTrade[], mode: Mode, date = DATE) {
  const day = etDayNamed(date);
  const s = sessionOn(date);
  return rebuild({
    symbol,
    sessionDate: date,
    tape: prints,
    session: mode === 'calendar' && s ? { open: s.open, close: s.close, tailMs: 10_000 } : null,
    day,
    rules: new ConditionRules('sip'),
    intervalMs: 1000,
    tickSize: 100,
    windows: [{ fromMs: day.start, toMs: day.end }],
    fromSeq: 0,
    cutTs: day.start,
  });
}

const row1s = (c: SecondCandle) => [c.symbol, c.bucket, c.open, c.close, c.volume, c.tradeCount];
const row100t = (c: TickCandle) => [c.symbol, c.seq, c.open, c.close, c.volume, c.tradeCount];

describe.each(['postgres', 'pglite'] as const)('the backfill never destroys (%s)', (kind) => {
  let db: TestDb;
  let pool: ReturnType<TestDb['pool']>;
  const servers: TapeServer[] = [];
  beforeAll(async () => {
    db = kind === 'postgres' ? await pgTestDb('never_destroy') : await pgliteTestDb();
    pool = db.pool();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await db?.close();
  });
  beforeEach(async () => {
    await db.admin.query('TRUNCATE candles_1s, candles_100t, candles_1m, feed_gaps, coverage');
  });

  async function serve(tape: Record<string, TapeTrade[]>) {
    const srv = await startTapeServer(tape);
    servers.push(srv);
    return srv;
  }
  function apiFor(srv: TapeServer, clock: ReturnType<typeof instantClock>) {
    return new TickApi({
      baseUrl: srv.url,
      token: 't',
      clock,
      limits: new RequestLimits(clock, 900, 10_000),
      pageRows: 1000,
    });
  }
  /** Live candles of every print `keep` admits, stored as the sink does (the triggers keep candles_1m). */
  async function storeLive(tape: Record<string, TapeTrade[]>, keep: (p: TapeTrade) => boolean, mode: Mode) {
    for (const [s, prints] of Object.entries(tape)) {
      const byDate = new Map<string, TapeTrade[]>();
      for (const p of prints.filter(keep)) {
        const d = new Date(p.ts - 5 * 3_600_000).toISOString().slice(0, 10); // ET (EST) date
        byDate.set(d, [...(byDate.get(d) ?? []), p]);
      }
      for (const [d, ps] of byDate) {
        const c = candles(s, ps, mode, d);
        await upsertSecondCandles(pool, c.seconds);
        await upsertTickCandles(pool, c.ticks);
      }
    }
  }
  async function addGap(symbols: string[], startedAt: number, endedAt: number, mode: Mode) {
    await db.admin.query(
      `INSERT INTO feed_gaps (symbol, symbols, started_at, ended_at, reason, mode)
       VALUES ($1, $2, to_timestamp($3 / 1000.0), to_timestamp($4 / 1000.0), 'socket closed', $5)`,
      [symbols.length === 1 ? symbols[0] : '*', symbols, startedAt, endedAt, mode],
    );
  }
  async function snapshot(symbol?: string) {
    const where = symbol ? `WHERE symbol = '${symbol}'` : '';
    const q = async (sql: string) => (await db.admin.query(sql)).rows.map((r) => JSON.stringify(r));
    return {
      s: await q(
        `SELECT symbol, (extract(epoch FROM bucket) * 1000)::float8 AS b, open, close, volume, trade_count
         FROM candles_1s ${where} ORDER BY symbol, bucket`,
      ),
      t: await q(
        `SELECT symbol, session_date::text AS d, seq, open, close, volume, trade_count
         FROM candles_100t ${where} ORDER BY symbol, session_date, seq`,
      ),
      m: await q(
        `SELECT symbol, (extract(epoch FROM bucket) * 1000)::float8 AS b, trade_count
         FROM candles_1m ${where} ORDER BY symbol, bucket`,
      ),
    };
  }
  async function gapRows() {
    return (await db.admin.query('SELECT filled_at, filled_trades, fill_error FROM feed_gaps ORDER BY id'))
      .rows as { filled_at: Date | null; filled_trades: number | null; fill_error: string | null }[];
  }
  async function stored1s(symbol: string) {
    return (
      await db.admin.query(
        `SELECT symbol, (extract(epoch FROM bucket) * 1000)::float8 AS b, open, close, volume, trade_count
         FROM candles_1s WHERE symbol = $1 ORDER BY bucket`,
        [symbol],
      )
    ).rows.map((x) => [x.symbol, x.b, x.open, x.close, x.volume, x.trade_count]);
  }
  async function stored100t(symbol: string) {
    return (
      await db.admin.query(
        `SELECT symbol, seq, open, close, volume, trade_count FROM candles_100t WHERE symbol = $1 ORDER BY seq`,
        [symbol],
      )
    ).rows.map((x) => [x.symbol, x.seq, x.open, x.close, x.volume, x.trade_count]);
  }
  const pass = (srv: TapeServer, now: number, extra: { dryRun?: boolean } = {}) => {
    const clock = instantClock(now);
    return runBackfill({
      pool,
      api: apiFor(srv, clock),
      settings,
      clock,
      log: nullLogger(),
      ...extra,
    });
  };

  it('a --skip-market-hours collection backfilled before the open is rebuilt under its own rules', async () => {
    const tape = makeTape(SYMBOLS, PRE, 1200, 50, SLS);
    const g0 = PRE + 20_300;
    const g1 = PRE + 24_300;
    await storeLive(tape, (p) => p.ts < g0 || p.ts >= g1, 'skip');
    await addGap(SYMBOLS, g0, g1, 'skip');
    const srv = await serve(tape);
    // 08:00 ET: before the open. The backfill's own flags say nothing of --skip-market-hours.
    const r = await pass(srv, PRE + 3_600_000);
    expect(r.outcomes.map((o) => o.state)).toEqual(['filled']);
    for (const s of SYMBOLS) {
      const whole = candles(s, tape[s]!, 'skip');
      expect(await stored1s(s)).toEqual(whole.seconds.map(row1s));
      expect(await stored100t(s)).toEqual(whole.ticks.map(row100t));
    }
    expect((await gapRows())[0]!.filled_at).not.toBeNull();
  });

  it('a gap that says calendar, before the open: nothing fetched, nothing deleted, not filled', async () => {
    const tape = makeTape(SYMBOLS, PRE, 1200, 50, SLS);
    const g0 = PRE + 20_300;
    await storeLive(tape, (p) => p.ts < g0 || p.ts >= g0 + 4000, 'skip');
    await addGap(SYMBOLS, g0, g0 + 4000, 'calendar');
    const before = await snapshot();
    expect(before.s.length).toBeGreaterThan(100);
    const srv = await serve(tape);
    const r = await pass(srv, PRE + 3_600_000);
    expect(r.outcomes.map((o) => o.state)).toEqual(['not-loaded']);
    expect(await snapshot()).toEqual(before);
    const g = (await gapRows())[0]!;
    expect(g.filled_at).toBeNull();
    expect(g.fill_error).toMatch(/not loaded/);
  });

  it('the request budget is counted in this database (the CLI in local mode uses it too)', async () => {
    const { SharedBudget } = await import('../../src/backfill/sharedBudget.js');
    await db.admin.query('DELETE FROM backfill_budget');
    const clock = instantClock(Date.UTC(2026, 2, 3, 12, 0, 0));
    const b = new SharedBudget(pool, clock, 900, 3);
    for (let i = 0; i < 3; i++) await b.take();
    await expect(b.take()).rejects.toThrow(/used up/);
    const r = await db.admin.query(`SELECT requests FROM backfill_budget WHERE kind = 'day'`);
    expect(r.rows.map((x) => x.requests)).toEqual([3]);
  });

  it('a day whose coverage says it was collected under the other rules is refused', async () => {
    const tape = makeTape(['AAPL'], T0, 1200, 50, SLS);
    const g0 = T0 + 20_300;
    await storeLive(tape, (p) => p.ts < g0 || p.ts >= g0 + 4000, 'calendar');
    await addGap(['AAPL'], g0, g0 + 4000, 'calendar');
    // Earlier that day a --skip-market-hours run covered the open.
    await db.admin.query(
      `INSERT INTO coverage (symbols, started_at, ended_at, source, mode)
       VALUES ('{AAPL}', to_timestamp($1 / 1000.0), to_timestamp($2 / 1000.0), 'live', 'skip')`,
      [T0 - 3_600_000, T0 + 5_000],
    );
    const before = await snapshot();
    const srv = await serve(tape);
    const r = await pass(srv, T0 + 86_400_000);
    expect(r.outcomes.map((o) => o.state)).toEqual(['refused']);
    expect(r.outcomes[0]!.error).toMatch(/collected under skip rules too/);
    expect(srv.requests.length).toBe(0);
    expect(await snapshot()).toEqual(before);
  });

  it('an API answering one symbol with 200 and empty arrays: its candles stay, the gap is not loaded', async () => {
    const tape = makeTape(SYMBOLS, T0, 1200, 50, SLS);
    const g0 = T0 + 20_300;
    const g1 = T0 + 24_300;
    await storeLive(tape, (p) => p.ts < g0 || p.ts >= g1, 'calendar');
    await addGap(SYMBOLS, g0, g1, 'calendar');
    const msftBefore = await snapshot('MSFT');
    expect(msftBefore.s.length).toBeGreaterThan(50);
    const srv = await serve({ AAPL: tape.AAPL!, MSFT: [] });
    const r = await pass(srv, T0 + 86_400_000);
    expect(r.outcomes.map((o) => o.state)).toEqual(['not-loaded']);
    expect(r.outcomes[0]!.error).toMatch(/not loaded yet: the tick API has no prints of MSFT/);
    expect(await snapshot('MSFT')).toEqual(msftBefore);
    // AAPL's day was complete on the tape: rebuilt.
    const whole = candles('AAPL', tape.AAPL!, 'calendar');
    expect(await stored1s('AAPL')).toEqual(whole.seconds.map(row1s));
    const g = (await gapRows())[0]!;
    expect(g.filled_at).toBeNull();
    expect(g.fill_error).toMatch(/not loaded/);
  });

  it('a tape with fewer prints in a second than the stored candle is refused: every row stays', async () => {
    const tape = makeTape(SYMBOLS, T0, 1200, 50, SLS);
    const g0 = T0 + 20_300;
    const g1 = T0 + 24_300;
    await storeLive(tape, (p) => p.ts < g0 || p.ts >= g1, 'calendar');
    await addGap(['AAPL'], g0, g1, 'calendar');
    // The vendor's copy lacks two prints the collector received (inside the rebuilt minute, outside the gap).
    const short = { ...tape, AAPL: tape.AAPL!.filter((p) => !(p.ts >= T0 + 30_000 && p.ts < T0 + 30_100)) };
    expect(short.AAPL.length).toBe(tape.AAPL!.length - 2);
    const before = await snapshot();
    const srv = await serve(short);
    const r = await pass(srv, T0 + 86_400_000);
    expect(r.outcomes.map((o) => o.state)).toEqual(['refused']);
    expect(r.outcomes[0]!.error).toMatch(/fewer prints than the stored candle/);
    expect(await snapshot()).toEqual(before);
    const g = (await gapRows())[0]!;
    expect(g.filled_at).toBeNull();
    expect(g.fill_error).toMatch(/tape incomplete/);
  });

  it('a tape whose 100-tick series from the cut holds fewer trades than stored is refused', async () => {
    // 120 s of prints: the gap's minute is the first, the prints missing from the tape are in the second.
    const tape = makeTape(['AAPL'], T0, 2400, 50, SLS);
    const g0 = T0 + 20_300;
    const g1 = T0 + 24_300;
    await storeLive(tape, (p) => p.ts < g0 || p.ts >= g1, 'calendar');
    await addGap(['AAPL'], g0, g1, 'calendar');
    const later = tape.AAPL!.filter((p) => p.ts >= T0 + 90_000 && p.ts < T0 + 100_000);
    // Fewer prints later in the day than the hole adds: the series would end with fewer trades than stored.
    const hole = tape.AAPL!.filter((p) => p.ts >= g0 && p.ts < g1).length;
    expect(later.length).toBeGreaterThan(hole);
    const before = await snapshot();
    const srv = await serve({ AAPL: tape.AAPL!.filter((p) => !later.includes(p)) });
    const r = await pass(srv, T0 + 86_400_000);
    expect(r.outcomes.map((o) => o.state)).toEqual(['refused']);
    expect(r.outcomes[0]!.error).toMatch(/100-tick series from seq \d+ would hold \d+ trades/);
    expect(await snapshot()).toEqual(before);
  });

  it('a gap over several days rebuilds every session day in it (the missed Friday)', async () => {
    // Thursday 15:59 ET … Monday 09:31 ET; prints every 30 s through each session.
    const prints: TapeTrade[] = [];
    let seq = 1;
    for (const d of ['2026-02-26', '2026-02-27', '2026-03-02']) {
      const s = sessionOn(d)!;
      for (let t = s.open; t < s.close; t += 30_000)
        prints.push({ ts: t + 7, seq: seq++, price: 100 + (seq % 7), shares: 10, sl: '@   ', mkt: 'Q' });
    }
    const tape = { AAPL: prints };
    const g0 = sessionOn('2026-02-26')!.close - 60_000;
    const g1 = sessionOn('2026-03-02')!.open + 60_000;
    await storeLive(tape, (p) => p.ts < g0 || p.ts >= g1, 'calendar');
    await addGap(['AAPL'], g0, g1, 'calendar');
    const friday = etDayNamed('2026-02-27');
    const onFriday = async () =>
      Number(
        (
          await db.admin.query(
            'SELECT count(*) AS n FROM candles_1s WHERE bucket >= to_timestamp($1 / 1000.0) AND bucket < to_timestamp($2 / 1000.0)',
            [friday.start, friday.end],
          )
        ).rows[0].n,
      );
    expect(await onFriday()).toBe(0);
    const srv = await serve(tape);
    const r = await pass(srv, Date.UTC(2026, 2, 3, 12));
    expect(r.outcomes.map((o) => o.state)).toEqual(['filled']);
    const fridayPrints = prints.filter((p) => p.ts >= friday.start && p.ts < friday.end);
    expect(await onFriday()).toBe(fridayPrints.length);
    expect(r.outcomes[0]!.trades).toBe(prints.filter((p) => p.ts >= g0 && p.ts < g1).length);
    // Friday's own 100-tick series, from seq 0.
    const t = await db.admin.query(
      `SELECT sum(trade_count)::int AS n FROM candles_100t WHERE session_date = '2026-02-27'`,
    );
    expect(t.rows[0].n).toBe(fridayPrints.length);
    // The weekend is not asked for: every request is inside a session day.
    const days = new Set(
      srv.requests.map((u) =>
        new Date(Number(u.searchParams.get('from')) * 1000 - 5 * 3_600_000).toISOString().slice(0, 10),
      ),
    );
    expect([...days].sort()).toEqual(['2026-02-26', '2026-02-27', '2026-03-02']);
  });

  it('--dry-run says what it would replace, delete and insert per table, and changes nothing', async () => {
    const tape = makeTape(SYMBOLS, T0, 1200, 50, SLS);
    const g0 = T0 + 20_300;
    const g1 = T0 + 24_300;
    await storeLive(tape, (p) => p.ts < g0 || p.ts >= g1, 'calendar');
    await addGap(SYMBOLS, g0, g1, 'calendar');
    const before = await snapshot();
    const srv = await serve(tape);
    const dry = await pass(srv, T0 + 86_400_000, { dryRun: true });
    expect(dry.outcomes.map((o) => o.state)).toEqual(['filled']);
    expect(await snapshot()).toEqual(before);
    expect((await gapRows())[0]!.filled_at).toBeNull();
    const c = dry.counts;
    expect(c.candles_1s.inserted).toBe(6); // seconds 21–23 of the hole (20 and 24 had live prints), two symbols
    // Nothing the tape lacks: a stored second it does not have would have refused the day.
    expect(c.candles_1s.deleted).toBe(0);
    expect(c.candles_1s.replaced).toBeGreaterThan(100);
    expect(c.candles_100t.replaced + c.candles_100t.deleted + c.candles_100t.inserted).toBeGreaterThan(0);
    expect(c.candles_1m.replaced).toBe(2);
    const real = await pass(srv, T0 + 86_400_000);
    expect(real.counts).toEqual(dry.counts);
    expect(await snapshot()).not.toEqual(before);
  });

  it('a dry run over an empty answer says not loaded, never "filled"', async () => {
    const tape = makeTape(SYMBOLS, T0, 600, 50, SLS);
    await storeLive(tape, (p) => p.ts < T0 + 10_000 || p.ts >= T0 + 12_000, 'calendar');
    await addGap(['MSFT'], T0 + 10_000, T0 + 12_000, 'calendar');
    const srv = await serve({ AAPL: tape.AAPL!, MSFT: [] });
    const dry = await pass(srv, T0 + 86_400_000, { dryRun: true });
    expect(dry.outcomes.map((o) => o.state)).toEqual(['not-loaded']);
  });

  it('reports the prints inside the gap, records tape coverage, and a second pass has nothing to do', async () => {
    const tape = makeTape(SYMBOLS, T0, 1200, 50, SLS);
    const g0 = T0 + 20_300;
    const g1 = T0 + 24_300;
    await storeLive(tape, (p) => p.ts < g0 || p.ts >= g1, 'calendar');
    await addGap(['AAPL'], g0, g1, 'calendar');
    const srv = await serve(tape);
    const r = await pass(srv, T0 + 86_400_000);
    const inside = tape.AAPL!.filter((p) => p.ts >= g0 && p.ts < g1).length;
    expect(r.outcomes[0]!.trades).toBe(inside);
    expect((await gapRows())[0]!.filled_trades).toBe(inside);
    const cov = await db.admin.query(
      `SELECT symbols, source, mode, extract(epoch FROM started_at) * 1000 AS s, extract(epoch FROM ended_at) * 1000 AS e
       FROM coverage`,
    );
    expect(cov.rows.length).toBe(1);
    const row = cov.rows[0];
    expect([row.symbols, row.source, row.mode]).toEqual([['AAPL'], 'tape', 'calendar']);
    expect(Number(row.s)).toBeLessThanOrEqual(g0);
    expect(Number(row.e)).toBeGreaterThanOrEqual(g1);
    srv.requests.length = 0;
    const again = await pass(srv, T0 + 86_400_000);
    expect(again.outcomes).toEqual([]);
    expect(srv.requests.length).toBe(0);
  });

  it('a minute whose seconds retention dropped is rebuilt whole from the tape, never from a few seconds', async () => {
    const tape = makeTape(['AAPL'], T0, 2400, 50, SLS);
    const g0 = T0 + 80_300; // in the second minute
    const g1 = T0 + 84_300;
    await storeLive(tape, (p) => p.ts < g0 || p.ts >= g1, 'calendar');
    await addGap(['AAPL'], g0, g1, 'calendar');
    // Retention drops whole days of seconds without firing the triggers: candles_1m keeps the bars.
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL tc.skip_rollup = 'on'`);
      await c.query('DELETE FROM candles_1s');
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    const minutes = async () =>
      (
        await db.admin.query(
          `SELECT (extract(epoch FROM bucket) * 1000)::float8 AS b, trade_count FROM candles_1m ORDER BY bucket`,
        )
      ).rows.map((x) => [x.b, x.trade_count]);
    const before = await minutes();
    expect(before.length).toBe(2);
    const srv = await serve(tape);
    const r = await pass(srv, T0 + 86_400_000);
    expect(r.outcomes.map((o) => o.state)).toEqual(['filled']);
    const whole = candles('AAPL', tape.AAPL!, 'calendar');
    const perMinute = (m: number) =>
      whole.seconds
        .filter((s) => s.bucket >= m && s.bucket < m + 60_000)
        .reduce((n, s) => n + s.tradeCount, 0);
    // The first minute untouched; the gap's minute is the tape's whole minute, more than the live bar had.
    expect(await minutes()).toEqual([
      [T0, before[0]![1]],
      [T0 + 60_000, perMinute(T0 + 60_000)],
    ]);
    expect(perMinute(T0 + 60_000)).toBeGreaterThan(before[1]![1] as number);
  });
});

describe('two backfills on one database (replicas)', () => {
  let db: TestDb;
  let srv: TapeServer;
  const tape = makeTape(SYMBOLS, T0, 1200, 50, SLS);
  beforeAll(async () => {
    db = await pgTestDb('backfill_replicas');
    srv = await startTapeServer(tape);
  });
  afterAll(async () => {
    await srv?.close();
    await db?.close();
  });

  const passOn = (clock: ReturnType<typeof instantClock>, budget?: { perMinute: number; perDay: number }) =>
    runBackfill({
      pool: db.pool(),
      api: new TickApi({
        baseUrl: srv.url,
        token: 't',
        clock,
        limits: new RequestLimits(clock, 900, 10_000),
        pageRows: 1000,
      }),
      settings,
      clock,
      log: nullLogger(),
      budget: budget ?? null,
    });

  it('one at a time: the second is told another is running, and no request is made twice', async () => {
    await db.admin.query(
      `INSERT INTO feed_gaps (symbol, symbols, started_at, ended_at, reason, mode)
       VALUES ('*', $1, to_timestamp($2 / 1000.0), to_timestamp($3 / 1000.0), 'x', 'calendar')`,
      [SYMBOLS, T0 + 20_000, T0 + 24_000],
    );
    let release!: () => void;
    srv.hold = new Promise<void>((r) => {
      release = r;
    });
    srv.requests.length = 0;
    const a = passOn(instantClock(T0 + 86_400_000));
    await srv.received(1); // the first pass is fetching
    const b = passOn(instantClock(T0 + 86_400_000));
    // The second either returns at once (busy) or sends a request of its own.
    const first = await Promise.race([b.then(() => 'returned'), srv.received(2).then(() => 'requested')]);
    srv.hold = null;
    release();
    const [ra, rb] = await Promise.all([a, b]);
    expect(first).toBe('returned');
    expect(rb.busy).toMatch(/another backfill is running/);
    expect(rb.outcomes).toEqual([]);
    expect(ra.outcomes.map((o) => o.state)).toEqual(['filled']);
    expect(srv.requests.length).toBe(ra.requests);
  });

  it('the request budget is shared: a replica after another finds the day used up', async () => {
    await db.admin.query('TRUNCATE feed_gaps, backfill_budget');
    await db.admin.query(
      `INSERT INTO feed_gaps (symbol, symbols, started_at, ended_at, reason, mode)
       VALUES ('AAPL', '{AAPL}', to_timestamp($1 / 1000.0), to_timestamp($2 / 1000.0), 'x', 'calendar'),
              ('MSFT', '{MSFT}', to_timestamp($3 / 1000.0), to_timestamp($4 / 1000.0), 'x', 'calendar')`,
      [T0 + 20_000, T0 + 24_000, T0 + 40_000, T0 + 44_000],
    );
    const now = T0 + 86_400_000;
    // Replica A may take 2 requests today; AAPL's day needs 3 (a full page of 1,000, then both ends again).
    const ra = await passOn(instantClock(now), { perMinute: 900, perDay: 2 });
    expect(ra.requests).toBe(2);
    expect(ra.denied).toMatch(/BACKFILL_MAX_CALLS_PER_DAY \(2\) used up/);
    // Replica B, another process with its own limits, shares the day's budget: nothing left.
    srv.requests.length = 0;
    const rb = await passOn(instantClock(now + 60_000), { perMinute: 900, perDay: 2 });
    expect(rb.requests).toBe(0);
    expect(srv.requests.length).toBe(0);
    expect(rb.denied).toMatch(/used up/);
    const used = await db.admin.query(`SELECT requests FROM backfill_budget WHERE kind = 'day'`);
    expect(used.rows.map((r) => r.requests)).toEqual([2]);
  });

  it('the per-minute budget holds across processes: the request past it waits for the window to move', async () => {
    await db.admin.query('TRUNCATE backfill_budget');
    const { SharedBudget } = await import('../../src/backfill/sharedBudget.js');
    const start = Date.UTC(2026, 2, 3, 12, 0, 0);
    const clock = instantClock(start);
    const a = new SharedBudget(db.pool(), clock, 5, 1000);
    const b = new SharedBudget(db.pool(), clock, 5, 1000);
    for (let i = 0; i < 3; i++) await a.take();
    for (let i = 0; i < 2; i++) await b.take();
    expect(clock.slept).toEqual([]);
    await a.take(); // the sixth in one minute: waits
    expect(clock.slept.length).toBeGreaterThan(0);
    expect(clock.now() - start).toBeGreaterThanOrEqual(60_000);
  });
});
