// CPU time per part of a bench run, from /proc (not a bench itself): the daemon's main thread and its other
// threads (the publisher's worker, libuv's pool, GC helpers), PostgreSQL (every `postgres` process), the
// nats-server, the load generator and this bench process, each as a share of one core over a window.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** utime + stime of a /proc stat file, in ticks (0 when it is gone). */
function ticksOf(path: string): number {
  try {
    const s = readFileSync(path, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

function postgresTicks(): number {
  let t = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') t += ticksOf(`/proc/${d}/stat`);
    } catch {
      // gone meanwhile
    }
  }
  return t;
}

export interface CpuParts {
  daemon: number;
  nats?: number;
  generator?: number;
}

/** Starts a window; the returned function ends it and gives each part's share of one core (1.0 = a core). */
export function cpuWindow(p: CpuParts): () => Record<string, number> {
  const read = () => ({
    daemonMain: ticksOf(`/proc/${p.daemon}/task/${p.daemon}/stat`),
    daemonAll: ticksOf(`/proc/${p.daemon}/stat`),
    postgres: postgresTicks(),
    nats: p.nats ? ticksOf(`/proc/${p.nats}/stat`) : 0,
    generator: p.generator ? ticksOf(`/proc/${p.generator}/stat`) : 0,
    bench: ticksOf(`/proc/${process.pid}/stat`),
  });
  const a = read();
  const t0 = performance.now();
  return () => {
    const b = read();
    const secs = (performance.now() - t0) / 1000;
    const share = (x: number) => Math.round((x / TICKS / secs) * 100) / 100;
    return {
      daemonMainThread: share(b.daemonMain - a.daemonMain),
      daemonOtherThreads: share(b.daemonAll - b.daemonMain - (a.daemonAll - a.daemonMain)),
      postgres: share(b.postgres - a.postgres),
      ...(p.nats ? { natsServer: share(b.nats - a.nats) } : {}),
      ...(p.generator ? { loadGenerator: share(b.generator - a.generator) } : {}),
      benchProcess: share(b.bench - a.bench),
    };
  };
}
