-- Condition rules (docs/ARCHITECTURE.md, "Candle semantics"): a candle's price fields are set only by the
-- trades whose conditions allow it, so a candle of odd lots alone has volume but no open/high/low/close.
ALTER TABLE candles_1s ALTER COLUMN open DROP NOT NULL;
ALTER TABLE candles_1s ALTER COLUMN high DROP NOT NULL;
ALTER TABLE candles_1s ALTER COLUMN low DROP NOT NULL;
ALTER TABLE candles_1s ALTER COLUMN close DROP NOT NULL;
ALTER TABLE candles_100t ALTER COLUMN open DROP NOT NULL;
ALTER TABLE candles_100t ALTER COLUMN high DROP NOT NULL;
ALTER TABLE candles_100t ALTER COLUMN low DROP NOT NULL;
ALTER TABLE candles_100t ALTER COLUMN close DROP NOT NULL;
