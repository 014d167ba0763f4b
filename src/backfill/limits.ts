// The request budget of the tick API (RequestBudget): per minute and per UTC day.
// At most `perMinute` requests in any 60 s (EODHD allows 1,000) and `perDay` per UTC day (its daily call
// budget resets at midnight GMT). Time comes from the injected clock.
import type { Clock } from '../clock.js';

export class BudgetExhausted extends Error {
  readonly code = 'BACKFILL_BUDGET';
  constructor(perDay: number) {
    super(`BACKFILL_MAX_CALLS_PER_DAY (${perDay}) used up for today (UTC); the rest waits for tomorrow`);
  }
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** What the tick API asks before each request: wait until it fits, or throw BudgetExhausted. */
export interface RequestBudget {
  take(signal?: AbortSignal): Promise<void>;
}

/** The budget of one process (in memory); `SharedBudget` (sharedBudget.ts) keeps it in the database. */
export class RequestLimits implements RequestBudget {
  /** Requests made (every attempt, retries included). */
  requests = 0;
  private readonly sent: number[] = [];
  private day = -1;
  private today = 0;

  constructor(
    private readonly clock: Clock,
    readonly perMinute: number,
    readonly perDay: number,
  ) {}

  /** Waits until one more request fits the per-minute limit; throws BudgetExhausted past the daily one. */
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const day = Math.floor(now / DAY);
      if (day !== this.day) {
        this.day = day;
        this.today = 0;
      }
      if (this.today >= this.perDay) throw new BudgetExhausted(this.perDay);
      while (this.sent.length > 0 && this.sent[0]! <= now - MINUTE) this.sent.shift();
      if (this.sent.length < this.perMinute) {
        this.sent.push(now);
        this.today++;
        this.requests++;
        return;
      }
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      await this.clock.sleep(this.sent[0]! + MINUTE - now, signal);
    }
  }
}
