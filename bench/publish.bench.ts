// Publishing to NATS under the overload bench's load (npx tsx bench/publish.bench.ts [rate]; default 400000):
// the real daemon (CLI from the sources) on 5,000 symbols fed by bench/loadGenChild.ts, into a fresh
// database, twice in one run: publishing off, then on (a private nats-server with its own store). For each,
// one JSON line: trades taken per second, event-loop p99 (the worst 1-s window of /health) and max, whether
// both candle tables hold the same trades after SIGTERM (keeps up), the database's freshness (now − the end
// of the newest stored second, sampled each second), and with publishing on the latency of each 1-second
// candle at a plain NATS subscriber (arrival − the end of its second: the grace, the sink's flush, the
// round), p50/p99/max, and the publisher's counters.
import { runDaemon, startLoadGen, startNats } from './daemon.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SYMBOLS = Array.from({ length: 5_000 }, (_, i) => `S${String(i).padStart(4, '0')}`);
const rate = Number(process.argv[2] ?? 400_000);

const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

async function run(feedUrl: string, natsUrl: string | null): Promise<void> {
  const r = await runDaemon({
    feedUrl,
    symbols: SYMBOLS,
    seconds: SECONDS,
    natsUrl,
    label: natsUrl ? 'publish_on' : 'publish_off',
    gen: child,
    natsPid: natsUrl ? nats.pid : undefined,
  });
  emit({
    bench: 'publish',
    publishing: natsUrl !== null,
    rate,
    symbols: SYMBOLS.length,
    seconds: SECONDS,
    ...r,
  });
}

const { child, url: feedUrl } = await startLoadGen(rate);
const nats = await startNats();
try {
  await run(feedUrl, null);
  await run(feedUrl, nats.url);
} finally {
  child.disconnect();
  await nats.stop();
}
