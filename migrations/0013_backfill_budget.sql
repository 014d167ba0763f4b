-- The tick API's request budget, shared by every process that backfills into this database (docs/ARCHITECTURE.md,
-- "Gaps and backfill"): N replicas running the overnight backfill stay within one budget, not N.
-- One row per UTC minute ('minute') and per UTC day ('day') with the requests taken in it.
CREATE TABLE IF NOT EXISTS backfill_budget (
  kind      text        NOT NULL CHECK (kind IN ('minute', 'day')),
  starts_at timestamptz NOT NULL,
  requests  integer     NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, starts_at)
);

-- Takes one request at `at` if it fits, in one statement (one round trip per request):
--   per minute: the requests of the current minute plus the previous minute's weighted by the part of it still
--   inside the last 60 s (a sliding-window counter), below per_minute;
--   per day: the requests of the UTC day below per_day.
-- Returns 0 when taken, the milliseconds to wait before asking again when the minute is full, -1 when the
-- day is used up. The rows are locked in one order (day, then minute): concurrent callers never deadlock.
CREATE OR REPLACE FUNCTION tc_backfill_take(at timestamptz, per_minute integer, per_day integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  d timestamptz := date_trunc('day', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  m timestamptz := date_trunc('minute', at);
  used_day integer;
  used_min integer;
  used_prev integer;
  frac double precision := extract(epoch FROM (at - m)) / 60.0;
BEGIN
  -- A count lost to a crash costs nothing worth a WAL flush per request (it was one fsync per call).
  PERFORM set_config('synchronous_commit', 'off', true);
  INSERT INTO backfill_budget (kind, starts_at) VALUES ('day', d) ON CONFLICT DO NOTHING;
  INSERT INTO backfill_budget (kind, starts_at) VALUES ('minute', m) ON CONFLICT DO NOTHING;
  SELECT requests INTO used_day FROM backfill_budget WHERE kind = 'day' AND starts_at = d FOR UPDATE;
  SELECT requests INTO used_min FROM backfill_budget WHERE kind = 'minute' AND starts_at = m FOR UPDATE;
  IF used_day >= per_day THEN RETURN -1; END IF;
  SELECT coalesce(max(requests), 0) INTO used_prev
    FROM backfill_budget WHERE kind = 'minute' AND starts_at = m - interval '1 minute';
  IF used_min + floor(used_prev * (1 - frac)) >= per_minute THEN
    -- The weighted part of the previous minute shrinks as time goes on; at worst wait for the next minute.
    IF used_min >= per_minute THEN
      RETURN greatest(1, ceil(extract(epoch FROM (m + interval '1 minute' - at)) * 1000))::integer;
    END IF;
    RETURN greatest(1, ceil(60000.0 / greatest(used_prev, 1)))::integer;
  END IF;
  UPDATE backfill_budget SET requests = requests + 1
   WHERE (kind = 'day' AND starts_at = d) OR (kind = 'minute' AND starts_at = m);
  -- Old minutes are of no use; days are kept a week (what the budget spent is worth a look).
  DELETE FROM backfill_budget WHERE kind = 'minute' AND starts_at < m - interval '2 minutes';
  DELETE FROM backfill_budget WHERE kind = 'day' AND starts_at < d - interval '7 days';
  RETURN 0;
END $$;
