// The publisher's worker thread: outbox reads, payloads and the NATS client off the feed's thread.
// The publisher's worker thread: reads the outbox, builds the payloads and talks to NATS on its own core,
// so none of it runs on the thread that reads the feed's sockets. It opens its own database connection;
// the main thread sends commit wake-ups, the shards it holds and gaps as they open, and gets the stats
// back every 200 ms and its log lines as they come.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { createPool, endPool } from '../store/db/connection.js';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.js';
import { Publisher, type PublishShard } from './publisher.js';

const port = parentPort;
if (!port) throw new Error('the publisher worker must run in a worker thread');
const setup = workerData as WorkerSetup;
const send = (m: FromWorker) => port.postMessage(m);

const log = pino(
  {
    level: setup.logLevel,
    base: undefined,
    timestamp: false,
    formatters: { level: (label: string) => ({ level: label }) },
  },
  { write: (line: string) => send({ t: 'log', line }) },
);
// Collecting first: on Linux a thread has its own nice value, and this one's is raised to 10, so when the
// cores are short the thread that reads the feed runs first and the stream waits (it catches up from the
// outbox). Elsewhere the call fails and the thread keeps the process's priority.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
} catch (err) {
  log.debug({ err: String(err) }, 'the publisher thread keeps its priority (no per-thread nice here)');
}
const pool = createPool({ ...setup.pool, log });
let held: readonly PublishShard[] = setup.held ?? [{ key: 0, symbols: null }];
const publisher = new Publisher({
  url: setup.url,
  stream: setup.stream,
  maxAgeMs: setup.maxAgeMs,
  pool,
  held: () => held,
  allShards: setup.allShards,
  minuteEveryMs: setup.minuteEveryMs,
  minuteSettleMs: setup.minuteSettleMs,
  log,
});
const stats = setInterval(() => send({ t: 'stats', stats: publisher.stats }), 200);

port.on('message', (m: ToWorker) => {
  if (m.t === 'committed') publisher.committed(m.rows);
  else if (m.t === 'held') held = m.shards;
  else if (m.t === 'gapOpened') publisher.gapOpened(m.symbols, m.at, m.reason);
  else if (m.t === 'stop') {
    void publisher.stop(m.deadlineMs).finally(async () => {
      clearInterval(stats);
      await endPool(pool).catch(() => undefined);
      send({ t: 'stopped', stats: publisher.stats });
      port.close();
    });
  }
});
