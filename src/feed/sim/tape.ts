// The simulator's tape (SimTape).
// Every trade it generated, kept so it can serve the same tick REST API as EODHD
// (GET /api/ticks/?s=&from=&to=&limit=, parallel arrays, `to` inclusive to the second, earliest `limit`
// prints in seq order). With a file, each batch is appended before it is sent, so a `kill -9` of the local
// collector (the simulator runs in its process) loses nothing the collector could have received.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { LETTER_IDS } from '../../aggregate/conditionTable.js';
import type { SimTrade } from './market.js';

interface Print {
  ts: number;
  seq: number;
  price: number;
  shares: number;
  sl: string;
}

/**
 * EODHD `sl` letters for condition ids: the inverse of conditionTable.ts LETTER_IDS (the first letter that
 * carries an id's rule). An id with no letter (41, Trade Thru Exempt) updates everything, as '@' does.
 */
const LETTERS: Record<number, string> = {};
for (const [letter, id] of Object.entries(LETTER_IDS)) LETTERS[id] ??= letter;

export function slOf(c: readonly number[]): string {
  let letters = '';
  for (const id of c) letters += LETTERS[id] ?? '';
  return `@${letters}`.padEnd(4).slice(0, 4);
}

export class SimTape {
  private readonly bySymbol = new Map<string, Print[]>();
  private seq = 0;
  private pending: string[] = [];

  /** Why the file stopped being written (a full disk, say): the tape goes on in memory. */
  fileError: string | null = null;

  constructor(private file: string | null = null) {
    if (file) mkdirSync(dirname(file), { recursive: true });
    if (file && existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line === '') continue;
        try {
          const [s, ts, seq, price, shares, sl] = JSON.parse(line) as [
            string,
            number,
            number,
            number,
            number,
            string,
          ];
          this.put(s, { ts, seq, price, shares, sl });
          if (seq >= this.seq) this.seq = seq + 1;
        } catch {
          // A line cut by a kill mid-write: the trade was never sent.
        }
      }
    }
  }

  /** Records a generated trade; returns its tape seq. */
  add(t: SimTrade): number {
    const p: Print = { ts: t.t, seq: this.seq++, price: t.p, shares: t.v, sl: slOf(t.c) };
    this.put(t.s, p);
    if (this.file) this.pending.push(JSON.stringify([t.s, p.ts, p.seq, p.price, p.shares, p.sl]));
    return p.seq;
  }

  /** Writes the batch recorded since the last call (before it is sent). */
  flush(): void {
    if (!this.file || this.pending.length === 0) return;
    try {
      appendFileSync(this.file, `${this.pending.join('\n')}\n`);
    } catch (err) {
      // A simulator must never take the collector down with it: keep the tape in memory only from now on.
      this.fileError = String(err);
      this.file = null;
    }
    this.pending = [];
  }

  /** Prints of `symbol` with fromMs <= ts <= toMs, at most `limit`, earliest first. */
  range(symbol: string, fromMs: number, toMs: number, limit: number): Print[] {
    const all = this.bySymbol.get(symbol) ?? [];
    const out: Print[] = [];
    for (const p of all) {
      if (p.ts < fromMs || p.ts > toMs) continue;
      out.push(p);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Serves GET /api/ticks/ (and /ticks/); false when the request is not for it. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const u = new URL(req.url ?? '/', 'http://sim');
    if (!/^(\/api)?\/ticks\/?$/.test(u.pathname)) return false;
    const q = u.searchParams;
    const from = Number(q.get('from'));
    const to = Number(q.get('to'));
    const limit = q.get('limit') === null ? 10_000 : Number(q.get('limit'));
    const s = (q.get('s') ?? '').replace(/\.US$/i, '');
    if (!s || !Number.isFinite(from) || !Number.isFinite(to) || !(limit > 0)) {
      res.writeHead(422, { 'content-type': 'application/json' }).end('{"error":"s, from, to required"}');
      return true;
    }
    const ps = this.range(s, from * 1000, to * 1000 + 999, limit);
    const body = {
      mkt: ps.map(() => 'Q'),
      price: ps.map((p) => p.price),
      seq: ps.map((p) => p.seq),
      shares: ps.map((p) => p.shares),
      sl: ps.map((p) => p.sl),
      sub_mkt: ps.map(() => ''),
      ts: ps.map((p) => p.ts),
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    return true;
  }

  private put(symbol: string, p: Print): void {
    let list = this.bySymbol.get(symbol);
    if (!list) {
      list = [];
      this.bySymbol.set(symbol, list);
    }
    list.push(p);
  }
}
