-- The 1-minute rollup, incremental for new seconds (docs/ARCHITECTURE.md, "Higher timeframes"). Until now
-- every statement that wrote seconds recomputed each touched minute from all its seconds: at 5,000 symbols
-- the sink's once-a-second insert re-read up to 300,000 seconds (measured: 55 ms for the insert itself,
-- 290–840 ms with the rollup, rising through the minute). A minute now keeps the two sums its vwap is made
-- of (pv: Σ vwap·volume, vwv: Σ volume, over its seconds with a vwap and volume), so new seconds that all
-- come after every second the minute already holds are merged into its bar: open kept (else the new first),
-- close the new last (else kept), high/low/first/last widened, volume, trade_count and the sums added.
-- Anything else is recomputed from the seconds as before: an update or delete of a second, a new second
-- before one the minute holds (a late amendment, a backfill), a minute without a bar yet, or a bar from
-- before this migration (pv NULL: the recompute fills it). The merge's condition is checked on the table,
-- under the minute's advisory lock: the seconds of the minute at or after the new ones' first are exactly
-- the new ones, and the bar's last trade is before the first of them (a second's trades lie within it, and
-- a bar another trigger already recomputed with them is not counted twice).

ALTER TABLE candles_1m ADD COLUMN IF NOT EXISTS pv double precision;
ALTER TABLE candles_1m ADD COLUMN IF NOT EXISTS vwv double precision;

CREATE OR REPLACE FUNCTION tc_rollup_minutes(syms text[], mins timestamptz[], may_empty boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  lo timestamptz;
  hi timestamptz;
BEGIN
  SELECT min(m), max(m) + interval '1 minute' INTO lo, hi FROM unnest(mins) AS u(m);
  IF lo IS NULL THEN RETURN; END IF;
  PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.' || k.s), (extract(epoch FROM k.m) / 60)::int)
  FROM (SELECT DISTINCT s, m FROM unnest(syms, mins) AS u(s, m)) AS k ORDER BY k.s, k.m;

  -- Only a delete or an update can leave a minute without seconds; an insert skips this statement.
  IF may_empty THEN EXECUTE $q$
    DELETE FROM candles_1m c USING unnest($1::text[], $2::timestamptz[]) AS k(s, m)
    WHERE c.symbol = k.s AND c.bucket = k.m
      AND NOT EXISTS (SELECT 1 FROM candles_1s x
                      WHERE x.symbol = k.s AND x.bucket >= k.m AND x.bucket < k.m + interval '1 minute'
                        AND x.bucket >= $3 AND x.bucket < $4 AND x.trade_count > 0)
  $q$ USING syms, mins, lo, hi; END IF;

  EXECUTE $q$
    INSERT INTO candles_1m AS c
      (symbol, bucket, open, high, low, close, volume, trade_count, vwap, first_trade_at, last_trade_at, pv, vwv)
    SELECT s, m, open, high, low, close, volume, trade_count, pv / NULLIF(vwv, 0), first_trade_at,
           last_trade_at, pv, vwv
    FROM (
      SELECT k.s, k.m,
             (array_agg(x.open ORDER BY x.bucket) FILTER (WHERE x.open IS NOT NULL))[1] AS open,
             max(x.high) AS high, min(x.low) AS low,
             (array_agg(x.close ORDER BY x.bucket DESC) FILTER (WHERE x.close IS NOT NULL))[1] AS close,
             sum(x.volume) AS volume, sum(x.trade_count)::int AS trade_count,
             coalesce(sum(x.vwap * x.volume) FILTER (WHERE x.vwap IS NOT NULL AND x.volume > 0), 0) AS pv,
             coalesce(sum(x.volume) FILTER (WHERE x.vwap IS NOT NULL AND x.volume > 0), 0) AS vwv,
             min(x.first_trade_at) AS first_trade_at, max(x.last_trade_at) AS last_trade_at
      FROM (SELECT DISTINCT s, m FROM unnest($1::text[], $2::timestamptz[]) AS u(s, m)) AS k
      JOIN candles_1s x ON x.symbol = k.s AND x.bucket >= k.m AND x.bucket < k.m + interval '1 minute'
      WHERE x.bucket >= $3 AND x.bucket < $4 AND x.trade_count > 0
      GROUP BY k.s, k.m) AS a
    ON CONFLICT (symbol, bucket) DO UPDATE SET
      open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
      volume = EXCLUDED.volume, trade_count = EXCLUDED.trade_count, vwap = EXCLUDED.vwap,
      first_trade_at = EXCLUDED.first_trade_at, last_trade_at = EXCLUDED.last_trade_at,
      pv = EXCLUDED.pv, vwv = EXCLUDED.vwv
    WHERE (c.open, c.high, c.low, c.close, c.volume, c.trade_count, c.vwap, c.first_trade_at, c.last_trade_at,
           c.pv, c.vwv)
      IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume,
                        EXCLUDED.trade_count, EXCLUDED.vwap, EXCLUDED.first_trade_at, EXCLUDED.last_trade_at,
                        EXCLUDED.pv, EXCLUDED.vwv)
  $q$ USING syms, mins, lo, hi;
