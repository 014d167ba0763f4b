// The publisher against a real nats-server (a private one per file) and the real databases: every committed
// candle reaches the stream after its commit, with the database's revision; amendments, the 1m rollup, gaps,
// de-duplication, a row committed late by an earlier transaction, and the position kept in PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { markFilled } from '../../src/backfill/ledger.js';
import type { ConnectionStats } from '../../src/feed/stats.js';
import { watchGapOpens } from '../../src/publish/gapWatch.js';
import { Publisher, type PublisherOptions } from '../../src/publish/publisher.js';
import { createPool, endPool } from '../../src/store/db/connection.js';
import { Sink } from '../../src/store/sink/sink.js';
import {
  deleteStreams,
  type NatsServer,
  readStream,
  type StoredMessage,
  startNatsServer,
} from '../helpers/nats.js';
import {
  type PrivateCluster,
  pgliteTestDb,
  pgTestDb,
  startPrivateCluster,
  type TestDb,
  waitFor,
} from '../helpers/pg.js';
import { sec, T0, tick } from '../store/candles.js';
import { latestBy, rowsAsMessages } from './streamCheck.js';

// Waits on the outbox can be long on a loaded server (see onStream): room for them.
vi.setConfig({ testTimeout: 90_000 });

// The outbox reads below the oldest open transaction that could write here: on the shared server another
// test file's transaction in this database would hold these tests back, so PostgreSQL here is a private
// cluster (and one test opens a transaction in another database of it).
let cluster: PrivateCluster | null = null;
afterAll(() => cluster?.destroy());

