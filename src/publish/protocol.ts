// The messages between the collector's main thread and the publisher's worker thread (thread.ts, worker.ts).
import type { PoolOptions } from '../store/db/connection.js';
import type { PublisherStats, PublishShard } from './publisher.js';

export interface WorkerSetup {
  url: string;
  stream: string;
  maxAgeMs: number;
  allShards: number[];
  minuteEveryMs: number;
  minuteSettleMs: number;
  /** The shards held at start (null: one collector, every symbol). */
  held: PublishShard[] | null;
  pool: PoolOptions;
  logLevel: string;
}

export type ToWorker =
  | { t: 'committed'; rows: number }
  | { t: 'held'; shards: PublishShard[] }
  | { t: 'gapOpened'; symbols: string[]; at: number; reason: string }
  | { t: 'stop'; deadlineMs: number };

export type FromWorker =
  | { t: 'stats'; stats: PublisherStats }
  /** A pino JSON line: the main thread's logger writes it. */
  | { t: 'log'; line: string }
  | { t: 'stopped'; stats: PublisherStats };
