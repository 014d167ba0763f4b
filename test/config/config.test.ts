import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.js';
import { renderEnvExample, renderSettingsTable } from '../../src/config/docs.js';
import { ConfigError, envTypos, loadConfig } from '../../src/config/load.js';
import { SETTINGS } from '../../src/config/settings.js';

const COMMANDS = {
  run: [],
  sessions: [
    { name: '--from', doc: '' },
    { name: '--to', doc: '' },
  ],
};

function problem(env: Record<string, string>, flags: Record<string, string | true> = {}): string {
  try {
    loadConfig(env, flags);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('nothing configured is local mode on the simulated feed, collecting regardless of market hours', () => {
    const c = loadConfig({});
    expect(c.mode).toBe('local');
    expect(c.feedKind).toBe('sim');
    expect(c.skipMarketHours).toBe(true);
    expect(c.databaseUrl).toBeNull();
    expect(c.symbols).toEqual(['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA']);
    expect(c.heartbeatIntervalMs).toBe(15_000);
    expect(c.shutdownTimeoutMs).toBe(10_000);
  });

  it('a token means production on the EODHD feed, honouring market hours', () => {
    const c = loadConfig({
      EODHD_API_TOKEN: 'abc',
      DATABASE_URL: 'postgres://u:p@db:5432/x?sslmode=require',
    });
    expect(c.mode).toBe('production');
    expect(c.feedKind).toBe('eodhd');
    expect(c.skipMarketHours).toBe(false);
  });

  it('only DATABASE_URL makes production: a token alone runs the real feed into the embedded database', () => {
    const c = loadConfig({ EODHD_API_TOKEN: 'abc' });
    expect(c.mode).toBe('embedded');
    expect(c.feedKind).toBe('eodhd');
  });

  it('read-only commands need only DATABASE_URL; run still requires the token', () => {
    const env = { DATABASE_URL: 'postgres://u:p@db:5432/x' };
    expect(loadConfig(env, {}, { feed: false }).mode).toBe('production');
    expect(problem(env)).toMatch(/^EODHD_API_TOKEN is required when DATABASE_URL is set/);
  });

  it('warns about variables that look like ours but are not (one line each), and not about others', () => {
    const lines = envTypos({
      DATABSE_URL: 'x',
      EODHD_API_TOKNE: 'x',
      PROT: '1',
      DATABASE_URL: 'x',
      PATH: '/usr/bin',
      HOME: '/root',
      PGPORT: '5432',
      RAILWAY_ENVIRONMENT: 'production',
    });
    expect(lines).toEqual([
      'DATABSE_URL is not a setting (ignored); did you mean DATABASE_URL?',
      'EODHD_API_TOKNE is not a setting (ignored); did you mean EODHD_API_TOKEN?',
      'PROT is not a setting (ignored); did you mean PORT?',
    ]);
  });

  it('flags override the environment', () => {
    const c = loadConfig({ SYMBOLS: 'AAPL', PORT: '1' }, { '--symbols': 'spy, qqq ,SPY', '--port': '9090' });
    expect(c.symbols).toEqual(['SPY', 'QQQ']);
    expect(c.port).toBe(9090);
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT must be a whole number/],
    [{ PORT: '70000' }, /^PORT must be between 0 and 65535/],
    [{ HEARTBEAT_INTERVAL_MS: '1.5' }, /^HEARTBEAT_INTERVAL_MS must be a whole number/],
    [{ SHUTDOWN_TIMEOUT_MS: '-5' }, /^SHUTDOWN_TIMEOUT_MS must be between/],
    [{ SYMBOLS: ' , ,' }, /^SYMBOLS must list at least one symbol/],
    [{ SYMBOLS: 'AAPL,MS FT' }, /^SYMBOLS has an invalid symbol "MS FT"/],
    [{ EODHD_WS_URL: 'http://example.com/ws' }, /^EODHD_WS_URL must start with wss:\/\/ or ws:\/\//],
    [{ EODHD_WS_URL: 'not a url' }, /^EODHD_WS_URL is not a valid URL/],
    [{ DATABASE_URL: 'mysql://x@y/z', EODHD_API_TOKEN: 't' }, /^DATABASE_URL must start with postgres:/],
    [
      { DATABASE_URL: 'postgres://u:secret@h/d?sslmode=sometimes', EODHD_API_TOKEN: 't' },
      /^DATABASE_URL has sslmode=sometimes/,
    ],
    [{ DATABASE_URL: 'postgres://u@h/d?sslmode=verify-full', EODHD_API_TOKEN: 't' }, /no sslrootcert/],
    [{ DATABASE_URL: 'postgres://u@h/d' }, /^EODHD_API_TOKEN is required when DATABASE_URL is set/],
    [{ FEED: 'eodhd' }, /^EODHD_API_TOKEN is required with FEED=eodhd/],
    [{ FEED: 'kafka' }, /^FEED must be one of eodhd, sim/],
    [{ PGSSLMODE: 'maybe' }, /^PGSSLMODE must be one of/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ ENABLE_RSS_NEWS: 'perhaps' }, /^ENABLE_RSS_NEWS must be true or false/],
    [{ RSS_FEEDS: 'https://ok.example/rss,ftp://x/y' }, /^RSS_FEEDS must start with http:\/\/ or https:\/\//],
    [{ RECONNECT_BASE_MS: '5000', RECONNECT_MAX_MS: '1000' }, /^RECONNECT_BASE_MS \(5000\) must not exceed/],
    [
      { SINK_MAX_BUFFER_ROWS: '5000', SINK_HARD_MAX_ROWS: '1000' },
      /^SINK_HARD_MAX_ROWS \(1000\) must not be below SINK_MAX_BUFFER_ROWS/,
    ],
  ])('rejects %j with one line naming the variable', (env, pattern) => {
    expect(problem(env)).toMatch(pattern);
  });

  it('takes an api_token pasted into EODHD_WS_URL out of the URL (so it is never logged) and uses it', () => {
    const c = loadConfig({ EODHD_WS_URL: 'wss://ws.eodhistoricaldata.com/ws/us?api_token=SECRET123456' });
    expect(c.eodhdWsUrl).toBe('wss://ws.eodhistoricaldata.com/ws/us');
    expect(c.eodhdApiToken).toBe('SECRET123456');
    expect(c.feedKind).toBe('eodhd');
    const both = loadConfig({ EODHD_WS_URL: 'wss://h/ws/us?api_token=OLD', EODHD_API_TOKEN: 'NEW' });
    expect(both.eodhdApiToken).toBe('NEW');
    expect(both.eodhdWsUrl).not.toContain('OLD');
  });

  it('never echoes a database password in an error', () => {
    const msg = problem({ DATABASE_URL: 'postgres://u:hunter2@h/d?sslmode=bogus', EODHD_API_TOKEN: 't' });
    expect(msg).not.toContain('hunter2');
  });

  it('names the flag, not the variable, when the bad value came from a flag', () => {
    expect(problem({}, { '--port': 'x' })).toMatch(/^--port must be a whole number/);
  });

  it('a DATABASE_URL with FEED=sim is allowed on purpose (testing against a real server)', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', FEED: 'sim' });
    expect(c.feedKind).toBe('sim');
    expect(c.mode).toBe('production');
  });
});

