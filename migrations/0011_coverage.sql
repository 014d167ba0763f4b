-- Completeness by construction (docs/ARCHITECTURE.md, "The ledger: coverage and derived gaps").
-- coverage: what the database has confirmed. A row says: for every symbol in `symbols`, every trade timed in
-- [started_at, ended_at] that the feed (source 'live') or the tick API (source 'tape') delivered is in both
-- candle tables. A live row's end only moves when the sink has committed the candles of the trades before it.
-- Gaps are derived: a session (the calendar's, or with --skip-market-hours the span of that day's runs) minus
-- the union of its coverage. feed_gaps keeps every gap ever derived, with how its fill went.
CREATE TABLE IF NOT EXISTS coverage (
  id          bigserial   PRIMARY KEY,
  symbols     text[]      NOT NULL,
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz NOT NULL,
  source      text        NOT NULL CHECK (source IN ('live', 'tape')),
  -- the rules the candles were made under: 'calendar' (session filter) or 'skip' (--skip-market-hours)
  mode        text        NOT NULL CHECK (mode IN ('calendar', 'skip')),
  run_id      text,
  CHECK (ended_at >= started_at)
);
CREATE INDEX IF NOT EXISTS coverage_span ON coverage (ended_at, started_at);

-- One row per collector run: the span of a --skip-market-hours day is the span of that day's runs.
CREATE TABLE IF NOT EXISTS collector_runs (
  id          text        PRIMARY KEY,
  started_at  timestamptz NOT NULL,
  seen_at     timestamptz NOT NULL,
  stopped_at  timestamptz,
  mode        text        NOT NULL CHECK (mode IN ('calendar', 'skip')),
  symbols     text[]      NOT NULL
);
CREATE INDEX IF NOT EXISTS collector_runs_span ON collector_runs (seen_at, started_at);

-- A derived gap carries the rules of the collection it belongs to (the backfill rebuilds under them).
ALTER TABLE feed_gaps ADD COLUMN IF NOT EXISTS mode text NOT NULL DEFAULT 'calendar';

-- Why a stretch is uncovered, as far as a collector could tell (a row refused by the fence, rows not
-- stored, the feed down, …): labels for the derived gaps. The interval is the coverage's; this is the story.
CREATE TABLE IF NOT EXISTS coverage_notes (
  id          bigserial   PRIMARY KEY,
  symbols     text[]      NOT NULL,
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz NOT NULL,
  reason      text        NOT NULL,
  run_id      text
);
CREATE INDEX IF NOT EXISTS coverage_notes_span ON coverage_notes (ended_at, started_at);

-- The gap writers this replaces: the run mark and the shard marks (a mark was a heartbeat, not a commit).
DROP TABLE IF EXISTS collector_marks;
DROP TABLE IF EXISTS shard_marks;
