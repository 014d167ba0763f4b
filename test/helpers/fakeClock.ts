// A manual clock: sleeps resolve only when the test advances time past their deadline.
import type { Clock } from '../../src/clock.js';

interface Sleeper {
  until: number;
  resolve: () => void;
  /** Detaches the abort listener, so a long-lived signal does not collect one per sleep. */
  detach: () => void;
}

export class FakeClock implements Clock {
  private t: number;
  private sleepers: Sleeper[] = [];

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => this.wake(s);
      const s: Sleeper = {
        until: this.t + Math.max(0, ms),
        resolve,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      this.sleepers.push(s);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Number of pending sleeps (lets a test wait until the code under test is parked). */
  get pending(): number {
    return this.sleepers.length;
  }

  /** The earliest pending deadline, if any. */
  get nextDeadline(): number | undefined {
    return this.sleepers.reduce<number | undefined>(
      (m, s) => (m === undefined || s.until < m ? s.until : m),
      undefined,
    );
  }

  /** Move time forward by `ms`, waking every sleeper due, in deadline order, letting promises settle between. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await flushMicrotasks();
      const due = this.sleepers.filter((s) => s.until <= target).sort((a, b) => a.until - b.until)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.until);
      this.wake(due);
    }
    this.t = Math.max(this.t, target);
    await flushMicrotasks();
  }

  /** Set the clock (may go backwards) without waking anything. */
  set(t: number): void {
    this.t = t;
  }

  private wake(s: Sleeper): void {
    const i = this.sleepers.indexOf(s);
    if (i >= 0) this.sleepers.splice(i, 1);
    s.detach();
    s.resolve();
  }
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
}
