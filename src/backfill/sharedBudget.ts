// The tick API's request budget kept in the database (migration 0013, `tc_backfill_take`).
// Every process that backfills into one database takes its requests from the same per-minute and per-day
// counters, so N replicas make at most the documented rate between them, not N times it. One statement per
// request.
import type pg from 'pg';
import type { Clock } from '../clock.js';
import { BudgetExhausted, type RequestBudget } from './limits.js';

export class SharedBudget implements RequestBudget {
  /** Requests this process took (the CLI's summary). */
  requests = 0;

  constructor(
    private readonly db: Pick<pg.Pool, 'query'>,
    private readonly clock: Clock,
    readonly perMinute: number,
    readonly perDay: number,
    /** Also counted here (e.g. the in-process limits whose `requests` the CLI prints). */
    private readonly counter?: { requests: number },
  ) {}

  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const r = await this.db.query<{ w: number }>(
        'SELECT tc_backfill_take(to_timestamp($1 / 1000.0), $2, $3) AS w',
        [this.clock.now(), this.perMinute, this.perDay],
      );
      const wait = Number(r.rows[0]!.w);
      if (wait === 0) {
        this.requests++;
        if (this.counter) this.counter.requests++;
        return;
      }
      if (wait < 0) throw new BudgetExhausted(this.perDay);
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      await this.clock.sleep(wait, signal);
    }
  }
}
