-- Higher timeframes (docs/ARCHITECTURE.md, "Higher timeframes"): candles_1m is kept equal to what the
-- 1-second rows of each minute aggregate to by statement triggers on candles_1s, so it stays right whoever
-- writes a second (the sink's upserts and late amendments, a backfill's upserts or deletes). 5m/1h/1d are
-- read from candles_1m (src/store/timeframes.ts).

CREATE TABLE IF NOT EXISTS candles_1m (
  symbol          text             NOT NULL,
  bucket          timestamptz      NOT NULL,   -- the minute's start
  open            double precision,
  high            double precision,
  low             double precision,
  close           double precision,
  volume          double precision NOT NULL,
  trade_count     integer          NOT NULL CHECK (trade_count > 0),
  vwap            double precision,
  first_trade_at  timestamptz      NOT NULL,
  last_trade_at   timestamptz      NOT NULL,
  PRIMARY KEY (symbol, bucket)
);
-- "The latest bars across symbols".
CREATE INDEX IF NOT EXISTS candles_1m_bucket ON candles_1m (bucket);

-- Seconds older than `below` were written before this migration: the maintenance loop rolls them up in
-- day-sized chunks (src/store/rollupBackfill.ts), lowering `below`; newer ones are the triggers' job.
CREATE TABLE IF NOT EXISTS candles_1m_backfill (
  id     boolean     PRIMARY KEY DEFAULT true CHECK (id),
  below  timestamptz NOT NULL
);
INSERT INTO candles_1m_backfill (below) VALUES (now()) ON CONFLICT DO NOTHING;

-- Recomputes the given (symbol, minute) bars from candles_1s: open = the first non-null open, close = the
-- last non-null close, high/low = max/min, volume and trade_count summed, vwap weighted by the volume of the
-- seconds that have one; a minute left with no counted trade loses its bar.
-- Transaction-scoped advisory locks, one per (schema, symbol, minute) taken in one order, serialise two
-- writers of the same minute: the second recomputes after the first committed, so neither leaves a bar
-- missing the other's rows. (One lock per minute: callers keep a call to a few thousand minutes at most.)
-- The statements are EXECUTEd with the minutes' overall range as parameters, so each is planned with it
-- and reads only the partitions of those days (a generic plan would open every partition per minute).
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
      (symbol, bucket, open, high, low, close, volume, trade_count, vwap, first_trade_at, last_trade_at)
    SELECT k.s, k.m,
           (array_agg(x.open ORDER BY x.bucket) FILTER (WHERE x.open IS NOT NULL))[1],
           max(x.high), min(x.low),
           (array_agg(x.close ORDER BY x.bucket DESC) FILTER (WHERE x.close IS NOT NULL))[1],
           sum(x.volume), sum(x.trade_count)::int,
           sum(x.vwap * x.volume) FILTER (WHERE x.vwap IS NOT NULL AND x.volume > 0)
             / NULLIF(sum(x.volume) FILTER (WHERE x.vwap IS NOT NULL AND x.volume > 0), 0),
           min(x.first_trade_at), max(x.last_trade_at)
    FROM (SELECT DISTINCT s, m FROM unnest($1::text[], $2::timestamptz[]) AS u(s, m)) AS k
    JOIN candles_1s x ON x.symbol = k.s AND x.bucket >= k.m AND x.bucket < k.m + interval '1 minute'
    WHERE x.bucket >= $3 AND x.bucket < $4 AND x.trade_count > 0
    GROUP BY k.s, k.m
    ON CONFLICT (symbol, bucket) DO UPDATE SET
      open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
      volume = EXCLUDED.volume, trade_count = EXCLUDED.trade_count, vwap = EXCLUDED.vwap,
      first_trade_at = EXCLUDED.first_trade_at, last_trade_at = EXCLUDED.last_trade_at
    WHERE (c.open, c.high, c.low, c.close, c.volume, c.trade_count, c.vwap, c.first_trade_at, c.last_trade_at)
      IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume,
                        EXCLUDED.trade_count, EXCLUDED.vwap, EXCLUDED.first_trade_at, EXCLUDED.last_trade_at)
  $q$ USING syms, mins, lo, hi;
END $$;

-- One function for the three statement triggers; `changed` is the transition table of each (for an UPDATE
-- also `changed_old`, in case a key itself moved). tc.skip_rollup is set only by the partition converter,
-- which moves rows that are already rolled up.
CREATE OR REPLACE FUNCTION tc_candles_1s_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  syms text[];
  mins timestamptz[];
BEGIN
  IF current_setting('tc.skip_rollup', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(s), array_agg(m) INTO syms, mins FROM (
      SELECT symbol AS s, date_bin('1 minute', bucket, TIMESTAMPTZ 'epoch') AS m FROM changed
      UNION SELECT symbol, date_bin('1 minute', bucket, TIMESTAMPTZ 'epoch') FROM changed_old) AS k;
  ELSE
    SELECT array_agg(s), array_agg(m) INTO syms, mins FROM (
      SELECT DISTINCT symbol AS s, date_bin('1 minute', bucket, TIMESTAMPTZ 'epoch') AS m FROM changed) AS k;
  END IF;
  IF syms IS NOT NULL THEN PERFORM tc_rollup_minutes(syms, mins, TG_OP <> 'INSERT'); END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER candles_1s_rollup_insert AFTER INSERT ON candles_1s
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tc_candles_1s_changed();
CREATE TRIGGER candles_1s_rollup_update AFTER UPDATE ON candles_1s
  REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION tc_candles_1s_changed();
CREATE TRIGGER candles_1s_rollup_delete AFTER DELETE ON candles_1s
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tc_candles_1s_changed();
