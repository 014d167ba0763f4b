-- The user-facing tables (DESIGN.md, "Tables"). Unqualified names: the schema comes from search_path,
-- so tests can give each file its own schema.

CREATE TABLE IF NOT EXISTS candles_1s (
  symbol          text             NOT NULL,
  bucket          timestamptz      NOT NULL,
  open            double precision NOT NULL,
  high            double precision NOT NULL,
  low             double precision NOT NULL,
  close           double precision NOT NULL,
  volume          double precision NOT NULL,
  trade_count     integer          NOT NULL CHECK (trade_count > 0),
  vwap            double precision,
  first_trade_at  timestamptz      NOT NULL,
  last_trade_at   timestamptz      NOT NULL,
  PRIMARY KEY (symbol, bucket)
);

CREATE TABLE IF NOT EXISTS candles_100t (
  symbol        text             NOT NULL,
  session_date  date             NOT NULL,
  seq           integer          NOT NULL CHECK (seq >= 0),
  open          double precision NOT NULL,
  high          double precision NOT NULL,
  low           double precision NOT NULL,
  close         double precision NOT NULL,
  volume        double precision NOT NULL,
  trade_count   integer          NOT NULL CHECK (trade_count > 0),
  vwap          double precision,
  start_at      timestamptz      NOT NULL,
  end_at        timestamptz      NOT NULL,
  PRIMARY KEY (symbol, session_date, seq)
);

CREATE TABLE IF NOT EXISTS ticks (
  symbol       text             NOT NULL,
  ts           timestamptz      NOT NULL,
  price        double precision NOT NULL,
  size         double precision NOT NULL,
  conditions   integer[]        NOT NULL DEFAULT '{}',
  dark_pool    boolean          NOT NULL DEFAULT false,
  received_at  timestamptz      NOT NULL
);
CREATE INDEX IF NOT EXISTS ticks_symbol_ts ON ticks (symbol, ts);

CREATE TABLE IF NOT EXISTS feed_gaps (
  id          bigserial   PRIMARY KEY,
  symbol      text        NOT NULL,            -- a symbol, or '*' for the whole connection
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz NOT NULL,
  reason      text        NOT NULL,
  UNIQUE (symbol, started_at)
);

CREATE TABLE IF NOT EXISTS news_items (
  id            bigserial   PRIMARY KEY,
  feed          text        NOT NULL,
  guid          text        NOT NULL,
  link          text,
  title         text,
  summary       text,
  symbols       text[]      NOT NULL DEFAULT '{}',
  published_at  timestamptz,
  fetched_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (feed, guid)
);
CREATE INDEX IF NOT EXISTS news_items_published ON news_items (published_at DESC);

CREATE TABLE IF NOT EXISTS dead_letters (
  id          bigserial   PRIMARY KEY,
  kind        text        NOT NULL,
  error       text        NOT NULL,
  rows        jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
