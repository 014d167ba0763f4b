// The feed's own WebSocket client against a real `ws` server (loopback, ws: and wss:) and against a raw TCP
// server that writes exactly the bytes a case needs: messages of every length form, fragments, ping/pong,
// close codes, a pause in the middle of a chunk, and every protocol error a server can commit.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { FeedSocket, type FeedSocketOptions } from '../../src/feed/socket.js';
import { until } from '../helpers/wsServer.js';

interface Seen {
  opened: boolean;
  messages: string[];
  pings: number;
  pongs: number;
  closes: number[];
  errors: string[];
  status: number | null;
}

function client(
  url: string,
  o: Partial<FeedSocketOptions> = {},
  onMessage?: (s: FeedSocket, n: number) => void,
) {
  const seen: Seen = {
    opened: false,
    messages: [],
    pings: 0,
    pongs: 0,
    closes: [],
    errors: [],
    status: null,
  };
  const s: FeedSocket = new FeedSocket(
    url,
    { handshakeTimeoutMs: 5_000, maxPayload: 1 << 20, ...o },
    {
      open: () => {
        seen.opened = true;
      },
      message: (b, start, end) => {
        seen.messages.push(b.toString('utf8', start, end));
        onMessage?.(s, seen.messages.length);
      },
      ping: () => seen.pings++,
      pong: () => seen.pongs++,
      close: (code) => seen.closes.push(code),
      error: (err) => seen.errors.push(err.message),
      unexpectedResponse: (res) => {
        seen.status = res.statusCode ?? 0;
        res.resume();
      },
    },
  );
  sockets.push(s);
  return { s, seen };
}

const sockets: FeedSocket[] = [];
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  for (const c of cleanups.splice(0)) await c();
});

async function wsServer(): Promise<{ url: string; wss: WebSocketServer; peer: Promise<WebSocket> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  cleanups.push(() => new Promise((r) => wss.close(r)));
  const peer = new Promise<WebSocket>((r) => wss.once('connection', r));
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws/us?api_token=x`, wss, peer };
}

/** A TCP server that answers the upgrade by hand, then lets the test write raw bytes. */
async function rawServer(
  answer: (key: string) => string = accept101,
): Promise<{ url: string; peer: Promise<Socket> }> {
  let resolvePeer!: (s: Socket) => void;
  const peer = new Promise<Socket>((r) => {
    resolvePeer = r;
  });
  const server: Server = createServer((sock) => {
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
      const reply = answer(key);
      if (reply !== '') sock.write(reply);
      resolvePeer(sock);
    };
    sock.on('data', onData);
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  cleanups.push(async () => (await Promise.race([peer, Promise.resolve(null)]))?.destroy());
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/us`, peer };
}

