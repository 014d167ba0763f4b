// Local mode without a PostgreSQL server (startEmbedded).
// PGlite in a worker thread serving the PostgreSQL protocol on 127.0.0.1 (PGlite on the main thread starved
// timers and socket reads for 1.3–1.7 s in a measurement here).
// Data lives in <dataDir>/pglite and runs with fsync off: not crash-safe. Opening a new directory takes
// ~3-6 s, an existing one well under a second. PGlite is ONE session behind the socket: startup options
// (search_path, application_name, statement_timeout) are ignored and connections share session state,
// so use a pool of 1 connection with it.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnWorker } from '../../ops/spawnWorker.js';

export interface Embedded {
  /** postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable */
  url: string;
  /** Closes the server and the database cleanly (data persists). Idempotent. */
  stop(): Promise<void>;
}

type WorkerMsg =
  | { type: 'ready'; port: number }
  | { type: 'stopped'; error?: string }
  | { type: 'failed'; error: string };

export async function startEmbedded(opts: { dataDir: string; startTimeoutMs?: number }): Promise<Embedded> {
  const dir = join(opts.dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  const worker = spawnWorker(import.meta.url, './embeddedWorker', { dir });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('embedded PGlite did not start in time')),
      opts.startTimeoutMs ?? 60_000,
    );
    worker.on('message', function onMsg(m: WorkerMsg) {
      if (m.type === 'ready') resolve(m.port);
      else if (m.type === 'failed') reject(new Error(`embedded PGlite failed to start: ${m.error}`));
      else return;
      clearTimeout(timer);
      worker.off('message', onMsg);
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  // After start, a worker error would otherwise be an unhandled 'error' event.
  worker.on('error', () => undefined);

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited) return;
      const stopped = new Promise<void>((resolve) => {
        worker.on('message', (m: WorkerMsg) => {
          if (m.type === 'stopped') resolve();
        });
        void exit.then(resolve);
      });
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
      await exit;
    })();
    return stopping;
  };
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`, stop };
}
