// Every setting in one table (SETTINGS), and the names and types derived from it.
// Its environment variable, its flag (the same name in kebab case), its default and its parser. The loader,
// `--help`, .env.example and the README are all read off it.
import { SECOND_DEFAULTS } from '../aggregate/secondAggregator.js';
import { TICK_DEFAULTS } from '../aggregate/tickAggregator.js';
import {
  boolean,
  duration,
  integer,
  natsUrl,
  oneOf,
  ParseProblem,
  type Parser,
  redactUrl,
  streamName,
  symbolList,
  text,
  url,
  urlList,
} from './parse.js';

/** libpq's sslmode values (the store plans TLS by them; DATABASE_URL and PGSSLMODE are checked against them). */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface Setting<T> {
  env: string;
  parse: Parser<T>;
  default: T;
  doc: string;
  group: string;
  /** Never printed in full (logs, diagnostics). */
  secret?: boolean;
  /** How the value is shown in diagnostics. */
  show?: (v: T) => string;
}

function s<T>(
  env: string,
  parse: Parser<T>,
  def: T,
  group: string,
  doc: string,
  extra: Partial<Setting<T>> = {},
) {
  return { env, parse, default: def, group, doc, ...extra } satisfies Setting<T>;
}

/** A token someone will type or paste: 16+ characters, no spaces. */
const webToken: Parser<string> = (raw) => {
  const t = raw.trim();
  if (t.length < 16 || /\s/.test(t))
    throw new ParseProblem('must be at least 16 characters with no spaces, e.g. from `openssl rand -hex 16`');
  return t;
};

const optional =
  <T>(p: Parser<T>): Parser<T | null> =>
  (raw) =>
    raw.trim() === '' ? null : p(raw);

