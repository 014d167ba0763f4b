// The client of the EODHD tick REST API (TickApi): paged by time window, with its errors and page parser.
// The EODHD tick REST API (docs/ARCHITECTURE.md "Gaps and backfill"; ../shared/research section A):
// GET {base}/ticks/?s=&from=&to=&limit=&api_token=&fmt=json, from/to in unix seconds with `to` inclusive,
// answered with one object of parallel arrays (mkt, price, seq, shares, sl, sub_mkt, ts; ts in ms).
// There is no cursor: we page by time window. A full page may have been cut, so its window is split in two;
// a 5xx (a span too large) halves the window too; 429 waits Retry-After; 404 means the day is not loaded
// (try later); 402/403 stop everything (plan or key). The token is only ever in the request URL.

import type { Clock } from '../clock.js';
import { backoffDelay, RETRY_DELAYS } from '../retry/backoff.js';
import type { RequestBudget } from './limits.js';

/** One print of the tape. */
export interface TapeTrade {
  ts: number;
  seq: number;
  price: number;
  shares: number;
  sl: string;
  mkt: string;
}

export type TickApiErrorCode = 'NOT_LOADED' | 'DENIED' | 'FAILED';

export class TickApiError extends Error {
  constructor(
    readonly code: TickApiErrorCode,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

export interface TickApiOptions {
  baseUrl: string;
  token: string;
  clock: Clock;
  limits: RequestBudget;
  /** Rows asked per request (`limit`); a page this full is split. */
  pageRows?: number;
  /** Attempts of one window on 429 / 5xx / network errors before giving up. */
  maxAttempts?: number;
  /** Backoff base for 5xx and network errors (doubles, full jitter). */
  retryBaseMs?: number;
  random?: () => number;
  signal?: AbortSignal;
}

/** Whether `ms` (epoch) is a valid Retry-After wait for the header. */
function retryAfterMs(header: string | null, now: number): number {
  if (header === null) return 1_000;
  const s = Number(header);
  if (Number.isFinite(s) && s >= 0) return Math.min(120_000, s * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.min(120_000, Math.max(0, at - now)) : 1_000;
}

export class TickApi {
  /** Requests this client made (every attempt, retries included). */
  requests = 0;
  private readonly o: Required<Omit<TickApiOptions, 'signal'>> & { signal?: AbortSignal };

  constructor(opts: TickApiOptions) {
    this.o = {
      pageRows: 10_000,
      maxAttempts: 6,
      retryBaseMs: RETRY_DELAYS['backfill.request'].baseMs,
      random: Math.random,
      ...opts,
      baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    };
  }

  /** The same client taking its requests from `limits` instead (the budget shared through the database). */
  withLimits(limits: RequestBudget): TickApi {
    return new TickApi({ ...this.o, limits });
  }

  /** The budget its requests are taken from. */
  get limits(): RequestBudget {
    return this.o.limits;
  }

  /** Every print of `symbol` with fromMs <= ts <= toMs, deduplicated on (ts, seq), in seq order. */
  async fetchRange(symbol: string, fromMs: number, toMs: number): Promise<TapeTrade[]> {
    const byKey = new Map<string, TapeTrade>();
    const keep = (t: TapeTrade) => {
      if (t.ts >= fromMs && t.ts <= toMs) byKey.set(`${t.ts}:${t.seq}`, t);
    };
    const windows: [number, number][] = [[Math.floor(fromMs / 1000), Math.floor(toMs / 1000)]];
    while (windows.length > 0) {
      const [a, b] = windows.shift()!;
      const page = await this.window(symbol, a, b);
      if (!page.full) {
        for (const t of page.prints) keep(t);
        continue;
      }
      // A full page was cut, at its start or its end (which one is not documented): the seconds strictly
      // between its first and last print are complete either way; ask again for the two ends.
      let f = Number.POSITIVE_INFINITY;
      let l = Number.NEGATIVE_INFINITY;
      for (const t of page.prints) {
        const sec = Math.floor(t.ts / 1000);
        if (sec < f) f = sec;
        if (sec > l) l = sec;
      }
      if (l - f >= 2) {
        for (const t of page.prints) {
          const sec = Math.floor(t.ts / 1000);
          if (sec > f && sec < l) keep(t);
        }
        windows.unshift([a, f], [l, b]);
      } else {
        const mid = Math.floor((a + b) / 2);
        windows.unshift([a, mid], [mid + 1, b]);
      }
    }
    return [...byKey.values()].sort((x, y) => x.seq - y.seq || x.ts - y.ts);
  }

  /** One window [a, b] (unix seconds, inclusive): its prints, `full` when the page may have been cut. */
  private async window(
    symbol: string,
    a: number,
    b: number,
  ): Promise<{ prints: TapeTrade[]; full: boolean }> {
    const { clock, limits, signal } = this.o;
    for (let attempt = 1; ; attempt++) {
      await limits.take(signal);
      this.requests++;
      const url =
        `${this.o.baseUrl}/ticks/?s=${encodeURIComponent(symbol)}&from=${a}&to=${b}` +
        `&limit=${this.o.pageRows}&fmt=json&api_token=${encodeURIComponent(this.o.token)}`;
      let res: Response;
      try {
        res = await fetch(url, signal ? { signal } : {});
      } catch (err) {
        if (signal?.aborted) throw err;
        // Never the URL (it holds the token): only the cause's code.
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? 'network error';
        if (attempt >= this.o.maxAttempts)
          throw new TickApiError('FAILED', `tick API unreachable (${cause})`);
        await clock.sleep(this.backoff(attempt), signal);
        continue;
      }
      const status = res.status;
      if (status === 200) {
        const page = parsePage(await res.json().catch(() => null));
        if (page === null)
          throw new TickApiError('FAILED', 'tick API answered 200 with an unreadable body', 200);
        if (page.length >= this.o.pageRows) {
          if (b > a) return { prints: page, full: true };
          throw new TickApiError('FAILED', `more than ${this.o.pageRows} prints of ${symbol} in one second`);
        }
        return { prints: page, full: false };
      }
      await res.body?.cancel().catch(() => undefined);
      if (status === 404) throw new TickApiError('NOT_LOADED', 'not loaded yet (404)', 404);
      if (status === 402)
        throw new TickApiError('DENIED', 'tick API 402: the API call limit is used up (check the plan)', 402);
      if (status === 401 || status === 403)
        throw new TickApiError(
          'DENIED',
          `tick API ${status}: the token is invalid or the plan has no tick data (check EODHD_API_TOKEN)`,
          status,
        );
      if (status === 429) {
        if (attempt >= this.o.maxAttempts)
          throw new TickApiError('FAILED', 'tick API kept answering 429', 429);
        await clock.sleep(retryAfterMs(res.headers.get('retry-after'), clock.now()), signal);
        continue;
      }
      if (status >= 500) {
        // A span too large times out on their side: halve it (a one-second window is retried instead).
        if (b > a) return { prints: [], full: true };
        if (attempt >= this.o.maxAttempts) throw new TickApiError('FAILED', `tick API ${status}`, status);
        await clock.sleep(this.backoff(attempt), signal);
        continue;
      }
      throw new TickApiError('FAILED', `tick API answered ${status}`, status);
    }
  }

  private backoff(attempt: number): number {
    const p = RETRY_DELAYS['backfill.request'];
    return backoffDelay({ ...p, baseMs: this.o.retryBaseMs }, attempt - 1, this.o.random);
  }
}

/** The parallel arrays as trades; null when the body is not that shape. An empty object is no prints. */
export function parsePage(body: unknown): TapeTrade[] | null {
  if (Array.isArray(body) && body.length === 0) return [];
  if (body === null || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const ts = b.ts;
  if (ts === undefined) return [];
  const cols = ['price', 'seq', 'shares', 'sl'] as const;
  if (
    !Array.isArray(ts) ||
    cols.some((c) => !Array.isArray(b[c]) || (b[c] as unknown[]).length !== ts.length)
  )
    return null;
  const price = b.price as unknown[];
  const seq = b.seq as unknown[];
  const shares = b.shares as unknown[];
  const sl = b.sl as unknown[];
  const mkt = Array.isArray(b.mkt) ? (b.mkt as unknown[]) : [];
  const out: TapeTrade[] = [];
  for (let i = 0; i < ts.length; i++) {
    const t = Number(ts[i]);
    const p = Number(price[i]);
    const q = Number(seq[i]);
    const v = Number(shares[i]);
    if (!Number.isFinite(t) || !Number.isFinite(p) || !Number.isFinite(q) || !Number.isFinite(v)) return null;
    out.push({ ts: t, seq: q, price: p, shares: v, sl: String(sl[i] ?? ''), mkt: String(mkt[i] ?? '') });
  }
  return out;
}
