// The command line as a user meets it: bad configuration stops start-up with one line naming the
// variable; `sessions` prints the calendar; `--help` works for every command.
import { describe, expect, it } from 'vitest';
import { runCliToEnd } from '../helpers/cli.js';

describe.concurrent('tick-collector command line', () => {
  it.each([
    [{ PORT: 'eighty' }, [], /^tick-collector: PORT must be a whole number, got "eighty"$/],
    [{ SYMBOLS: ',' }, [], /^tick-collector: SYMBOLS must list at least one symbol/],
    [
      { DATABASE_URL: 'postgres://u:pw@h/db?sslmode=sometimes', EODHD_API_TOKEN: 'x' },
      [],
      /^tick-collector: DATABASE_URL has sslmode=sometimes/,
    ],
    [
      { DATABASE_URL: 'postgres://u:pw@h/db' },
      [],
      /^tick-collector: EODHD_API_TOKEN is required when DATABASE_URL is set/,
    ],
    [{ EODHD_WS_URL: 'https://x' }, [], /^tick-collector: EODHD_WS_URL must start with wss:\/\/ or ws:\/\//],
    [{}, ['run', '--frobnicate'], /^tick-collector: --frobnicate is not a flag of "run"/],
    [{}, ['sessions', '--from', '2024-02-30'], /^tick-collector: --from /],
    [{}, ['candles', '--kind', '2m'], /^tick-collector: --kind must be one of 1s, 100t, 1m, 5m, 1h, 1d/],
    [{}, ['export', '--kind', '1m'], /^tick-collector: --symbol is required/],
    [{}, ['export', '--symbol', 'AAPL', '--from', 'yesterday'], /^tick-collector: --from must be YYYY-MM-DD/],
  ])('refuses %j %j with one line and exit code 2', async (env, args, pattern) => {
    const r = await runCliToEnd(args, env);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toContain('pw@');
    expect(r.stdout).toBe('');
  });

  it('sessions prints one tab-separated line per session, early close and holiday included', async () => {
    const r = await runCliToEnd(['sessions', '--from', '2024-07-01', '--to', '2024-07-05']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '2024-07-01\t2024-07-01T13:30:00.000Z\t2024-07-01T20:00:00.000Z',
        '2024-07-02\t2024-07-02T13:30:00.000Z\t2024-07-02T20:00:00.000Z',
        '2024-07-03\t2024-07-03T13:30:00.000Z\t2024-07-03T17:00:00.000Z',
        '2024-07-05\t2024-07-05T13:30:00.000Z\t2024-07-05T20:00:00.000Z',
        '',
      ].join('\n'),
    );
  });

  it('every command has --help', async () => {
    for (const cmd of ['run', 'status', 'sessions', 'migrate', 'candles', 'export', 'news', 'sim']) {
      const r = await runCliToEnd([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toContain(`Usage: tick-collector ${cmd}`);
    }
  });

  it('status prints the diagnostics block and exits 0', async () => {
    const r = await runCliToEnd(['status'], { EODHD_API_TOKEN: 'abcdef123456', SYMBOLS: 'AAPL,SPY' });
    expect(r.code).toBe(0);
    for (const label of [
      'time now:',
      'market:',
      'next close:',
      'symbols:',
      'feed:',
      'database:',
      'health:',
    ]) {
      expect(r.stdout).toContain(label);
    }
    expect(r.stdout).toContain('AAPL, SPY (2)');
    expect(r.stdout).not.toContain('abcdef123456');
  });
});
