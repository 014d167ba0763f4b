// FeedParser: sends feed bodies to the parse worker thread and hands back its replies.
// Feed bodies are parsed in one worker thread, off the trade path (see parseWorker.ts), so the body cap can
// be ~10 MB (podcast feeds run to a few MB). One request at a time per feed; the worker is started on first
// use, unref'd (it never keeps the process alive) and started again if it dies.
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../ops/spawnWorker.js';
import type { ParsedFeed } from './parseFeed.js';

export interface ParseRequest {
  id: number;
  xml: string;
}

export type ParseReply = ({ id: number } & ParsedFeed) | { id: number; error: string };

interface Pending {
  resolve: (parsed: ParsedFeed) => void;
  reject: (err: Error) => void;
}

export class FeedParser {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly symbols: readonly string[]) {}

  /** The items of a feed body (and how many were skipped); rejects when it is not a readable RSS/Atom document. */
  parse(xml: string): Promise<ParsedFeed> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // a parse in flight keeps the process alive until it answers
      worker.postMessage({ id, xml } satisfies ParseRequest);
    });
  }

  /** Ends the worker; parses in flight reject. Idempotent. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    this.failAll(new Error('feed parser closed'));
  }

  private start(): Worker {
    const w = spawnWorker(import.meta.url, './parseWorker', { symbols: [...this.symbols] });
    w.unref();
    w.on('message', (m: ParseReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve({ items: m.items, skipped: m.skipped });
    });
    // A worker that dies (out of memory on a hostile feed, a bug) fails its parses; the next starts afresh.
    const onEnd = (err: Error) => {
      if (this.worker === w) this.worker = null;
      this.failAll(err);
    };
    w.on('error', onEnd);
    w.on('exit', (code) => onEnd(new Error(`feed parser worker exited (${code})`)));
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
