// A simulated EODHD trades endpoint (SimServer).
// A real `ws` server speaking the same protocol (Authorized frame on connect, subscribe/unsubscribe actions,
// one trade per frame, only for subscribed symbols). Trades are generated per timer tick and sent in a batch,
// so a rate of 100k trades/s costs ~100 timer ticks/s.
// Used for local mode, `tick-collector sim`, the feed tests and benchmarks.
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { type AddressInfo, WebSocketServer } from 'ws';
import type { Logger } from '../../log/logger.js';
import { SimMarket } from './market.js';
import { SimTape } from './tape.js';

export interface SimServerOptions {
  host?: string;
  port?: number;
  /** Symbols that trade; default: whatever clients subscribe to. */
  symbols?: string[];
  /** Trades per second over all traded symbols. */
  rate: number;
  seed?: number;
  /** When set, any other token gets {"status":403,"message":"Server error"} and the socket closes. */
  token?: string | null;
  log?: Logger;
  /** Batch period (ms). */
  tickMs?: number;
  /** Keep the tape and serve the tick API over it (off by default: benchmarks run at 100k trades/s). */
  keepTape?: boolean;
  /** Keep it in this file too, across restarts (local mode: DATA_DIR/sim-tape.jsonl). */
  tapeFile?: string | null;
}

export interface SimServerStats {
  connections: number;
  clients: number;
  rejected: number;
  subscribes: number;
  tradesGenerated: number;
  framesSent: number;
  /** Frames skipped for a client whose send buffer was full (a slow reader). */
  dropped: number;
}

export interface SimServer {
  /** ws://host:port/ws/us, without the token. */
  url: string;
  /** http://host:port/api: the same tick REST API as EODHD, over the simulator's tape. */
  apiUrl: string;
  port: number;
  stats: SimServerStats;
  /** Abruptly drop every client (TCP destroyed, no close frame): local chaos testing. */
  dropClients(): number;
  close(): Promise<void>;
}

/** The TCP socket under a ws connection (ws keeps it in `_socket`; absent once closed). */
function rawSocket(ws: WebSocket): Socket | undefined {
  return (ws as unknown as { _socket?: Socket })._socket;
}

/** Beyond this much unsent data a client is a slow reader: skip it rather than grow memory. */
const MAX_BUFFERED = 16 << 20;

export function startSimServer(opts: SimServerOptions): Promise<SimServer> {
  const host = opts.host ?? '127.0.0.1';
  const tickMs = opts.tickMs ?? 10;
  const market = new SimMarket(opts.seed ?? 1);
  const tape = opts.keepTape || opts.tapeFile ? new SimTape(opts.tapeFile ?? null) : null;
  const only = opts.symbols ? new Set(opts.symbols) : null;
  const log = opts.log?.child({ component: 'sim' });
  const stats: SimServerStats = {
    connections: 0,
    clients: 0,
    rejected: 0,
    subscribes: 0,
    tradesGenerated: 0,
    framesSent: 0,
    dropped: 0,
  };
  const subscribers = new Map<string, Set<WebSocket>>();
  const subsOf = new Map<WebSocket, Set<string>>();
  let active: string[] = [];

  const refreshActive = (): void => {
    active = [...subscribers.entries()]
      .filter(([s, set]) => set.size > 0 && (!only || only.has(s)))
      .map(([s]) => s);
  };

  return new Promise((resolve, reject) => {
    const http = createServer((req, res) => {
      if (!tape?.handle(req, res)) res.writeHead(404).end();
    });
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: true });
    http.on('error', (err) => {
      log?.error({ err }, 'sim server error');
      clearInterval(timer);
      reject(err);
    });
    wss.on('error', (err) => {
      log?.error({ err }, 'sim server error');
      clearInterval(timer);
      reject(err);
    });

    wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
      stats.connections++;
      ws.on('error', () => ws.terminate());
      const token = new URL(req.url ?? '/', 'http://sim').searchParams.get('api_token');
      if (opts.token != null && token !== opts.token) {
        stats.rejected++;
        ws.send(JSON.stringify({ status: 403, message: 'Server error' }));
        ws.close(1008);
        return;
      }
      stats.clients++;
      subsOf.set(ws, new Set());
      ws.send(JSON.stringify({ status_code: 200, message: 'Authorized' }));
      ws.on('message', (data) => onAction(ws, String(data)));
      ws.on('close', () => {
        stats.clients--;
        for (const s of subsOf.get(ws) ?? []) subscribers.get(s)?.delete(ws);
        subsOf.delete(ws);
        refreshActive();
      });
    });

    const onAction = (ws: WebSocket, raw: string): void => {
      let m: { action?: unknown; symbols?: unknown };
      try {
        m = JSON.parse(raw);
      } catch {
        return;
      }
      if (typeof m.symbols !== 'string') return;
      const list = m.symbols
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      const mine = subsOf.get(ws);
      if (!mine) return;
      if (m.action === 'subscribe') {
        stats.subscribes++;
        for (const s of list) {
          mine.add(s);
          let set = subscribers.get(s);
          if (!set) {
            set = new Set();
            subscribers.set(s, set);
          }
          set.add(ws);
        }
      } else if (m.action === 'unsubscribe') {
        for (const s of list) {
          mine.delete(s);
          subscribers.get(s)?.delete(ws);
        }
      }
      refreshActive();
    };

    let tapeErrorLogged = false;
    let last = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      const dt = now - last;
      last = now;
      if (active.length === 0) return;
      const n = market.arrivals(opts.rate, dt);
      // Cork every client's TCP socket for the batch: one write syscall per tick instead of one per frame.
      const batch: string[] = [];
      for (let i = 0; i < n; i++) {
        const symbol = market.pick(active)!;
        const trade = market.trade(symbol, now);
        tape?.add(trade);
        batch.push(symbol, JSON.stringify(trade));
      }
      tape?.flush(); // on the tape before it is sent
      if (tape?.fileError && !tapeErrorLogged) {
        tapeErrorLogged = true;
        log?.warn(
          { err: tape.fileError },
          'simulator tape file not writable: keeping the tape in memory only',
        );
      }
      const corked = [...subsOf.keys()].map(rawSocket);
      for (const sock of corked) sock?.cork();
      for (let i = 0; i < batch.length; i += 2) {
        const symbol = batch[i]!;
        const frame = batch[i + 1]!;
        stats.tradesGenerated++;
        for (const ws of subscribers.get(symbol) ?? []) {
          if (ws.readyState !== ws.OPEN) continue;
          if (ws.bufferedAmount > MAX_BUFFERED) {
            stats.dropped++;
            continue;
          }
          ws.send(frame);
          stats.framesSent++;
        }
      }
      for (const sock of corked) sock?.uncork();
    }, tickMs);

    http.listen(opts.port ?? 0, host, () => {
      const port = (http.address() as AddressInfo).port;
      const url = `ws://${host}:${port}/ws/us`;
      log?.info({ url, rate: opts.rate }, 'simulated EODHD feed listening');
      let closing: Promise<void> | null = null;
      resolve({
        url,
        apiUrl: `http://${host}:${port}/api`,
        port,
        stats,
        dropClients() {
          let n = 0;
          for (const ws of wss.clients) {
            ws.terminate();
            n++;
          }
          return n;
        },
        close() {
          closing ??= new Promise<void>((done) => {
            clearInterval(timer);
            for (const ws of wss.clients) ws.terminate();
            wss.close(() => http.close(() => done()));
            http.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}
