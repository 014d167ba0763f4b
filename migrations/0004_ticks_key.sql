-- The raw archive gets a natural key (docs/ARCHITECTURE.md, "Database and sink"): `seq` is the collector's
-- arrival counter, seeded from the clock at every start so it never repeats across runs. A COPY retried
-- after a lost acknowledgement, or a spool file replayed twice, then stores each trade once: writes skip
-- rows whose key is already there. Rows archived before this migration have no seq (NULL: never equal,
-- so they never conflict). The key holds ts, so a table partitioned by ts can keep it. The old
-- (symbol, ts) index is a prefix of the key's, so it goes: one index to maintain per row, as before.
ALTER TABLE ticks ADD COLUMN IF NOT EXISTS seq bigint;
CREATE UNIQUE INDEX IF NOT EXISTS ticks_symbol_ts_seq ON ticks (symbol, ts, seq);
DROP INDEX IF EXISTS ticks_symbol_ts;