describe.each(['postgres', 'pglite'] as const)('publisher on %s', (kind) => {
  let db: TestDb;
  let nats: NatsServer;
  let dataDir: string;
  const stops: (() => Promise<unknown>)[] = [];
  let n = 0;

  beforeAll(async () => {
    if (kind === 'postgres') cluster = await startPrivateCluster({ ssl: false });
    db = kind === 'postgres' ? await pgTestDb('publish', cluster!.url) : await pgliteTestDb();
    nats = await startNatsServer();
    dataDir = mkdtempSync(join(tmpdir(), 'tc-publish-'));
  });
  // One stream at a time on a server (their subjects would overlap): each test's parts stop, its stream goes.
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
    await deleteStreams(nats.url);
  });
  afterAll(async () => {
    await nats?.close();
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const pool = () => db.pool({ max: kind === 'pglite' ? 1 : 2 });

  function parts(stream: string, opts: Partial<PublisherOptions> = {}) {
    const sink = new Sink({ pool: pool(), dataDir: join(dataDir, String(n++)), flushMs: 20 });
    const pub = publisher(stream, opts);
    sink.onCommit((c) => pub.notice(c));
    stops.push(() => sink.stop(2_000));
    return { sink, pub };
  }

  function publisher(stream: string, opts: Partial<PublisherOptions> = {}) {
    const pub = new Publisher({
      url: nats.url,
      stream,
      maxAgeMs: 86_400_000,
      pool: pool(),
      held: () => [{ key: 0, symbols: null }],
      allShards: [0],
      idleMs: 100,
      minuteEveryMs: 0, // every revision of a minute bar (the cadence has its own case)
      ...opts,
    });
    stops.push(() => pub.stop(2_000));
    return pub;
  }

  async function onStream(stream: string, count: number): Promise<StoredMessage[]> {
    let msgs: StoredMessage[] = [];
    await waitFor(
      async () => {
        msgs = await readStream(nats.url, stream).catch(() => []);
        return msgs.length >= count;
        // The outbox waits for the oldest open transaction that could write here: a loaded server can hold
        // one for a while.
      },
      `${count} messages on ${stream}`,
      60_000,
    );
    return msgs;
  }

  it('publishes every committed 1s, 100t and 1m candle once, with the row under its columns and revision 0', async () => {
    const stream = `S${n}A`;
    const { sink, pub } = parts(stream);
    for (let i = 0; i < 3; i++) sink.push(sec('AAPL', i));
    sink.push(sec('BRK.B', 0));
    sink.push(tick('AAPL', 0));
    // 4 seconds, 1 tick candle, 2 minutes (AAPL's and BRK.B's first minute)
    const msgs = await onStream(stream, 7);
    const rows = await rowsAsMessages(db.admin);
    expect(latestBy(msgs)).toEqual(rows);
    const brk = msgs.find((m) => m.subject === 'candles.1s.BRK_B')!;
    expect(brk.payload).toMatchObject({
      symbol: 'BRK.B',
      bucket: new Date(T0).toISOString(),
      trade_count: 3,
      revision: 0,
      source: 'live',
    });
    expect(brk.msgId).toBe(`1s:BRK.B:${new Date(T0).toISOString()}:0`);
    const t = msgs.find((m) => m.subject === 'candles.100t.AAPL')!;
    expect(t.msgId).toBe('100t:AAPL:2024-07-03:0:0');
    expect(t.payload).toMatchObject({ session_date: '2024-07-03', seq: 0, revision: 0 });
    const m = msgs.filter((x) => x.subject === 'candles.1m.AAPL');
    expect(m.at(-1)!.payload).toMatchObject({ trade_count: 9, source: 'live' });
    expect(pub.stats.published).toBe(msgs.length);
  });

  it('an amendment is a new revision, the latest equals the row; an identical rewrite is not one', async () => {
    const stream = `S${n}B`;
    const { sink } = parts(stream);
    sink.push(sec('AMND', 0, 3));
    await onStream(stream, 2); // 1s + 1m
    await sink.candlesSettled();
    sink.push(sec('AMND', 0, 5)); // a late trade: more trades
    const msgs = await onStream(stream, 4);
    sink.push(sec('AMND', 0, 5)); // a retry of the same version: no revision
    sink.push(sec('AMND', 1, 2));
    const all = await onStream(stream, 6);
    const revs = all.filter((x) => x.subject === 'candles.1s.AMND').map((x) => x.payload.revision);
    expect(revs).toEqual([0, 1, 0]);
    expect(msgs.filter((x) => x.subject === 'candles.1m.AMND').map((x) => x.payload.revision)).toEqual([
      0, 1,
    ]);
    const rows = await rowsAsMessages(db.admin, 'AMND');
    expect(latestBy(all)).toEqual(rows);
  });

  it('a minute bar rewritten at each second goes out at its cadence, and its latest revision at a stop', async () => {
    const stream = `S${n}M`;
    const { sink, pub } = parts(stream, { minuteEveryMs: 60_000 });
    await waitFor(() => pub.stats.rounds > 0, 'the publisher has its position');
    // Eight seconds of one minute, each committed on its own: the bar's revisions 0 to 7.
    for (let i = 0; i < 8; i++) {
      sink.push(sec('CAD', i));
      await sink.candlesSettled();
    }
    await waitFor(
      async () =>
        (await readStream(nats.url, stream)).filter((x) => x.subject === 'candles.1s.CAD').length === 8,
      'the eight seconds on the stream',
    );
    await pub.stop(5_000);
    const all = await readStream(nats.url, stream);
    const minutes = all.filter((x) => x.subject === 'candles.1m.CAD').map((x) => x.payload.revision);
    // The first read came before the seconds: at most one at a minute's end meanwhile, and the stop's.
    expect(minutes.length).toBeLessThanOrEqual(2);
    expect(minutes.at(-1)).toBe(7);
    expect([...minutes].sort((a, b) => Number(a) - Number(b))).toEqual(minutes);
    expect(all.filter((x) => x.subject === 'candles.1s.CAD')).toHaveLength(8);
    expect(latestBy(all)).toEqual(await rowsAsMessages(db.admin, 'CAD'));
  });

  it('publishes a gap when it is recorded and again when it is filled', async () => {
    const stream = `S${n}C`;
    const { sink } = parts(stream);
    sink.pushGap({
      symbol: 'G1,G2',
      symbols: ['G1', 'G2'],
      startedAt: T0,
      endedAt: T0 + 5_000,
      reason: 'test',
    });
    const msgs = await onStream(stream, 2);
    expect(msgs.map((m) => m.subject).sort()).toEqual(['gaps.G1', 'gaps.G2']);
    expect(msgs[0]!.payload).toMatchObject({
      state: 'closed',
      started_at: new Date(T0).toISOString(),
      ended_at: new Date(T0 + 5_000).toISOString(),
      revision: 0,
      reason: 'test',
    });
    const r = await db.admin.query<{ id: string }>("SELECT id::text FROM feed_gaps WHERE symbol = 'G1,G2'");
    await markFilled(
      db.admin,
      { id: Number(r.rows[0]!.id), endedAt: T0 + 5_000 } as Parameters<typeof markFilled>[1],
      T0 + 60_000,
      42,
    );
    const after = await onStream(stream, 4);
    const g1 = after.filter((m) => m.subject === 'gaps.G1').at(-1)!;
    expect(g1.payload).toMatchObject({ state: 'filled', revision: 1, filled_trades: 42 });
  });

  it('publishes a gap as it opens, from the feed connection state (no row exists yet)', async () => {
    const stream = `S${n}G`;
    const { pub } = parts(stream);
    const conn = {
      symbols: ['OPEN1', 'OPEN.B'],
      state: 'subscribed',
      connects: 1,
      subscribedAt: T0,
      lastTradeAt: null,
    };
    const watch = watchGapOpens(
      () => [conn] as ConnectionStats[],
      (s, at, r) => pub.gapOpened(s, at, r),
    );
    watch(T0);
    conn.state = 'connecting';
    watch(T0 + 250);
    watch(T0 + 500); // still down: told once
    const msgs = await onStream(stream, 2);
    expect(msgs.map((m) => m.subject).sort()).toEqual(['gaps.OPEN1', 'gaps.OPEN_B']);
    expect(msgs[0]!.payload).toMatchObject({
      state: 'open',
      started_at: new Date(T0 + 250).toISOString(),
      ended_at: null,
    });
    expect(pub.stats.published).toBe(2);
  });

  it('a restarted publisher republishes nothing: the position is in the database', async () => {
    const stream = `S${n}D`;
    const { sink, pub } = parts(stream);
    for (let i = 0; i < 5; i++) sink.push(sec('POS', i));
    await onStream(stream, 6);
    await sink.candlesSettled();
    await pub.stop(2_000);
    const again = publisher(stream);
    sink.push(sec('POS', 10));
    const msgs = await onStream(stream, 8);
    await waitFor(() => again.stats.state === 'publishing', 'the second publisher caught up');
    expect(again.stats.published).toBe(2);
    expect(again.stats.duplicates).toBe(0);
    expect(new Set(msgs.map((m) => m.msgId)).size).toBe(msgs.length);
  });

  it('a second publisher from an older position stores nothing twice (Nats-Msg-Id de-duplication)', async () => {
    const stream = `S${n}E`;
    const { sink, pub } = parts(stream);
    await waitFor(() => pub.stats.rounds > 0, 'the publisher has its position');
    const before = await db.admin.query<{ x: string }>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x',
    );
    for (let i = 0; i < 4; i++) sink.push(sec('DUP', i));
    const msgs = await onStream(stream, 5);
    await pub.stop(2_000); // else its next round raises the position again
    // A replica around a handover: it starts from a position before these rows.
    await db.admin.query(
      `UPDATE publish_positions SET below = $2::xid8 WHERE stream = $1 OR stream = $1 || '#1m'`,
      [stream, before.rows[0]!.x],
    );
    const peer = publisher(stream);
    await waitFor(
      () => peer.stats.duplicates >= msgs.length,
      'the peer was told every message was a duplicate',
    );
    expect(peer.stats.published).toBe(0);
    expect((await readStream(nats.url, stream)).length).toBe(msgs.length);
  });

  // Two transactions at once need two sessions: PGlite has one, so this case exists only on PostgreSQL (not
  // registered there rather than skipped: CI counts a skip as a failure).
  (kind === 'postgres' ? it : () => undefined)(
    'a row committed late by a transaction that began earlier is published, and not before its commit',
    async () => {
      const stream = `S${n}F`;
      const { sink, pub } = parts(stream);
      const early = await db.pool({ max: 1 }).connect();
      try {
        await early.query('BEGIN');
        await early.query(
          `INSERT INTO candles_1s (symbol, bucket, open, high, low, close, volume, trade_count, vwap,
             first_trade_at, last_trade_at) VALUES ('LATE', to_timestamp($1 / 1000.0), 1, 1, 1, 1, 1, 1, 1,
             to_timestamp($1 / 1000.0), to_timestamp($1 / 1000.0))`,
          [T0],
        );
        sink.push(sec('AFTER', 0)); // a later transaction, committed first
        await sink.candlesSettled();
        // Rounds run meanwhile; the early transaction holds the horizon back: nothing after it goes out.
        const rounds = pub.stats.rounds;
        await waitFor(() => pub.stats.rounds >= rounds + 3, 'three more rounds');
        expect(pub.stats.published).toBe(0);
        await early.query('COMMIT');
      } finally {
        early.release();
      }
      const msgs = await onStream(stream, 4);
      expect(msgs.map((m) => m.payload.symbol).sort()).toEqual(['AFTER', 'AFTER', 'LATE', 'LATE']);
    },
  );

  // Another database on the same server (a second project, a long job there) cannot write our tables: a
  // transaction it holds open does not hold our stream back.
  (kind === 'postgres' ? it : () => undefined)(
    'a transaction open in another database of the server does not hold the stream back',
    async () => {
      const stream = `S${n}G`;
      const { sink, pub } = parts(stream);
      const other = `tc_other_${process.pid}_${n}`;
      await db.admin.query(`CREATE DATABASE ${other}`);
      const url = new URL(cluster!.url);
      url.pathname = `/${other}`;
      const elsewhere = createPool({ url: url.toString(), max: 1 });
      const open = await elsewhere.connect();
      try {
        await open.query('BEGIN');
        await open.query('SELECT pg_current_xact_id()'); // it has a transaction id, held open
        sink.push(sec('FREE', 0));
        const msgs = await onStream(stream, 2);
        expect(msgs.map((m) => m.payload.symbol)).toEqual(['FREE', 'FREE']);
        await open.query('COMMIT');
      } finally {
        open.release();
        await endPool(elsewhere);
        await db.admin.query(`DROP DATABASE ${other} WITH (FORCE)`);
      }
      expect(pub.stats.failed).toBe(0);
    },
  );
});
