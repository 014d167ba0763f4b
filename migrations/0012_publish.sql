-- Live candles on NATS (docs/ARCHITECTURE.md, "Publishing"): the database is the outbox.
-- Every candle and gap row carries
--   revision: 0 when first inserted, +1 at every later write that changes it (a late amendment, a checkpoint,
--             a rollup change, a backfill replacement: a delete and re-insert keeps counting, through
--             candle_tombstones below); an identical rewrite (a retry) changes nothing and is skipped;
--   pub_xid:  the id of the transaction that last wrote it. The publisher reads, oldest first, the rows
--             whose transaction is below the snapshot horizon (pg_snapshot_xmin: every transaction below it
--             has ended) and at or above its stored position: a row committed late by a transaction that
--             began early is never skipped, and nothing is read before it is committed.
-- Both are kept by triggers, so every writer (the sink, the 1m rollup, the backfill) is covered.
-- Rows from before this migration have pub_xid NULL: they are history, never published.

ALTER TABLE candles_1s ADD COLUMN IF NOT EXISTS revision integer NOT NULL DEFAULT 0;
ALTER TABLE candles_1s ADD COLUMN IF NOT EXISTS pub_xid xid8;
ALTER TABLE candles_1s ALTER COLUMN pub_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE candles_100t ADD COLUMN IF NOT EXISTS revision integer NOT NULL DEFAULT 0;
ALTER TABLE candles_100t ADD COLUMN IF NOT EXISTS pub_xid xid8;
ALTER TABLE candles_100t ALTER COLUMN pub_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE candles_1m ADD COLUMN IF NOT EXISTS revision integer NOT NULL DEFAULT 0;
ALTER TABLE candles_1m ADD COLUMN IF NOT EXISTS pub_xid xid8;
ALTER TABLE candles_1m ALTER COLUMN pub_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE feed_gaps ADD COLUMN IF NOT EXISTS revision integer NOT NULL DEFAULT 0;
ALTER TABLE feed_gaps ADD COLUMN IF NOT EXISTS pub_xid xid8;
ALTER TABLE feed_gaps ALTER COLUMN pub_xid SET DEFAULT pg_current_xact_id();

CREATE INDEX IF NOT EXISTS candles_1s_pub_xid ON candles_1s (pub_xid);
CREATE INDEX IF NOT EXISTS candles_100t_pub_xid ON candles_100t (pub_xid);
CREATE INDEX IF NOT EXISTS candles_1m_pub_xid ON candles_1m (pub_xid);
CREATE INDEX IF NOT EXISTS feed_gaps_pub_xid ON feed_gaps (pub_xid);

-- A candle deleted (a backfill's window, a minute left without seconds) leaves its next revision here, so a
-- re-insert continues the count (same transaction: that revision; later: one more, after the deletion's
-- own message). What is left at commit is published as a deletion. Key: bucket (1s, 1m) or
-- session_date and seq (100t); the unused parts keep their defaults.
CREATE TABLE IF NOT EXISTS candle_tombstones (
  kind          text        NOT NULL CHECK (kind IN ('1s', '100t', '1m')),
  symbol        text        NOT NULL,
  bucket        timestamptz NOT NULL DEFAULT 'epoch',
  session_date  date        NOT NULL DEFAULT '1970-01-01',
  seq           integer     NOT NULL DEFAULT -1,
  revision      integer     NOT NULL,
  pub_xid       xid8        NOT NULL DEFAULT pg_current_xact_id(),
  PRIMARY KEY (kind, symbol, bucket, session_date, seq)
);
CREATE INDEX IF NOT EXISTS candle_tombstones_pub_xid ON candle_tombstones (pub_xid);

-- Where each stream's publishing stands, per shard (the shard's lock key; 0 without shards): every row
-- written by a transaction below `below` whose symbol is in the shard is on the stream. Only ever raised.
CREATE TABLE IF NOT EXISTS publish_positions (
  stream      text        NOT NULL,
  shard       integer     NOT NULL,
  below       xid8        NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, shard)
);

-- BEFORE UPDATE, each row: skip an identical rewrite, else count a revision (unless the writer set one) and
-- stamp the transaction.
CREATE OR REPLACE FUNCTION tc_revise() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW IS NOT DISTINCT FROM OLD THEN RETURN NULL; END IF;
  IF NEW.revision = OLD.revision THEN NEW.revision := OLD.revision + 1; END IF;
  NEW.pub_xid := pg_current_xact_id();
  RETURN NEW;
END $$;

