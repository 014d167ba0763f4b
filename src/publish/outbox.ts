// Reading the outbox: committed candle and gap rows since a position, below the snapshot horizon.
// The database is the outbox (migration 0012): every candle and gap row carries the transaction that last
// wrote it (pub_xid). A read takes the snapshot horizon first (horizon(): every transaction below it that
// could write here has ended, committed or not) and reads the rows written by transactions in [from, horizon): so a row is
// never read before its commit, and one committed late by a transaction that began early (two sink
// workers) is still below the horizon later, never skipped. A row rewritten meanwhile is read once, at
// its latest version. Times leave as ISO-8601 UTC strings, numbers as numbers, under the columns' names.
import type pg from 'pg';
import { COLUMNS, type Column, SECOND_COLUMNS } from '../store/read/columns.js';
import type { CandleKind } from './subject.js';

/**
 * One row read: its source, the writing transaction (xid8 as a bigint) and its columns. A candle's payload
 * comes as JSON text built by the server (`json`: the row under its columns' names, times as ISO-8601 UTC),
 * with the parts its subject and id need (`symbol`, `key`, `revision`) beside it in `row`.
 */
export interface OutboxRow {
  source: CandleKind | 'tombstone' | 'gap';
  xid: bigint;
  row: Record<string, unknown>;
  json?: string;
}

const iso = (col: string, as = col) =>
  `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${as}`;
const isoValue = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const WHERE = 'pub_xid >= $1::xid8 AND pub_xid < $2::xid8';

/** A candle's payload as JSON text: its columns (the one row shape) and `revision`, times ISO-8601 UTC. */
const payload = (cols: readonly Column[]) =>
  `json_build_object(${[...cols, { name: 'revision', type: 'int' }]
    .map(({ name, type }) =>
      type === 'time'
        ? `'${name}', ${isoValue(name)}`
        : type === 'date'
          ? `'${name}', ${name}::text`
          : `'${name}', ${name}`,
    )
    .join(', ')})::text AS json`;
const SECOND = payload(SECOND_COLUMNS);
const TICK = payload(COLUMNS['100t']);

/** Per source: the statement (params: from, below, limit [, symbols]). */
const READS: Record<OutboxRow['source'], (symbols: boolean) => string> = {
  '1s': (s) => `SELECT symbol, ${iso('bucket', 'key')}, revision, pub_xid::text AS x, ${SECOND}
    FROM candles_1s WHERE ${WHERE}${s ? ' AND symbol = ANY($4::text[])' : ''} ORDER BY pub_xid LIMIT $3`,
  '100t': (
    s,
  ) => `SELECT symbol, session_date::text || ':' || seq AS key, revision, pub_xid::text AS x, ${TICK}
    FROM candles_100t WHERE ${WHERE}${s ? ' AND symbol = ANY($4::text[])' : ''} ORDER BY pub_xid LIMIT $3`,
  // A minute is 'tape' when any of its seconds is (a backfill rebuilt it).
  '1m': (s) => `SELECT symbol, ${iso('bucket', 'key')}, revision, x, ${SECOND}
    FROM (SELECT m.*, m.pub_xid::text AS x,
            CASE WHEN EXISTS (SELECT 1 FROM candles_1s t WHERE t.symbol = m.symbol AND t.bucket >= m.bucket
                              AND t.bucket < m.bucket + interval '1 minute' AND t.source = 'tape')
                 THEN 'tape' ELSE 'live' END AS source
          FROM candles_1m m WHERE m.pub_xid >= $1::xid8 AND m.pub_xid < $2::xid8${s ? ' AND m.symbol = ANY($4::text[])' : ''}
          ORDER BY m.pub_xid LIMIT $3) m`,
  tombstone: (s) => `SELECT kind, symbol, ${iso('bucket')}, session_date::text AS session_date, seq, revision,
      pub_xid::text AS x
    FROM candle_tombstones WHERE ${WHERE}${s ? ' AND symbol = ANY($4::text[])' : ''} ORDER BY pub_xid LIMIT $3`,
  // Gaps name their symbols in an array: filtered by the caller. Every column (the ledger may add some), the
  // known instants as ISO-8601 UTC.
  gap: () => `SELECT to_jsonb(g) - 'pub_xid' AS j, ${iso('started_at')}, ${iso('ended_at')}, ${iso('filled_at')},
      pub_xid::text AS x
    FROM feed_gaps g WHERE ${WHERE} ORDER BY pub_xid LIMIT $3`,
};

export const OUTBOX_SOURCES = Object.keys(READS) as OutboxRow['source'][];
/** Every source but the 1-minute bars, which have their own position and cadence (minuteStream). */
export const MAIN_SOURCES = OUTBOX_SOURCES.filter((s) => s !== '1m');

/**
 * The positions of a stream's 1-minute bars: a minute's bar is rewritten at each of its seconds, so it is
 * read on its own cadence (publisher.ts), from its own position, kept under this name beside the stream's.
 */
export const minuteStream = (stream: string): string => `${stream}#1m`;

/**
 * The snapshot horizon: every transaction with a smaller id that can write to this database has ended. The
 * server's oldest open transaction (pg_snapshot_xmin) is the start; one that another database's session
 * holds open (a long job elsewhere on a shared server) is passed over, since it cannot write our tables:
 * only on positive evidence (pg_stat_activity names its database, or pg_prepared_xacts does), so one whose
 * session we cannot see, or that ended meanwhile, still holds the horizon back until the next read.
 */