export const SETTINGS = {
  eodhdApiToken: s(
    'EODHD_API_TOKEN',
    optional(text),
    null as string | null,
    'feed',
    'EODHD API token. Unset (with no DATABASE_URL) = local mode on the simulated feed.',
    { secret: true },
  ),
  eodhdWsUrl: s(
    'EODHD_WS_URL',
    url(['wss:', 'ws:']),
    'wss://ws.eodhistoricaldata.com/ws/us',
    'feed',
    'EODHD trades WebSocket endpoint, without the token.',
  ),
  feed: s(
    'FEED',
    optional(oneOf(['eodhd', 'sim'] as const)),
    null as 'eodhd' | 'sim' | null,
    'feed',
    'eodhd or sim. Default: eodhd when a token is set, else sim.',
  ),
  symbols: s(
    'SYMBOLS',
    symbolList,
    ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA'],
    'feed',
    'Comma list of US tickers.',
  ),
  maxSymbolsPerConnection: s(
    'MAX_SYMBOLS_PER_CONNECTION',
    integer(1, 10_000),
    50,
    'feed',
    'Symbols per WebSocket (EODHD default plan: 50); more symbols open more connections.',
  ),
  heartbeatIntervalMs: s(
    'HEARTBEAT_INTERVAL_MS',
    integer(100, 600_000),
    15_000,
    'feed',
    'Ping interval; no pong or no frame within two intervals ends the socket.',
  ),
  feedDataStaleMs: s(
    'FEED_DATA_STALE_MS',
    integer(1_000, 3_600_000),
    120_000,
    'feed',
    'In session, no trade on any symbol this long = resubscribe, then reconnect.',
  ),
  reconnectBaseMs: s(
    'RECONNECT_BASE_MS',
    integer(10, 600_000),
    1_000,
    'feed',
    'First reconnect backoff (full jitter).',
  ),
  reconnectMaxMs: s('RECONNECT_MAX_MS', integer(100, 3_600_000), 60_000, 'feed', 'Reconnect backoff cap.'),
  authFailureBackoffMs: s(
    'AUTH_FAILURE_BACKOFF_MS',
    integer(1_000, 86_400_000),
    300_000,
    'feed',
    'Wait after the server rejects the token or the symbols.',
  ),
  simRate: s(
    'SIM_RATE',
    integer(1, 5_000_000),
    200,
    'feed',
    'Simulated feed: trades per second over all symbols.',
  ),
  simPort: s(
    'SIM_PORT',
    integer(0, 65_535),
    0,
    'feed',
    'Simulated feed port (0 = any free port; `sim` defaults to 8765).',
  ),
  skipMarketHours: s(
    'SKIP_MARKET_HOURS',
    boolean,
    false,
    'schedule',
    'Collect now, ignoring the NYSE calendar (always on with the simulated feed).',
  ),

  sessionLeadMs: s(
    'SESSION_LEAD_MS',
    integer(0, 600_000),
    30_000,
    'schedule',
    'Connect this long before the open, so the first prints are not lost to the handshake.',
  ),
  sessionTailMs: s(
    'SESSION_TAIL_MS',
    integer(0, 600_000),
    10_000,
    'schedule',
    'Stay connected this long after the close for late reports; candles only take trades timed in the session.',
  ),

  databaseUrl: s(
    'DATABASE_URL',
    optional(url(['postgres:', 'postgresql:'])),
    null as string | null,
    'database',
    'PostgreSQL URL (sslmode honoured as in libpq). Unset = embedded PGlite under DATA_DIR.',
    { secret: true, show: (v) => (v ? redactUrl(v) : '(embedded PGlite)') },
  ),
  pgSslMode: s(
    'PGSSLMODE',
    optional(oneOf(SSL_MODES)),
    null as SslMode | null,
    'database',
    'Default sslmode when DATABASE_URL has none (libpq meaning).',
  ),
  dataDir: s('DATA_DIR', text, './data', 'database', 'Embedded database, spool and dead-letter files.'),
  dbPoolMax: s('DB_POOL_MAX', integer(1, 100), 4, 'database', 'Connections in the pool.'),
  dbQueryTimeoutMs: s(
    'DB_QUERY_TIMEOUT_MS',
    integer(100, 600_000),
    15_000,
    'database',
    'Client-side timeout of every query (finds black-holed links long before TCP keepalive).',
  ),
  dbConnectTimeoutMs: s(
    'DB_CONNECT_TIMEOUT_MS',
    integer(100, 600_000),
    10_000,
    'database',
    'Connect timeout.',
  ),
  dbMaxLifetimeSeconds: s(
    'DB_MAX_LIFETIME_SECONDS',
    integer(0, 86_400),
    300,
    'database',
    'Recycle connections after this long (keep it below any proxy idle timeout).',
  ),
  sinkFlushMs: s('SINK_FLUSH_MS', integer(10, 60_000), 250, 'database', 'Write a batch at least this often.'),
  sinkBatchRows: s(
    'SINK_BATCH_ROWS',
    integer(1, 100_000),
    500,
    'database',
    'Rows per statement (up to 4x while catching up on a backlog).',
  ),
  sinkMaxBufferRows: s(
    'SINK_MAX_BUFFER_ROWS',
    integer(100, 100_000_000),
    200_000,
    'database',
    'Rows kept in memory during an outage; beyond it the oldest spool to DATA_DIR.',
  ),
  sinkHardMaxRows: s(
    'SINK_HARD_MAX_ROWS',
    integer(100, 100_000_000),
    1_000_000,
    'database',
    'When DATA_DIR cannot be written (disk full), rows kept in memory up to this many; beyond it the oldest are lost (counted).',
  ),
  archiveTicks: s(
    'ARCHIVE_TICKS',
    boolean,
    false,
    'database',
    'Also store every raw trade in `ticks` (COPY).',
  ),
  retention1sDays: s(
    'RETENTION_1S_DAYS',
    optional(integer(1, 36_500)),
    null as number | null,
    'database',
    'Keep this many days of `candles_1s` (whole daily partitions are dropped; `candles_1m` stays). Unset = keep everything.',
  ),
  retentionTicksDays: s(
    'RETENTION_TICKS_DAYS',
    optional(integer(1, 36_500)),
    null as number | null,
    'database',
    'Keep this many days of `ticks` (daily partitions). Unset = keep everything.',
  ),
  retention100tDays: s(
    'RETENTION_100T_DAYS',
    optional(integer(1, 36_500)),
    null as number | null,
    'database',
    'Keep `candles_100t` months whose last day is at most this many days old. Unset = keep everything.',
  ),

  candleIntervalMs: s(
    'CANDLE_INTERVAL_MS',
    integer(1, 3_600_000),
    SECOND_DEFAULTS.intervalMs,
    'candles',
    'Time candle length.',
  ),
  tickCandleSize: s(
    'TICK_CANDLE_SIZE',
    integer(1, 1_000_000),
    TICK_DEFAULTS.size,
    'candles',
    'Trades per tick candle.',
  ),
  candleGraceMs: s(
    'CANDLE_GRACE_MS',
    integer(0, 600_000),
    SECOND_DEFAULTS.graceMs,
    'candles',
    'Write a time candle this long after its interval ends (collector clock).',
  ),
  candleLatenessMs: s(
    'CANDLE_LATENESS_MS',
    integer(0, 3_600_000),
    SECOND_DEFAULTS.latenessMs,
    'candles',
    'Late trades within this window amend a written candle; older ones are dropped and counted.',
  ),
  candleConditions: s(
    'CANDLE_CONDITIONS',
    oneOf(['sip', 'all'] as const),
    'sip',
    'candles',
    "sip = trade conditions decide what a trade updates (the consolidated tape's rules); all = every trade updates every field.",
  ),

  eodhdApiUrl: s(
    'EODHD_API_URL',
    url(['https:', 'http:']),
    'https://eodhd.com/api',
    'backfill',
    "EODHD REST base; the backfill reads {base}/ticks/. Local mode uses the simulator's tape instead.",
  ),
  backfill: s(
    'BACKFILL',
    oneOf(['auto', 'off'] as const),
    'auto' as 'auto' | 'off',
    'backfill',
    'auto: fill the gap ledger from the tick API while waiting overnight (never while collecting); off: only `tick-collector backfill`.',
  ),
  backfillMaxCallsPerDay: s(
    'BACKFILL_MAX_CALLS_PER_DAY',
    integer(1, 10_000_000),
    20_000,
    'backfill',
    'Tick API requests the backfill may make per UTC day (EODHD counts them against the daily API budget).',
  ),

  port: s(
    'PORT',
    integer(0, 65_535),
    8080,
    'operations',
    'Health and metrics HTTP port (0 = any free port).',
  ),
  webUi: s(
    'WEB_UI',
    boolean,
    true,
    'operations',
    'Serve the web page (`GET /`) and its read-only JSON API (`/api/…`) on PORT.',
  ),
  webToken: s(
    'WEB_TOKEN',
    optional(webToken),
    null as string | null,
    'operations',
    'Require this token for the page, its API, /health and /metrics (open /?token=… once, or send `Authorization: Bearer …`); /healthz and /readyz stay open. Set it when the service has a public domain. Unset = no token.',
    { secret: true },
  ),
  logLevel: s(
    'LOG_LEVEL',
    oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const),
    'info' as 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent',
    'operations',
    'Log level.',
  ),
  logFormat: s(
    'LOG_FORMAT',
    oneOf(['auto', 'json', 'pretty'] as const),
    'auto' as 'auto' | 'json' | 'pretty',
    'operations',
    'auto = pretty on a terminal, JSON otherwise.',
  ),
  shutdownTimeoutMs: s(
    'SHUTDOWN_TIMEOUT_MS',
    integer(100, 600_000),
    10_000,
    'operations',
    'Deadline to flush candles and drain the database on SIGTERM/SIGINT.',
  ),
  watchdogStallMs: s(
    'WATCHDOG_STALL_MS',
    integer(1_000, 3_600_000),
    300_000,
    'operations',
    'While collecting, no progress this long = exit non-zero so the platform restarts us.',
  ),
  eventLoopBlockMs: s(
    'EVENT_LOOP_BLOCK_MS',
    integer(100, 600_000),
    10_000,
    'operations',
    'An event-loop stall this long = exit non-zero.',
  ),

  enableRssNews: s(
    'ENABLE_RSS_NEWS',
    boolean,
    true,
    'news',
    'Poll RSS_FEEDS (nothing happens when it is empty).',
  ),
  rssFeeds: s(
    'RSS_FEEDS',
    urlList(['http:', 'https:']),
    [] as string[],
    'news',
    'Comma list of RSS/Atom URLs.',
  ),
  rssPollIntervalMs: s(
    'RSS_POLL_INTERVAL_MS',
    integer(1_000, 86_400_000),
    300_000,
    'news',
    'Poll interval (±10% jitter).',
  ),
  rssTimeoutMs: s('RSS_TIMEOUT_MS', integer(100, 600_000), 10_000, 'news', 'Request timeout per feed.'),

  natsUrl: s(
    'NATS_URL',
    optional(natsUrl),
    null as string | null,
    'publish',
    'NATS server(s) with JetStream: every committed candle and gap is published (README, "Live candles on NATS"). Unset = no publishing (local mode: nats://127.0.0.1:4222 when a server answers there); off = never.',
    { secret: true, show: (v) => (v ? redactUrl(v) : '(not publishing)') },
  ),
  natsStream: s(
    'NATS_STREAM',
    streamName,
    'CANDLES',
    'publish',
    'JetStream stream (subjects candles.> and gaps.>).',
  ),
  natsMaxAge: s(
    'NATS_MAX_AGE',
    duration(60_000, 3_650 * 86_400_000),
    '7d',
    'publish',
    'How long the stream keeps a message (e.g. 7d, 12h); a consumer can start this far back.',
  ),
  natsMinuteEveryMs: s(
    'NATS_MINUTE_EVERY_MS',
    integer(0, 60_000),
    5_000,
    'publish',
    'A 1-minute bar is rewritten at each of its seconds: its latest revision is published at most this often, and the finished bar right after its last second is stored. 0 = every revision.',
  ),
} as const;

export type SettingKey = keyof typeof SETTINGS;
type ValueOf<S> = S extends Setting<infer T> ? T : never;
export type Settings = { -readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

/** `--heartbeat-interval-ms` for HEARTBEAT_INTERVAL_MS. */
export function flagName(env: string): string {
  return `--${env.toLowerCase().replace(/_/g, '-')}`;
}

export function formatDefault(v: unknown): string {
  if (v === null) return '';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}
