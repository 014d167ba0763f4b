// Headroom on one socket (npx tsx bench/headroom.bench.ts [rate]; default 2,000,000 offered): 50 symbols fed
// flat out by bench/loadGenChild.ts (it offers more than any client here takes; a reader that falls behind
// is skipped, never buffered without bound), in one run: a bare client (a `ws` socket that JSON.parses and
// counts every frame: the floor any client pays) and the real daemon with every duty on (the coverage
// ledger, publishing to a private NATS; bench/daemon.ts). One JSON line each, and a last line with the
// collector's share of the bare client's trades per second (the floor: 0.9).
import WebSocket from 'ws';
import { runDaemon, startLoadGen, startNats } from './daemon.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SYMBOLS = Array.from({ length: 50 }, (_, i) => `S${String(i).padStart(4, '0')}`);
const rate = Number(process.argv[2] ?? 2_000_000);

const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bare(url: string): Promise<number> {
  let n = 0;
  const ws = new WebSocket(`${url}?api_token=bench`, { perMessageDeflate: false });
  ws.on('message', (d) => {
    const m = JSON.parse((d as Buffer).toString('utf8')) as { s?: string };
    if (m.s !== undefined) n++;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ action: 'subscribe', symbols: SYMBOLS.join(',') }));
      resolve();
    });
  });
  await sleep(3_000); // streaming, past the first burst
  const n0 = n;
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const perSec = Math.round((n - n0) / ((performance.now() - t0) / 1000));
  ws.terminate();
  emit({
    bench: 'headroom',
    client: 'bare',
    rate,
    symbols: SYMBOLS.length,
    seconds: SECONDS,
    takenPerSec: perSec,
  });
  return perSec;
}

const { child, url: feedUrl } = await startLoadGen(rate);
const nats = await startNats();
try {
  const floor = await bare(feedUrl);
  await sleep(2_000); // the generator's backlog for the bare socket is gone
  const r = await runDaemon({
    feedUrl,
    symbols: SYMBOLS,
    seconds: SECONDS,
    natsUrl: nats.url,
    label: 'headroom',
    gen: child,
    natsPid: nats.pid,
  });
  emit({ bench: 'headroom', client: 'collector', rate, symbols: SYMBOLS.length, seconds: SECONDS, ...r });
  emit({
    bench: 'headroom',
    client: 'ratio',
    collectorOverBare: Math.round(((r.takenPerSec as number) / floor) * 1000) / 1000,
    floor: 0.9,
  });
} finally {
  child.disconnect();
  await nats.stop();
}
