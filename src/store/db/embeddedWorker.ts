// Worker thread of the embedded mode, the other side of embedded.ts.
// PGlite (WASM PostgreSQL) served over the PostgreSQL protocol on 127.0.0.1, so its CPU-heavy work never
// starves the main thread's timers and sockets, and the main thread uses the same pg code path as with a real
// server. PGlite runs with fsync off: not crash-safe.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

interface Init {
  dir: string;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('embeddedWorker must run in a worker thread');
  const { dir } = workerData as Init;
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  const conn = server.getServerConn(); // "127.0.0.1:PORT"
  const listenPort = Number(conn.slice(conn.lastIndexOf(':') + 1));
  port.on('message', (msg: unknown) => {
    if (msg !== 'stop') return;
    void (async () => {
      try {
        await server.stop();
        await db.close(); // flushes the data directory so the next start finds everything
        port.postMessage({ type: 'stopped' });
      } catch (err) {
        port.postMessage({ type: 'stopped', error: String(err) });
      }
    })();
  });
  port.postMessage({ type: 'ready', port: listenPort });
}

main().catch((err: unknown) => {
  parentPort?.postMessage({
    type: 'failed',
    error: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
});
