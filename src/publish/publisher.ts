// The publisher (Publisher): rounds that read the outbox, publish to JetStream and raise the position.
// The publisher (docs/ARCHITECTURE.md, "Publishing"): every candle and gap row the database committed goes to
// the JetStream stream, oldest first, after the commit and never before. The database is the outbox: a
// round reads what was written since the stored position (outbox.ts), publishes it with its Nats-Msg-Id
// (subject.ts), and only when JetStream acknowledged every message raises the position in PostgreSQL. The
// sink's commit notice only wakes a round; nothing runs on the trade path. While NATS is down or slow the
// rounds fail and back off, collecting and storing go on, and the first round that succeeds catches up
// from the position: nothing is skipped, and nothing acknowledged before is published again.
import { createInbox, headers, type NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { type Clock, systemClock } from '../clock.js';
import { type Logger, nullLogger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rateLimit.js';
import { Backoff, RETRY_DELAYS } from '../retry/backoff.js';
import type { CommitNotice } from '../store/sink/sink.js';
import { messagesOf, type OutMessage, openGapMessages } from './messages.js';
import { connectNats, ensureStream } from './nats.js';
import {
  committedBelow,
  horizon,
  loadPositions,
  MAIN_SOURCES,
  minuteStream,
  type OutboxRow,
  readOutbox,
  savePositions,
  storePositions,
} from './outbox.js';

/** What an acknowledgement said: stored, already stored (a duplicate id), or an error. */
type Ack = 'stored' | 'duplicate' | { error: string };

const decoder = new TextDecoder();
const ERROR = Buffer.from('"error"');
const DUPLICATE = Buffer.from('"duplicate"');
const TRUE = Buffer.from('true');

/** Whether `key` occurs as a key whose value is `true` (nats-server 2.9 writes `"duplicate": true`). */
function isTrue(bytes: Buffer, key: Buffer): boolean {
  let at = bytes.indexOf(key);
  while (at >= 0) {
    let i = at + key.length;
    while (bytes[i] === 0x20) i++;
    if (bytes[i] === 0x3a) {
      i++;
      while (bytes[i] === 0x20) i++;
      return bytes.subarray(i, i + TRUE.length).equals(TRUE);
    }
    at = bytes.indexOf(key, at + 1);
  }
  return false;
}

/**
 * A PubAck (`{"stream":…,"seq":…,"duplicate":true?}`), a JetStream error, or a status (503: no responders).
 * Looked at as bytes: only an error is decoded (10,000 acknowledgements a second at full rate).
 */
export function readAck(data: Uint8Array, status: number): Ack {
  if (status >= 300)
    return { error: status === 503 ? 'no JetStream stream answers (503)' : `status ${status}` };
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < 2 || bytes[0] !== 0x7b) return { error: 'unreadable acknowledgement' };
  if (bytes.indexOf(ERROR) < 0) return isTrue(bytes, DUPLICATE) ? 'duplicate' : 'stored';
  try {
    const a = JSON.parse(decoder.decode(data)) as { error?: { description?: string } };
    return { error: a.error?.description ?? 'JetStream error' };
  } catch {
    return { error: 'unreadable acknowledgement' };
  }
}

/** The publishes of one chunk awaiting their acknowledgements: ids [first, first + size). */
interface Chunk {
  first: number;
  size: number;
  seen: Uint8Array;
  left: number;
  stored: number;
  duplicates: number;
  failed: number;
  failure: string | null;
  done: () => void;
}

/** The candle rows a commit notice adds to the stream (0: gaps only), or null when it concerns none. */
export function noticedRows(n: CommitNotice): number | null {
  if (n.table !== 'candles_1s' && n.table !== 'candles_100t' && n.table !== 'feed_gaps') return null;
  if (n.committed.length === 0) return null;
  return n.table === 'feed_gaps' ? 0 : n.committed.length;
}

export type PublisherState = 'connecting' | 'publishing' | 'catching-up' | 'down' | 'standby' | 'stopped';

export interface PublisherStats {
  state: PublisherState;
  url: string;
  stream: string;
  /** Messages JetStream stored (new), counter. */
  published: number;
  /** Of those, published by a catch-up after NATS was down or slow (committed meanwhile), counter. */
  republished: number;
  /** Messages JetStream already had (a retry, a peer around a handover), counter. */
  duplicates: number;
  /** Publishes that failed (timeout, no responders, connection lost), counter. */
  failed: number;
  /** Candle rows committed and not yet on the stream (an estimate from the commit notices). */
  pending: number;
  /** Rounds (read, publish, position) completed, counter. */
  rounds: number;
  lastPublishedAt: number | null;
  lastError: string | null;
}

/** A publisher's stats before its first round. */
export function initialStats(url: string, stream: string): PublisherStats {
  return {
    state: 'connecting',
    url,
    stream,
    published: 0,
    republished: 0,
    duplicates: 0,
    failed: 0,
    pending: 0,
    rounds: 0,
    lastPublishedAt: null,
    lastError: null,
  };
}

/** A shard this collector writes (key 0 and every symbol without shards). */
export interface PublishShard {
  key: number;
  symbols: readonly string[] | null;
}

export interface PublisherOptions {
  url: string;
  stream: string;
  maxAgeMs: number;
  /** Reads the outbox and keeps the position: its own connection on a server. */
  pool: pg.Pool;
  /** The shards this collector writes now (each publishes the symbols it writes). */
  held: () => readonly PublishShard[];
  /** Every shard key of the configuration: positions exist before anything is written. */
  allShards: readonly number[];
  log?: Logger;
  clock?: Clock;
  /** Rows read per source per round. Default 20,000: a catch-up reads seconds of 5,000 symbols at once. */
  readRows?: number;
  /** Messages awaiting their acknowledgement at once. Default 5,000. */
  maxInflight?: number;
  publishTimeoutMs?: number;
  /** A round at least this often with no notice (gaps filled by the backfill, a horizon held back). */
  idleMs?: number;
  /** A round at most this often while publishing live (a catch-up goes on at once). Default 250. */
  minRoundMs?: number;
  /**
   * The 1-minute bars are read at most this often (NATS_MINUTE_EVERY_MS, default 5,000; 0: every round),
   * and right after each minute's end plus `minuteSettleMs`: a bar is rewritten at each of its seconds,
   * and a consumer gets its latest revision at this cadence and the finished bar at once.
   */
  minuteEveryMs?: number;
  /** After a minute's end, when its last second is stored (the candle grace plus the sink's flush). */
  minuteSettleMs?: number;
  random?: () => number;
}

export class Publisher {
  readonly stats: PublisherStats;
  readonly done: Promise<void>;
  private readonly o: Required<Omit<PublisherOptions, 'log' | 'clock'>>;
  private readonly log: Logger;
  private readonly limited: RateLimitedLog;
  private readonly clock: Clock;
  private readonly stopSignal = new AbortController();
  private wake = new AbortController();
  private nc: NatsConnection | null = null;
  /** One subscription takes every PubAck (reply subjects `<inbox>.<n>`): no request, timer or inbox per message. */
  private inbox = '';
  /** The chunk whose acknowledgements are awaited (one at a time: publishAll awaits each). */
  private chunk: Chunk | null = null;
  private nextAck = 0;
  private connected = false;
  private streamReady = false;
  private catchingUp = false;
  /** Candle rows in commit notices, and how many of them a finished round had covered. */
  private noticed = 0;
  private covered = 0;
  private openGaps: OutMessage[] = [];

  constructor(opts: PublisherOptions) {
    this.o = {
      readRows: 20_000,
      maxInflight: 5_000,
      publishTimeoutMs: 5_000,
      idleMs: 1_000,
      minRoundMs: 250,
      minuteEveryMs: 5_000,
      minuteSettleMs: 3_000,
      random: Math.random,
      ...opts,
    };
    this.log = (opts.log ?? nullLogger()).child({ component: 'publish' });
    this.clock = opts.clock ?? systemClock;
    this.limited = new RateLimitedLog(this.log, { now: () => this.clock.now() });
    this.stats = initialStats(opts.url, opts.stream);
    this.done = this.run();
  }

  /** The sink's commit notice: counts the candles and wakes a round. O(1). */
  notice(n: CommitNotice): void {
    const rows = noticedRows(n);
    if (rows !== null) this.committed(rows);
  }

  /** `rows` candle rows were committed (0: only gaps): wakes a round. The worker thread's form of notice(). */
  committed(rows: number): void {
    this.noticed += rows;
    this.stats.pending = this.noticed - this.covered;
    this.wake.abort();
  }

  /** A gap opened (a feed connection stopped receiving): told at once, no row exists yet. Bounded. */
  gapOpened(symbols: readonly string[], startedAt: number, reason: string): void {
    if (this.openGaps.length > 50_000) return;
    this.openGaps.push(...openGapMessages(symbols, startedAt, reason));
    this.wake.abort();
  }

  /** Publishes what is committed by now (bounded by `deadlineMs`), then closes the connection. */
  async stop(deadlineMs = 2_000): Promise<void> {
    if (this.stopSignal.signal.aborted) return this.done;
    this.finalBy = this.clock.now() + deadlineMs;
    this.stopSignal.abort();
    this.wake.abort();
    await this.done;
  }

  private finalBy = 0;
  /** Where the last round left every held shard's position. */
  private reached = 0n;
  /** When the minute bars are next read (clock time); at a stop, every round. */
  private minutesAt = 0;

  /** The next minute read after one at `t`: `minuteEveryMs` later, or the next minute's end and settle. */
  private nextMinuteRead(t: number): number {
    const { minuteEveryMs: every, minuteSettleMs: settle } = this.o;
    const settled = (Math.floor((t - settle) / 60_000) + 1) * 60_000 + settle;
    return Math.min(t + every, settled);
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(RETRY_DELAYS['publish.retry'], this.o.random);
    // Positions first, before the sink commits anything of this run (a NATS outage at start loses nothing).
    while (!this.stopSignal.signal.aborted) {
      try {
        await storePositions(this.o.pool, this.o.stream, this.o.allShards, await horizon(this.o.pool));
        break;
      } catch (err) {
        this.fail(err, 'reading the publish positions failed');
        await this.clock.sleep(backoff.next(), this.stopSignal.signal);
      }
    }
    backoff.reset();
    // At a stop: every transaction committed by then (the sink has drained) is published before we leave.
    let target: bigint | null = null;
    for (;;) {
      const stopping = this.stopSignal.signal.aborted;
      if (stopping && (this.clock.now() >= this.finalBy || !this.connected)) break;
      const wake = new AbortController();
      this.wake = wake;
      const startedAt = this.clock.now();
      try {
        if (!this.nc) await this.connect();
        if (!this.connected) throw new Error(`NATS at ${this.o.url} is not connected`);
        if (!this.streamReady) {
          await ensureStream(this.nc!, { name: this.o.stream, maxAgeMs: this.o.maxAgeMs });
          this.streamReady = true;
        }
        if (stopping && target === null) target = await committedBelow(this.o.pool);
        const r = await this.round();
        this.reached = r.below;
        backoff.reset();
        if (stopping) {
          if (r.below >= target!) break;
          if (!r.more) await this.clock.sleep(20); // the horizon is held back by another transaction
          continue;
        }
        if (r.more) continue;
        await this.clock.sleep(this.o.idleMs, AbortSignal.any([wake.signal, this.stopSignal.signal]));
        // Coalesce: the notices of one sink flush arrive together, and a round is at most every
        // minRoundMs (each read is planned at the newest end of an index being written: measured ~50 ms).
        if (!this.stopSignal.signal.aborted)
          await this.clock.sleep(Math.max(20, startedAt + this.o.minRoundMs - this.clock.now()));
      } catch (err) {
        this.streamReady = false;
        this.catchingUp = true;
        if (this.stats.state !== 'connecting') this.stats.state = 'down';
        this.fail(
          err,
          'publishing to NATS failed: collecting goes on, the stream catches up when it is back',
        );
        if (stopping) await this.clock.sleep(100);
        else await this.clock.sleep(backoff.next(), this.stopSignal.signal);
      }
    }
    if (this.stopSignal.signal.aborted && (target === null || this.reached < target)) {
      this.log.warn(
        { pending: this.stats.pending },
        'publisher stopped before every committed candle was on the stream: the next start publishes the rest',
      );
    }
    this.stats.state = 'stopped';
    this.limited.stop();
    const nc = this.nc;
    this.nc = null;
    if (nc) await Promise.race([nc.drain().catch(() => nc.close()), this.clock.sleep(1_000)]);
  }

  private async connect(): Promise<void> {
    const nc = await connectNats(this.o.url, 'tick-collector');
    this.nc = nc;
    this.inbox = createInbox();
    nc.subscribe(`${this.inbox}.*`, {
      callback: (_err, m) => {
        const c = this.chunk;
        if (c === null) return; // a late answer to a chunk that timed out
        const i = Number(m.subject.slice(this.inbox.length + 1)) - c.first;
        if (!(i >= 0 && i < c.size) || c.seen[i] === 1) return;
        c.seen[i] = 1;
        const a = readAck(m.data, m.headers?.code ?? 0);
        if (a === 'stored') c.stored++;
        else if (a === 'duplicate') c.duplicates++;
        else {
          c.failed++;
          c.failure ??= a.error;
        }
        if (--c.left === 0) c.done();
      },
    });
    this.connected = true;
    this.log.info({ url: this.o.url, stream: this.o.stream }, `publishing candles to NATS (${this.o.url})`);
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.connected = false;
          this.catchingUp = true;
          this.stats.state = 'down';
        } else if (s.type === 'reconnect') {
          this.connected = true;
          this.streamReady = false;
          this.wake.abort();
        }
      }
    })().catch(() => undefined);
  }

  /**
   * One read and publish: `more` when more is waiting below the horizon; `below` the position every held
   * shard has reached (of everything, the minute bars included).
   */
  private async round(): Promise<{ more: boolean; below: bigint }> {
    const held = this.o.held();
    if (this.openGaps.length > 0) {
      const gaps = this.openGaps;
      this.openGaps = [];
      await this.publishAll(gaps).catch((err) => {
        this.openGaps = [...gaps, ...this.openGaps];
        throw err;
      });
    }
    if (held.length === 0) {
      this.stats.state = 'standby';
      return { more: false, below: await horizon(this.o.pool) };
    }
    const noticedBefore = this.noticed;
    const pool = this.o.pool;
    const now = this.clock.now();
    const minutes = this.stopSignal.signal.aborted || now >= this.minutesAt;
    const h = await horizon(pool);
    const keys = held.map((s) => s.key);
    const all = held.some((s) => s.symbols === null);
    const shardOf = new Map<string, number>();
    if (!all) for (const s of held) for (const sym of s.symbols!) shardOf.set(sym, s.key);
    const symbols = all ? null : [...shardOf.keys()];
    const part = async (stream: string, sources: readonly OutboxRow['source'][], inherit: string | null) => {
      const positions = await loadPositions(pool, stream, keys, h, inherit);
      let lo = h;
      for (const p of positions.values()) if (p < lo) lo = p;
      const { rows, below } = await readOutbox(pool, lo, h, this.o.readRows, symbols, sources);
      const msgs: OutMessage[] = [];
      for (const r of rows) {
        for (const m of messagesOf(r)) {
          const key = all ? held[0]!.key : shardOf.get(m.symbol);
          if (key === undefined) continue; // a symbol of a shard another collector writes
          if (r.xid < positions.get(key)!) continue; // that shard's stream already has it
          msgs.push(m);
        }
      }
      return { msgs, below };
    };
    const main = await part(this.o.stream, MAIN_SOURCES, null);
    const minute = minutes
      ? await part(minuteStream(this.o.stream), ['1m'], this.o.stream)
      : { msgs: [], below: h };
    if (this.catchingUp || main.below < h || minute.below < h) this.stats.state = 'catching-up';
    await this.publishAll(main.msgs, this.catchingUp);
    await this.publishAll(minute.msgs, this.catchingUp);
    await savePositions(pool, this.o.stream, keys, main.below);
    if (minutes) {
      await savePositions(pool, minuteStream(this.o.stream), keys, minute.below);
      // Read again at once while more is waiting; else at the cadence.
      if (minute.below >= h) this.minutesAt = this.nextMinuteRead(now);
    }
    if (main.below >= h && minute.below >= h) {
      this.covered = noticedBefore;
      this.catchingUp = false;
      this.stats.state = 'publishing';
    }
    this.stats.pending = Math.max(0, this.noticed - this.covered);
    this.stats.rounds++;
    // At a stop the minute bars are read every round, so this is where everything stands.
    return {
      more: main.below < h || minute.below < h,
      below: minute.below < main.below ? minute.below : main.below,
    };
  }

  /**
   * Publishes in order (one connection: JetStream stores them as sent), at most maxInflight awaiting their
   * acknowledgement; throws after the chunk settles (or times out) if any failed.
   */
  private async publishAll(msgs: readonly OutMessage[], catchUp = false): Promise<void> {
    const nc = this.nc!;
    for (let i = 0; i < msgs.length; i += this.o.maxInflight) {
      const size = Math.min(this.o.maxInflight, msgs.length - i);
      const timer = new AbortController();
      const all = new Promise<void>((done) => {
        this.chunk = {
          first: this.nextAck,
          size,
          seen: new Uint8Array(size),
          left: size,
          stored: 0,
          duplicates: 0,
          failed: 0,
          failure: null,
          done,
        };
      });
      const c = this.chunk!;
      for (let k = 0; k < size; k++) {
        const m = msgs[i + k]!;
        const h = headers();
        h.set('Nats-Msg-Id', m.msgId);
        nc.publish(m.subject, m.data, { headers: h, reply: `${this.inbox}.${this.nextAck++}` });
      }
      const settled = await Promise.race([
        all.then(() => true),
        this.clock.sleep(this.o.publishTimeoutMs, timer.signal).then(() => false),
      ]);
      timer.abort();
      this.chunk = null;
      this.stats.published += c.stored;
      if (catchUp) this.stats.republished += c.stored;
      this.stats.duplicates += c.duplicates;
      // Unanswered within the timeout: failed (the round is read again; JetStream drops what it has).
      this.stats.failed += c.failed + (settled ? 0 : c.left);
      const failure =
        c.failure ?? (settled ? null : `no acknowledgement within ${this.o.publishTimeoutMs} ms`);
      if (failure) throw new Error(`publishing to stream ${this.o.stream}: ${failure}`);
      this.stats.lastPublishedAt = this.clock.now();
    }
  }

  private fail(err: unknown, message: string): void {
    const error = err instanceof Error ? err.message : String(err);
    this.stats.lastError = error;
    this.limited.event('publish.failed', 'warn', { err: error }, message);
  }
}
