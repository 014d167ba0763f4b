// `tick-collector tail`, the real command against a private nats-server: from a point in time it prints the
// candles and gaps on the stream, filtered by kind and symbol, as JSON lines or readable lines.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSince } from '../../src/cli/tail.js';
import { Publisher } from '../../src/publish/publisher.js';
import { Sink } from '../../src/store/sink/sink.js';
import { runCliToEnd } from '../helpers/cli.js';
import { type NatsServer, startNatsServer } from '../helpers/nats.js';
import { pgTestDb, type TestDb, waitFor } from '../helpers/pg.js';
import { sec, T0 } from '../store/candles.js';

describe('tail', () => {
  let db: TestDb;
  let nats: NatsServer;
  let dataDir: string;
  let sink: Sink;
  let pub: Publisher;
  let since: string;

  beforeAll(async () => {
    db = await pgTestDb('tail');
    nats = await startNatsServer();
    dataDir = mkdtempSync(join(tmpdir(), 'tc-tail-'));
    sink = new Sink({ pool: db.pool({ max: 2 }), dataDir, flushMs: 20 });
    pub = new Publisher({
      url: nats.url,
      stream: 'CANDLES',
      maxAgeMs: 86_400_000,
      pool: db.pool({ max: 2 }),
      held: () => [{ key: 0, symbols: null }],
      allShards: [0],
      idleMs: 100,
      minuteEveryMs: 0, // every revision of a minute bar (the cadence has its own case)
    });
    sink.onCommit((n) => pub.notice(n));
    await waitFor(() => pub.stats.rounds > 0, 'the publisher ready');
    since = new Date().toISOString();
    sink.push(sec('BRK.B', 0));
    sink.push(sec('BRK.B', 1));
    sink.push(sec('MSFT', 0));
    sink.pushGap({ symbol: 'BRK.B', symbols: ['BRK.B'], startedAt: T0, endedAt: T0 + 2_000, reason: 'test' });
    // 3 seconds, 2 minutes, 1 gap
    await waitFor(() => pub.stats.published >= 6, 'six messages published');
  });
  afterAll(async () => {
    await sink?.stop(2_000);
    await pub?.stop(2_000);
    await nats?.close();
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = () => ({ NATS_URL: nats.url, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' });

  it("prints one symbol's candles of one kind and its gaps since a time, as JSON lines", async () => {
    const r = await runCliToEnd(
      ['tail', '--symbol', 'BRK.B', '--kind', '1s', '--since', since, '--json', '--count', '3'],
      env(),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.kind === '1s').map((l) => l.bucket)).toEqual([
      new Date(T0).toISOString(),
      new Date(T0 + 1_000).toISOString(),
    ]);
    expect(lines.find((l) => l.kind === 'gap')).toMatchObject({
      symbol: 'BRK.B',
      state: 'closed',
      reason: 'test',
    });
    expect(lines.every((l) => l.symbol === 'BRK.B')).toBe(true);
  });

  it('prints readable lines for every kind and symbol', async () => {
    const r = await runCliToEnd(['tail', '--since', '10m', '--count', '6'], env());
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(
      /^1s\s+MSFT\s+2024-07-03T14:30:00\.000Z\s+o 100 h 101 l 99 c 100\.5 v 30 n 3\s+rev 0 live$/m,
    );
    expect(out).toMatch(/^1m\s+BRK\.B\s+2024-07-03T14:30:00\.000Z .* n 6\s+rev \d+ live$/m);
    expect(out).toMatch(/^gap\s+BRK\.B\s+closed/m);
  });

  it('names a bad --since and a stream that is not there in one line', async () => {
    expect(() => parseSince('yesterday', Date.now())).toThrow(/--since/);
    expect(parseSince('15m', 1_000_000_000)).toBe(1_000_000_000 - 900_000);
    const r = await runCliToEnd(['tail', '--count', '1'], { ...env(), NATS_STREAM: 'NOPE' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^no stream NOPE at nats:\/\/127\.0\.0\.1:\d+/);
  });
});