function accept101(key: string): string {
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

/** One unmasked server frame. */
function frame(
  op: number,
  payload: Buffer | string,
  o: { fin?: boolean; rsv?: number; mask?: boolean } = {},
): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const fin = o.fin ?? true;
  const len = p.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = (fin ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | op;
  if (len < 126) head[1] = len;
  else if (len < 65_536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeUInt32BE(0, 2);
    head.writeUInt32BE(len, 6);
  }
  if (!o.mask) return Buffer.concat([head, p]);
  head[1]! |= 0x80;
  return Buffer.concat([head, Buffer.from([1, 2, 3, 4]), p.map((x, i) => x ^ [1, 2, 3, 4][i & 3]!)]);
}

/** The client's frames as the server reads them (masked, as a client's must be). */
function readClientFrames(b: Buffer): { op: number; data: Buffer; masked: boolean }[] {
  const out: { op: number; data: Buffer; masked: boolean }[] = [];
  let at = 0;
  while (at + 2 <= b.length) {
    const masked = (b[at + 1]! & 0x80) !== 0;
    let len = b[at + 1]! & 0x7f;
    let p = at + 2;
    if (len === 126) {
      len = b.readUInt16BE(p);
      p += 2;
    }
    const mask = masked ? b.subarray(p, p + 4) : Buffer.alloc(4);
    if (masked) p += 4;
    const data = Buffer.from(b.subarray(p, p + len)).map((x, i) => x ^ mask[i & 3]!);
    out.push({ op: b[at]! & 0x0f, data: Buffer.from(data), masked });
    at = p + len;
  }
  return out;
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('FeedSocket against ws', () => {
  it('opens, sends masked text, and hands over messages of every length form in order', async () => {
    const { url, peer } = await wsServer();
    const { s, seen } = client(url);
    const ws = await peer;
    const got = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    await until(() => seen.opened);
    s.send('{"action":"subscribe","symbols":"AAPL,BRK.B"}');
    expect(await got).toBe('{"action":"subscribe","symbols":"AAPL,BRK.B"}');
    const texts = ['{"s":"A"}', 'x'.repeat(200), 'y'.repeat(70_000), 'z'.repeat(125), 'w'.repeat(126), '']; // 7, 16, 64-bit
    for (const t of texts) ws.send(t);
    await until(() => seen.messages.length === texts.length);
    expect(seen.messages).toEqual(texts);
  });

  it('joins a fragmented message, answers pings with their payload and reports pongs', async () => {
    const { url, peer } = await wsServer();
    const { s, seen } = client(url);
    const ws = await peer;
    await until(() => seen.opened);
    ws.send('part one,', { fin: false });
    ws.ping('hello'); // a control frame between fragments is allowed
    ws.send(' part two', { fin: true });
    await until(() => seen.messages.length === 1);
    expect(seen.messages).toEqual(['part one, part two']);
    expect(seen.pings).toBe(1);
    s.ping(); // ws answers it
    await until(() => seen.pongs === 1);
    // Our pong to its ping carries its payload:
    const echoed = new Promise<string>((r) => ws.once('pong', (d) => r(String(d))));
    ws.ping('again');
    expect(await echoed).toBe('again');
  });

  it("reports the server's close code once, and 1006 when the link just ends", async () => {
    const a = await wsServer();
    const one = client(a.url);
    (await a.peer).close(4001, 'bye');
    await until(() => one.seen.closes.length === 1);
    expect(one.seen.closes).toEqual([4001]);
    expect(one.s.isOpen).toBe(false);

    const b = await wsServer();
    const two = client(b.url);
    await until(() => two.seen.opened);
    (await b.peer).terminate();
    await until(() => two.seen.closes.length === 1);
    expect(two.seen.closes).toEqual([1006]);
    expect(two.seen.errors).toEqual([]);
  });

  it('connects over TLS (wss:) with the certificate trusted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tc-wss-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1']
        .concat(['-addext', 'subjectAltName=IP:127.0.0.1'])
        .concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const https = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert });
    const wss = new WebSocketServer({ server: https, perMessageDeflate: false });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => https.close(r)));
    cleanups.push(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws) => ws.send('{"status_code":200,"message":"Authorized"}'));
    const url = `wss://127.0.0.1:${(https.address() as AddressInfo).port}/ws/us`;
    const { seen } = client(url, { ca: cert });
    await until(() => seen.messages.length === 1);
    expect(seen.messages).toEqual(['{"status_code":200,"message":"Authorized"}']);
    // Not trusted: the handshake fails with an error, never opens.
    const untrusted = client(url);
    await until(() => untrusted.seen.errors.length > 0);
    expect(untrusted.seen.opened).toBe(false);
    expect(untrusted.seen.closes).toEqual([1006]);
  });
});

