// The page's life around the collector's, in a real headless Chromium against the real CLI: served from the
// moment the health port listens (before the database is open), fitted to its candles, one gap count, the
// VWAP line and named axes; and, once the collector stops, "unreachable, since when" within 2 s with what
// it can no longer vouch for greyed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchChromium, type Page } from '../helpers/chromium.js';
import { type CliRun, runCli } from '../helpers/cli.js';

// WEB_SCREENSHOT_DIR keeps screenshots (fitted chart, unreachable).
const shots = process.env.WEB_SCREENSHOT_DIR;
if (shots) mkdirSync(shots, { recursive: true });

const info = (page: Page) =>
  page.evaluate<{
    candles: number;
    points: number;
    fitted: boolean;
    span: number;
    vwapPoints: number;
    lastMs: number | null;
  }>('tickCollector.chart.info()');

/** Where the first and last candles are drawn, as shares of the plot's width. */
const placement = (page: Page) =>
  page.evaluate<{ first: number; last: number; n: number; width: number }>(`(() => {
    const ts = tickCollector.chart.chart.timeScale();
    const n = tickCollector.chart.points.length;
    return { first: ts.logicalToCoordinate(0) / ts.width(), last: ts.logicalToCoordinate(n - 1) / ts.width(),
      n, width: ts.width() };
  })()`);

describe('the page from start to stop', () => {
  let browser: Browser;
  const dirs: string[] = [];
  const runs: CliRun[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const r of runs) if (r.proc.exitCode === null) r.proc.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('answers at once, fits its chart, counts gaps once, and says when the collector is gone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tc-page-life-'));
    dirs.push(dataDir);
    const run = runCli(['run'], { PORT: '0', DATA_DIR: dataDir });
    runs.push(run);
    // The line printed as the port binds, before the database opens: the page must answer now, not 503.
    const bound = await run.waitForLog((l) => typeof l.page === 'string', 'the page line');
    const base = String(bound.page).replace(/\/$/, '');
    const first = await fetch(`${base}/`);
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('<div id="chart">');
    const meta = (await (await fetch(`${base}/api/meta`)).json()) as { symbols: string[] };
    expect(meta.symbols).toEqual(['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA']);
    // Whatever /api/state says now (starting or up), it is a state the page can draw.
    const state = (await (await fetch(`${base}/api/state`)).json()) as {
      health: { market: { nextOpen: string | null } };
    };
    expect(state.health.market.nextOpen).not.toBeNull();

    const page = await browser.newPage(1280, 1000);
    await page.goto(`${base}/`);
    await page.waitFor('Number(document.body.dataset.candles) >= 3', 30_000, 'candles on the chart');
    if (shots) writeFileSync(join(shots, 'fitted-few.png'), await page.screenshot());
    expect(page.errors).toEqual([]);

    // Fitted: the candles start at the plot's left edge, not squeezed against the right one.
    const p = await placement(page);
    expect((await info(page)).fitted).toBe(true);
    expect(p.first).toBeLessThan(0.1);
    // Once there are enough to fill the plot at the widest bar, they span it.
    await page.waitFor(
      `tickCollector.chart.points.length * 80 >= tickCollector.chart.chart.timeScale().width()`,
      60_000,
      'enough candles to fill the plot',
    );
    const full = await placement(page);
    expect(full.first).toBeLessThan(0.1);
    expect(full.last).toBeGreaterThan(0.8);

    // Axes named: price, volume and the time zone.
    const frame = await page.evaluate<string>(`document.querySelector('.chart-frame').innerText`);
    expect(frame).toMatch(/Price \(USD\)/);
    expect(frame).toMatch(/Volume/);
    expect(frame).toMatch(/Time: New York time \(America\/New_York\)/);

    // The VWAP line, on request.
    expect(await page.evaluate('tickCollector.chart.vwap.options().visible')).toBe(false);
    await page.evaluate(`document.getElementById('vwap').click()`);
    expect(await page.evaluate('tickCollector.chart.vwap.options().visible')).toBe(true);
    expect((await info(page)).vwapPoints).toBeGreaterThan(0);
    expect(await page.evaluate('location.search')).toContain('vwap=1');
    if (shots) writeFileSync(join(shots, 'fitted-vwap.png'), await page.screenshot());

    // A kind switch fits again.
    await page.evaluate(`document.querySelector('#kinds button[data-kind="100t"]').click()`);
    await page.waitFor(
      `tickCollector.kind === '100t' && tickCollector.chart.info().candles > 0`,
      15_000,
      '100-tick candles',
    );
    expect((await placement(page)).first).toBeLessThan(0.1);
    expect(await page.evaluate(`document.getElementById('axis-time').textContent`)).toMatch(/100 trades/);

    // One count: the Today card's number is the length of the list beside the chart (the start's own
    // partial second is a gap already).
    await page.waitFor('document.body.dataset.gapsListed !== undefined', 10_000, 'the gap list');
    const counted = await page.evaluate<{ card: string; listed: string; items: number }>(`({
      card: document.getElementById('gaps-today').textContent,
      listed: document.body.dataset.gapsListed,
      items: document.querySelectorAll('#gaps li:not(.muted)').length })`);
    expect(Number.parseInt(counted.card, 10)).toBe(Number(counted.listed));
    expect(counted.items).toBe(Number(counted.listed));
    expect(Number(counted.listed)).toBeGreaterThanOrEqual(1);

    // The collector stops: within 2 s the page says so, since when, and greys what it showed.
    expect(await page.evaluate('document.body.dataset.reachable')).toBe('true');
    run.proc.kill('SIGINT');
    await run.exited;
    const exitedAt = Date.now();
    await page.waitFor(`document.body.dataset.reachable === 'false'`, 5_000, 'unreachable shown');
    const noticedAt = Number(await page.evaluate('document.body.dataset.unreachableAt'));
    // The page noticed when its stream ended, before the process had even finished exiting.
    expect(noticedAt - exitedAt).toBeLessThan(2_000);
    const shown = await page.evaluate<{ banner: string; stale: boolean; pill: string; opacity: string }>(`({
      banner: document.getElementById('reach').innerText,
      stale: document.body.classList.contains('stale'),
      pill: document.getElementById('status').textContent,
      opacity: getComputedStyle(document.querySelector('.cards')).opacity })`);
    expect(shown.banner).toMatch(/Collector unreachable since \d\d:\d\d:\d\d/);
    expect(shown.stale).toBe(true);
    expect(shown.pill).toBe('unreachable');
    expect(Number(shown.opacity)).toBeLessThan(1);
    if (shots) writeFileSync(join(shots, 'unreachable.png'), await page.screenshot());
  }, 180_000);
});
