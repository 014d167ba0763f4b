// An independent stand-in for EODHD: one tape, generated live (every print recorded with its seq and `sl`
// letters), streamed over the WebSocket to subscribers with the matching condition ids, and served by the
// tick REST API. It can drop every client and refuse reconnects (an outage), and answer scripted failures.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { TapeTrade } from '../../src/backfill/tickApi.js';
import { seededRandom } from '../../src/feed/sim/market.js';
import { answerPage, type Scripted } from './tapeServer.js';

/** `sl` letters and the WebSocket's condition ids for the same print: a mix where every rule shows. */
export const CONDITIONS: [string, number[]][] = [
  ['@   ', []],
  ['@   ', []],
  ['@   ', []],
  ['@  I', [37]],
  ['@ F ', [14]],
  ['@ FI', [14, 37, 41]],
  ['@ T ', [12]],
  ['   W', [2]],
  ['@  P', [22]],
  ['@4  ', [10]],
  ['C   ', [7]],
  ['@7 V', [53, 52]],
  ['@ 9 ', [38]],
  ['@  M', [15]],
  ['@  Q', [16]],
];

export interface StandIn {
  wsUrl: string;
  apiUrl: string;
  tape: Record<string, TapeTrade[]>;
  script: Scripted[];
  /** Drops every client and refuses new ones until `refuse(false)`. */
  refuse(on: boolean): void;
  /** Stops the tape (nothing more is generated). */
  freeze(): void;
  close(): Promise<void>;
}

export async function startStandIn(symbols: string[], perSymbolPerSec: number): Promise<StandIn> {
  const random = seededRandom(42);
  const tape: Record<string, TapeTrade[]> = Object.fromEntries(symbols.map((s) => [s, []]));
  const price: Record<string, number> = Object.fromEntries(symbols.map((s, i) => [s, 50 + 10 * i]));
  const script: Scripted[] = [];
  let seq = 1;
  let refusing = false;
  const clients = new Set<WebSocket>();
  const subs = new Map<WebSocket, Set<string>>();

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (!u.pathname.startsWith('/api/ticks')) return void res.writeHead(404).end();
    const next = script.shift();
    if (next) return void res.writeHead(next.status, next.headers ?? {}).end('{}');
    answerPage(res, tape, u);
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    if (refusing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      subs.set(ws, new Set());
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        clients.delete(ws);
        subs.delete(ws);
      });
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { action?: string; symbols?: string };
        if (m.action === 'subscribe')
          for (const s of (m.symbols ?? '').split(',')) subs.get(ws)?.add(s.trim());
      });
      ws.send(JSON.stringify({ status_code: 200, message: 'Authorized' }));
    });
  });

  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const dt = now - last;
    last = now;
    for (const s of symbols) {
      const n = Math.floor((perSymbolPerSec * dt) / 1000 + random());
      for (let i = 0; i < n; i++) {
        price[s] = Math.max(1, Math.round((price[s]! + (random() - 0.5) * 0.1) * 100) / 100);
        const [sl, c] = CONDITIONS[Math.floor(random() * CONDITIONS.length)]!;
        const p: TapeTrade = {
          ts: now,
          seq: seq++,
          price: price[s]!,
          shares: 1 + Math.floor(random() * 300),
          sl,
          mkt: 'Q',
        };
        tape[s]!.push(p);
        const frame = JSON.stringify({ s, p: p.price, v: p.shares, c, dp: false, ms: 'open', t: p.ts });
        for (const ws of clients)
          if (subs.get(ws)?.has(s) && ws.readyState === WebSocket.OPEN) ws.send(frame);
      }
    }
  }, 10);

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    wsUrl: `ws://127.0.0.1:${port}/ws/us`,
    apiUrl: `http://127.0.0.1:${port}/api`,
    tape,
    script,
    refuse(on) {
      refusing = on;
      if (on) for (const ws of clients) ws.terminate();
    },
    freeze: () => clearInterval(timer),
    close: () =>
      new Promise<void>((r) => {
        clearInterval(timer);
        for (const ws of clients) ws.terminate();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
