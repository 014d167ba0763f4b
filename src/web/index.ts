// The web page on the health port (createWebUi).
// `GET /` and its files, the read-only JSON API under /api/ and the live event stream. main creates one
// WebUi, feeds every candle the aggregators emit to push(), and hands it to the HTTP server, which passes it
// the requests its own routes (/healthz, /readyz, /health, /metrics) do not take. Nothing secret is served:
// no setting but the symbols, kinds and mode, and error texts are scrubbed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import type { Candle } from '../aggregate/types.js';
import type { FeedStats } from '../feed/stats.js';
import { feedStatsSnapshot } from '../feed/stats.js';
import type { HealthSnapshot } from '../http/snapshot.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';
import { redactUrlsIn } from '../log/redact.js';
import { describeError } from '../store/db/errors.js';
import { candleRange, gapsBetween, MAX_RANGE_LIMIT } from '../store/read/candleRange.js';
import {
  API_KINDS,
  gapWindow,
  isTimeframe,
  kindParam,
  limitParam,
  ParamError,
  symbolParam,
  timeParam,
} from './api.js';
import { type Asset, libraryStyleHashes, loadAssets } from './assets.js';
import { barRange } from './bars.js';
import { Broadcaster, type BroadcasterOptions } from './broadcaster.js';

export interface WebUiOptions {
  pool: pg.Pool;
  symbols: readonly string[];
  mode: string;
  candleIntervalMs: number;
  tickCandleSize: number;
  /** Read per request and per stream round (lazily: main creates the page before the parts exist). */
  snapshot: () => HealthSnapshot;
  feed: () => FeedStats;
  log: Logger;
  now?: () => number;
  /** Strings never to show (the token, the database URL): replaced wherever they appear. */
  secrets?: readonly (string | null | undefined)[];
  /** API reads running at once; more wait in a queue of `maxQueued`, beyond that 503. Default 2 / 16. */
  maxConcurrentReads?: number;
  maxQueued?: number;
  stream?: Omit<BroadcasterOptions, 'state'>;
  /** The page's directory (tests). */
  dir?: string;
  /** The page's files, already loaded (by the starting page: the same copy). */
  assets?: Map<string, Asset>;
  /** Collecting whatever the calendar says (SKIP_MARKET_HOURS): the page says so beside the market. */
  marketHoursIgnored?: boolean;
}

export interface WebUi {
  /** The aggregators' output: file a candle for the live streams. Cheap; never throws. */
  push(c: Candle): void;
  /** Answers the request when it is one of the page's; false when the path is not (the caller 404s). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  readonly stream: Broadcaster;
  /** Ends the live streams (before the HTTP server closes). */
  close(): void;
}

const JSON_TYPE = 'application/json; charset=utf-8';

// Everything from the collector itself; no inline script, no inline style but the library's one <style>
// (by hash: it sets all else through the CSSOM, which style-src does not govern); no frame, form or base
// can point anywhere else.
export function pageHeaders(styleHashes: readonly string[]): Record<string, string> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    ["style-src 'self'", ...styleHashes].join(' '),
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  };
}

/** /api/meta: what the page needs to draw itself, from the configuration alone (no secret). */
export function metaJson(opts: {
  symbols: readonly string[];
  mode: string;
  candleIntervalMs: number;
  tickCandleSize: number;
  marketHoursIgnored?: boolean;
}): string {
  return JSON.stringify({
    symbols: opts.symbols,
    kinds: API_KINDS,
    mode: opts.mode,
    candleIntervalMs: opts.candleIntervalMs,
    tickCandleSize: opts.tickCandleSize,
    maxLimit: MAX_RANGE_LIMIT,
    marketHoursIgnored: opts.marketHoursIgnored ?? false,
  });
}

