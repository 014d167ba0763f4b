// The feed's WebSocket client: RFC 6455 as a client that reads one server, no extensions.
// Why not `ws`: its receiver costs a Buffer, two event emits and a copy loop per frame; at 400,000 trades/s
// that was a fifth of the thread that reads the feed (docs/ARCHITECTURE.md, Threads). Here the frames of
// each chunk the socket reads are handed over in place (`message(buf, start, end)`) by one loop, and only a
// frame split across chunks is copied. What it does:
//  - handshake: HTTP/1.1 upgrade (ws: or wss:), checks 101 and Sec-WebSocket-Accept; another status goes to
//    `unexpectedResponse` with the response (the body is the caller's to drain); a timeout is an error;
//  - frames: text and binary messages (fragments joined), ping answered with pong, pong reported, a close
//    frame answered and reported with its code; a masked or reserved-bit frame, a bad opcode or a frame over
//    `maxPayload` is an error (the connection then ends); the socket ending without a close frame is 1006;
//  - sends (masked, as a client must): text, ping;
//  - pause()/resume() stop the handing over at once, mid-chunk: the rest waits and goes first on resume.
// No UTF-8 check (as ws's skipUTF8Validation: a bad frame becomes one invalid message, not a reconnect).
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';

export interface FeedSocketHandlers {
  open(): void;
  /** One message: `buf[start, end)`, valid only during the call. */
  message(buf: Buffer, start: number, end: number): void;
  ping(): void;
  pong(): void;
  /** Once, when the connection is over: the peer's close code, or 1006 when it ended without one. */
  close(code: number): void;
  error(err: Error): void;
  /** The server answered the upgrade with another status. */
  unexpectedResponse(res: IncomingMessage): void;
}

export interface FeedSocketOptions {
  handshakeTimeoutMs: number;
  /** A message longer than this ends the connection (an error). */
  maxPayload: number;
  /** wss: certificates trusted besides the system's (a private endpoint; the tests' own server). */
  ca?: string | Buffer;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_CONT = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

export class FeedSocket {
  private state = CONNECTING;
  private socket: Socket | null = null;
  private req: ClientRequest | null;
  private timer: NodeJS.Timeout | null;
  private paused = false;
  /** Bytes read but not handed over: a frame's start, or the rest of a chunk while paused. */
  private rest: Buffer | null = null;
  /** Chunks gathered for a frame longer than what has come (joined once it is whole). */
  private parts: Buffer[] = [];
  private partsLength = 0;
  private need = 0;
  /** A fragmented message's pieces so far. */
  private fragments: Buffer[] | null = null;
  private fragmentsLength = 0;
  private drainQueued = false;

  constructor(
    url: string,
    private readonly o: FeedSocketOptions,
    private readonly h: FeedSocketHandlers,
  ) {
    const u = new URL(url);
    const secure = u.protocol === 'wss:' || u.protocol === 'https:';
    if (!secure && u.protocol !== 'ws:' && u.protocol !== 'http:')
      throw new Error(`not a WebSocket URL: ${u.protocol}`);
    const key = randomBytes(16).toString('base64');
    const request = secure ? httpsRequest : httpRequest;
    const req = request({
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port || (secure ? 443 : 80),
      path: `${u.pathname || '/'}${u.search}`,
      agent: false,
      ...(secure && o.ca !== undefined ? { ca: o.ca } : {}),
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
      },
    });
    this.req = req;
    this.timer = setTimeout(
      () => this.fail(new Error('Opening handshake has timed out')),
      o.handshakeTimeoutMs,
    );
    req.on('error', (err) => this.fail(err));
    req.on('response', (res) => {
      this.clearHandshake();
      if (this.state !== CONNECTING) {
        res.resume();
        return;
      }
      this.state = CLOSED;
      this.h.unexpectedResponse(res);
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      this.clearHandshake();
      if (this.state !== CONNECTING) {
        socket.destroy();
        return;
      }
      const accept = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      if (
        String(res.headers.upgrade).toLowerCase() !== 'websocket' ||
        res.headers['sec-websocket-accept'] !== accept
      ) {
        socket.destroy();
        this.fail(new Error('invalid upgrade response (Sec-WebSocket-Accept)'));
        return;
      }
      if (res.headers['sec-websocket-extensions']) {
        socket.destroy();
        this.fail(new Error('server sent Sec-WebSocket-Extensions that were not asked for'));
        return;
      }
      this.attach(socket, head);
    });
    req.end();
  }