export async function horizon(db: pg.Pool | pg.PoolClient): Promise<bigint> {
  const s = await db.query<{ snap: string }>('SELECT pg_current_snapshot()::text AS snap');
  const [, xmax, xip] = s.rows[0]!.snap.split(':');
  if (!xip) return BigInt(xmax!);
  const r = await db.query<{ h: string | null }>(
    `SELECT min(x)::text AS h FROM unnest($1::xid8[]) AS u(x)
     WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                       WHERE a.backend_xid = x::xid AND a.datname <> current_database())
       AND NOT EXISTS (SELECT 1 FROM pg_prepared_xacts p
                       WHERE p.transaction = x::xid AND p.database <> current_database())`,
    [xip.split(',')],
  );
  return BigInt(r.rows[0]!.h ?? xmax!);
}

/** Every transaction committed by now has an id below this (pg_snapshot_xmax): a stop publishes up to it. */
export async function committedBelow(db: pg.Pool | pg.PoolClient): Promise<bigint> {
  const r = await db.query<{ x: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x');
  return BigInt(r.rows[0]!.x);
}

export interface ReadResult {
  rows: OutboxRow[];
  /** Every row written in [from, below) is in `rows` (below ≤ the horizon asked for). */
  below: bigint;
}

/**
 * The rows of `sources` written in [from, to), oldest first, at most about `limit` per source: when a
 * source has more, the read stops at a transaction boundary (`below`); a single transaction larger than the
 * limit is read whole. `symbols` narrows the candles to a replica's shards (null: every symbol).
 */
export async function readOutbox(
  db: pg.Pool,
  from: bigint,
  to: bigint,
  limit: number,
  symbols: readonly string[] | null,
  sources: readonly OutboxRow['source'][] = OUTBOX_SOURCES,
): Promise<ReadResult> {
  if (from >= to) return { rows: [], below: to };
  const read = async (hi: bigint, lim: number | null) => {
    const out = await Promise.all(
      sources.map(async (source) => {
        const params: unknown[] = [from.toString(), hi.toString(), lim];
        if (symbols && source !== 'gap') params.push(symbols);
        const r = await db.query<Record<string, unknown> & { x: string }>(
          READS[source](symbols !== null && source !== 'gap'),
          params,
        );
        return { source, rows: r.rows, full: lim !== null && r.rows.length >= lim };
      }),
    );
    return out;
  };
  let parts = await read(to, limit);
  let below = to;
  for (const p of parts) {
    if (!p.full) continue;
    const last = BigInt(p.rows[p.rows.length - 1]!.x);
    if (last < below) below = last;
  }
  // One transaction wrote more than `limit` rows to a source: read that transaction whole.
  if (below === from) {
    below = from + 1n;
    parts = await read(below, null);
  }
  const rows: OutboxRow[] = [];
  for (const p of parts) {
    for (const r of p.rows) {
      const xid = BigInt(r.x);
      if (xid >= below) continue;
      const {
        x: _x,
        j,
        json,
        ...row
      } = r as Record<string, unknown> & {
        j?: Record<string, unknown>;
        json?: string;
      };
      if (json !== undefined) rows.push({ source: p.source, xid, row, json });
      else rows.push({ source: p.source, xid, row: j ? { ...j, ...row } : row });
    }
  }
  // Oldest first; within a transaction, in source order (stable sort).
  rows.sort((a, b) => (a.xid < b.xid ? -1 : a.xid > b.xid ? 1 : 0));
  return { rows, below };
}

/**
 * The stored positions of `shards` (missing ones start at `start`: nothing before is published; or, with
 * `inherit`, at that stream's position of the shard where it has one: the minute bars' positions of a
 * database that published before they had their own start where everything else stood).
 */
export async function loadPositions(
  db: pg.Pool,
  stream: string,
  shards: readonly number[],
  start: bigint,
  inherit: string | null = null,
): Promise<Map<number, bigint>> {
  const r = await db.query<{ shard: number; below: string }>(
    `WITH ins AS (
       INSERT INTO publish_positions (stream, shard, below)
       SELECT $1, s, coalesce((SELECT q.below FROM publish_positions q WHERE q.stream = $4 AND q.shard = s),
                              $3::xid8)
       FROM unnest($2::int[]) AS u(s)
       ON CONFLICT (stream, shard) DO NOTHING RETURNING shard, below)
     SELECT shard, below::text FROM ins
     UNION ALL SELECT shard, below::text FROM publish_positions WHERE stream = $1 AND shard = ANY($2::int[])`,
    [stream, shards, start.toString(), inherit],
  );
  const m = new Map<number, bigint>();
  for (const x of r.rows) m.set(x.shard, BigInt(x.below));
  return m;
}

/** Stores the positions of a stream and of its minute bars where none is stored yet (at start). */
export async function storePositions(
  db: pg.Pool,
  stream: string,
  shards: readonly number[],
  start: bigint,
): Promise<void> {
  await loadPositions(db, stream, shards, start);
  await loadPositions(db, minuteStream(stream), shards, start, stream);
}

/** Raises the positions of `shards` to `below` (never lowers one: a peer may have gone further). */
export async function savePositions(
  db: pg.Pool,
  stream: string,
  shards: readonly number[],
  below: bigint,
): Promise<void> {
  if (shards.length === 0) return;
  await db.query(
    `INSERT INTO publish_positions AS p (stream, shard, below)
     SELECT $1, s, $3::xid8 FROM unnest($2::int[]) AS u(s)
     ON CONFLICT (stream, shard) DO UPDATE SET below = GREATEST(p.below, EXCLUDED.below), updated_at = now()
     WHERE p.below < EXCLUDED.below`,
    [stream, shards, below.toString()],
  );
}
