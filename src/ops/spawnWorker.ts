// A worker thread from the module next to the caller (spawnWorker).
// The compiled .js in dist/, else the .ts sibling run through tsx (dev, tests). Node refuses a .ts entry
// point (and ignores --import in a worker's execArgv on Node 20), so the .ts case registers tsx from an
// eval'd bootstrap, then imports the worker.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** `spawnWorker(import.meta.url, './parseWorker', data)`: the caller's sibling module, without extension. */
export function spawnWorker(callerUrl: string, relative: string, workerData: unknown): Worker {
  const js = fileURLToPath(new URL(`${relative}.js`, callerUrl));
  if (existsSync(js)) return new Worker(js, { workerData });
  const ts = pathToFileURL(fileURLToPath(new URL(`${relative}.ts`, callerUrl))).href;
  // tsx resolved from here, not from the working directory (which may be anywhere: a test's temp dir).
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((t) => t.register()).then(() => import(${JSON.stringify(ts)}))`;
  return new Worker(boot, { eval: true, workerData });
}
