// Conventions a user expects from a command line, tried as a user would: --version, "did you mean",
// warnings about misspelt variables, read-only commands without a feed token, --json with ISO times,
// NO_COLOR, a port in use, and `run | head` ending the process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliToEnd } from '../helpers/cli.js';
import { pgTestDb, type TestDb } from '../helpers/pg.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tc-conv-'));
  dirs.push(d);
  return d;
};
let db: TestDb;
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  db = await pgTestDb('conventions');
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  await db?.close();
  await new Promise((r) => busy?.close(r));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The test schema's URL: read-only commands see this file's tables only. */
const schemaUrl = () => {
  const u = new URL(db.url);
  u.searchParams.set('options', `-c search_path=${db.schema}`);
  return u.toString();
};

describe.concurrent('command-line conventions', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = await runCliToEnd(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`tick-collector ${pkg.version}\n`);
  });

  it('an unknown command suggests the nearest one', async () => {
    const r = await runCliToEnd(['stauts']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tick-collector: command "stauts" is unknown; did you mean "status"\?/);
  });

  it('warns in one line about a variable that looks like ours (DATABSE_URL), and runs on', async () => {
    const r = await runCliToEnd(['status'], { DATABSE_URL: 'postgres://u@h/d', DATA_DIR: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'tick-collector: warning: DATABSE_URL is not a setting (ignored); did you mean DATABASE_URL?\n',
    );
    expect(r.stdout).toContain('LOCAL');
  });

  it('read-only commands work with only DATABASE_URL (no token); run still refuses', async () => {
    const env = { DATABASE_URL: schemaUrl() };
    const candles = await runCliToEnd(['candles', '--json'], env);
    expect(candles.stderr).toBe('');
    expect(candles.code).toBe(0);
    expect(candles.stdout).toBe(''); // a fresh schema: no candles
    const news = await runCliToEnd(['news', '--json'], env);
    expect([news.code, news.stderr]).toEqual([0, '']);
    const status = await runCliToEnd(['status', '--json'], env);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { mode: string; now: string; databaseCheck: string; feed: string };
    expect(s.mode).toBe('production');
    expect(s.feed).toMatch(/^none: EODHD_API_TOKEN is not set/);
    expect(s.now).toMatch(ISO);
    expect(s.databaseCheck).toMatch(/^reachable/);
    const run = await runCliToEnd(['run'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/EODHD_API_TOKEN is required when DATABASE_URL is set/);
  });

  it('sessions --json gives ISO times', async () => {
    const r = await runCliToEnd(['sessions', '--from', '2024-07-03', '--to', '2024-07-03', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      date: '2024-07-03',
      open: '2024-07-03T13:30:00.000Z',
      close: '2024-07-03T17:00:00.000Z',
      earlyClose: true,
    });
  });

  it('sim --help lists --port once', async () => {
    const r = await runCliToEnd(['sim', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^\s+--port\s/gm)).toHaveLength(1);
  });

  it('a port in use is one line naming PORT, before the database is touched; NO_COLOR is honoured', async () => {
    const dataDir = join(tempDir(), 'data');
    const env = { PORT: String(busyPort), DATA_DIR: dataDir, LOG_FORMAT: 'pretty' };
    const plain = await runCliToEnd(['run'], { ...env, NO_COLOR: '1' });
    expect(plain.code).toBe(1);
    const lines = plain.stdout.split('\n').filter((l) => /in use/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PORT \(\d+\) is in use by another process; set PORT to a free port/);
    expect(plain.stdout).not.toContain('\x1b[');
    expect(() => readFileSync(join(dataDir, 'pglite', 'PG_VERSION'))).toThrow();
    const coloured = await runCliToEnd(['run'], env);
    expect(coloured.stdout).toContain('\x1b[');
  });

  it("a live /metrics passes promtool's lint; then run | head: the collector exits once its output is gone", async () => {
    const run = runCli(['run'], { PORT: '0', DATA_DIR: tempDir(), SIM_RATE: '500' });
    const http = await run.waitForLog((l) => l.component === 'http', 'the health server line');
    await run.waitForLog((l) => l.event === 'feed.subscribed', 'feed subscribed');
    await run.waitForLog((l) => l.component === 'progress', 'a progress line');
    const text = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
    expect(text).toMatch(/^tick_collector_symbol_last_trade_timestamp_seconds\{symbol="AAPL"\} /m);
    expect(text).toMatch(/^tick_collector_feed_lag_seconds_count [1-9]/m);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.error, 'promtool (Debian package prometheus) must be installed').toBeUndefined();
    const ours = `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.includes('tick_collector_'));
    expect(ours).toEqual([]);

    run.proc.stdout!.destroy(); // the reader went away, as head does after its lines
    const exit = await run.exited;
    expect(exit.code).toBe(0);
  }, 120_000);
});