END $$;

-- The statement triggers' function: an insert merges what it can (above) and recomputes the rest; an update
-- or a delete recomputes its minutes. `changed` is the transition table (for an UPDATE also `changed_old`,
-- in case a key itself moved). tc.skip_rollup is set only by the partition converter, which moves rows that
-- are already rolled up.
CREATE OR REPLACE FUNCTION tc_candles_1s_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  syms text[];
  mins timestamptz[];
  lo timestamptz;
  hi timestamptz;
BEGIN
  IF current_setting('tc.skip_rollup', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(s), array_agg(m) INTO syms, mins FROM (
      SELECT symbol AS s, date_bin('1 minute', bucket, TIMESTAMPTZ 'epoch') AS m FROM changed
      UNION SELECT symbol, date_bin('1 minute', bucket, TIMESTAMPTZ 'epoch') FROM changed_old) AS k;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(s), array_agg(m) INTO syms, mins FROM (
      SELECT DISTINCT symbol AS s, date_bin('1 minute', bucket, TIMESTAMPTZ 'epoch') AS m FROM changed) AS k;
  ELSE
    -- New seconds without a counted trade change no minute.
    SELECT array_agg(s ORDER BY s, m), array_agg(m ORDER BY s, m), min(m), max(m) + interval '1 minute'
      INTO syms, mins, lo, hi
    FROM (SELECT DISTINCT symbol AS s, date_bin('1 minute', bucket, TIMESTAMPTZ 'epoch') AS m
          FROM changed WHERE trade_count > 0) AS k;
    IF syms IS NULL THEN RETURN NULL; END IF;
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.' || s), (extract(epoch FROM m) / 60)::int)
    FROM unnest(syms, mins) AS u(s, m);
    -- Merge where the minute's seconds from the new ones' first on are exactly the new ones, and its bar
    -- holds none of them yet (its last trade is before them: another trigger of this statement, such as
    -- a tombstone's revision update, may have recomputed it already); the minutes left go to the
    -- recompute. EXECUTEd with the range as parameters (see tc_rollup_minutes).
    EXECUTE $q$
      WITH n AS (
        SELECT symbol AS s, date_bin('1 minute', bucket, TIMESTAMPTZ 'epoch') AS m, min(bucket) AS first_second,
               count(*) AS seconds, bool_and(last_trade_at >= bucket) AS in_their_seconds,
               (array_agg(open ORDER BY bucket) FILTER (WHERE open IS NOT NULL))[1] AS open,
               max(high) AS high, min(low) AS low,
               (array_agg(close ORDER BY bucket DESC) FILTER (WHERE close IS NOT NULL))[1] AS close,
               sum(volume) AS volume, sum(trade_count)::int AS trade_count,
               coalesce(sum(vwap * volume) FILTER (WHERE vwap IS NOT NULL AND volume > 0), 0) AS pv,
               coalesce(sum(volume) FILTER (WHERE vwap IS NOT NULL AND volume > 0), 0) AS vwv,
               min(first_trade_at) AS first_trade_at, max(last_trade_at) AS last_trade_at
        FROM changed WHERE trade_count > 0 GROUP BY 1, 2),
      merged AS (
        UPDATE candles_1m c SET
          open = coalesce(c.open, n.open), high = greatest(c.high, n.high), low = least(c.low, n.low),
          close = coalesce(n.close, c.close), volume = c.volume + n.volume,
          trade_count = c.trade_count + n.trade_count,
          vwap = (c.pv + n.pv) / NULLIF(c.vwv + n.vwv, 0), pv = c.pv + n.pv, vwv = c.vwv + n.vwv,
          first_trade_at = least(c.first_trade_at, n.first_trade_at),
          last_trade_at = greatest(c.last_trade_at, n.last_trade_at)
        FROM n
        WHERE c.symbol = n.s AND c.bucket = n.m AND c.pv IS NOT NULL AND c.vwv IS NOT NULL
          AND n.in_their_seconds AND c.last_trade_at < n.first_second
          AND (SELECT count(*) FROM candles_1s x
               WHERE x.symbol = n.s AND x.bucket >= n.first_second AND x.bucket < n.m + interval '1 minute'
                 AND x.bucket >= $1 AND x.bucket < $2 AND x.trade_count > 0) = n.seconds
        RETURNING c.symbol, c.bucket)
      SELECT array_agg(n.s), array_agg(n.m) FROM n
      WHERE NOT EXISTS (SELECT 1 FROM merged WHERE merged.symbol = n.s AND merged.bucket = n.m)
    $q$ INTO syms, mins USING lo, hi;
  END IF;
  IF syms IS NOT NULL THEN PERFORM tc_rollup_minutes(syms, mins, TG_OP <> 'INSERT'); END IF;
  RETURN NULL;
END $$;
