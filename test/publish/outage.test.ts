// NATS down: collecting and storing go on, the publisher waits, and when the server is back (on its store) the
// candles committed meanwhile go out oldest first, each once, even past JetStream's duplicate window (the
// position in PostgreSQL, not the window, keeps a catch-up from storing anything twice).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Publisher } from '../../src/publish/publisher.js';
import { STREAM_SUBJECTS } from '../../src/publish/subject.js';
import { Sink } from '../../src/store/sink/sink.js';
import { type NatsServer, readStream, startNatsServer } from '../helpers/nats.js';
import { pgliteTestDb, pgTestDb, type TestDb, waitFor } from '../helpers/pg.js';
import { sec, tick } from '../store/candles.js';
import { latestBy, rowsAsMessages } from './streamCheck.js';

describe.each(['postgres', 'pglite'] as const)('NATS outage on %s', (kind) => {
  let db: TestDb;
  let nats: NatsServer;
  let dataDir: string;

  beforeAll(async () => {
    db = kind === 'postgres' ? await pgTestDb('outage') : await pgliteTestDb();
    nats = await startNatsServer();
    dataDir = mkdtempSync(join(tmpdir(), 'tc-outage-'));
  });
  afterAll(async () => {
    await nats?.close();
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('publishes every candle committed while NATS was down, once, after it is back', async () => {
    const stream = 'OUTAGE';
    // The shortest duplicate window: the outage below outlasts it, so only the position prevents repeats.
    const nc = await connect({ servers: nats.url });
    await (await jetstreamManager(nc)).streams.add({
      name: stream,
      subjects: STREAM_SUBJECTS,
      duplicate_window: nanos(100),
    });
    await nc.close();

    const max = kind === 'pglite' ? 1 : 2;
    const sink = new Sink({ pool: db.pool({ max }), dataDir, flushMs: 20 });
    const pub = new Publisher({
      url: nats.url,
      stream,
      maxAgeMs: 86_400_000,
      pool: db.pool({ max }),
      held: () => [{ key: 0, symbols: null }],
      allShards: [0],
      idleMs: 100,
      minuteEveryMs: 0, // every revision of a minute bar (the cadence has its own case)
      publishTimeoutMs: 500,
    });
    sink.onCommit((n) => pub.notice(n));
    try {
      for (let i = 0; i < 10; i++) sink.push(sec('OUT', i));
      await waitFor(() => pub.stats.published >= 11, 'the first candles published');
      const publishedBefore = pub.stats.published;

      await nats.stop();
      // Collecting goes on: amendments, new seconds, a tick candle, all stored while NATS is down.
      sink.push(sec('OUT', 9, 7));
      for (let i = 10; i < 70; i++) sink.push(sec('OUT', i));
      sink.push(tick('OUT', 0));
      expect(await sink.candlesSettled()).toBe(true);
      await waitFor(
        () => pub.stats.state === 'down' && pub.stats.pending >= 62,
        'the publisher down, 62 pending',
      );
      const stored = await db.admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM candles_1s WHERE symbol = 'OUT'",
      );
      expect(stored.rows[0]!.n).toBe(70);
      expect(pub.stats.published).toBe(publishedBefore);

      await nats.start();
      await waitFor(() => pub.stats.state === 'publishing' && pub.stats.pending === 0, 'caught up');
      const msgs = await readStream(nats.url, stream);
      expect(latestBy(msgs)).toEqual(await rowsAsMessages(db.admin, 'OUT'));
      const ids = msgs.map((m) => m.msgId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(pub.stats.republished).toBeGreaterThanOrEqual(62);
      expect(pub.stats.duplicates).toBe(0);
      // Oldest first: the seconds committed during the outage arrive in bucket order.
      const seconds = msgs
        .filter((m) => m.subject === 'candles.1s.OUT' && m.payload.revision === 0)
        .map((m) => String(m.payload.bucket));
      expect(seconds).toEqual([...seconds].sort());
    } finally {
      await sink.stop(2_000);
      await pub.stop(2_000);
    }
  });
});
