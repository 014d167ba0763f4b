// The health/metrics HTTP server: node:http, no framework.
// Keep-alive outlasts a 60 s proxy idle timeout (platform proxies expect it); every server and socket error
// is handled so a bad client can never crash the daemon; and scraping can never slow collecting: /metrics is
// rendered at most once a second (metrics.ts), connections are capped, and a connection that sends no request
// is cut after seconds (2,000 idle connections were once each held ~85 s).
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Clock, systemClock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';
import { createMetrics } from './metrics.js';
import type { ReadyResult } from './readiness.js';
import { handleRequest, type WebRoutes } from './routes.js';
import { emptySnapshot, type HealthSnapshot } from './snapshot.js';
import { type TokenGate, tokenGate } from './webToken.js';

export interface HttpServerOptions {
  port: number;
  /**
   * Default '::', dual stack: Railway's healthcheck reaches the container over IPv4 and its private network
   * (where Prometheus scrapes) is IPv6 only. Falls back to 0.0.0.0 on a host without IPv6.
   */
  host?: string;
  log: Logger;
  /** Until given (here or by serve()), /health and /metrics show a starting snapshot and /readyz is 503. */
  snapshot?: () => HealthSnapshot;
  ready?: () => Promise<ReadyResult>;
  /** /readyz answers 503 when ready() takes longer. Default 5000. */
  readyTimeoutMs?: number;
  /** close(): in-flight requests get this long before their sockets are cut. Default 1000. */
  closeGraceMs?: number;
  /** The web page (WEB_UI): its routes, and its live streams to end before the server closes. */
  web?: WebRoutes & { close(): void };
  /** For the /metrics cache's age. Default the system clock. */
  clock?: Clock;
  /** Default METRICS_CACHE_MS. */
  metricsCacheMs?: number;
  /** Open connections at most; beyond, new ones are dropped at once. Default MAX_CONNECTIONS. */
  maxConnections?: number;
  /** A request's headers must arrive within this. Default HEADERS_TIMEOUT_MS. */
  headersTimeoutMs?: number;
  /** WEB_TOKEN: every path but /healthz and /readyz needs it. */
  token?: string | null;
}

export interface HttpServer {
  port: number;
  url: string;
  /** What the routes answer from, once the parts exist (the port is bound before the database opens). */
  /** Starts serving the real state (and the web page, when on) once the collector has started. */
  serve(sources: {
    snapshot: () => HealthSnapshot;
    ready: () => Promise<ReadyResult>;
    web?: WebRoutes & { close(): void };
  }): void;
  /** Stop accepting, end idle keep-alive sockets at once and busy ones after closeGraceMs. Idempotent. */
  close(): Promise<void>;
}

export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Our requests are a line of headers: a client that takes longer is stuck or hostile. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 15_000;
/** A scraper, a health check and a few people: far below what would cost the collector memory or time. */
export const MAX_CONNECTIONS = 256;

export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const log = opts.log.child({ component: 'http' });
  const clock = opts.clock ?? systemClock;
  const limited = new RateLimitedLog(log);
  limited.startTimer();
  const starting = { ...emptySnapshot(), status: 'degraded' as const };
  const deps: {
    snapshot: () => HealthSnapshot;
    ready: () => Promise<ReadyResult>;
    readyTimeoutMs: number;
    metrics: ReturnType<typeof createMetrics>;
    limited: RateLimitedLog;
    web?: WebRoutes & { close(): void };
    starting: boolean;
    gate?: TokenGate;
  } = {
    starting: opts.snapshot === undefined,
    snapshot: opts.snapshot ?? (() => starting),
    ready:
      opts.ready ??
      (async (): Promise<ReadyResult> => ({
        ready: false,
        checks: { startup: { ok: false, detail: 'starting' } },
      })),
    readyTimeoutMs: opts.readyTimeoutMs ?? 5_000,
    metrics: createMetrics({ cacheMs: opts.metricsCacheMs, now: () => clock.now() }),
    limited,
    ...(opts.web ? { web: opts.web } : {}),
    ...(opts.token ? { gate: tokenGate(opts.token) } : {}),
  };

  const headersTimeout = opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const server = createServer(
    {
      requestTimeout: Math.max(headersTimeout, REQUEST_TIMEOUT_MS),
      headersTimeout,
      // How often Node looks for expired headers (default 30 s, which added up to 30 s to every idle hold).
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    },
    (req, res) => {
      handleRequest(deps, req, res).catch((err: unknown) => {
        // handleRequest catches its own failures; this is the last line of defence.
        limited.event('http.handler_failed', 'error', { err }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    },
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // A connection that has sent nothing yet is not covered by headersTimeout (it starts at the first byte):
  // the socket's inactivity timeout cuts it. After a response, keepAliveTimeout takes over.
  server.timeout = headersTimeout;
  server.maxConnections = opts.maxConnections ?? MAX_CONNECTIONS;
  server.on('drop', () =>
    limited.event('http.connection_dropped', 'warn', {}, 'health server at its connection cap: dropped one'),
  );

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Resets and timeouts from probes are routine; malformed requests get a 400 when the socket still works.
    if (err.code !== 'ECONNRESET') {
      limited.event(
        `http.client_error.${err.code ?? 'unknown'}`,
        'debug',
        { code: err.code },
        'http client error',
      );
    }
    if (socket.writable && !socket.destroyed) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    } else {
      socket.destroy();
    }
  });

  try {
    if (opts.host !== undefined) await listen(server, opts.port, opts.host);
    else {
      await listen(server, opts.port, '::').catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EAFNOSUPPORT' && err.code !== 'EADDRNOTAVAIL') throw err;
        return listen(server, opts.port, '0.0.0.0');
      });
    }
  } catch (err) {
    limited.stop();
    throw err; // EADDRINUSE and friends: main reports it and exits non-zero
  }
  // After listening, a server error (rare: e.g. EMFILE on accept) is logged, never thrown.
  server.on('error', (err) => limited.event('http.server_error', 'error', { err }, 'http server error'));

  const { port } = server.address() as AddressInfo;
  const shownHost =
    opts.host === undefined || opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  // The line that says where to look (tests and users wait for it) comes once the real state is served:
  // the port is bound before the database opens (a port in use is one line, first), but a page asked for
  // before that would only say "starting".
  const announce = () => log.info({ port, url }, 'health server listening');
  if (opts.snapshot) announce();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    // Live event streams never finish on their own: end them first, so close() need not wait the grace.
    deps.web?.close();
    closing ??= closeServer(server, opts.closeGraceMs ?? 1_000).finally(() => limited.stop());
    return closing;
  };
  const serve: HttpServer['serve'] = (sources) => {
    const first = deps.starting;
    deps.snapshot = sources.snapshot;
    deps.ready = sources.ready;
    deps.starting = false;
    if (sources.web) deps.web = sources.web;
    if (first) announce();
  };
  return { port, url, serve, close };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    // server.close() stops accepting and (Node ≥ 19) closes idle keep-alive sockets; busy ones finish
    // their response, then are cut after the grace period so close() always settles.
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
