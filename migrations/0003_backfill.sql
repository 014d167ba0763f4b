-- Gaps and backfill (docs/ARCHITECTURE.md, "Gaps and backfill").
-- Candles carry their source: 'live' (the WebSocket) or 'tape' (rebuilt from the tick REST API); a live
-- write never replaces a tape row.
ALTER TABLE candles_1s ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT 'live';
ALTER TABLE candles_100t ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT 'live';
-- The ledger knows which symbols a '*' (whole-connection) row covers, and how its fill went.
ALTER TABLE feed_gaps ADD COLUMN IF NOT EXISTS symbols text[] NOT NULL DEFAULT '{}';
ALTER TABLE feed_gaps ADD COLUMN IF NOT EXISTS filled_at timestamptz;
ALTER TABLE feed_gaps ADD COLUMN IF NOT EXISTS filled_trades integer;
ALTER TABLE feed_gaps ADD COLUMN IF NOT EXISTS fill_error text;
CREATE INDEX IF NOT EXISTS feed_gaps_unfilled ON feed_gaps (started_at) WHERE filled_at IS NULL;
-- The durable run mark: every candle of a trade timed before mark_at is in the database. A start that finds
-- clean_stop false records a gap from mark_at to its own first subscription (an unclean stop).
CREATE TABLE IF NOT EXISTS collector_marks (
  name        text        PRIMARY KEY,
  started_at  timestamptz NOT NULL,
  mark_at     timestamptz NOT NULL,
  symbols     text[]      NOT NULL,
  clean_stop  boolean     NOT NULL DEFAULT false
);
