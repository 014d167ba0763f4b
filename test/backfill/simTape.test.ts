// The simulator keeps its tape and serves it through the tick API: what a subscriber received is what the
// API returns (with letters meaning the same as the ids), and a tape file survives a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConditionRules } from '../../src/aggregate/conditions.js';
import { parsePage } from '../../src/backfill/tickApi.js';
import type { SimTrade } from '../../src/feed/sim/market.js';
import { startSimServer } from '../../src/feed/sim/server.js';
import { SimTape } from '../../src/feed/sim/tape.js';

const dir = mkdtempSync(join(tmpdir(), 'tc-simtape-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('simulator tape', () => {
  it('serves every trade it sent, with sl letters equivalent to the ids, and keeps them in its file', async () => {
    const file = join(dir, 'sim-tape.jsonl');
    const sim = await startSimServer({ rate: 2000, symbols: ['AAPL'], tapeFile: file });
    const got: SimTrade[] = [];
    const ws = new WebSocket(`${sim.url}?api_token=x`);
    await new Promise<void>((resolve) => {
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as SimTrade & { message?: string };
        if (m.message === 'Authorized') ws.send(JSON.stringify({ action: 'subscribe', symbols: 'AAPL' }));
        else if (m.s) got.push(m);
        if (got.length >= 300) resolve();
      });
    });
    ws.terminate();
    const from = Math.floor(got[0]!.t / 1000);
    const to = Math.floor(got.at(-1)!.t / 1000);
    const res = await fetch(`${sim.apiUrl}/ticks/?s=AAPL&from=${from}&to=${to}&fmt=json&api_token=x`);
    expect(res.status).toBe(200);
    const page = parsePage(await res.json())!;
    await sim.close();
    const seen = page.filter((p) => p.ts >= got[0]!.t && p.ts <= got.at(-1)!.t);
    // Every received trade is on the tape, in order (the tape may hold a few more: sent after we stopped).
    const rules = new ConditionRules('sip');
    let j = 0;
    for (const t of got) {
      while (j < seen.length && !(seen[j]!.price === t.p && seen[j]!.shares === t.v && seen[j]!.ts === t.t))
        j++;
      expect(j, `trade at ${t.t} missing from the tape`).toBeLessThan(seen.length);
      expect(rules.ofLetters(seen[j]!.sl)).toBe(rules.ofIds(t.c));
      j++;
    }
    expect(new Set(page.map((p) => p.seq)).size).toBe(page.length);
    // Reloaded from its file (a restart of local mode), the tape has the same prints.
    const again = new SimTape(file).range('AAPL', got[0]!.t, got.at(-1)!.t, 1e9);
    expect(again.map((p) => p.seq)).toEqual(seen.map((p) => p.seq));
  });
});
