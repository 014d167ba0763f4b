// The main thread's side of the publisher's worker (PublisherThread).
// The main thread's side of the publisher's worker (worker.ts): what the collector holds and calls. A commit
// notice costs a counter and, once per turn of the event loop, one message to the worker; the shards held
// are sent when they change; the stats come back every 200 ms. A worker that dies is started again after a
// second (the publish position is in PostgreSQL: nothing is lost or sent twice), its counters carried over.
import type { Worker } from 'node:worker_threads';
import type pg from 'pg';
import type { Logger } from '../log/logger.js';
import { spawnWorker } from '../ops/spawnWorker.js';
import type { CommitNotice } from '../store/sink/sink.js';
import { horizon, storePositions } from './outbox.js';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.js';
import { initialStats, noticedRows, type PublisherStats, type PublishShard } from './publisher.js';

/** What the collector uses of a publisher, in this thread (Publisher) or in a worker (PublisherThread). */
export interface PublisherHandle {
  readonly stats: PublisherStats;
  notice(n: CommitNotice): void;
  gapOpened(symbols: readonly string[], startedAt: number, reason: string): void;
  stop(deadlineMs?: number): Promise<void>;
}

const COUNTERS = ['published', 'republished', 'duplicates', 'failed', 'rounds'] as const;

export class PublisherThread implements PublisherHandle {
  /**
   * Stores the positions first, on the collector's pool, before anything of this run is committed (the
   * worker takes a moment to start: a candle committed meanwhile would otherwise fall below a position
   * taken later). If the database does not answer now, the worker stores them when it can.
   */
  static async start(
    setup: WorkerSetup,
    held: (() => readonly PublishShard[]) | null,
    log: Logger,
    pool: pg.Pool,
  ): Promise<PublisherThread> {
    try {
      await storePositions(pool, setup.stream, setup.allShards, await horizon(pool));
    } catch (err) {
      log.warn(
        { component: 'publish', err: err instanceof Error ? err.message : String(err) },
        'reading the publish positions failed: the publisher thread reads them when it starts',
      );
    }
    return new PublisherThread(setup, held, log);
  }

  private worker: Worker | null = null;
  private latest: PublisherStats;
  /** The counters of workers that died (a restarted worker counts from 0). */
  private readonly carried: Record<(typeof COUNTERS)[number], number> = {
    published: 0,
    republished: 0,
    duplicates: 0,
    failed: 0,
    rounds: 0,
  };
  private rows = 0;
  private posting = false;
  private heldKey = '';
  private readonly heldTimer: NodeJS.Timeout | null = null;
  private restart: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private stopped: (() => void) | null = null;

  private constructor(
    private readonly setup: WorkerSetup,
    private readonly held: (() => readonly PublishShard[]) | null,
    private readonly log: Logger,
  ) {
    this.latest = initialStats(setup.url, setup.stream);
    if (held) {
      this.heldKey = keyOf(held());
      this.heldTimer = setInterval(() => this.sendHeld(), 250);
      this.heldTimer.unref();
    }
    this.start();
  }

  get stats(): PublisherStats {
    const s = { ...this.latest };
    for (const k of COUNTERS) s[k] += this.carried[k];
    return s;
  }

  notice(n: CommitNotice): void {
    const rows = noticedRows(n);
    if (rows === null) return;
    this.rows += rows;
    if (this.posting) return;
    this.posting = true;
    setImmediate(() => {
      this.posting = false;
      const r = this.rows;
      this.rows = 0;
      this.post({ t: 'committed', rows: r });
    });
  }

  gapOpened(symbols: readonly string[], startedAt: number, reason: string): void {
    this.post({ t: 'gapOpened', symbols: [...symbols], at: startedAt, reason });
  }

  stop(deadlineMs = 2_000): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      if (this.heldTimer) clearInterval(this.heldTimer);
      if (this.restart) clearTimeout(this.restart);
      const w = this.worker;
      if (!w) {
        this.latest.state = 'stopped';
        resolve();
        return;
      }
      this.stopped = resolve;
      this.sendHeld();
      w.postMessage({ t: 'stop', deadlineMs } satisfies ToWorker);
      // A worker that does not answer is ended: the next start publishes what is left.
      setTimeout(() => void w.terminate(), deadlineMs + 2_000).unref();
    });
    return this.stopping;
  }

  private start(): void {
    const setup: WorkerSetup = { ...this.setup, held: this.held ? [...this.held()] : this.setup.held };
    const w = spawnWorker(import.meta.url, './worker', setup);
    this.worker = w;
    w.on('message', (m: FromWorker) => {
      if (m.t === 'stats') this.latest = m.stats;
      else if (m.t === 'log') this.forward(m.line);
      else {
        this.latest = m.stats;
        this.latest.state = 'stopped';
      }
    });
    w.on('error', (err) => {
      this.latest.lastError = err.message;
      this.log.error({ component: 'publish', err: err.message }, 'the publisher thread failed');
    });
    w.on('exit', (code) => {
      this.worker = null;
      if (this.stopped) {
        this.latest.state = 'stopped';
        this.stopped();
        return;
      }
      for (const k of COUNTERS) this.carried[k] += this.latest[k];
      for (const k of COUNTERS) this.latest[k] = 0;
      this.latest.state = 'down';
      this.log.error(
        { component: 'publish', code },
        'the publisher thread ended: starting it again (the stream resumes from the stored position)',
      );
      this.restart = setTimeout(() => {
        this.restart = null;
        if (!this.stopping) this.start();
      }, 1_000);
      this.restart.unref();
    });
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  private sendHeld(): void {
    if (!this.held) return;
    const shards = this.held();
    const key = keyOf(shards);
    if (key === this.heldKey) return;
    this.heldKey = key;
    this.post({ t: 'held', shards: shards.map((s) => ({ key: s.key, symbols: s.symbols })) });
  }

  /** A worker's log line, written by this thread's logger (one output, one redaction). */
  private forward(line: string): void {
    try {
      const { level, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
      const write = this.log[level as 'info'];
      if (typeof write === 'function') write.call(this.log, fields, String(msg ?? ''));
    } catch {
      this.log.warn({ component: 'publish' }, 'unreadable log line from the publisher thread');
    }
  }
}

const keyOf = (shards: readonly PublishShard[]): string =>
  shards.map((s) => `${s.key}:${s.symbols?.length ?? '*'}`).join(',');
