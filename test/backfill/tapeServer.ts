// A stand-in for EODHD's tick REST API over a fixed tape, on loopback: parallel arrays, `to` inclusive to
// the second, the earliest `limit` prints; scripted failures (status codes, Retry-After) answer first.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TapeTrade } from '../../src/backfill/tickApi.js';

export interface Scripted {
  status: number;
  headers?: Record<string, string>;
}

export interface TapeServer {
  url: string;
  requests: URL[];
  /** Answers queued for the next requests (then the tape). */
  script: Scripted[];
  /** A window wider than this many seconds answers 500 (a span too large). */
  maxSpanSeconds: number;
  /** Every request answers this status while set (e.g. 404: not loaded). */
  always: number | null;
  /** While set, requests are held (not answered) until it resolves. */
  hold: Promise<void> | null;
  /** Resolves once `n` requests have arrived in all. */
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * One page of the tick API for request `u` over `tape`: the prints of `s` with from ≤ ts ≤ to (seconds, `to`
 * inclusive), the earliest `limit`, as EODHD's parallel arrays. Written here, not shared with the simulator's.
 */
export function answerPage(res: ServerResponse, tape: Record<string, TapeTrade[]>, u: URL): void {
  const from = Number(u.searchParams.get('from'));
  const to = Number(u.searchParams.get('to'));
  const limit = Number(u.searchParams.get('limit') ?? 1e9);
  const all = tape[u.searchParams.get('s') ?? ''] ?? [];
  const ps = all.filter((p) => p.ts >= from * 1000 && p.ts <= to * 1000 + 999).slice(0, limit);
  res.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({
      mkt: ps.map((p) => p.mkt),
      price: ps.map((p) => p.price),
      seq: ps.map((p) => p.seq),
      shares: ps.map((p) => p.shares),
      sl: ps.map((p) => p.sl),
      sub_mkt: ps.map(() => ''),
      ts: ps.map((p) => p.ts),
    }),
  );
}

export async function startTapeServer(tape: Record<string, TapeTrade[]>): Promise<TapeServer> {
  const waiters: { n: number; resolve: () => void }[] = [];
  const state: Omit<TapeServer, 'url' | 'close'> = {
    requests: [],
    script: [],
    maxSpanSeconds: Number.POSITIVE_INFINITY,
    always: null,
    hold: null,
    received: (n) =>
      state.requests.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
  };
  const server: Server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    state.requests.push(u);
    for (const w of [...waiters]) {
      if (state.requests.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    if (state.hold) await state.hold;
    if (state.always !== null) return void res.writeHead(state.always).end('{}');
    const next = state.script.shift();
    if (next) return void res.writeHead(next.status, next.headers ?? {}).end('{}');
    const from = Number(u.searchParams.get('from'));
    const to = Number(u.searchParams.get('to'));
    if (to - from + 1 > state.maxSpanSeconds) return void res.writeHead(500).end('{}');
    answerPage(res, tape, u);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/api`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  }) as TapeServer;
}

/** A deterministic tape: `n` prints per symbol from t0, `stepMs` apart, conditions cycling through `sls`. */
export function makeTape(
  symbols: string[],
  t0: number,
  n: number,
  stepMs: number,
  sls: string[],
): Record<string, TapeTrade[]> {
  const out: Record<string, TapeTrade[]> = {};
  let seq = 1000;
  for (const [k, s] of symbols.entries()) {
    const list: TapeTrade[] = [];
    let price = 100 + k;
    for (let i = 0; i < n; i++) {
      price = Math.round((price + Math.sin(i * 0.7 + k) * 0.05) * 100) / 100;
      list.push({
        ts: t0 + i * stepMs + k,
        seq: seq++,
        price,
        shares: 1 + ((i * 37) % 300),
        sl: sls[i % sls.length]!,
        mkt: 'Q',
      });
    }
    out[s] = list;
  }
  return out;
}

/** A clock whose sleeps return at once (recording them) while time moves on by what was slept. */
export function instantClock(start: number) {
  let t = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    async sleep(ms: number) {
      slept.push(ms);
      t += Math.max(0, ms);
    },
  };
}
