// The publisher in its worker thread, as the collector runs it on a server: committed candles reach the
// stream from the worker's own connection, its stats and log lines come back to this thread, a worker that
// dies is started again with nothing lost or stored twice, and stop() publishes what was committed first.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PublisherThread } from '../../src/publish/thread.js';
import { Sink } from '../../src/store/sink/sink.js';
import { captureLog } from '../helpers/logCapture.js';
import { deleteStreams, type NatsServer, readStream, startNatsServer } from '../helpers/nats.js';
import { type PrivateCluster, pgTestDb, startPrivateCluster, type TestDb, waitFor } from '../helpers/pg.js';
import { sec } from '../store/candles.js';
import { latestBy, rowsAsMessages } from './streamCheck.js';

vi.setConfig({ testTimeout: 90_000 });

// A private cluster: the outbox waits for open transactions in its database (see publish.test.ts).
let cluster: PrivateCluster;
let db: TestDb;
let nats: NatsServer;
let dataDir: string;

beforeAll(async () => {
  cluster = await startPrivateCluster({ ssl: false });
  db = await pgTestDb('pubthread', cluster.url);
  nats = await startNatsServer();
  dataDir = mkdtempSync(join(tmpdir(), 'tc-pubthread-'));
});
// One stream at a time on the server (their subjects overlap).
afterEach(() => deleteStreams(nats.url));
afterAll(async () => {
  await nats?.close();
  await db?.close();
  cluster?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

async function setup(stream: string, url = nats.url) {
  const { log, lines } = captureLog('info');
  const pub = await PublisherThread.start(
    {
      url,
      stream,
      maxAgeMs: 86_400_000,
      allShards: [0],
      minuteEveryMs: 0,
      minuteSettleMs: 3_000,
      held: null,
      pool: { url: cluster.url, searchPath: db.schema, max: 1, applicationName: 'pubthread' },
      logLevel: 'info',
    },
    null,
    log,
    db.admin,
  );
  const sink = new Sink({ pool: db.pool({ max: 2 }), dataDir: join(dataDir, stream), flushMs: 20 });
  sink.onCommit((n) => pub.notice(n));
  return { pub, sink, lines };
}

describe('the publisher thread', () => {
  it('publishes what the sink commits, reports its stats here, and stop() leaves nothing committed behind', async () => {
    const { pub, sink } = await setup('THREADA');
    for (let i = 0; i < 3; i++) sink.push(sec('AAPL', i));
    await waitFor(() => pub.stats.published >= 4, 'three seconds and their minute on the stream');
    expect(pub.stats.state).toBe('publishing');
    // Collecting first: the worker's thread runs at nice 10 (setPriority sets it, not adds to it), above
    // the main thread's (the feed's), which keeps the process's own.
    const nice = (tid: string) => {
      const s = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const tids = readdirSync('/proc/self/task');
    expect(tids.filter((t) => nice(t) === 10).length).toBe(1);
    expect(nice(String(process.pid))).toBeLessThan(10);
    sink.push(sec('MSFT', 0));
    await sink.stop(2_000); // committed: the stop must publish it, however the rounds fall
    await pub.stop(3_000);
    expect(pub.stats.state).toBe('stopped');
    const msgs = await readStream(nats.url, 'THREADA');
    expect(latestBy(msgs)).toEqual(await rowsAsMessages(db.admin));
    expect(pub.stats.published).toBe(msgs.length);
  });

  it("the worker's log lines reach this thread's logger", async () => {
    const { pub, sink, lines } = await setup('THREADB', 'nats://127.0.0.1:1');
    await waitFor(
      () => lines.some((l) => l.component === 'publish' && l.level === 'warn' && /NATS/.test(l.msg)),
      'the warning that NATS does not answer',
    );
    expect(pub.stats.state).not.toBe('publishing');
    await sink.stop(2_000);
    await pub.stop(500);
  });

  it('a worker that dies is started again and the stream goes on from the stored position', async () => {
    const { pub, sink, lines } = await setup('THREADC');
    sink.push(sec('IBM', 0));
    await waitFor(() => pub.stats.published >= 2, 'the first second and its minute');
    const worker = (pub as unknown as { worker: Worker }).worker;
    await worker.terminate();
    await waitFor(() => pub.stats.state === 'down', 'the thread is seen gone');
    expect(lines.some((l) => l.level === 'error' && /publisher thread ended/.test(l.msg))).toBe(true);
    sink.push(sec('IBM', 1));
    await waitFor(() => pub.stats.published >= 4, 'the restarted worker published the next second');
    await sink.stop(2_000);
    await pub.stop(3_000);
    const msgs = await readStream(nats.url, 'THREADC');
    expect(new Set(msgs.map((m) => m.msgId)).size).toBe(msgs.length);
    expect(latestBy(msgs)).toEqual(await rowsAsMessages(db.admin, 'IBM'));
  });
});