  get isOpen(): boolean {
    return this.state === OPEN;
  }

  send(text: string): void {
    this.write(OP_TEXT, Buffer.from(text, 'utf8'));
  }

  ping(): void {
    this.write(OP_PING, Buffer.alloc(0));
  }

  /** Stops handing over messages at once (mid-chunk) and stops reading the socket. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket?.pause();
  }

  /** Hands over what waited (on the next tick, before anything read later), then reads again. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.rest !== null && this.need === 0) {
      if (!this.drainQueued) {
        this.drainQueued = true;
        process.nextTick(this.drain);
      }
      return;
    }
    this.socket?.resume();
  }

  /** Ends the connection now, without a close handshake (a dead peer would hold a close for its timeout). */
  terminate(): void {
    this.clearHandshake();
    this.req?.destroy();
    this.req = null;
    if (this.state === CONNECTING) {
      this.state = CLOSED;
      this.h.error(new Error('WebSocket was closed before the connection was established'));
      this.h.close(1006);
      return;
    }
    this.socket?.destroy();
    this.end(1006);
  }

  private attach(socket: Socket, head: Buffer): void {
    this.socket = socket;
    this.req = null;
    this.state = OPEN;
    socket.setNoDelay(true);
    socket.setTimeout(0);
    socket.on('data', this.onData);
    socket.on('error', (err) => {
      if (this.state !== CLOSED) this.h.error(err);
      this.end(1006);
    });
    socket.on('end', () => this.end(1006));
    socket.on('close', () => this.end(1006));
    if (this.paused) socket.pause();
    this.h.open();
    if (head.length > 0 && this.state === OPEN) this.onData(head);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.state !== OPEN) return;
    if (this.need > 0) {
      // A frame longer than what had come: gather until it is whole, then join once.
      this.parts.push(chunk);
      this.partsLength += chunk.length;
      if (this.partsLength < this.need) return;
      chunk = Buffer.concat(this.parts, this.partsLength);
      this.parts = [];
      this.partsLength = 0;
      this.need = 0;
      this.rest = null;
    } else if (this.rest !== null) {
      chunk = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    this.frames(chunk);
  };

  private readonly drain = (): void => {
    this.drainQueued = false;
    if (this.paused || this.state !== OPEN) return;
    const b = this.rest;
    this.rest = null;
    if (b !== null) this.frames(b);
    if (!this.paused && this.state === OPEN) this.socket?.resume();
  };

