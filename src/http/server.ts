// The health/metrics HTTP server: node:http, no framework. Keep-alive outlasts a 60 s proxy idle timeout
// (platform proxies expect it); every server and socket error is handled so a bad client can never crash
// the daemon; and scraping can never slow collecting: /metrics is rendered at most once a second
// (metrics.ts), connections are capped, and a connection that sends no request is cut after seconds
// (2,000 idle connections were once each held ~85 s).
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Clock, systemClock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';
import { createMetrics } from './metrics.js';
import type { ReadyResult } from './readiness.js';
import { handleRequest } from './routes.js';
import type { HealthSnapshot } from './snapshot.js';

export interface HttpServerOptions {
  port: number;
  /** Default '0.0.0.0' (Railway's healthcheck reaches the container from outside). */
  host?: string;
  log: Logger;
  snapshot: () => HealthSnapshot;
  ready: () => Promise<ReadyResult>;
  /** /readyz answers 503 when ready() takes longer. Default 5000. */
  readyTimeoutMs?: number;
  /** close(): in-flight requests get this long before their sockets are cut. Default 1000. */
  closeGraceMs?: number;
  /** For the /metrics cache's age. Default the system clock. */
  clock?: Clock;
  /** Default METRICS_CACHE_MS. */
  metricsCacheMs?: number;
  /** Open connections at most; beyond, new ones are dropped at once. Default MAX_CONNECTIONS. */
  maxConnections?: number;
  /** A request's headers must arrive within this. Default HEADERS_TIMEOUT_MS. */
  headersTimeoutMs?: number;
}

export interface HttpServer {
  port: number;
  url: string;
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
  const events = new RateLimitedLog(log);
  events.startTimer();
  const deps = {
    snapshot: opts.snapshot,
    ready: opts.ready,
    readyTimeoutMs: opts.readyTimeoutMs ?? 5_000,
    metrics: createMetrics({ cacheMs: opts.metricsCacheMs, now: () => clock.now() }),
    events,
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
        events.event('http.handler_failed', 'error', { err }, 'http handler failed');
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
    events.event('http.connection_dropped', 'warn', {}, 'health server at its connection cap: dropped one'),
  );

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Resets and timeouts from probes are routine; malformed requests get a 400 when the socket still works.
    if (err.code !== 'ECONNRESET') {
      events.event(
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
    await listen(server, opts.port, opts.host ?? '0.0.0.0');
  } catch (err) {
    events.stop();
    throw err; // EADDRINUSE and friends: main reports it and exits non-zero
  }
  // After listening, a server error (rare: e.g. EMFILE on accept) is logged, never thrown.
  server.on('error', (err) => events.event('http.server_error', 'error', { err }, 'http server error'));

  const { port } = server.address() as AddressInfo;
  const shownHost = opts.host === undefined || opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  log.info({ port, url }, 'health server listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= closeServer(server, opts.closeGraceMs ?? 1_000).finally(() => events.stop());
    return closing;
  };
  return { port, url, close };
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
