// The automatic backfill (BACKFILL=auto): runs in the overnight wait, never while collecting.
// Each pass fills what the tick API has; a day not loaded yet (404: it is published T+1) is probed again
// every `probeMs` until it answers; a collecting session pauses the loop (a pass in progress stops between
// symbols), and it carries on after the close. Time comes from the injected clock.
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import type { BackfillResult } from './runner.js';

export interface OvernightDeps {
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
  collecting: () => boolean;
  /** One pass; `stop()` true asks it to stop between symbols. */
  pass: (stop: () => boolean) => Promise<BackfillResult>;
  /** Between probes of a day not loaded yet. Default 30 min. */
  probeMs?: number;
  /** Between looks at the ledger when nothing is left to do, and while collecting. Default 15 / 1 min. */
  idleMs?: number;
  busyMs?: number;
}

export interface OvernightStats {
  passes: number;
  filled: number;
  notLoaded: number;
  failed: number;
  lastPassAt: number | null;
  /** The API refused the key or plan: passes stopped until a restart. */
  denied: string | null;
}

export function createOvernightStats(): OvernightStats {
  return { passes: 0, filled: 0, notLoaded: 0, failed: 0, lastPassAt: null, denied: null };
}

export async function runOvernight(d: OvernightDeps, stats = createOvernightStats()): Promise<void> {
  const log = d.log.child({ component: 'backfill' });
  const stop = () => d.signal.aborted || d.collecting();
  while (!d.signal.aborted) {
    if (d.collecting() || stats.denied !== null) {
      await d.clock.sleep(d.busyMs ?? 60_000, d.signal);
      continue;
    }
    let wait = d.idleMs ?? 15 * 60_000;
    try {
      const r = await d.pass(stop);
      stats.passes++;
      stats.lastPassAt = d.clock.now();
      const n = { filled: 0, 'not-loaded': 0, refused: 0, failed: 0 };
      for (const o of r.outcomes) n[o.state]++;
      stats.filled += n.filled;
      stats.notLoaded += n['not-loaded'];
      // Refused (the tape had fewer prints than stored: nothing replaced) is tried again like a failure.
      stats.failed += n.failed + n.refused;
      if (r.denied) {
        stats.denied = r.denied;
        log.error({}, `automatic backfill stopped: ${r.denied}`);
      }
      if (r.outcomes.length > 0)
        log.info(
          n,
          `backfill pass: ${n.filled} filled, ${n['not-loaded']} not loaded yet, ${n.refused} refused (tape incomplete), ${n.failed} failed`,
        );
      // Another replica's pass holds the lock: it does the work; look again later.
      if (n['not-loaded'] > 0 || n.refused > 0 || n.failed > 0 || r.busy) wait = d.probeMs ?? 30 * 60_000;
    } catch (err) {
      log.warn({ err: String(err) }, 'backfill pass failed; trying again later');
      wait = d.probeMs ?? 30 * 60_000;
    }
    // Wake early when a session starts: the loop must not hold anything while collecting.
    const until = d.clock.now() + wait;
    while (!d.signal.aborted && !d.collecting() && d.clock.now() < until) {
      await d.clock.sleep(Math.min(d.busyMs ?? 60_000, until - d.clock.now()), d.signal);
    }
  }
}
