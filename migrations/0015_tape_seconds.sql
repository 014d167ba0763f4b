-- The publisher names a minute 'tape' when any of its seconds is (src/publish/outbox.ts). Probing the
-- primary key for that read every second of the minute from the heap (0.08 ms a minute: at 5,000 symbols a
-- round's minutes took ~0.4 s of the server each second); this index holds only the tape's seconds (few:
-- what a backfill rebuilt), so the probe is one look into a small index. On a partitioned candles_1s it is
-- created on every partition; a heap converted later carries it over (CREATE TABLE … LIKE … INCLUDING ALL).
CREATE INDEX IF NOT EXISTS candles_1s_tape ON candles_1s (symbol, bucket) WHERE source = 'tape';
