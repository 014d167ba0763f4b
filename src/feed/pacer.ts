// Backpressure on the feed's sockets.
// Frames are handled synchronously as they arrive, so without a bound one event-loop turn reads whatever the
// kernel holds (libuv reads up to 32 × 64 KB per socket, and every ready socket in the same turn): offered
// more than it can take, the loop stalled for seconds, timers (candle flushes, the sink, /health) waited
// behind it and the backlog grew in memory. Two rules, both pausing every socket of the feed (ws pause(): the
// TCP socket stops reading, the data waits in the kernel and upstream, so memory stays bounded and nothing
// received is dropped):
//  - loop: a turn that has spent turnBudgetMs on frames pauses reading until the next turn (setImmediate),
//    so the timers run at least that often. Sockets resume starting after the one that used up the budget:
//    a resumed socket first flows what it had buffered (on nextTick, in resume order), so a fixed order let
//    the first sockets spend every budget and starved the last ones (no trade, no pong: "dead" in 30 s);
//  - sink: while the sink's backlog is above half its buffer, reading stays paused until it is below a
//    quarter (looked at every holdCheckMs).
// What it costs is counted (pauses, paused time) and shows as feed lag: the trades wait, they are not lost.
import type { Clock } from '../clock.js';
import type { FeedStats } from './stats.js';

export interface Pausable {
  pause(): void;
  resume(): void;
}

export interface PacerOptions {
  turnBudgetMs: number;
  holdCheckMs: number;
  /** The sink's backlog as a fraction of its buffer (0 = empty); no function = never held. */
  backlog?: () => number;
  clock: Clock;
  stats: FeedStats;
  /** Ends the hold loop. */
  signal: AbortSignal;
  /** Work time (ms, monotonic) for the turn budget: CPU spent, not the feed's clock. */
  workNow?: () => number;
}

/** Reading holds above this backlog fraction and resumes below the low mark (hysteresis: no flapping). */
export const HOLD_HIGH = 0.5;
export const HOLD_LOW = 0.25;
/** Look at the clock and the backlog every this many frames: cheap on the hot path. */
const CHECK_EVERY = 16;

export class Pacer {
  private readonly sockets = new Set<Pausable>();
  private readonly workNow: () => number;
  private turnStart = -1;
  private frames = 0;
  private loopPausedAt = -1;
  private heldAt: number | null = null;
  /** The socket whose frame is being handled, and the one that used up the last budget. */
  private current: Pausable | null = null;
  private spentBy: Pausable | null = null;

  constructor(private readonly o: PacerOptions) {
    this.workNow = o.workNow ?? (() => performance.now());
  }

  get reading(): boolean {
    return this.loopPausedAt < 0 && this.heldAt === null;
  }

  /** True while the sink's backlog holds reading (liveness checks must not count that silence). */
  get held(): boolean {
    return this.heldAt !== null;
  }

  add(s: Pausable): void {
    this.sockets.add(s);
    if (!this.reading) s.pause();
  }

  delete(s: Pausable): void {
    this.sockets.delete(s);
    if (this.current === s) this.current = null;
    if (this.spentBy === s) this.spentBy = null;
  }

  /** Once per frame from socket `s`, before the frame is handled. */
  onFrame(s: Pausable): void {
    this.current = s;
    if (this.turnStart < 0) {
      this.turnStart = this.workNow();
      this.frames = 0;
      setImmediate(this.endTurn);
      this.checkBacklog();
      return;
    }
    if (++this.frames % CHECK_EVERY !== 0) return;
    if (this.loopPausedAt < 0 && this.workNow() - this.turnStart >= this.o.turnBudgetMs) {
      const wasReading = this.reading;
      this.loopPausedAt = this.workNow();
      this.spentBy = this.current;
      this.o.stats.loopPauses++;
      if (wasReading) this.setAll(false);
    }
    this.checkBacklog();
  }

  private readonly endTurn = (): void => {
    this.turnStart = -1;
    if (this.loopPausedAt < 0) return;
    this.o.stats.loopPausedMs += this.workNow() - this.loopPausedAt;
    this.loopPausedAt = -1;
    if (this.reading) this.setAll(true);
  };

  private checkBacklog(): void {
    if (this.heldAt !== null || !this.o.backlog || !(this.o.backlog() > HOLD_HIGH)) return;
    const wasReading = this.reading;
    this.heldAt = this.o.clock.now();
    this.o.stats.sinkHolds++;
    this.o.stats.heldSince = this.heldAt;
    if (wasReading) this.setAll(false);
    void this.holdLoop();
  }

  private async holdLoop(): Promise<void> {
    const { clock, signal } = this.o;
    while (!signal.aborted && (this.o.backlog?.() ?? 0) > HOLD_LOW) {
      await clock.sleep(this.o.holdCheckMs, signal);
    }
    const now = clock.now();
    this.o.stats.sinkHeldMs += Math.max(0, now - (this.heldAt ?? now));
    this.o.stats.heldSince = null;
    this.heldAt = null;
    if (this.reading) this.setAll(true);
  }

  private setAll(read: boolean): void {
    if (!read) {
      for (const s of this.sockets) s.pause();
      return;
    }
    // Round robin: the sockets after the one that spent the last budget go first.
    const all = [...this.sockets];
    const from = this.spentBy === null ? -1 : all.indexOf(this.spentBy);
    for (let i = 1; i <= all.length; i++) all[(from + i) % all.length]!.resume();
  }
}
