// Live candles (and the collector's state) to the web page over server-sent events.
// The sink's commit notice calls push() synchronously for every committed candle (never earlier), so push()
// only files the candle under each watching client (a Map set, replacing an earlier version of the same
// candle) and returns; a timer writes the batches. Every client is bounded: at most `maxPending` candles
// waiting (beyond that it is told to re-read instead), nothing written while its socket holds more than
// `maxSocketBytes` unsent, and ended after `slowCloseMs` of that. With no client connected, push() is one
// comparison and no timer runs.
import type { ServerResponse } from 'node:http';
import type { Candle } from '../aggregate/types.js';

export type StreamKind = '1s' | '100t';

export interface BroadcasterOptions {
  /** The state event's payload, computed once per round for every client. */
  state: () => unknown;
  /** Concurrent streams; more get 503. Default 32. */
  maxClients?: number;
  /** Candle batches are written this often. Default 250. */
  flushMs?: number;
  /** A state event this often (it doubles as the keep-alive). Default 1000. */
  stateMs?: number;
  /** Distinct candles waiting per client before it is told to resync. Default 2000. */
  maxPending?: number;
  /** Unsent bytes on a client's socket above which nothing more is written to it. Default 256 KiB. */
  maxSocketBytes?: number;
  /** A client that stays over maxSocketBytes this long is disconnected. Default 30 s. */
  slowCloseMs?: number;
  now?: () => number;
}

export interface BroadcasterStats {
  clients: number;
  /** Streams refused because maxClients were open. */
  refused: number;
  /** Candles replaced by a newer version before they were sent (coalesced). */
  coalesced: number;
  /** Times a client's pending candles overflowed and it was told to resync. */
  resyncs: number;
  /** Rounds skipped for a client whose socket was still full. */
  skipped: number;
  /** Clients disconnected for staying slow. */
  slowClosed: number;
  /** Events written. */
  events: number;
}

interface Client {
  res: ServerResponse;
  kind: StreamKind;
  symbol: string;
  /** Candle key (1s bucket, 100t seq) → its latest version. */
  pending: Map<number, Candle>;
  overflow: boolean;
  slowSince: number | null;
}

export class Broadcaster {
  readonly stats: BroadcasterStats = {
    clients: 0,
    refused: 0,
    coalesced: 0,
    resyncs: 0,
    skipped: 0,
    slowClosed: 0,
    events: 0,
  };
  private readonly bySymbol = new Map<string, Client[]>();
  private readonly clients = new Set<Client>();
  private readonly opts: Required<BroadcasterOptions>;
  private flushTimer: NodeJS.Timeout | null = null;
  private stateTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(opts: BroadcasterOptions) {
    this.opts = {
      maxClients: 32,
      flushMs: 250,
      stateMs: 1_000,
      maxPending: 2_000,
      maxSocketBytes: 256 << 10,
      slowCloseMs: 30_000,
      now: Date.now,
      ...opts,
    };
  }

  /** The trade path: file the candle for each client watching its symbol and kind. Never throws. */
  push(c: Candle): void {
    if (this.clients.size === 0) return;
    const watching = this.bySymbol.get(c.symbol);
    if (watching === undefined) return;
    const key = c.kind === '1s' ? c.bucket : c.seq;
    for (let i = 0; i < watching.length; i++) {
      const cl = watching[i]!;
      if (cl.kind !== c.kind || cl.overflow) continue;
      const p = cl.pending;
      if (p.has(key)) this.stats.coalesced++;
      else if (p.size >= this.opts.maxPending) {
        // Too far behind to catch up candle by candle: drop them and have the page re-read the tail.
        p.clear();
        cl.overflow = true;
        this.stats.resyncs++;
        continue;
      }
      p.set(key, c);
    }
  }

  /**
   * Takes over `res` as an event stream for one symbol and kind. False (and nothing written) when the
   * broadcaster is full or closed: the caller answers 503.
   */
  add(res: ServerResponse, symbol: string, kind: StreamKind): boolean {
    if (this.closed || this.clients.size >= this.opts.maxClients) {
      this.stats.refused++;
      return false;
    }
    const cl: Client = { res, kind, symbol, pending: new Map(), overflow: false, slowSince: null };
    this.clients.add(cl);
    let list = this.bySymbol.get(symbol);
    if (!list) {
      list = [];
      this.bySymbol.set(symbol, list);
    }
    list.push(cl);
    this.stats.clients = this.clients.size;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // Proxies that buffer responses (nginx and friends) pass this one through as it comes.
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write(`retry: 2000\n\n`);
    this.write(cl, 'state', this.stateJson());
    const drop = () => this.remove(cl);
    res.on('close', drop);
    res.on('error', drop);
    this.startTimers();
    return true;
  }

  /** Ends every stream (shutdown); later add() calls are refused. */
  close(): void {
    this.closed = true;
    for (const cl of [...this.clients]) {
      cl.res.end();
      this.remove(cl);
    }
    this.stopTimers();
  }

  private remove(cl: Client): void {
    if (!this.clients.delete(cl)) return;
    const list = this.bySymbol.get(cl.symbol);
    if (list) {
      const i = list.indexOf(cl);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.bySymbol.delete(cl.symbol);
    }
    cl.pending.clear();
    this.stats.clients = this.clients.size;
    if (this.clients.size === 0) this.stopTimers();
  }

  private startTimers(): void {
    if (this.flushTimer) return;
    this.flushTimer = setInterval(() => this.flush(), this.opts.flushMs);
    this.stateTimer = setInterval(() => this.sendState(), this.opts.stateMs);
    this.flushTimer.unref();
    this.stateTimer.unref();
  }

  private stopTimers(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.stateTimer) clearInterval(this.stateTimer);
    this.flushTimer = null;
    this.stateTimer = null;
  }

  /** Writes each client's pending candles as one event (exported for tests through flushNow). */
  private flush(): void {
    const now = this.opts.now();
    for (const cl of [...this.clients]) {
      if (cl.pending.size === 0 && !cl.overflow) continue;
      if (!this.writable(cl, now)) continue;
      if (cl.overflow) {
        cl.overflow = false;
        this.write(cl, 'resync', '{}');
        continue;
      }
      const batch = [...cl.pending.values()];
      cl.pending.clear();
      this.write(cl, 'candles', JSON.stringify(batch));
    }
  }

  private sendState(): void {
    if (this.clients.size === 0) return;
    const now = this.opts.now();
    const json = this.stateJson();
    for (const cl of [...this.clients]) if (this.writable(cl, now)) this.write(cl, 'state', json);
  }

  private stateJson(): string {
    try {
      return JSON.stringify(this.opts.state());
    } catch (err) {
      return JSON.stringify({ error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** False while the client's socket is still full; ends a client that stays full too long. */
  private writable(cl: Client, now: number): boolean {
    if (cl.res.destroyed) {
      this.remove(cl);
      return false;
    }
    if (cl.res.writableLength <= this.opts.maxSocketBytes) {
      cl.slowSince = null;
      return true;
    }
    this.stats.skipped++;
    cl.slowSince ??= now;
    if (now - cl.slowSince >= this.opts.slowCloseMs) {
      this.stats.slowClosed++;
      cl.res.destroy();
      this.remove(cl);
    }
    return false;
  }

  private write(cl: Client, event: string, data: string): void {
    this.stats.events++;
    cl.res.write(`event: ${event}\ndata: ${data}\n\n`);
  }

  /** Tests: run one flush and one state round now. */
  flushNow(): void {
    this.flush();
    this.sendState();
  }
}
