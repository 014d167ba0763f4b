// The progress line: what was received and written, and the feed's lag; nothing while not collecting.
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createFeedStats, recordLag } from '../../src/feed/stats.js';
import { startProgress } from '../../src/main/progress.js';
import type { SinkStats } from '../../src/store/sink/sinkTypes.js';
import { captureLog } from '../helpers/logCapture.js';
import { until } from '../helpers/wsServer.js';

describe('progress line', () => {
  it('says trades, candles written and the lag, and only while active', async () => {
    const { log, lines } = captureLog('info');
    const feed = createFeedStats();
    feed.trades = 1234;
    feed.state = 'subscribed';
    for (const ms of [3, 4, 5, 200]) recordLag(feed.lag, ms);
    const sink = {
      rowsWritten: { candles_1s: 57, candles_100t: 12, ticks: 0, feed_gaps: 1 },
      bufferedRows: 0,
    } as unknown as SinkStats;
    let active = false;
    let asked = 0;
    const p = startProgress({
      log,
      everyMs: 5,
      clock: systemClock,
      feed,
      sink,
      active: () => {
        asked++;
        return active;
      },
    });
    try {
      // Inactive: three ticks asked, no line.
      await until(() => asked >= 3, 5_000, 'three ticks');
      expect(lines.filter((l) => l.component === 'progress')).toEqual([]);
      active = true;
      await until(() => lines.some((l) => l.component === 'progress'), 5_000, 'a progress line');
      const line = lines.find((l) => l.component === 'progress')!;
      expect(line.msg).toMatch(
        /1234 trades; written: 57 1s candles, 12 100-tick candles; lag p50 \d+ ms \/ p99 \d+ ms/,
      );
      expect(line).toMatchObject({ trades: 1234, candles1s: 57, candles100t: 12 });
      expect(line.lagP99Ms as number).toBeGreaterThanOrEqual(line.lagP50Ms as number);
    } finally {
      p.stop();
    }
  });
});
