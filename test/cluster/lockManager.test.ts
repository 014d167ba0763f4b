// The shard lock manager against the real server: fair share across collectors, death (the lock backend
// ends) and fencing (a heartbeat older than the lease), and the write fence: a collector that lost a shard
// cannot write its candles once another holds it, even a batch already on its way.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFence } from '../../src/cluster/fence.js';
import { type ShardHooks, ShardManager } from '../../src/cluster/lockManager.js';
import { cutShards, SHARD_LOCK_CLASS, type Shard } from '../../src/cluster/shards.js';
import { nullLogger } from '../../src/log/logger.js';
import { upsertSecondCandles } from '../../src/store/write/writeCandles.js';
import { FakeClock } from '../helpers/fakeClock.js';
import { pgTestDb, type TestDb, waitFor } from '../helpers/pg.js';
import { sec } from '../store/candles.js';

let db: TestDb;
beforeAll(async () => {
  db = await pgTestDb('lockmanager');
});
afterAll(async () => {
  await db?.close();
});

const SYMBOLS = Array.from({ length: 24 }, (_, i) => `S${String(i).padStart(2, '0')}`);

interface Member {
  m: ShardManager;
  lost: Shard[];
  released: Shard[];
}

function member(
  id: string,
  shards: Shard[],
  hooks: Partial<ShardHooks> = {},
  clock = new FakeClock(Date.UTC(2024, 6, 3, 14, 30)),
  layout = '',
): Member {
  const out: Member = { m: null as unknown as ShardManager, lost: [], released: [] };
  out.m = new ShardManager({
    pool: db.pool({ max: 1 }),
    shards,
    layout,
    id,
    host: 'test',
    pid: 1,
    clock,
    log: nullLogger(),
    hooks: {
      acquired: () => undefined,
      release: async (s) => {
        out.released.push(s);
        return null;
      },
      lost: (s) => out.lost.push(...s),
      ...hooks,
    },
  });
  return out;
}

const heldBy = (ms: Member[]) => ms.map((x) => x.m.heldShards().map((s) => s.index));

async function rounds(ms: Member[], n: number): Promise<void> {
  for (let i = 0; i < n; i++) for (const x of ms) expect(await x.m.round()).toBe(true);
}