export function createWebUi(opts: WebUiOptions): WebUi {
  const now = opts.now ?? Date.now;
  const log = opts.log.child({ component: 'web' });
  const events = new RateLimitedLog(log);
  const assets = opts.assets ?? loadAssets(opts.dir);
  const headers = pageHeaders(libraryStyleHashes());
  const secrets = (opts.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const scrub = (text: string | null): string | null => {
    if (text === null) return null;
    let t = text;
    for (const s of secrets) t = t.split(s).join('…');
    // Any URL with credentials in it: the password and secret-looking query values replaced.
    return redactUrlsIn(t);
  };

  const state = () => {
    const s = opts.snapshot();
    return {
      at: now(),
      health: { ...s, sink: { ...s.sink, lastError: scrub(s.sink.lastError) } },
      connections: feedStatsSnapshot(opts.feed()).connections,
      stream: { clients: stream.stats.clients },
    };
  };
  const stream = new Broadcaster({ ...opts.stream, state, now });

  const meta = metaJson(opts);

  // A bounded number of reads at once: the API shares the database with the candle writer.
  const maxRunning = opts.maxConcurrentReads ?? 2;
  const maxQueued = opts.maxQueued ?? 16;
  let running = 0;
  const queue: (() => void)[] = [];
  const read = async <T>(fn: () => Promise<T>): Promise<T | 'busy'> => {
    if (running >= maxRunning) {
      if (queue.length >= maxQueued) return 'busy';
      await new Promise<void>((r) => queue.push(r));
    } else running++;
    try {
      return await fn();
    } finally {
      const next = queue.shift();
      if (next) next();
      else running--;
    }
  };

  const api = async (path: string, q: URLSearchParams, res: ServerResponse): Promise<void> => {
    try {
      if (path === '/api/meta') return sendJson(res, 200, meta);
      if (path === '/api/state') return sendJson(res, 200, JSON.stringify(state()));
      if (path === '/api/candles') {
        const symbol = symbolParam(q) as string;
        const kind = kindParam(q, API_KINDS);
        const range = { from: timeParam(q, 'from'), to: timeParam(q, 'to'), limit: limitParam(q) };
        const r = await read<{ candles: readonly object[]; more: boolean }>(() =>
          isTimeframe(kind)
            ? barRange(opts.pool, { symbol, timeframe: kind, ...range })
            : candleRange(opts.pool, { symbol, kind, ...range }),
        );
        if (r === 'busy') return busy(res);
        return sendJson(res, 200, JSON.stringify({ symbol, kind, ...r }));
      }
      if (path === '/api/gaps') {
        const symbol = symbolParam(q, false);
        const w = gapWindow(q, now());
        const r = await read(() => gapsBetween(opts.pool, w.from, w.to, symbol));
        if (r === 'busy') return busy(res);
        const gaps = r.gaps.map((g) => ({ ...g, fillError: scrub(g.fillError) }));
        return sendJson(res, 200, JSON.stringify({ ...w, symbol, gaps, more: r.more }));
      }
      if (path === '/api/stream') {
        const symbol = symbolParam(q) as string;
        const kind = kindParam(q);
        if (res.req?.method === 'HEAD') {
          res.writeHead(200, {
            'Content-Type': 'text/event-stream; charset=utf-8',
            'Cache-Control': 'no-store',
          });
          res.end();
          return;
        }
        if (!stream.add(res, symbol, kind)) {
          return sendJson(res, 503, JSON.stringify({ error: 'too many live streams open' }), {
            'Retry-After': '10',
          });
        }
        return;
      }
      sendJson(res, 404, JSON.stringify({ error: 'no such endpoint' }));
    } catch (err) {
      if (err instanceof ParamError) return sendJson(res, 400, JSON.stringify({ error: err.message }));
      events.event('web.read_failed', 'warn', { err: describeError(err) }, 'web API read failed');
      sendJson(
        res,
        503,
        JSON.stringify({ error: 'database unavailable', detail: scrub(describeError(err)) }),
      );
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://collector');
    const path = url.pathname;
    const isApi = path.startsWith('/api/');
    const a = isApi ? undefined : assets.get(path);
    if (!isApi && !a) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return true;
    }
    if (a) {
      sendAsset(req, res, a, headers);
      return true;
    }
    api(path, url.searchParams, res).catch((err: unknown) => {
      events.event('web.handler_failed', 'error', { err }, 'web handler failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    return true;
  };

  return {
    push: (c) => stream.push(c),
    handle,
    stream,
    close() {
      stream.close();
      events.stop();
    },
  };
}

export function sendAsset(
  req: IncomingMessage,
  res: ServerResponse,
  a: Asset,
  pageHeaders: Record<string, string>,
): void {
  const headers: Record<string, string> = {
    ...pageHeaders,
    'Content-Type': a.type,
    ETag: a.etag,
    // Revalidate every time (a 304 costs a round trip, no bytes): a new build is seen at once.
    'Cache-Control': 'no-cache',
    Vary: 'Accept-Encoding',
  };
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = a.gzip !== null && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? (a.gzip as Buffer) : a.body;
  if (gzip) headers['Content-Encoding'] = 'gzip';
  headers['Content-Length'] = String(body.length);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'Content-Type': JSON_TYPE,
    'Content-Length': String(buf.length),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(isHead(res) ? undefined : buf);
}

function busy(res: ServerResponse): void {
  sendJson(res, 503, JSON.stringify({ error: 'busy: too many API reads waiting' }), { 'Retry-After': '1' });
}

function isHead(res: ServerResponse): boolean {
  return res.req?.method === 'HEAD';
}
