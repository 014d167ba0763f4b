// A controllable EODHD-like WebSocket server for fault tests (real `ws`, 127.0.0.1, port 0). It records
// every connection and subscribe frame, and can drop clients abruptly, go half-open (silent, no pongs,
// no FIN), close with a code, send any raw frame, or reject tokens. Tests wait on its events, not on time.

import { EventEmitter } from 'node:events';
import { type AddressInfo, WebSocket, WebSocketServer } from 'ws';
import { backstop } from './backstop.js';

export interface FakeEodhdOptions {
  /** Accepted token; others get {"status":403,"message":"Server error"} then a close. null = any. */
  token?: string | null;
  /** Frame sent on connect; null = none. */
  hello?: string | null;
}

export interface Subscribe {
  conn: number;
  symbols: string[];
  at: number;
}

export class FakeEodhd {
  readonly events = new EventEmitter();
  /** Connections accepted by the HTTP upgrade (including rejected tokens). */
  connections = 0;
  readonly subscribes: Subscribe[] = [];
  readonly clients = new Map<WebSocket, number>();
  /** Stop answering pings and stop sending (a black-holed link). */
  halfOpen = false;
  /** Answer pings (off: a peer that streams but ignores pings). */
  answerPings = true;
  /** Frame sent to every new connection after hello, then close(1008): e.g. a 422. */
  rejectWith: string | null = null;
  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
    private readonly opts: FakeEodhdOptions,
  ) {}

  static start(opts: FakeEodhdOptions = {}): Promise<FakeEodhd> {
    return new Promise((resolve, reject) => {
      // autoPong off: the server answers pings itself, so half-open mode can stop answering.
      const wss = new WebSocketServer({
        host: '127.0.0.1',
        port: 0,
        autoPong: false,
        perMessageDeflate: false,
      });
      wss.once('error', reject);
      wss.on('listening', () => {
        const port = (wss.address() as AddressInfo).port;
        const f = new FakeEodhd(wss, `ws://127.0.0.1:${port}/ws/us`, opts);
        wss.on('error', () => {});
        wss.on('connection', (ws, req) => f.onConnection(ws, req.url ?? '/'));
        resolve(f);
      });
    });
  }

  private onConnection(ws: WebSocket, path: string): void {
    const conn = ++this.connections;
    ws.on('error', () => {});
    const token = new URL(path, 'http://x').searchParams.get('api_token');
    if (this.opts.token != null && token !== this.opts.token) {
      ws.send(JSON.stringify({ status: 403, message: 'Server error' }));
      ws.close(1008);
      this.events.emit('change');
      return;
    }
    this.clients.set(ws, conn);
    ws.on('ping', (data) => {
      if (!this.halfOpen && this.answerPings) ws.pong(data);
    });
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { action?: string; symbols?: string };
      if (m.action === 'subscribe' && typeof m.symbols === 'string') {
        this.subscribes.push({ conn, symbols: m.symbols.split(',').map((s) => s.trim()), at: Date.now() });
      }
      this.events.emit('change');
    });
    ws.on('close', () => {
      this.clients.delete(ws);
      this.events.emit('change');
    });
    const hello =
      this.opts.hello === undefined
        ? JSON.stringify({ status_code: 200, message: 'Authorized' })
        : this.opts.hello;
    if (hello !== null) ws.send(hello);
    if (this.rejectWith !== null) {
      ws.send(this.rejectWith);
      ws.close(1008);
    }
    this.events.emit('change');
  }

  /** Send a raw frame to every connected client (unless half-open). */
  send(raw: string): void {
    if (this.halfOpen) return;
    for (const ws of this.clients.keys()) if (ws.readyState === WebSocket.OPEN) ws.send(raw);
  }

  trade(symbol: string, extra: Record<string, unknown> = {}): void {
    this.send(
      JSON.stringify({
        s: symbol,
        p: 100.5,
        v: 100,
        c: [12],
        dp: false,
        ms: 'open',
        t: Date.now(),
        ...extra,
      }),
    );
  }

  /** Destroy every client's TCP socket: no close frame (the client sees 1006). */
  dropAll(): void {
    for (const ws of this.clients.keys()) ws.terminate();
  }

  closeAll(code: number): void {
    for (const ws of this.clients.keys()) ws.close(code);
  }

  /** Subscribes seen on connection number `conn`. */
  subscribesOn(conn: number): Subscribe[] {
    return this.subscribes.filter((s) => s.conn === conn);
  }

  /** Resolve when `pred` holds (checked on every server event); reject after `backstop(timeoutMs)` (a bound, not a wait). */
  waitFor(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pred()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}`));
      }, backstop(timeoutMs));
      const cleanup = (): void => {
        clearTimeout(timer);
        this.events.off('change', check);
      };
      this.events.on('change', check);
    });
  }

  close(): Promise<void> {
    for (const ws of this.clients.keys()) ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/** Resolve when `pred` holds, polling on the event loop's check phase (for conditions no server event marks). */
export async function until(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + backstop(timeoutMs);
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
