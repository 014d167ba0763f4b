// Configuration compiled once: environment (and .env), then flags, validated together.
// Any problem is one ConfigError naming the variable, what is wrong and how to fix it.
import { existsSync } from 'node:fs';
import { ParseProblem } from './parse.js';
import { flagName, SETTINGS, type SettingKey, type Settings, SSL_MODES } from './settings.js';
import { closest } from './similar.js';

export class ConfigError extends Error {
  readonly code = 'ECONFIG';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

export type FeedKind = 'eodhd' | 'sim';

export interface Config extends Settings {
  /**
   * production = DATABASE_URL is set (only then); local = embedded PGlite + simulated feed; embedded = the
   * real feed into the embedded PGlite (a trial: nothing there is meant to last).
   */
  mode: 'local' | 'embedded' | 'production';
  feedKind: FeedKind;
}

/** Flags as parsed from the command line: `--name value` → { '--name': 'value' }, bare `--name` → true. */
export type Flags = Record<string, string | true>;

const BY_FLAG = new Map<string, SettingKey>(
  (Object.keys(SETTINGS) as SettingKey[]).map((k) => [flagName(SETTINGS[k].env), k]),
);

/** Whether a flag names a setting (the CLI uses it to tell setting flags from command flags). */
export function isSettingFlag(flag: string): boolean {
  return BY_FLAG.has(flag);
}

/** Read `.env` from the working directory into process.env without overriding what is set. */
export function loadDotEnv(path = '.env'): boolean {
  if (!existsSync(path)) return false;
  process.loadEnvFile(path);
  return true;
}

/** Variables we read besides the settings table (libpq's). */
const OTHER_ENV = ['PGSSLROOTCERT'];
const KNOWN_ENV = new Set([
  ...(Object.values(SETTINGS) as { env: string }[]).map((s) => s.env),
  ...OTHER_ENV,
]);

/**
 * One line per environment variable that looks like one of ours but is not (DATABSE_URL): it would be
 * ignored in silence, and the collector would run on a default (the embedded database) instead.
 */
export function envTypos(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const name of Object.keys(env)) {
    if (KNOWN_ENV.has(name) || name.length < 4) continue;
    const near = closest(name, KNOWN_ENV);
    if (near) out.push(`${name} is not a setting (ignored); did you mean ${near}?`);
  }
  return out;
}

export interface LoadOptions {
  /** The command streams trades (run): the feed's token is required with a database. Default true. */
  feed?: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv, flags: Flags = {}, opts: LoadOptions = {}): Config {
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    const setting = SETTINGS[key];
    const flag = flagName(setting.env);
    const fromFlag = flags[flag];
    let raw: string | undefined;
    let source = setting.env;
    if (fromFlag !== undefined) {
      raw = fromFlag === true ? 'true' : fromFlag;
      source = flag;
    } else if (env[setting.env] !== undefined) {
      raw = env[setting.env];
    }
    if (raw === undefined) {
      values[key] = setting.default;
      continue;
    }
    try {
      values[key] = (setting.parse as (r: string) => unknown)(raw);
    } catch (err) {
      if (err instanceof ParseProblem) throw new ConfigError(source, err.message);
      throw err;
    }
  }
  const s = values as Settings;
  return derive(s, env, opts.feed ?? true);
}

function derive(raw: Settings, env: NodeJS.ProcessEnv, feed: boolean): Config {
  const s = takeTokenFromUrl(raw);
  // Read-only commands (candles, news, status) need only the database: the token is the feed's.
  if (feed && s.feed === 'eodhd' && !s.eodhdApiToken) {
    throw new ConfigError(
      'EODHD_API_TOKEN',
      'is required with FEED=eodhd: get one at eodhd.com (or use FEED=sim)',
    );
  }
  if (feed && s.databaseUrl && !s.eodhdApiToken && s.feed !== 'sim') {
    throw new ConfigError(
      'EODHD_API_TOKEN',
      'is required when DATABASE_URL is set (production never falls back to simulated data); set it, or FEED=sim to store simulated trades on purpose',
    );
  }
  if (s.reconnectBaseMs > s.reconnectMaxMs) {
    throw new ConfigError(
      'RECONNECT_BASE_MS',
      `(${s.reconnectBaseMs}) must not exceed RECONNECT_MAX_MS (${s.reconnectMaxMs})`,
    );
  }
  if (s.sinkHardMaxRows < s.sinkMaxBufferRows) {
    throw new ConfigError(
      'SINK_HARD_MAX_ROWS',
      `(${s.sinkHardMaxRows}) must not be below SINK_MAX_BUFFER_ROWS (${s.sinkMaxBufferRows})`,
    );
  }
  if (s.databaseUrl) checkDatabaseUrl(s.databaseUrl, env);
  const feedKind: FeedKind = s.feed ?? (s.eodhdApiToken ? 'eodhd' : 'sim');
  return {
    ...s,
    mode: s.databaseUrl ? 'production' : feedKind === 'sim' ? 'local' : 'embedded',
    feedKind,
    // The simulator trades around the clock: waiting for NYSE to open would only confuse a new user.
    skipMarketHours: s.skipMarketHours || feedKind === 'sim',
  };
}

/**
 * EODHD's docs show the endpoint with `?api_token=…`, so users paste it that way. The token is taken out
 * of the URL (and used when EODHD_API_TOKEN is unset), so the URL can be logged and shown safely.
 */
function takeTokenFromUrl(s: Settings): Settings {
  const u = new URL(s.eodhdWsUrl);
  const inUrl = u.searchParams.get('api_token');
  if (inUrl === null) return s;
  u.searchParams.delete('api_token');
  return { ...s, eodhdWsUrl: u.toString(), eodhdApiToken: s.eodhdApiToken ?? (inUrl || null) };
}

function checkDatabaseUrl(raw: string, env: NodeJS.ProcessEnv): void {
  const u = new URL(raw);
  const mode = u.searchParams.get('sslmode');
  if (mode !== null && !(SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError('DATABASE_URL', `has sslmode=${mode}; use one of ${SSL_MODES.join(', ')}`);
  }
  if (mode?.startsWith('verify') && u.searchParams.get('sslrootcert') === null && !env.PGSSLROOTCERT) {
    // libpq would read ~/.postgresql/root.crt; we ask for it explicitly so the failure is not a surprise.
    throw new ConfigError(
      'DATABASE_URL',
      `has sslmode=${mode} but no sslrootcert=/path/to/ca.pem to verify against`,
    );
  }
  if (!u.hostname) throw new ConfigError('DATABASE_URL', 'has no host');
  if (u.port && !/^\d+$/.test(u.port)) throw new ConfigError('DATABASE_URL', `has a bad port "${u.port}"`);
}
