// A real HTTP server on 127.0.0.1:0 serving feeds for the poller tests. Routes are swappable per path;
// every request is recorded (path, headers, how many were in flight) so tests can assert what was sent.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  /** Requests in flight on this server when this one arrived (itself included). */
  inFlight: number;
}

export class FeedServer {
  readonly requests: RecordedRequest[] = [];
  readonly routes = new Map<string, Handler>();
  inFlight = 0;
  maxInFlight = 0;
  private server: Server;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      // Whichever comes first: 'finish' when answered, 'close' when the client gave up.
      let open = true;
      const done = () => {
        if (open) this.inFlight--;
        open = false;
      };
      res.on('finish', done);
      res.on('close', done);
      const path = req.url ?? '/';
      this.requests.push({ path, headers: req.headers, inFlight: this.inFlight });
      for (const w of this.waiters.filter((x) => this.requests.length >= x.n)) w.resolve();
      this.waiters = this.waiters.filter((x) => this.requests.length < x.n);
      const route = this.routes.get(path);
      if (route) route(req, res);
      else res.writeHead(404).end('no such feed');
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Resolves once `n` requests in total have arrived. */
  waitForRequests(n: number): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A feed document with ETag / Last-Modified that answers 304 to a matching conditional GET. */
export function xmlRoute(
  body: () => string,
  validators: () => { etag: string; lastModified: string },
): Handler {
  return (req, res) => {
    const { etag, lastModified } = validators();
    if (req.headers['if-none-match'] === etag || req.headers['if-modified-since'] === lastModified) {
      res.writeHead(304, { ETag: etag, 'Last-Modified': lastModified }).end();
      return;
    }
    res
      .writeHead(200, {
        'Content-Type': 'application/rss+xml; charset=utf-8',
        ETag: etag,
        'Last-Modified': lastModified,
      })
      .end(body());
  };
}

export function plainXmlRoute(body: string | Buffer, contentType = 'application/xml'): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': contentType }).end(body);
  };
}

export function statusRoute(status: number, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, headers).end(`status ${status}`);
  };
}

/** Holds every request until the test answers it from `held`. */
export function holdRoute(held: ServerResponse[]): Handler {
  return (_req, res) => {
    held.push(res);
  };
}

/** Accepts the request and never answers (the timeout must end it). */
export const hangRoute: Handler = () => {};

/** Sends headers and part of the body, then stalls. */
export const stallBodyRoute: Handler = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/rss+xml' });
  res.write('<?xml version="1.0"?><rss version="2.0"><channel><title>slow</title>');
};
