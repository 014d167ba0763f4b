// Collects the poller's onPoll events so a test can await the next one instead of sleeping.
import type { PollEvent } from '../../src/news/poller.js';

export class PollEvents {
  readonly all: PollEvent[] = [];
  private unread: PollEvent[] = [];
  private waiter: { match: (e: PollEvent) => boolean; resolve: (e: PollEvent) => void } | null = null;

  readonly push = (e: PollEvent): void => {
    this.all.push(e);
    if (this.waiter?.match(e)) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(e);
      return;
    }
    this.unread.push(e);
  };

  /** The next unread event (matching `match`, if given; unmatched ones before it are discarded). */
  next(match: (e: PollEvent) => boolean = () => true): Promise<PollEvent> {
    while (this.unread.length > 0) {
      const e = this.unread.shift()!;
      if (match(e)) return Promise.resolve(e);
    }
    return new Promise((resolve) => {
      this.waiter = { match, resolve };
    });
  }

  async take(n: number): Promise<PollEvent[]> {
    const out: PollEvent[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next());
    return out;
  }
}
