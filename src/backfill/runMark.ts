// The durable run mark (docs/ARCHITECTURE.md "Gaps and backfill"): a row the running collector updates about
// every second with the instant before which every candle is in the database. The next start reads it: a run
// that did not stop cleanly lost what it held in memory, so the ledger gets a gap from its mark to this run's
// first subscription; a start after the session's open (daemon or database late, or a restart after a clean
// stop mid-session) gets a gap from the open (or that stop) to the first subscription.
import type pg from 'pg';
import { etDate, type Session, sessionOn } from '../calendar/index.js';
import type { Clock } from '../clock.js';
import type { ConnectionStats } from '../feed/stats.js';
import type { Logger } from '../log/logger.js';
import type { FeedGap } from '../store/writeGaps.js';

export interface RunMarkDeps {
  pool: pg.Pool;
  clock: Clock;
  log: Logger;
  symbols: readonly string[];
  /** The sink's counters: rows pushed so far, rows still in memory. */
  sink: { rowsPushed: number; bufferedRows: number };
  connections: () => readonly ConnectionStats[];
  /** How long a trade can sit in the aggregators before its candle is pushed (interval + grace + a flush). */
  holdMs: number;
  /** The session in progress at an instant (null: none, or SKIP_MARKET_HOURS). */
  sessionAt: (now: number) => Session | null;
  tailMs: number;
  skipMarketHours: boolean;
  pushGap: (g: FeedGap) => void;
  everyMs?: number;
  name?: string;
}

export interface RunMark {
  /**
   * The feed has stopped (shutdown): while collecting, trades are missed from now on, so the ledger gets a
   * gap from this instant (the next start extends it to its first subscription). Call before the sink drains.
   */
  stopping(): void;
  /** Stops the updates; `clean` records a clean stop at the stopping() instant. Idempotent. */
  stop(clean: boolean): Promise<void>;
}

interface Prev {
  mark: number;
  clean: boolean;
  symbols: string[];
}

export async function startRunMark(d: RunMarkDeps): Promise<RunMark> {
  const { pool, clock } = d;
  const name = d.name ?? 'collector';
  const log = d.log.child({ component: 'backfill' });
  const r = await pool.query<{ mark_ms: string; clean_stop: boolean; symbols: string[] }>(
    `SELECT (extract(epoch FROM mark_at) * 1000)::text AS mark_ms, clean_stop, symbols
     FROM collector_marks WHERE name = $1`,
    [name],
  );
  const row = r.rows[0];
  const prev: Prev | null = row
    ? { mark: Math.round(Number(row.mark_ms)), clean: row.clean_stop, symbols: row.symbols }
    : null;
  const startedAt = clock.now();
  let mark = startedAt;
  await pool.query(
    `INSERT INTO collector_marks (name, started_at, mark_at, symbols, clean_stop)
     VALUES ($1, to_timestamp($2 / 1000.0), to_timestamp($2 / 1000.0), $3, false)
     ON CONFLICT (name) DO UPDATE SET started_at = EXCLUDED.started_at, mark_at = EXCLUDED.mark_at,
       symbols = EXCLUDED.symbols, clean_stop = false`,
    [name, startedAt, d.symbols],
  );

  // The open gap: from `start` until each connection's first subscription.
  let pending: { start: number; reason: string } | null = null;
  const current = d.skipMarketHours ? null : d.sessionAt(startedAt);
  if (d.skipMarketHours) {
    // No calendar: whatever came before this run's first subscription may be missing (the first second it
    // sees is partial), and after an unclean stop the loss runs back to the mark.
    pending =
      prev === null
        ? { start: startedAt, reason: 'start' }
        : { start: prev.mark, reason: prev.clean ? 'restart' : 'unclean stop' };
  } else if (current !== null) {
    const from = Math.max(current.open, prev?.mark ?? Number.NEGATIVE_INFINITY);
    const after = prev !== null && prev.mark >= current.open;
    const reason = !after ? 'late start' : prev.clean ? 'restart' : 'unclean stop';
    if (startedAt > from) pending = { start: from, reason };
  } else if (prev !== null) {
    const s = sessionOn(etDate(prev.mark));
    if (s !== null && prev.mark < s.close + d.tailMs && prev.mark >= s.open) {
      // Stopped (or crashed) during a session that has ended since: the rest of it is missing. After a clean
      // stop this extends the row its stop recorded (same '*' and start).
      d.pushGap({
        symbol: '*',
        symbols: prev.symbols,
        startedAt: prev.mark,
        endedAt: Math.min(startedAt, s.close + d.tailMs),
        reason: prev.clean ? 'stopped' : 'unclean stop',
      });
    }
  }
  if (pending)
    log.warn(
      { from: new Date(pending.start).toISOString(), reason: pending.reason },
      `${pending.reason}: recording a gap from ${new Date(pending.start).toISOString()} to the first subscription`,
    );

  const done = new Set<string>();
  const samples: { at: number; pushed: number }[] = [];
  const closeGaps = () => {
    if (!pending) return;
    for (const c of d.connections()) {
      const key = c.symbols.join(',');
      if (c.subscribedAt === null || done.has(key)) continue;
      done.add(key);
      const all = c.symbols.length === d.symbols.length;
      if (c.subscribedAt > pending.start) {
        d.pushGap({
          symbol: all ? '*' : key,
          symbols: c.symbols,
          startedAt: pending.start,
          endedAt: c.subscribedAt,
          reason: pending.reason,
        });
      }
    }
    const covered = new Set([...done].flatMap((k) => k.split(',')));
    if (d.symbols.every((s) => covered.has(s))) pending = null;
  };
  const advance = () => {
    const now = clock.now();
    samples.push({ at: now, pushed: d.sink.rowsPushed });
    const settled = d.sink.rowsPushed - d.sink.bufferedRows;
    let durable: number | null = null;
    while (samples.length > 0 && samples[0]!.pushed <= settled) durable = samples.shift()!.at;
    if (durable !== null) mark = Math.max(mark, durable - d.holdMs);
  };

  const ctl = new AbortController();
  const loop = (async () => {
    while (!ctl.signal.aborted) {
      await clock.sleep(d.everyMs ?? 1_000, ctl.signal);
      if (ctl.signal.aborted) break;
      closeGaps();
      advance();
      try {
        await pool.query('UPDATE collector_marks SET mark_at = to_timestamp($2 / 1000.0) WHERE name = $1', [
          name,
          mark,
        ]);
      } catch (err) {
        log.debug({ err: String(err) }, 'run mark not updated'); // the next second tries again
      }
    }
  })();

  let stopping: Promise<void> | null = null;
  let stoppedAt: number | null = null;
  return {
    stopping() {
      if (stoppedAt !== null) return;
      const now = clock.now();
      stoppedAt = now;
      if (!d.skipMarketHours && d.sessionAt(now) === null) return; // outside a session nothing is missed
      d.pushGap({ symbol: '*', symbols: [...d.symbols], startedAt: now, endedAt: now, reason: 'stopped' });
    },
    stop(clean) {
      stopping ??= (async () => {
        ctl.abort();
        await loop;
        advance();
        await pool.query(
          'UPDATE collector_marks SET mark_at = to_timestamp($2 / 1000.0), clean_stop = $3 WHERE name = $1',
          [name, clean ? (stoppedAt ?? clock.now()) : mark, clean],
        );
      })();
      return stopping;
    },
  };
}
