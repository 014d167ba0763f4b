// The page before the collector is up (createStartingPage).
// The health port is bound before the database opens (seconds in local mode), and a person who opens the page
// then must get it at once. Its files need no collector state; /api/meta comes from the configuration and
// /api/state says "starting" with the market from the calendar, so the page draws itself and fills in when
// the collector's state comes. Whatever needs the database answers 503 with Retry-After until main hands the
// HTTP server the full page (serve()).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { statusAt } from '../calendar/index.js';
import { emptySnapshot } from '../http/snapshot.js';
import { type Asset, libraryStyleHashes, loadAssets } from './assets.js';
import { metaJson, pageHeaders, sendAsset, sendJson } from './index.js';

export interface StartingPageOptions {
  symbols: readonly string[];
  mode: string;
  candleIntervalMs: number;
  tickCandleSize: number;
  marketHoursIgnored?: boolean;
  now?: () => number;
  /** The page's directory (tests). */
  dir?: string;
}

export interface StartingPage {
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
  /** The files, loaded once: the full page serves the same copy. */
  readonly assets: Map<string, Asset>;
}

/** The state while starting: the /api/state shape, `starting: true`, the market from the calendar. */
export function startingState(now: number, mode: string) {
  const health = { ...emptySnapshot(mode), status: 'degraded' as const };
  const m = statusAt(now);
  health.market = {
    open: m.open,
    reason: m.holiday ?? m.reason,
    nextOpen: new Date(m.nextOpen).toISOString(),
    nextClose: new Date(m.nextClose).toISOString(),
  };
  return { at: now, starting: true, health, connections: [], stream: { clients: 0 } };
}

export function createStartingPage(opts: StartingPageOptions): StartingPage {
  const now = opts.now ?? Date.now;
  const assets = loadAssets(opts.dir);
  const headers = pageHeaders(libraryStyleHashes());
  const meta = metaJson(opts);
  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = new URL(req.url ?? '/', 'http://collector').pathname;
    const isApi = path.startsWith('/api/');
    const a = isApi ? undefined : assets.get(path);
    if (!isApi && !a) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return true;
    }
    if (a) sendAsset(req, res, a, headers);
    else if (path === '/api/meta') sendJson(res, 200, meta);
    else if (path === '/api/state') sendJson(res, 200, JSON.stringify(startingState(now(), opts.mode)));
    else
      sendJson(res, 503, JSON.stringify({ error: 'starting: the collector is opening its database' }), {
        'Retry-After': '1',
      });
    return true;
  };
  return { handle, close: () => undefined, assets };
}
