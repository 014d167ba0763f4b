// The sink's write semantics, against the real server AND the embedded PGlite (same pg code path).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecondCandle } from '../../../src/aggregate/types.js';
import { createPool, endPool } from '../../../src/store/db/connection.js';
import { latestCandles, loadOpenTickCandles, ping } from '../../../src/store/read/queries.js';
import { loadMigrations, migrate, migrationsApplied } from '../../../src/store/schema/migrate.js';
import { type CommitNotice, Sink, type SinkOptions } from '../../../src/store/sink/sink.js';
import { Spool } from '../../../src/store/sink/spool.js';
import { copyTicks, insertTicks } from '../../../src/store/write/writeTicks.js';
import { pgliteTestDb, pgTestDb, type TestDb, waitFor } from '../../helpers/pg.js';
import { sec, T0, tick, trade } from '../candles.js';

describe.each(['postgres', 'pglite'] as const)('sink on %s', (kind) => {
  let db: TestDb;
  let dataDir: string;
  const sinks: Sink[] = [];

  beforeAll(async () => {
    db = kind === 'postgres' ? await pgTestDb('sink') : await pgliteTestDb();
    dataDir = mkdtempSync(join(tmpdir(), 'tc-sink-'));
  });
  afterAll(async () => {
    await Promise.allSettled(sinks.map((s) => s.stop(2_000)));
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function sink(opts: Partial<SinkOptions> = {}): Sink {
    const s = new Sink({ pool: db.pool({ max: kind === 'pglite' ? 1 : 4 }), dataDir, flushMs: 20, ...opts });
    sinks.push(s);
    return s;
  }

  async function count(sql: string, params: unknown[] = []): Promise<number> {
    const r = await db.admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${sql}`, params);
    return Number(r.rows[0]!.n);
  }

  it('spoolDrained waits only for what was pushed before it was asked (a busy feed never empties the queue)', async () => {
    // A database that refuses: rows pushed after the question stay queued (and in flight) for good.
    const pool = createPool({ url: 'postgres://postgres@127.0.0.1:1/none', max: 1, connectTimeoutMs: 200 });
    const s = new Sink({ pool, dataDir: mkdtempSync(join(tmpdir(), 'tc-drained-')), flushMs: 20 });
    const asked = s.spoolDrained(undefined, 1_500);
    for (let i = 0; i < 20; i++) s.push(tick('BUSY', i));
    expect(await asked).toBe(true);
    await s.stop(300);
    await endPool(pool);
  });

  it('writes the same batch twice as once (idempotent upsert)', async () => {
    const s = sink();
    const batch = Array.from({ length: 50 }, (_, i) => sec('IDEM', i));
    for (const c of batch) s.push(c);
    for (const c of batch) s.push({ ...c });
    const summary = await s.stop(10_000);
    expect(summary.spooledAtStop).toBe(0);
    expect(await count(`candles_1s WHERE symbol = 'IDEM'`)).toBe(50);
    const r = await db.admin.query(`SELECT sum(trade_count)::int AS n FROM candles_1s WHERE symbol = 'IDEM'`);
    expect(r.rows[0].n).toBe(150);
  });

  it('replaces with an amendment (more trades), keeps the full candle against a partial one', async () => {
    const s1 = sink();
    s1.push(sec('AMND', 0, 5, 100));
    s1.push(sec('PART', 0, 9, 100));
    await s1.stop(10_000);
    const s2 = sink();
    s2.push(sec('AMND', 0, 6, 200)); // a late trade merged: superset
    s2.push(sec('PART', 0, 2, 300)); // a newcomer's partial first second: must not clobber
    await s2.stop(10_000);
    const r = await db.admin.query(
      `SELECT symbol, trade_count, open FROM candles_1s WHERE symbol IN ('AMND','PART') ORDER BY symbol`,
    );
    expect(r.rows).toEqual([
      { symbol: 'AMND', trade_count: 6, open: 200 },
      { symbol: 'PART', trade_count: 9, open: 100 },
    ]);
  });

  it('de-duplicates keys inside one batch, keeping the newest version', async () => {
    const s = sink({ batchRows: 1000, flushMs: 5_000 });
    s.push(sec('DUPK', 0, 1, 1));
    s.push(sec('DUPK', 0, 2, 2));
    s.push(sec('DUPK', 0, 2, 3));
    s.push(tick('DUPK', 0, 40));
    s.push(tick('DUPK', 0, 41));
    await s.stop(10_000);
    expect(s.stats.deadLettered).toBe(0);
    const r = await db.admin.query(`SELECT trade_count, open FROM candles_1s WHERE symbol = 'DUPK'`);
    expect(r.rows).toEqual([{ trade_count: 2, open: 3 }]);
    const t = await db.admin.query(`SELECT trade_count FROM candles_100t WHERE symbol = 'DUPK'`);
    expect(t.rows).toEqual([{ trade_count: 41 }]);
  });

  it('round-trips an incomplete 100-tick candle through loadOpenTickCandles', async () => {
    const s = sink();
    s.push(tick('OPEN', 0, 100));
    s.push(tick('OPEN', 1, 100));
    s.push(tick('OPEN', 2, 37));
    s.push(tick('OTHR', 0, 100));
    s.push(tick('OPEN', 0, 100, '2024-07-02'));
    await s.stop(10_000);
    const open = (await loadOpenTickCandles(db.admin, '2024-07-03')).filter((c) =>
      ['OPEN', 'OTHR'].includes(c.symbol),
    );
    expect(open).toEqual([tick('OPEN', 2, 37), tick('OTHR', 0, 100)]);
    // The per-symbol form (what the collector uses: one primary-key probe per symbol) agrees, and a
    // symbol with nothing stored that day simply has no row.
    const bySymbol = await loadOpenTickCandles(db.admin, '2024-07-03', ['OTHR', 'OPEN', 'NONE']);
    expect(bySymbol.sort((a, b) => a.symbol.localeCompare(b.symbol))).toEqual(open);
    const latest = await latestCandles(db.admin, { symbol: 'OPEN', kind: '100t', limit: 2 });
    expect(latest.map((c) => (c.kind === '100t' ? c.seq : -1))).toEqual([2, 1]);
    const latest1s = await latestCandles(db.admin, { symbol: 'IDEM', kind: '1s', limit: 1 });
    expect(latest1s).toEqual([sec('IDEM', 49)]);
  });

  it('dead-letters a rejected row without blocking the rows around it', async () => {
    const s = sink({ batchRows: 100 });
    const notices: CommitNotice[] = [];
    s.onCommit((n) => notices.push(n));
    for (let i = 0; i < 40; i++) s.push(i === 17 ? sec('DEAD', i, 0) : sec('DEAD', i)); // trade_count 0 violates a CHECK
    await waitFor(
      () => s.stats.rowsWritten.candles_1s >= 39 && s.stats.deadLettered === 1,
      'the batch to settle',
    );
    s.push(sec('DEAD', 100)); // later batches flow
    await s.stop(10_000);
    expect(await count(`candles_1s WHERE symbol = 'DEAD'`)).toBe(40);
    const dl = await db.admin.query(
      `SELECT kind, error, rows FROM dead_letters WHERE rows @> '[{"symbol":"DEAD"}]'`,
    );
    expect(dl.rows).toHaveLength(1);
    expect(dl.rows[0].kind).toBe('candles_1s');
    expect(dl.rows[0].error).toMatch(/^23514 /);
    expect(dl.rows[0].rows).toEqual([JSON.parse(JSON.stringify(sec('DEAD', 17, 0)))]);
    expect(s.stats.retries).toBe(0);
    // The commit notice names every row once, after its statement: 40 committed, the bad one dropped.
    const committed = notices.flatMap((n) => n.committed) as SecondCandle[];
    const dropped = notices.flatMap((n) => n.dropped) as SecondCandle[];
    expect(committed.map((c) => c.bucket).sort((a, b) => a - b)).toEqual(
      [...Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 17), 100].map(
        (i) => sec('DEAD', i).bucket,
      ),
    );
    expect(dropped).toEqual([sec('DEAD', 17, 0)]);
    expect(notices.every((n) => n.table === 'candles_1s' && n.refused.length === 0)).toBe(true);
  });

  it('archives ticks (COPY; INSERT on PGlite) and upserts gaps', async () => {
    const s = sink({ archiveTicks: true, batchRows: 300, ticksVia: kind === 'pglite' ? 'insert' : 'copy' });
    for (let i = 0; i < 1000; i++) s.pushTick(trade('TICK', i));
    s.pushTick({ ...trade('TI\tCK', 0), conditions: [] });
    s.pushGap({ symbol: '*', startedAt: T0, endedAt: T0 + 5_000, reason: 'reconnect' });
    s.pushGap({ symbol: '*', startedAt: T0, endedAt: T0 + 9_000, reason: 'reconnect (extended)' });
    await s.stop(10_000);
    expect(await count(`ticks WHERE symbol = 'TICK'`)).toBe(1000);
    expect(await count(`ticks WHERE symbol = $1`, ['TI\tCK'])).toBe(1);
    const r = await db.admin.query(
      `SELECT conditions, dark_pool, extract(epoch FROM ts) * 1000 AS ts FROM ticks WHERE symbol = 'TICK' ORDER BY ts LIMIT 2`,
    );
    expect(r.rows).toEqual(
      [
        { conditions: [], dark_pool: true, ts: String(T0) },
        { conditions: [14, 37], dark_pool: false, ts: String(T0 + 1) },
      ].map((x) => ({ ...x, ts: expect.stringMatching(new RegExp(`^${x.ts}(\\.0+)?$`)) })),
    );
    const g = await db.admin.query(
      `SELECT symbol, reason, extract(epoch FROM ended_at - started_at)::int AS s FROM feed_gaps`,
    );
    expect(g.rows).toEqual([{ symbol: '*', reason: 'reconnect (extended)', s: 9 }]);
  });

  it('stores a raw trade once however often its batch is written (key: symbol, ts, seq)', async () => {
    const write = (rows: ReturnType<typeof trade>[]) =>
      kind === 'pglite' ? insertTicks(db.admin, rows) : copyTicks(db.admin, rows, 10_000);
    const rows = Array.from({ length: 600 }, (_, i) => ({ ...trade('ONCE', i), seq: 1e15 + i }));
    expect(await write(rows.slice(0, 400))).toBe(400);
    // A retry after a lost acknowledgement (the same batch again), then a replay that overlaps it.
    expect(await write(rows.slice(0, 400))).toBe(0);
    expect(await write(rows.slice(200))).toBe(200);
    // Same symbol and time, another arrival: a distinct trade, kept.
    expect(await write([{ ...rows[0]!, seq: 2e15 }])).toBe(1);
    expect(await count(`ticks WHERE symbol = 'ONCE'`)).toBe(601);
    const r = await db.admin.query(`SELECT min(seq)::text AS lo FROM ticks WHERE symbol = 'ONCE'`);
    expect(r.rows[0].lo).toBe('1000000000000000');
  });

  it('a spool file of ticks replayed twice (a replay cut short before its delete) stores them once', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ ...trade('TWICE', i), seq: 3e15 + i }));
    const dir = mkdtempSync(join(tmpdir(), 'tc-twice-'));
    try {
      for (let run = 0; run < 2; run++) {
        await new Spool(dir).write('ticks', rows);
        const s = sink({ dataDir: dir, archiveTicks: true, ticksVia: kind === 'pglite' ? 'insert' : 'copy' });
        await waitFor(() => s.stats.replayedRows === 300, 'the spool file to be replayed');
        await s.stop(10_000);
        expect(s.stats.rowsWritten.ticks).toBe(run === 0 ? 300 : 0);
      }
      expect(await count(`ticks WHERE symbol = 'TWICE'`)).toBe(300);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers ping and reports the migrations (and migrating again is a no-op)', async () => {
    expect(await ping(db.admin)).toMatchObject({ ok: true });
    expect(await migrate(db.admin)).toEqual([]);
    const all = (await loadMigrations()).map((m) => m.name);
    expect(all.slice(0, 2)).toEqual(['0001_init', '0002_condition_rules']);
    expect(all).toContain('0004_ticks_key');
    expect(await migrationsApplied(db.admin)).toEqual({
      applied: all,
      pending: [],
      upToDate: true,
    });
  });
});
