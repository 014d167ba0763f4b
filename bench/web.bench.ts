// The web page's cost: a collector in local mode at SIM_RATE trades/s (default 1,000), its event-loop delay
// p99 (the /health 10-second windows) with no page open and then with the page open in headless Chromium
// (live stream on), plus the page's first load: bytes transferred and the time to the first drawn chart.
// Needs Debian's chromium (.ci/run installs it). Usage: npx tsx bench/web.bench.ts [--rate 1000] [--windows 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../test/helpers/chromium.js';
import { runCli } from '../test/helpers/cli.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const rate = arg('--rate', 1000);
const windows = arg('--windows', 3);
const WINDOW_MS = 10_000; // the event-loop monitor's window (src/ops/eventLoop.ts)

interface Health {
  uptimeS: number;
  feed: { trades: number };
  eventLoop: { delayP99Ms: number; maxDelayMs: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tc-web-bench-'));
  const run = runCli(['run'], { DATA_DIR: dataDir, PORT: '0', SIM_RATE: String(rate) });
  const browser = await launchChromium();
  try {
    const l = await run.waitForLog((x) => x.component === 'http' && typeof x.port === 'number', 'http');
    const base = `http://127.0.0.1:${l.port as number}`;
    const health = async () => (await (await fetch(`${base}/health`)).json()) as Health;

    // Each sample is one whole window of the monitor, read just after it rotates.
    const sample = async (phase: string) => {
      const out: number[] = [];
      for (let i = 0; i < windows; i++) {
        await sleep(WINDOW_MS);
        const h = await health();
        out.push(h.eventLoop.delayP99Ms);
        console.log(
          JSON.stringify({
            bench: 'web',
            phase,
            rate,
            window: i,
            eventLoopP99Ms: h.eventLoop.delayP99Ms,
            eventLoopMaxMs: h.eventLoop.maxDelayMs,
            trades: h.feed.trades,
            loadAvg1m: loadavg()[0],
          }),
        );
      }
      return out;
    };

    await sleep(15_000); // start-up, the embedded database's first writes, candles to show
    const closed = await sample('no page');

    const page = await browser.newPage(1280, 1000);
    await page.goto(`${base}/`);
    await page.waitFor('Number(document.body.dataset.candles) > 0', 30_000, 'the chart');
    const firstChartMs = Number(await page.evaluate('document.body.dataset.firstChartMs'));
    const requests = [...page.requests.values()];
    const bytes = requests.filter((r) => r.finished).reduce((a, r) => a + r.encodedBytes, 0);
    console.log(
      JSON.stringify({
        bench: 'web',
        phase: 'first load',
        bytesTransferred: bytes,
        requests: requests.length,
        firstChartMs,
        errors: page.errors.length,
      }),
    );
    const open = await sample('page open');
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    process.stderr.write(
      `web @ ${rate} trades/s: event-loop p99 ${median(closed)} ms without the page, ${median(open)} ms with it ` +
        `(median of ${windows} 10 s windows); first load ${bytes} bytes, first chart ${firstChartMs} ms\n`,
    );
  } finally {
    await browser.close();
    run.proc.kill('SIGINT');
    await run.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
