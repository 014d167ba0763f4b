-- Replicas across a rolling deploy that changes SYMBOLS or MAX_SYMBOLS_PER_CONNECTION (docs/ARCHITECTURE.md,
-- "Two collectors at once, replicas"): different settings cut different shards, so their locks never meet. A
-- layout (a hash of the schema, SYMBOLS and MAX_SYMBOLS_PER_CONNECTION) is dated by when it was first seen;
-- the newest layout writes a symbol both stream (the write fence refuses the older one's rows), and each
-- layout shares its shards only among its own collectors, so the new one takes every shard at once.
CREATE TABLE IF NOT EXISTS layouts (
  layout     text        PRIMARY KEY,
  first_seen timestamptz NOT NULL DEFAULT clock_timestamp()
);
ALTER TABLE collectors ADD COLUMN IF NOT EXISTS layout text NOT NULL DEFAULT '';
ALTER TABLE shard_symbols ADD COLUMN IF NOT EXISTS layout text NOT NULL DEFAULT '';