describe('ShardManager', () => {
  it('three collectors settle 12 shards 4/4/4, disjoint; a dead one is shared out, a stale one fenced', async () => {
    const shards = cutShards(SYMBOLS, 2, db.schema!);
    expect(shards).toHaveLength(12);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => member(id, shards)) as [Member, Member, Member];
    await rounds([a], 1);
    expect(heldBy([a])[0]).toHaveLength(12);
    await rounds([b, c], 1); // newcomers: every shard locked, they wait
    expect(heldBy([b, c])).toEqual([[], []]);
    await rounds([a, b, c], 3);
    const held = heldBy([a, b, c]);
    expect(held.map((h) => h.length)).toEqual([4, 4, 4]);
    expect(new Set(held.flat()).size).toBe(12);
    expect(a.released).toHaveLength(8); // handed over through the release hook (drain first), not dropped
    // The database agrees: 12 granted shard locks, 4 per lock backend.
    const locks = await db.admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = 29795 AND granted
         AND pid = ANY($1::int4[]) GROUP BY pid ORDER BY pid`,
      [[a, b, c].map((x) => x.m.stats.lockPid)],
    );
    expect(locks.rows.map((r) => Number(r.n))).toEqual([4, 4, 4]);

    // b's lock session ends (what kill -9 does): its locks go at once and the others take its shards. b
    // itself keeps feeding them (suspect) until its next session finds them taken: then they are lost.
    const bPid = b.m.stats.lockPid;
    await db.admin.query('SELECT pg_terminate_backend($1)', [bPid]);
    await waitFor(
      async () =>
        (await db.admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [bPid])).rowCount === 0,
      "b's lock backend to end",
    );
    expect(b.lost).toEqual([]);
    await rounds([a, c], 2);
    expect(heldBy([a, c]).map((h) => h.length)).toEqual([6, 6]);
    await rounds([b], 1);
    expect(b.lost.length).toBe(4);
    expect(b.m.heldShards()).toEqual([]);
    await b.m.stop(); // the killed collector does not come back
    await rounds([a, c], 1);

    // c is black-holed: its heartbeat goes stale; a fences it (terminates its lock backend) and takes all.
    await db.admin.query(`UPDATE collectors SET heartbeat_at = now() - interval '1 minute' WHERE id = 'c'`);
    await rounds([a], 1);
    expect(a.m.stats.fenced).toBe(1);
    await rounds([a], 2);
    expect(heldBy([a])[0]).toHaveLength(12);
    // c, reachable again, finds every shard it fed taken: all lost (its feeds stop).
    await rounds([c], 1);
    expect(c.lost.length).toBe(6);
    await a.m.stop();
    await b.m.stop();
    await c.m.stop();
  });

  it('keeps its heartbeat while a hand-over waits for its candles (never fenced mid-hand-over)', async () => {
    const shards = cutShards(['HA', 'HB'], 1, `${db.schema!}-beat`);
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const clock = new FakeClock(Date.UTC(2024, 6, 3, 14, 30));
    let releasing = false;
    const a = member(
      'ha',
      shards,
      {
        release: () => {
          releasing = true;
          return gate;
        },
      },
      clock,
    );
    const b = member('hb', shards);
    await rounds([a], 1);
    await rounds([b], 1);
    const beat = async () =>
      (
        await db.admin.query<{ t: Date }>(`SELECT heartbeat_at AS t FROM collectors WHERE id = 'ha'`)
      ).rows[0]!.t.getTime();
    const round = a.m.round(); // surplus: hands a shard over, and the hook waits
    await waitFor(async () => releasing, 'the hand-over to start');
    const before = await beat();
    await waitFor(async () => {
      await clock.advance(1_000);
      return (await beat()) > before;
    }, 'a heartbeat during the hand-over');
    open();
    expect(await round).toBe(true);
    expect(a.m.heldShards()).toHaveLength(1);
    await a.m.stop();
    await b.m.stop();
  });

  it('a deploy that changes the layout: the new collector takes all its shards at once, and writes every symbol', async () => {
    const symbols = ['LA', 'LB', 'LC', 'LD'];
    const oldShards = cutShards(symbols, 2, `${db.schema!}-layout`); // {LA,LB} {LC,LD}
    const newShards = cutShards(symbols, 3, `${db.schema!}-layout`); // {LA,LB,LC} {LD}
    const old = member('lo', oldShards, {}, undefined, 'old');
    await rounds([old], 1);
    expect(old.m.heldShards()).toHaveLength(2);
    const fresh = member('ln', newShards, {}, undefined, 'new');
    await rounds([fresh, old], 2);
    // Shared only within a layout: the newcomer holds all of its own, the old one keeps streaming its own.
    expect(fresh.m.heldShards()).toHaveLength(2);
    expect(old.m.heldShards()).toHaveLength(2);
    // The newest layout writes: the old one's rows are refused and counted, never two writers for a symbol.
    const writer = db.pool({ max: 1 });
    expect(
      await upsertSecondCandles(writer, [sec('LA', 0, 3), sec('LD', 0, 3)], writeFence(old.m.fencePid())),
    ).toEqual({
      written: 0,
      refused: ['LA', 'LD'],
    });
    expect(
      await upsertSecondCandles(writer, [sec('LA', 0, 4), sec('LD', 0, 4)], writeFence(fresh.m.fencePid())),
    ).toEqual({
      written: 2,
      refused: [],
    });
    await old.m.stop();
    await fresh.m.stop();
  });

  it('a collector that lost its shard cannot write it once another holds it (the write fence)', async () => {
    const shards = cutShards(['FX', 'FY'], 1, `${db.schema!}-fence`);
    const a = member('fa', shards);
    await rounds([a], 1);
    expect(a.m.heldShards()).toHaveLength(2);
    const writer = db.pool({ max: 1 }); // a's candle writes go on their own pool, as in the sink
    expect(await upsertSecondCandles(writer, [sec('FX', 0, 3)], writeFence(a.m.fencePid()))).toEqual({
      written: 1,
      refused: [],
    });
    const stale = a.m.fencePid();
    // a's lock backend is terminated (a network cut, a fence); b takes both shards.
    await db.admin.query('SELECT pg_terminate_backend($1)', [stale]);
    await waitFor(
      async () =>
        (await db.admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [stale])).rowCount === 0,
      "a's lock backend to end",
    );
    const b = member('fb', shards);
    await rounds([b], 1);
    expect(b.m.heldShards()).toHaveLength(2);
    // a's next session finds them taken: lost.
    await rounds([a], 1);
    expect(a.lost.length).toBe(2);
    // a's batch already in flight (built with its old pid), or one sent after it noticed (-1): both skipped.
    // Refused rows are said to be refused, never reported as written.
    expect(await upsertSecondCandles(writer, [sec('FX', 0, 9, 500)], writeFence(stale))).toEqual({
      written: 0,
      refused: ['FX'],
    });
    expect(await upsertSecondCandles(writer, [sec('FY', 0, 9, 500)], writeFence(a.m.fencePid()))).toEqual({
      written: 0,
      refused: ['FY'],
    });
    const rows = await db.admin.query<{ symbol: string; trade_count: number }>(
      `SELECT symbol, trade_count FROM candles_1s WHERE symbol IN ('FX', 'FY') ORDER BY symbol`,
    );
    expect(rows.rows).toEqual([{ symbol: 'FX', trade_count: 3 }]);
    // The new owner writes.
    await upsertSecondCandles(writer, [sec('FY', 0, 4)], writeFence(b.m.fencePid()));
    const fy4 = await db.admin.query(`SELECT trade_count FROM candles_1s WHERE symbol = 'FY'`);
    expect(fy4.rows).toEqual([{ trade_count: 4 }]);
    await b.m.stop();
    // The same shard key locked in another database (advisory locks are per database) fences nothing here.
    const other = `tc_fence_other_${process.pid}`;
    await db.admin.query(`CREATE DATABASE ${other}`);
    const u = new URL(db.url);
    u.pathname = `/${other}`;
    const elsewhere = new pg.Client({ connectionString: u.toString() });
    await elsewhere.connect();
    try {
      await elsewhere.query('SELECT pg_advisory_lock($1, $2)', [SHARD_LOCK_CLASS, shards[1]!.key]);
      await upsertSecondCandles(writer, [sec('FY', 0, 5)], writeFence(-1));
    } finally {
      await elsewhere.end();
      await db.admin.query(`DROP DATABASE ${other} WITH (FORCE)`);
    }
    const fy = await db.admin.query(`SELECT trade_count FROM candles_1s WHERE symbol = 'FY'`);
    expect(fy.rows).toEqual([{ trade_count: 5 }]);
    await a.m.stop();
  });
});
