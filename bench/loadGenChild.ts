// Child process for overload.bench.ts: an EODHD-like endpoint that can offer 400k–1M trades/s on one core.
// The `ws` server does the handshake and reads subscribes; trades are written as pre-framed bytes straight
// to each TCP socket (one write per socket per 10 ms tick), since ws.send per frame tops out far lower.
// A client more than MAX_BACKLOG bytes behind gets nothing more until it catches up: those trades count as
// offered but not sent (what a real server does to a slow reader, short of dropping it).
// IPC: sends {url} once listening; answers 'stats' with {offered, sent, skipped}; exits on disconnect.
import type { Socket } from 'node:net';
import { type AddressInfo, type WebSocket, WebSocketServer } from 'ws';

const MAX_BACKLOG = 16 << 20;
const TICK_MS = 10;
let rate = Number(process.argv[2] ?? 400_000);

const conns = new Map<WebSocket, string[]>();
const stats = { offered: 0, sent: 0, skipped: 0, connections: 0, subscribed: 0 };
let seed = 7;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  stats.connections++;
  ws.on('error', () => ws.terminate());
  ws.send('{"status_code":200,"message":"Authorized"}');
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as { action?: string; symbols?: string };
    if (m.action === 'subscribe' && m.symbols) conns.set(ws, m.symbols.split(','));
  });
  ws.on('close', () => conns.delete(ws));
});

// One frame: FIN+text opcode, then the length (7-bit or 16-bit extended), unmasked (server to client).
function frame(buf: Buffer, off: number, payload: string): number {
  const len = payload.length; // ASCII only
  buf[off++] = 0x81;
  if (len < 126) buf[off++] = len;
  else {
    buf[off++] = 126;
    buf.writeUInt16BE(len, off);
    off += 2;
  }
  return off + buf.write(payload, off, 'latin1');
}

let last = Date.now();
let carry = 0;
const scratch = Buffer.allocUnsafe(8 << 20);
setInterval(() => {
  const now = Date.now();
  const want = (rate * (now - last)) / 1000 + carry;
  last = now;
  const n = Math.floor(want);
  carry = want - n;
  const live = [...conns.entries()];
  if (live.length === 0 || n === 0) return;
  const per = n / live.length;
  for (const [ws, symbols] of live) {
    const k = Math.round(per);
    stats.offered += k;
    const sock = (ws as unknown as { _socket?: Socket })._socket;
    if (!sock || sock.writableLength > MAX_BACKLOG) {
      stats.skipped += k;
      continue;
    }
    let off = 0;
    for (let i = 0; i < k && off < scratch.length - 256; i++) {
      const s = symbols[Math.floor(random() * symbols.length)]!;
      const p = (100 + random() * 50).toFixed(2);
      off = frame(
        scratch,
        off,
        `{"s":"${s}","p":${p},"v":${1 + Math.floor(random() * 500)},"c":[12],"dp":false,"ms":"open","t":${now}}`,
      );
      stats.sent++;
    }
    sock.write(Buffer.from(scratch.subarray(0, off)));
  }
}, TICK_MS);

wss.on('listening', () => {
  process.send?.({ url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws/us` });
});
process.on('message', (m: { cmd: string; rate?: number }) => {
  if (m.cmd === 'stats') process.send?.({ stats: { ...stats, subscribed: conns.size } });
  if (m.cmd === 'rate' && m.rate !== undefined) {
    rate = m.rate;
    Object.assign(stats, { offered: 0, sent: 0, skipped: 0 });
  }
});
process.on('disconnect', () => process.exit(0));
