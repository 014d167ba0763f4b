// A private nats-server (JetStream) per test file: a free port, its own store in a temp dir, stopped and
// started again on that store for the outage tests. The shared server at 127.0.0.1:4222 is never touched
// (a stream's subjects may not overlap another's on one server).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface NatsServer {
  url: string;
  storeDir: string;
  /** Starts it (again, on the same store and port); resolves when it says it is ready. */
  start(): Promise<void>;
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

export async function startNatsServer(): Promise<NatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'tc-nats-'));
  let proc: ChildProcess | null = null;
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    async start() {
      const p = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      proc = p;
      let err = '';
      await new Promise<void>((resolve, reject) => {
        p.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('Server is ready')) resolve();
        });
        p.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${err}`)));
      });
    },
    async stop() {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null) return;
      const exited = once(p, 'exit');
      p.kill('SIGTERM');
      await exited;
    },
    async close() {
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** A stored message, as an independent consumer reads it. */
export interface StoredMessage {
  subject: string;
  msgId: string | null;
  seq: number;
  payload: Record<string, unknown>;
}

/** Every message the stream holds now, in stream order (an ordered consumer from the first). */
export async function readStream(url: string, stream: string): Promise<StoredMessage[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    const total = info.state.messages;
    const out: StoredMessage[] = [];
    if (total === 0) return out;
    const c = await jetstream(nc).consumers.get(stream);
    const it = await c.consume();
    for await (const m of it) {
      out.push(toStored(m));
      if (m.info.pending === 0) break;
    }
    await it.close();
    return out;
  } finally {
    await nc.close();
  }
}

export function toStored(m: JsMsg): StoredMessage {
  return {
    subject: m.subject,
    msgId: m.headers?.get('Nats-Msg-Id') ?? null,
    seq: m.seq,
    payload: m.json<Record<string, unknown>>(),
  };
}

/** Deletes every stream on the server (tests run one stream at a time: subjects may not overlap). */
export async function deleteStreams(url: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of await jsm.streams.names().next()) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

export async function natsConnection(url: string): Promise<NatsConnection> {
  return connect({ servers: url });
}
