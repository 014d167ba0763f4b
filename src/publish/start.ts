// Wiring of the publisher for the collector: the NATS target, the shards, the thread or not.
// Wiring of the publisher for the collector: which NATS (NATS_URL; in local mode a server answering at
// 127.0.0.1:4222), which shards this collector writes, and the banner line that says whether it publishes.
import net from 'node:net';
import type pg from 'pg';
import type { Clock } from '../clock.js';
import { cutShards } from '../cluster/shards.js';
import type { Config } from '../config/load.js';
import { durationToMs, redactUrl } from '../config/parse.js';
import type { Logger } from '../log/logger.js';
import type { PoolOptions } from '../store/db/connection.js';
import { Publisher, type PublishShard } from './publisher.js';
import { type PublisherHandle, PublisherThread } from './thread.js';

export const LOCAL_NATS_URL = 'nats://127.0.0.1:4222';

/** Whether something accepts TCP connections at host:port within `timeoutMs`. */
export function answers(host: string, port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** The NATS URL to publish to, or null, and the banner line saying so. */
export async function publishTarget(config: Config): Promise<{ url: string | null; banner: string }> {
  if (config.natsUrl === 'off') return { url: null, banner: 'NATS: not publishing (NATS_URL=off)' };
  if (config.natsUrl)
    return {
      url: config.natsUrl,
      banner: `NATS: publishing to ${redactUrl(config.natsUrl)} (stream ${config.natsStream})`,
    };
  if (config.mode === 'local' && (await answers('127.0.0.1', 4222))) {
    return {
      url: LOCAL_NATS_URL,
      banner: `NATS: publishing to ${LOCAL_NATS_URL} (a server answers there; stream ${config.natsStream}; NATS_URL=off to stop)`,
    };
  }
  return { url: null, banner: 'NATS: not publishing (set NATS_URL to publish every committed candle)' };
}

export interface PublisherSetup {
  url: string;
  config: Config;
  /** The collector's pool: an embedded database's one session (the publisher then runs in this thread). */
  pool: pg.Pool;
  /** On a server: the options of the worker thread's own connection. */
  poolOptions: PoolOptions | null;
  /** The shards this collector writes (replicas); null: one collector, every symbol. */
  held: (() => readonly { key: number; symbols: readonly string[] }[]) | null;
  log: Logger;
  clock: Clock;
}

/**
 * On a server the publisher runs in a worker thread of its own (thread.ts): reading the outbox, building
 * the payloads and the NATS client's work stay off the thread that reads the feed. The embedded database
 * is one session behind a socket, at local rates: there it runs in this thread, on the collector's pool.
 */
export async function startPublisher(s: PublisherSetup): Promise<PublisherHandle> {
  let allShards = [0];
  let held: (() => readonly PublishShard[]) | null = null;
  if (s.held) {
    const r = await s.pool.query<{ schema: string }>('SELECT current_schema() AS schema');
    const cut = cutShards(s.config.symbols, s.config.maxSymbolsPerConnection, r.rows[0]?.schema ?? 'public');
    allShards = cut.map((c) => c.key);
    const get = s.held;
    held = () => get().map((h) => ({ key: h.key, symbols: h.symbols }));
  }
  const common = {
    url: s.url,
    stream: s.config.natsStream,
    maxAgeMs: durationToMs(s.config.natsMaxAge),
    allShards,
    minuteEveryMs: s.config.natsMinuteEveryMs,
    // A minute's last second is stored by its end plus the grace and a sink flush (and a margin).
    minuteSettleMs: s.config.candleGraceMs + s.config.sinkFlushMs + 500,
  };
  if (s.poolOptions) {
    return PublisherThread.start(
      { ...common, held: held ? [...held()] : null, pool: s.poolOptions, logLevel: s.config.logLevel },
      held,
      s.log,
      s.pool,
    );
  }
  return new Publisher({
    ...common,
    pool: s.pool,
    held: held ?? (() => [{ key: 0, symbols: null }]),
    log: s.log,
    clock: s.clock,
  });
}