  /** Hands over every whole frame of `b`; keeps the rest (a partial frame, or everything after a pause). */
  private frames(b: Buffer): void {
    const n = b.length;
    let at = 0;
    while (at < n) {
      if (this.paused) break;
      if (n - at < 2) break;
      const b0 = b[at]!;
      const b1 = b[at + 1]!;
      let len = b1 & 0x7f;
      let p = at + 2;
      if (len === 126) {
        if (n - at < 4) break;
        len = b.readUInt16BE(p);
        p += 2;
      } else if (len === 127) {
        if (n - at < 10) break;
        const hi = b.readUInt32BE(p);
        if (hi > 0x1fffff) {
          this.protocolError(1009, 'Max payload size exceeded');
          return;
        }
        len = hi * 0x1_0000_0000 + b.readUInt32BE(p + 4);
        p += 8;
      }
      if ((b0 & 0x70) !== 0) {
        this.protocolError(1002, 'RSV bits set without an extension');
        return;
      }
      if ((b1 & 0x80) !== 0) {
        this.protocolError(1002, 'a server frame is masked');
        return;
      }
      const op = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (op >= 0x8) {
        if (!fin || len > 125) {
          this.protocolError(1002, 'invalid control frame');
          return;
        }
      } else if (len > this.o.maxPayload || len + this.fragmentsLength > this.o.maxPayload) {
        this.protocolError(1009, 'Max payload size exceeded');
        return;
      }
      const stop = p + len;
      if (stop > n) {
        this.rest = at === 0 ? b : b.subarray(at);
        // Much more to come: gather the chunks and join them once, not at every chunk.
        if (stop - at > 65_536) {
          this.need = stop - at;
          this.parts = [this.rest];
          this.partsLength = this.rest.length;
        }
        return;
      }
      at = stop;
      if (op === OP_TEXT || op === OP_BINARY) {
        if (this.fragments !== null) {
          this.protocolError(1002, 'a new message inside a fragmented one');
          return;
        }
        if (fin) this.h.message(b, p, stop);
        else {
          this.fragments = [Buffer.from(b.subarray(p, stop))];
          this.fragmentsLength = len;
        }
      } else if (op === OP_CONT) {
        if (this.fragments === null) {
          this.protocolError(1002, 'a continuation without a message');
          return;
        }
        this.fragments.push(Buffer.from(b.subarray(p, stop)));
        this.fragmentsLength += len;
        if (fin) {
          const whole = Buffer.concat(this.fragments, this.fragmentsLength);
          this.fragments = null;
          this.fragmentsLength = 0;
          this.h.message(whole, 0, whole.length);
        }
      } else if (op === OP_PING) {
        this.write(OP_PONG, Buffer.from(b.subarray(p, stop)));
        this.h.ping();
      } else if (op === OP_PONG) {
        this.h.pong();
      } else if (op === OP_CLOSE) {
        const code = len >= 2 ? b.readUInt16BE(p) : 1005;
        this.write(OP_CLOSE, len >= 2 ? Buffer.from(b.subarray(p, p + 2)) : Buffer.alloc(0));
        this.socket?.end();
        this.end(code);
        return;
      } else {
        this.protocolError(1002, `invalid opcode ${op}`);
        return;
      }
      if (this.state !== OPEN) return;
    }
    if (at < n) this.rest = at === 0 ? b : b.subarray(at);
  }

  private protocolError(code: number, message: string): void {
    this.h.error(new Error(message));
    if (this.state === OPEN) {
      const c = Buffer.alloc(2);
      c.writeUInt16BE(code);
      this.write(OP_CLOSE, c);
    }
    this.end(code);
  }

  private write(op: number, payload: Buffer): void {
    const s = this.socket;
    if (this.state !== OPEN || s === null) return;
    const len = payload.length;
    const headLen = len < 126 ? 2 : len < 65_536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(headLen + 4 + len);
    frame[0] = 0x80 | op;
    if (len < 126) frame[1] = 0x80 | len;
    else if (len < 65_536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(len, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeUInt32BE(Math.floor(len / 0x1_0000_0000), 2);
      frame.writeUInt32BE(len >>> 0, 6);
    }
    const mask = frame.subarray(headLen, headLen + 4);
    randomFillSync(mask);
    for (let i = 0; i < len; i++) frame[headLen + 4 + i] = payload[i]! ^ mask[i & 3]!;
    s.write(frame);
  }

  private fail(err: Error): void {
    this.clearHandshake();
    if (this.state === CLOSED) return;
    const wasConnecting = this.state === CONNECTING;
    this.state = CLOSED;
    this.req?.destroy();
    this.socket?.destroy();
    this.h.error(err);
    if (wasConnecting) this.h.close(1006);
  }

  private end(code: number): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.rest = null;
    this.parts = [];
    this.fragments = null;
    // After a close frame the socket ends by itself (ours sent, theirs received); else at once.
    const s = this.socket;
    if (s !== null && code === 1006) s.destroy();
    else if (s !== null) setTimeout(() => s.destroy(), 1_000).unref();
    this.h.close(code);
  }

  private clearHandshake(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
