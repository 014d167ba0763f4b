-- Replicas share the symbols through PostgreSQL (docs/ARCHITECTURE.md, "Two collectors at once, replicas").
-- A shard is one connection chunk of SYMBOLS; its writer holds a session-level advisory lock on it. These
-- tables only make the locks visible and the handovers recordable: the locks themselves are the truth.

-- One row per running collector, refreshed every ~1 s on its lock connection (database time).
CREATE TABLE IF NOT EXISTS collectors (
  id           text        PRIMARY KEY,
  host         text        NOT NULL,
  pid          integer     NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  shards       integer[]   NOT NULL DEFAULT '{}',   -- shard indexes held
  lock_pid     integer     NOT NULL                 -- backend pid of its lock connection (fencing)
);

-- Which symbols a shard lock covers: the candle upserts skip symbols whose shard another backend holds.
CREATE TABLE IF NOT EXISTS shard_symbols (
  shard_key integer NOT NULL,
  symbol    text    NOT NULL,
  PRIMARY KEY (shard_key, symbol)
);

-- The last durable point of a shard being fed: set by its owner while feeding (heartbeat) or at a release,
-- read by the next owner to record the handover gap; deleted when the feed ends at the close.
CREATE TABLE IF NOT EXISTS shard_marks (
  shard_key  integer     PRIMARY KEY,
  symbols    text        NOT NULL,
  owner      text        NOT NULL,
  durable_at timestamptz NOT NULL,
  released   boolean     NOT NULL DEFAULT false
);
