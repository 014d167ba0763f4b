// The four health routes, then the web page's (when on).
// Each handler answers from main's callbacks and never throws: a failing snapshot() or ready() becomes a
// 500/503 with one rate-limited log line, because a probe must not take the daemon down.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RateLimitedLog } from '../log/rateLimit.js';
import type { Metrics } from './metrics.js';
import type { ReadyResult } from './readiness.js';
import type { HealthSnapshot } from './snapshot.js';
import type { TokenGate } from './webToken.js';

export interface RouteDeps {
  snapshot: () => HealthSnapshot;
  ready: () => Promise<ReadyResult>;
  readyTimeoutMs: number;
  metrics: Metrics;
  limited: RateLimitedLog;
  /** The web page and its API (src/web): asked about any path the routes above do not take. */
  web?: WebRoutes;
  /** Until the collector has started: paths other than the health routes answer 503 (try again). */
  starting?: boolean;
  /** WEB_TOKEN: answers a request without the token (401) before any route sees it. */
  gate?: TokenGate;
}

export interface WebRoutes {
  /** Answers the request and returns true, or returns false to leave it to the 404. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

type Handler = (deps: RouteDeps) => Promise<Reply>;

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

const ROUTES: Record<string, Handler> = {
  '/healthz': async () => ({ status: 200, type: TEXT_TYPE, body: 'ok\n' }),
  '/readyz': readyz,
  '/health': health,
  '/metrics': metrics,
};

const ALLOWED_METHODS = 'GET, HEAD';

export async function handleRequest(
  deps: RouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (deps.gate?.(req, res)) return;
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  const route = ROUTES[path];
  if (!route && deps.web?.handle(req, res)) return;
  let reply: Reply;
  if (!route && deps.starting) {
    reply = { status: 503, type: TEXT_TYPE, body: 'starting: try again in a moment\n' };
  } else if (!route) {
    reply = { status: 404, type: TEXT_TYPE, body: 'not found\n' };
  } else if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply = {
      status: 405,
      type: TEXT_TYPE,
      body: 'method not allowed\n',
      headers: { Allow: ALLOWED_METHODS },
    };
  } else {
    reply = await route(deps);
  }
  send(req, res, reply);
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(reply.body, 'utf8');
  res.writeHead(reply.status, {
    'Content-Type': reply.type,
    'Content-Length': String(body.length),
    // Probes and scrapes must see the live state, never a proxy's copy.
    'Cache-Control': 'no-store',
    ...reply.headers,
  });
  // HEAD gets the same headers (Content-Length included) and no body.
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function readyz(deps: RouteDeps): Promise<Reply> {
  let result: ReadyResult;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`readiness checks took over ${deps.readyTimeoutMs} ms`)),
        deps.readyTimeoutMs,
      );
    });
    result = await Promise.race([deps.ready(), timeout]);
  } catch (err) {
    deps.limited.event('http.ready_failed', 'warn', { err }, 'readiness check failed');
    result = { ready: false, checks: { ready: { ok: false, detail: errorMessage(err) } } };
  } finally {
    clearTimeout(timer);
  }
  return { status: result.ready ? 200 : 503, type: JSON_TYPE, body: JSON.stringify(result) };
}

async function health(deps: RouteDeps): Promise<Reply> {
  try {
    return { status: 200, type: JSON_TYPE, body: JSON.stringify(deps.snapshot()) };
  } catch (err) {
    return snapshotFailed(deps, err);
  }
}

async function metrics(deps: RouteDeps): Promise<Reply> {
  try {
    const body = await deps.metrics.scrape(deps.snapshot);
    return { status: 200, type: deps.metrics.contentType, body };
  } catch (err) {
    return snapshotFailed(deps, err);
  }
}

function snapshotFailed(deps: RouteDeps, err: unknown): Reply {
  deps.limited.event('http.snapshot_failed', 'error', { err }, 'health snapshot failed');
  return {
    status: 500,
    type: JSON_TYPE,
    body: JSON.stringify({ error: 'snapshot failed', detail: errorMessage(err) }),
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