describe('FeedSocket against raw bytes', () => {
  it('pauses in the middle of a chunk and hands over the rest, in order, only on resume', async () => {
    const { url, peer } = await rawServer();
    const frames = Array.from({ length: 100 }, (_, i) => frame(1, `{"n":${i}}`));
    const { s, seen } = client(url, {}, (sock, n) => {
      if (n === 10) sock.pause();
    });
    (await peer).write(Buffer.concat(frames)); // one write: one chunk, usually
    await until(() => seen.messages.length >= 10);
    await turns(20);
    expect(seen.messages.length).toBe(10);
    s.resume();
    await until(() => seen.messages.length === 100);
    expect(seen.messages).toEqual(Array.from({ length: 100 }, (_, i) => `{"n":${i}}`));
  });

  it('keeps order across a pause: what waited, then what the server wrote meanwhile', async () => {
    const { url, peer } = await rawServer();
    const { s, seen } = client(url, {}, (sock, n) => {
      if (n === 5) sock.pause();
    });
    const sock = await peer;
    // The pause falls inside a frame's bytes split across two writes.
    const first = Buffer.concat(Array.from({ length: 8 }, (_, i) => frame(1, `{"a":${i}}`)));
    sock.write(first.subarray(0, first.length - 3));
    await until(() => seen.messages.length === 5);
    sock.write(first.subarray(first.length - 3));
    sock.write(Buffer.concat(Array.from({ length: 8 }, (_, i) => frame(1, `{"b":${i}}`))));
    await turns(20);
    expect(seen.messages).toHaveLength(5);
    s.resume();
    await until(() => seen.messages.length === 16);
    expect(seen.messages).toEqual([
      ...Array.from({ length: 8 }, (_, i) => `{"a":${i}}`),
      ...Array.from({ length: 8 }, (_, i) => `{"b":${i}}`),
    ]);
  });

  it('joins a frame split across writes, header included', async () => {
    const { url, peer } = await rawServer();
    const { seen } = client(url);
    const sock = await peer;
    const big = frame(1, 'b'.repeat(100_000));
    const bytes = Buffer.concat([frame(1, 'first'), big, frame(1, 'last')]);
    // Splits inside a header, inside the 64-bit length, inside a payload, and between frames.
    const cuts = [0, 1, 7, 9, 11, 50_000, 100_013, bytes.length];
    for (let i = 1; i < cuts.length; i++) {
      sock.write(bytes.subarray(cuts[i - 1], cuts[i]));
      await turns(2);
    }
    await until(() => seen.messages.length === 3);
    expect(seen.messages[0]).toBe('first');
    expect(seen.messages[1]).toBe('b'.repeat(100_000));
    expect(seen.messages[2]).toBe('last');
  });

  it('answers a close frame with the same code and reports it', async () => {
    const { url, peer } = await rawServer();
    const { seen } = client(url);
    const sock = await peer;
    const received: Buffer[] = [];
    sock.on('data', (d) => received.push(d));
    const code = Buffer.alloc(2);
    code.writeUInt16BE(1008);
    sock.write(frame(8, code));
    await until(() => seen.closes.length === 1);
    expect(seen.closes).toEqual([1008]);
    await until(() => readClientFrames(Buffer.concat(received)).some((f) => f.op === 8));
    const close = readClientFrames(Buffer.concat(received)).find((f) => f.op === 8)!;
    expect(close.masked).toBe(true);
    expect(close.data.readUInt16BE(0)).toBe(1008);
  });

  const errors: [string, Buffer, string, number][] = [
    ['a masked server frame', frame(1, 'x', { mask: true }), 'masked', 1002],
    ['reserved bits', frame(1, 'x', { rsv: 4 }), 'RSV', 1002],
    ['an unknown opcode', frame(3, 'x'), 'opcode', 1002],
    ['a fragmented control frame', frame(9, 'x', { fin: false }), 'control', 1002],
    ['a continuation without a message', frame(0, 'x'), 'continuation', 1002],
    ['a message over maxPayload', frame(1, 'x'.repeat(2_000)), 'Max payload', 1009],
  ];
  for (const [what, bytes, message, code] of errors) {
    it(`ends the connection on ${what}`, async () => {
      const { url, peer } = await rawServer();
      const { seen } = client(url, { maxPayload: 1_000 });
      const sock = await peer;
      await until(() => seen.opened);
      sock.write(Buffer.concat([frame(1, 'before'), bytes, frame(1, 'after')]));
      await until(() => seen.closes.length === 1);
      expect(seen.messages).toEqual(['before']);
      expect(seen.errors).toHaveLength(1);
      expect(seen.errors[0]).toContain(message);
      expect(seen.closes).toEqual([code]);
    });
  }

  it('gives a refused upgrade to unexpectedResponse with its status', async () => {
    const { url } = await rawServer(
      () => 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope',
    );
    const { seen } = client(url);
    await until(() => seen.status !== null);
    expect(seen.status).toBe(401);
    expect(seen.opened).toBe(false);
  });

  it('refuses a 101 with the wrong Sec-WebSocket-Accept', async () => {
    const { url } = await rawServer(() => accept101('not the key'));
    const { seen } = client(url);
    await until(() => seen.errors.length === 1);
    expect(seen.errors[0]).toContain('Sec-WebSocket-Accept');
    expect(seen.opened).toBe(false);
    expect(seen.closes).toEqual([1006]);
  });

  it('times out a handshake the server never answers', async () => {
    const { url } = await rawServer(() => '');
    const { seen } = client(url, { handshakeTimeoutMs: 100 });
    await until(() => seen.errors.length === 1);
    expect(seen.errors[0]).toContain('timed out');
    expect(seen.closes).toEqual([1006]);
  });

  it('terminate() during the handshake reports an error and 1006, once', async () => {
    const { url } = await rawServer(() => '');
    const { s, seen } = client(url);
    s.terminate();
    s.terminate();
    expect(seen.errors).toHaveLength(1);
    expect(seen.closes).toEqual([1006]);
  });
});