describe('command line', () => {
  it('splits setting flags from command flags, in both --x v and --x=v forms', () => {
    const a = parseArgs(
      ['sessions', '--from', '2024-01-02', '--to=2024-01-05', '--log-level', 'warn'],
      COMMANDS,
    );
    expect(a.command).toBe('sessions');
    expect(a.own).toEqual({ '--from': '2024-01-02', '--to': '2024-01-05' });
    expect(a.settings).toEqual({ '--log-level': 'warn' });
  });

  it('defaults to run, and boolean settings are switches', () => {
    const a = parseArgs(['--skip-market-hours'], COMMANDS);
    expect(a.command).toBe('run');
    expect(a.settings).toEqual({ '--skip-market-hours': true });
  });

  it.each([
    [['--frobnicate'], /^--frobnicate is not a flag of "run"/],
    [['launch'], /^command "launch" is unknown/],
    [['sessions', '--from'], /^--from needs a value/],
    [['run', 'extra'], /^argument "extra" is not expected by run/],
  ])('rejects %j', (argv, pattern) => {
    expect(() => parseArgs(argv, COMMANDS)).toThrow(pattern);
  });
});

describe('documentation stays in step with the settings', () => {
  it('.env.example is the rendering of the settings table', () => {
    expect(readFileSync('.env.example', 'utf8')).toBe(renderEnvExample());
  });

  it('the README lists every variable in its configuration table', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain(renderSettingsTable());
    for (const s of Object.values(SETTINGS)) expect(readme).toContain(`\`${s.env}\``);
  });
});