-- AFTER DELETE, each statement: a tombstone per deleted candle. tc.skip_rollup: the partition converter
-- moving rows (a delete and an insert of the same rows) is no change.
CREATE OR REPLACE FUNCTION tc_candles_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('tc.skip_rollup', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_ARGV[0] = '100t' THEN
    INSERT INTO candle_tombstones AS t (kind, symbol, session_date, seq, revision)
    SELECT '100t', symbol, session_date, seq, revision + 1 FROM gone
    ON CONFLICT (kind, symbol, bucket, session_date, seq) DO UPDATE
      SET revision = EXCLUDED.revision, pub_xid = pg_current_xact_id();
  ELSE
    INSERT INTO candle_tombstones AS t (kind, symbol, bucket, revision)
    SELECT TG_ARGV[0], symbol, bucket, revision + 1 FROM gone
    ON CONFLICT (kind, symbol, bucket, session_date, seq) DO UPDATE
      SET revision = EXCLUDED.revision, pub_xid = pg_current_xact_id();
  END IF;
  RETURN NULL;
END $$;

-- AFTER INSERT, each statement: a candle inserted where a tombstone lies continues its revisions. One
-- index probe when there is no tombstone of the kind (the sink's usual statement).
CREATE OR REPLACE FUNCTION tc_candles_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('tc.skip_rollup', true) = 'on' THEN RETURN NULL; END IF;
  IF NOT EXISTS (SELECT 1 FROM candle_tombstones WHERE kind = TG_ARGV[0]) THEN RETURN NULL; END IF;
  IF TG_ARGV[0] = '100t' THEN
    WITH t AS (
      DELETE FROM candle_tombstones t USING born n
      WHERE t.kind = '100t' AND t.symbol = n.symbol AND t.session_date = n.session_date AND t.seq = n.seq
      RETURNING t.symbol, t.session_date, t.seq, t.revision, t.pub_xid)
    UPDATE candles_100t c
    SET revision = t.revision + CASE WHEN t.pub_xid = pg_current_xact_id() THEN 0 ELSE 1 END
    FROM t WHERE c.symbol = t.symbol AND c.session_date = t.session_date AND c.seq = t.seq;
  ELSIF TG_ARGV[0] = '1s' THEN
    WITH t AS (
      DELETE FROM candle_tombstones t USING born n
      WHERE t.kind = '1s' AND t.symbol = n.symbol AND t.bucket = n.bucket
      RETURNING t.symbol, t.bucket, t.revision, t.pub_xid)
    UPDATE candles_1s c
    SET revision = t.revision + CASE WHEN t.pub_xid = pg_current_xact_id() THEN 0 ELSE 1 END
    FROM t WHERE c.symbol = t.symbol AND c.bucket = t.bucket;
  ELSE
    WITH t AS (
      DELETE FROM candle_tombstones t USING born n
      WHERE t.kind = '1m' AND t.symbol = n.symbol AND t.bucket = n.bucket
      RETURNING t.symbol, t.bucket, t.revision, t.pub_xid)
    UPDATE candles_1m c
    SET revision = t.revision + CASE WHEN t.pub_xid = pg_current_xact_id() THEN 0 ELSE 1 END
    FROM t WHERE c.symbol = t.symbol AND c.bucket = t.bucket;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER candles_1s_revise BEFORE UPDATE ON candles_1s FOR EACH ROW EXECUTE FUNCTION tc_revise();
CREATE TRIGGER candles_100t_revise BEFORE UPDATE ON candles_100t FOR EACH ROW EXECUTE FUNCTION tc_revise();
CREATE TRIGGER candles_1m_revise BEFORE UPDATE ON candles_1m FOR EACH ROW EXECUTE FUNCTION tc_revise();
CREATE TRIGGER feed_gaps_revise BEFORE UPDATE ON feed_gaps FOR EACH ROW EXECUTE FUNCTION tc_revise();

CREATE TRIGGER candles_1s_tombstone AFTER DELETE ON candles_1s
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION tc_candles_deleted('1s');
CREATE TRIGGER candles_100t_tombstone AFTER DELETE ON candles_100t
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION tc_candles_deleted('100t');
CREATE TRIGGER candles_1m_tombstone AFTER DELETE ON candles_1m
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION tc_candles_deleted('1m');

CREATE TRIGGER candles_1s_reborn AFTER INSERT ON candles_1s
  REFERENCING NEW TABLE AS born FOR EACH STATEMENT EXECUTE FUNCTION tc_candles_inserted('1s');
CREATE TRIGGER candles_100t_reborn AFTER INSERT ON candles_100t
  REFERENCING NEW TABLE AS born FOR EACH STATEMENT EXECUTE FUNCTION tc_candles_inserted('100t');
CREATE TRIGGER candles_1m_reborn AFTER INSERT ON candles_1m
  REFERENCING NEW TABLE AS born FOR EACH STATEMENT EXECUTE FUNCTION tc_candles_inserted('1m');
