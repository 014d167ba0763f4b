// The page as a person sees it, in a real headless Chromium against a real collector (the CLI as a child
// process, embedded PGlite, the simulated feed): the chart drawn with candles (the library's data and the
// canvas pixels), the symbols and the market state, live candles without a reload, the symbol and kind
// switches, a gap band after an outage of the feed, no console error, no request but to the collector.
// Set WEB_SCREENSHOT_DIR to keep screenshots (the README's is made so), WEB_MEASURE=1 to print the numbers.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchChromium, type Page } from '../helpers/chromium.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/pg.js';

const shots = process.env.WEB_SCREENSHOT_DIR;
if (shots) mkdirSync(shots, { recursive: true });

async function startCollector(env: NodeJS.ProcessEnv): Promise<{ run: CliRun; base: string }> {
  const run = runCli(['run'], { PORT: '0', ...env });
  const listening = await run.waitForLog((l) => l.component === 'http' && typeof l.port === 'number', 'http');
  return { run, base: `http://127.0.0.1:${listening.port as number}` };
}

async function stop(run: CliRun | undefined): Promise<void> {
  if (!run || run.proc.exitCode !== null) return;
  run.proc.kill('SIGINT');
  await run.exited;
}

/** Pixels of the chart's canvases close to the given CSS colour variables (what the eye sees drawn). */
function pixelsLike(page: Page, vars: string[], rows?: [number, number]): Promise<number> {
  return page.evaluate<number>(`(() => {
    const css = getComputedStyle(document.documentElement);
    const probe = document.createElement('canvas').getContext('2d');
    const targets = ${JSON.stringify(vars)}.map((v) => {
      // Over the page background, as a translucent colour shows on the chart.
      probe.fillStyle = css.getPropertyValue('--bg').trim(); probe.fillRect(0, 0, 1, 1);
      probe.fillStyle = css.getPropertyValue(v).trim(); probe.fillRect(0, 0, 1, 1);
      return [...probe.getImageData(0, 0, 1, 1).data.slice(0, 3)];
    });
    let n = 0;
    for (const c of document.querySelectorAll('#chart canvas')) {
      if (c.width < 200 || c.height < 100) continue;
      const y0 = ${rows ? rows[0] : 0}, y1 = ${rows ? rows[1] : 'c.height'};
      const d = c.getContext('2d').getImageData(0, y0, c.width, y1 - y0).data;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] < 200) continue;
        for (const t of targets) {
          if (Math.abs(d[i] - t[0]) + Math.abs(d[i + 1] - t[1]) + Math.abs(d[i + 2] - t[2]) < 40) { n++; break; }
        }
      }
    }
    return n;
  })()`);
}

const info = (page: Page) =>
  page.evaluate<{
    candles: number;
    points: number;
    bands: number;
    bandsVisible: number;
    lastMs: number | null;
    updates: number;
  }>('tickCollector.chart.info()');

function onlyCollector(page: Page, base: string): string[] {
  return [...page.requests.values()].map((r) => r.url).filter((u) => new URL(u).origin !== base);
}

