// The write fence: a candle upsert skips the symbols whose shard lock another backend holds.
// Decided in the database in the statement itself, so a collector that lost its lock cannot write even a
// batch already in flight once the new owner holds it. The set is materialised once per statement (pg_locks
// is read once).
// "Held by another" rather than "held by me": rows spooled by an earlier run and replayed, or written in the
// instant before the first lock, still land while nobody holds the shard, and no shard has two writers.
import type { WriteFence } from '../store/write/writeCandles.js';
import { SHARD_LOCK_CLASS } from './shards.js';

function fenceCte(pidParam: number): string {
  // Only locks of a layout as new as ours fence us (migration 0014): across a deploy that changes the layout
  // the newest one writes. Without a lock session (no collectors row for the pid) every other lock fences.
  return `WITH fenced AS MATERIALIZED (
  SELECT m.symbol FROM shard_symbols m
  JOIN pg_locks l ON l.locktype = 'advisory' AND l.classid = ${SHARD_LOCK_CLASS} AND l.objsubid = 2
    AND l.objid = m.shard_key::oid AND l.granted AND l.pid <> $${pidParam}::int4
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  LEFT JOIN layouts ml ON ml.layout = m.layout
  WHERE coalesce(ml.first_seen, 'infinity') >= coalesce(
    (SELECT y.first_seen FROM collectors c JOIN layouts y ON y.layout = c.layout
     WHERE c.lock_pid = $${pidParam}::int4 LIMIT 1), '-infinity')
)
`;
}

/**
 * The fenced form of an `INSERT … SELECT … FROM unnest(…) AS u(s, …) ON CONFLICT …` statement with `params`
 * parameters (the first the symbols' text array): one more parameter (the caller's lock backend pid, or -1
 * when it holds none). It answers one row, `refused`: the batch's symbols the fence kept out (never
 * reported as written: the sink counts them and the ledger leaves their time uncovered).
 */
export function fenced(sql: string, params: number): string {
  const at = sql.indexOf('\nON CONFLICT');
  if (at < 0 || !/AS u\(s,/.test(sql)) throw new Error('fenced: not an unnest upsert with symbol column s');
  const pid = params + 1;
  const insert = `${sql.slice(0, at).trimStart()}\nWHERE u.s NOT IN (SELECT symbol FROM fenced)${sql.slice(at)}`;
  return `${fenceCte(pid)}, written AS (\n${insert}\nRETURNING 1\n)
SELECT coalesce(array_agg(DISTINCT symbol), '{}') AS refused FROM fenced WHERE symbol = ANY($1::text[])`;
}

/** The fence the store's candle writer takes as a value, for the lock backend `pid` (-1 when none is held). */
export function writeFence(pid: number): WriteFence {
  return { wrap: fenced, pid };
}
