// The NATS side: one reconnecting connection and the JetStream stream ensured.
// The NATS side: one connection (reconnecting for ever), the JetStream stream ensured with our subjects and
// age limit. Used by the publisher and by `tick-collector tail`.
import { JetStreamApiError, type JetStreamManager, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { STREAM_SUBJECTS } from './subject.js';

export interface StreamSettings {
  name: string;
  /** Messages older than this are removed by the server (NATS_MAX_AGE). */
  maxAgeMs: number;
}

/** One connection attempt; the client then reconnects by itself for ever (the publisher watches status()). */
export async function connectNats(url: string, name: string, timeoutMs = 2_000): Promise<NatsConnection> {
  return connect({
    servers: url.split(',').map((s) => s.trim()),
    name,
    timeout: timeoutMs,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    pingInterval: 10_000,
  });
}

/**
 * Creates the stream, or updates its subjects and age limit when they differ (another deployment's stream
 * of the same name keeps its other settings). The duplicate window stays the server's default (2 min): the
 * publish position in PostgreSQL, not the window, keeps a long catch-up from storing anything twice.
 */
export async function ensureStream(nc: NatsConnection, s: StreamSettings): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  const maxAge = nanos(s.maxAgeMs);
  let info: Awaited<ReturnType<JetStreamManager['streams']['info']>> | null = null;
  try {
    info = await jsm.streams.info(s.name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!info) {
    await jsm.streams.add({
      name: s.name,
      subjects: STREAM_SUBJECTS,
      max_age: maxAge,
      storage: StorageType.File,
    });
    return jsm;
  }
  const subjects = info.config.subjects ?? [];
  const missing = STREAM_SUBJECTS.filter((x) => !subjects.includes(x));
  if (missing.length > 0 || info.config.max_age !== maxAge) {
    await jsm.streams.update(s.name, { subjects: [...subjects, ...missing], max_age: maxAge });
  }
  return jsm;
}

/** JetStream's "stream not found" (API error code 10059). */
const isNotFound = (err: unknown): boolean => err instanceof JetStreamApiError && err.code === 10059;