describe('the web page in Chromium', () => {
  let browser: Browser;
  const dirs: string[] = [];
  const runs: CliRun[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.allSettled(runs.map(stop));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('local mode with nothing configured: chart, symbols, market, live updates, switches', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tc-web-'));
    dirs.push(dataDir);
    const { run, base } = await startCollector({ DATA_DIR: dataDir });
    runs.push(run);
    const page = await browser.newPage(1280, 1000);
    await page.goto(`${base}/`);

    // The chart, drawn: the library holds candles and the canvas shows their colours.
    await page.waitFor('Number(document.body.dataset.candles) >= 3', 30_000, 'candles on the chart');
    const firstChartMs = Number(await page.evaluate('document.body.dataset.firstChartMs'));
    const weight = [...page.requests.values()]
      .filter((r) => r.finished)
      .reduce((a, r) => a + r.encodedBytes, 0);
    expect(await pixelsLike(page, ['--up', '--down'])).toBeGreaterThan(200);

    // The symbols (SYMBOLS' default) with the first selected, and the market state in both zones.
    const symbols = await page.evaluate<string[]>(
      `[...document.querySelectorAll('#symbol option')].map((o) => o.value)`,
    );
    expect(symbols).toEqual(['AAPL', 'MSFT', 'NVDA', 'AMZN', 'TSLA']);
    expect(await page.evaluate('document.getElementById("symbol").value')).toBe('AAPL');
    const market = await page.evaluate<string>('document.getElementById("market").innerText');
    expect(market).toMatch(/Open|Closed/);
    expect(market).toMatch(/Next (open|close): .*New York/);
    expect(await page.evaluate('document.getElementById("feed").innerText')).toMatch(/subscribed/i);

    // Live: newer candles arrive over the stream within 8 s, with no reload.
    await page.evaluate('window.__sameDocument = true');
    const before = await info(page);
    await page.waitFor(
      `tickCollector.chart.info().lastMs > ${before.lastMs} && tickCollector.chart.info().updates > ${before.updates}`,
      8_000,
      'a live candle',
    );
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    if (shots) writeFileSync(join(shots, 'local-light.png'), await page.screenshot());

    // The symbol switch.
    await page.evaluate(`(() => { const s = document.getElementById('symbol'); s.value = 'MSFT';
      s.dispatchEvent(new Event('change')); })()`);
    await page.waitFor(
      `document.getElementById('legend').textContent.startsWith('MSFT') && tickCollector.chart.info().candles > 0`,
      10_000,
      'MSFT candles',
    );
    expect(await page.evaluate('location.search')).toContain('symbol=MSFT');
    const msft = await page.evaluate<string[]>(
      '[...new Set(tickCollector.chart.points.map((p) => p.candle?.symbol).filter(Boolean))]',
    );
    expect(msft).toEqual(['MSFT']);

    // The kind switch: 100-tick candles.
    await page.evaluate(`document.querySelector('#kinds button[data-kind="100t"]').click()`);
    await page.waitFor(
      `tickCollector.kind === '100t' && tickCollector.chart.info().candles > 0 && /#\\d+/.test(document.getElementById('legend').textContent)`,
      15_000,
      '100-tick candles',
    );
    expect(await pixelsLike(page, ['--up', '--down'])).toBeGreaterThan(50);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);

    // The 1-minute bars (from candles_1m): drawn at their minutes, kept current as seconds close.
    await page.evaluate(`document.querySelector('#kinds button[data-kind="1m"]').click()`);
    await page.waitFor(
      `tickCollector.kind === '1m' && tickCollector.chart.info().candles > 0 && document.getElementById('legend').textContent.startsWith('MSFT')`,
      15_000,
      '1-minute bars',
    );
    const kinds = await page.evaluate<string[]>(
      `[...document.querySelectorAll('#kinds button')].map((b) => b.getAttribute('data-kind'))`,
    );
    expect(kinds).toEqual(['1s', '100t', '1m', '5m', '1h', '1d']);
    const bars = await page.evaluate<{ kind: string; bucket: number }[]>(
      'tickCollector.chart.points.map((p) => p.candle)',
    );
    expect(bars.length).toBeGreaterThan(0);
    for (const b of bars)
      expect(b).toMatchObject({ kind: '1m', bucket: Math.floor(b.bucket / 60_000) * 60_000 });
    expect(await pixelsLike(page, ['--up', '--down'])).toBeGreaterThan(20);
    // Live: the newest bar is read again while its seconds come in (its volume grows).
    const lastBar = await page.evaluate<{ bucket: number; volume: number }>(
      'tickCollector.chart.lastCandle()',
    );
    await page.waitFor(
      `(() => { const c = tickCollector.chart.lastCandle(); return c.bucket > ${lastBar.bucket} || c.volume > ${lastBar.volume}; })()`,
      10_000,
      'the newest bar updated',
    );
    expect(await page.evaluate('location.search')).toContain('kind=1m');
    if (shots) writeFileSync(join(shots, 'local-1m.png'), await page.screenshot());
    expect(await page.evaluate('window.__sameDocument')).toBe(true);

    // Older candles load as the view nears the first one (scrolling back): with 5 per read the page reads
    // back past the latest 5 (the API's answer now) on its own, as a short chart fills its width.
    type Read = { candles: { bucket: number }[]; more: boolean };
    let latest5: Read;
    for (;;) {
      // At least 10 candles stored, so there is something older than the latest 5.
      const r = (await (await fetch(`${base}/api/candles?symbol=AAPL&limit=10`)).json()) as Read;
      if (r.candles.length === 10) {
        latest5 = (await (await fetch(`${base}/api/candles?symbol=AAPL&limit=5`)).json()) as Read;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const back = await browser.newPage(1280, 800);
    await back.goto(`${base}/?limit=5`);
    await back.evaluate('tickCollector.chart?.chart.timeScale().scrollToPosition(-200, false)');
    await back.waitFor(
      `(tickCollector.chart?.firstMs() ?? Infinity) < ${latest5.candles[0]!.bucket}`,
      10_000,
      'older candles after scrolling back',
    );
    // A candle of volume-only trades (no price): a volume bar and whitespace in the candles, and the price
    // scale nowhere near zero.
    const drawnZero = await back.evaluate<{
      bar: unknown;
      volume: number | null;
      zeroY: number | null;
      height: number;
    }>(`(() => {
      const ch = tickCollector.chart;
      const last = ch.lastCandle();
      const c = { ...last, bucket: last.bucket + 1000, open: null, high: null, low: null, close: null, volume: 777 };
      ch.upsert([c]);
      const x = Math.floor(c.bucket / 1000);
      if (!ch.points.some((p) => p.x === x && p.candle === c)) throw new Error('not on the time scale');
      const bar = ch.candles.data().find((d) => d.time === x);
      const vol = ch.volume.data().find((d) => d.time === x);
      return { bar, volume: vol ? vol.value : null, zeroY: ch.candles.priceToCoordinate(0),
        height: document.getElementById('chart').clientHeight };
    })()`);
    // Whitespace: no bar at that time (the library may leave whitespace out of data() altogether).
    expect(drawnZero.bar === undefined || !Object.hasOwn(drawnZero.bar as object, 'open')).toBe(true);
    expect(drawnZero.volume).toBe(777);
    expect(drawnZero.zeroY === null || drawnZero.zeroY > drawnZero.height).toBe(true);
    expect(back.errors).toEqual([]);

    expect(page.errors).toEqual([]);
    expect(onlyCollector(page, base)).toEqual([]);
    const line = `web page: first load ${weight} bytes transferred, first chart ${firstChartMs} ms after navigation`;
    console.log(line);
    if (process.env.WEB_MEASURE) writeFileSync(join(dataDir, '..', 'tc-web-measure.txt'), `${line}\n`);
  }, 120_000);

  it('shades a gap after an outage of the feed, live', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tc-web-gap-'));
    dirs.push(dataDir);
    const simPort = await freePort();
    const simArgs = ['sim', '--port', String(simPort), '--rate', '300'];
    let sim = runCli(simArgs);
    runs.push(sim);
    await sim.waitForLog((l) => typeof l.url === 'string' && String(l.msg).includes('simulated'), 'sim');
    const { run, base } = await startCollector({
      DATA_DIR: dataDir,
      EODHD_WS_URL: `ws://127.0.0.1:${simPort}/ws/us`,
      EODHD_API_TOKEN: 'any',
      SKIP_MARKET_HOURS: 'true',
      SYMBOLS: 'AAPL,MSFT',
      RECONNECT_BASE_MS: '200',
      RECONNECT_MAX_MS: '1000',
    });
    runs.push(run);
    const page = await browser.newPage(1280, 1000);
    await page.goto(`${base}/`);
    await page.waitFor('Number(document.body.dataset.candles) >= 5', 30_000, 'candles');
    // Before the outage at most the start's gap (start-up until the first confirmed trade).
    expect((await info(page)).bands).toBeLessThanOrEqual(1);
    expect(await page.evaluate("tickCollector.gaps.filter((g) => g.reason !== 'start').length")).toBe(0);
    await page.evaluate('window.__sameDocument = true');

    // The outage: the feed's server goes away for a few seconds, then comes back on the same port.
    await stop(sim);
    await new Promise((r) => setTimeout(r, 4_000));
    sim = runCli(simArgs);
    runs.push(sim);
    await sim.waitForLog(
      (l) => typeof l.url === 'string' && String(l.msg).includes('simulated'),
      'sim again',
    );

    // The outage's gap (also the start's, until the first confirmed trade). Gaps are derived from coverage:
    // the row appears once the database has confirmed the candles after the outage and the ledger derived it.
    const outage = "tickCollector.gaps.find((g) => g.reason !== 'start' && g.endedAt - g.startedAt >= 3000)";
    await page.waitFor(
      `tickCollector.chart.info().bands >= 1 && tickCollector.chart.info().bandsVisible >= 1 && !!${outage}`,
      45_000,
      'a gap band',
    );
    // Drawn: the band's top edge in the gap colour, across the seconds the feed was down.
    await page.waitFor(`tickCollector.chart.info().lastMs > ${outage}.endedAt`, 10_000, 'candles after');
    expect(await pixelsLike(page, ['--gap-edge'], [0, 3])).toBeGreaterThan(20);
    const gap = await page.evaluate<{ startedAt: number; endedAt: number }>(outage);
    expect(gap.endedAt - gap.startedAt).toBeGreaterThanOrEqual(3_000);
    expect(await page.evaluate('document.getElementById("gaps").innerText')).toMatch(/all symbols/);
    // One count: the Today card says as many gaps as the list beside the chart shows (the outage included).
    await page.waitFor(
      `tickCollector.todayGaps?.some((g) => g.reason !== 'start' && g.endedAt - g.startedAt >= 3000) &&
       Number.parseInt(document.getElementById('gaps-today').textContent, 10) === Number(document.body.dataset.gapsListed)`,
      45_000,
      'the Today card and the list to agree on the outage',
    );
    expect(Number(await page.evaluate('document.body.dataset.gapsListed'))).toBeGreaterThanOrEqual(2);
    // Not local mode, with --skip-market-hours: the market card says hours are ignored.
    expect(await page.evaluate(`document.getElementById('hours-ignored')?.textContent ?? ''`)).toMatch(
      /market hours ignored \(--skip-market-hours\)/,
    );
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    if (shots) {
      writeFileSync(join(shots, 'gap-light.png'), await page.screenshot());
      await page.setColorScheme('dark');
      await new Promise((r) => setTimeout(r, 500));
      writeFileSync(join(shots, 'gap-dark.png'), await page.screenshot());
    }
    expect(page.errors).toEqual([]);
    expect(onlyCollector(page, base)).toEqual([]);
  }, 120_000);
});
