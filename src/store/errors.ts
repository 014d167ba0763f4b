// Which database errors are worth retrying (DESIGN.md, "Failure behaviour"). A retryable error means the
// link or the server was in trouble: the batch stays in memory and is written again (the upserts make that
// harmless). Everything else is a bug in the data or the code: the batch is set aside, never retried in a loop.

export type ErrorClass = 'retry' | 'reject';

/** SQLSTATE classes (first two characters) that are transient. */
const RETRY_SQLSTATE_CLASSES: Record<string, string> = {
  '08': 'connection exception',
};

/** Exact SQLSTATEs that are transient. */
const RETRY_SQLSTATES: Record<string, string> = {
  '57P01': 'admin shutdown (server stopping or pg_terminate_backend)',
  '57P02': 'crash shutdown',
  '57P03': 'cannot connect now (server starting up)',
  '53300': 'too many connections',
  '53400': 'configuration limit exceeded',
  '40001': 'serialization failure',
  '40P01': 'deadlock detected',
  '57014': 'query canceled (statement_timeout)',
  '55P03': 'lock not available',
};

/** Node.js socket/DNS error codes that mean "the link is down": the server never saw or never answered. */
const RETRY_NODE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_SOCKET_CLOSED',
]);

/** Messages node-postgres and pg-pool throw without a code (matched as substrings, lower case). */
const RETRY_MESSAGES = [
  'connection terminated unexpectedly',
  'connection terminated',
  'timeout exceeded when trying to connect',
  'query read timeout',
  'connection timeout',
  'client has encountered a connection error and is not queryable',
  'client was closed and is not queryable',
  'ssl connection has been closed unexpectedly',
  'socket hang up',
  'the server does not support ssl connections',
  'server closed the connection unexpectedly',
];

/** Classifies an error thrown by pg/pg-pool/pg-copy-streams. Unknown shapes are rejected (never loop). */
export function classifyError(err: unknown): ErrorClass {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined;
  if (!e || typeof e !== 'object') return 'reject';
  const code = typeof e.code === 'string' ? e.code : '';
  const msg = typeof e.message === 'string' ? e.message.toLowerCase() : '';
  if (msg.includes('cannot use a pool after calling end')) return 'reject';
  // Node codes first: 'EPIPE' also has the shape of a SQLSTATE.
  if (RETRY_NODE_CODES.has(code)) return 'retry';
  if (/^[0-9A-Z]{5}$/.test(code)) {
    if (RETRY_SQLSTATES[code] || RETRY_SQLSTATE_CLASSES[code.slice(0, 2)]) return 'retry';
    return 'reject';
  }
  if (RETRY_MESSAGES.some((m) => msg.includes(m))) return 'retry';
  if (e.cause && e.cause !== err) return classifyError(e.cause);
  return 'reject';
}

/** One line for logs and stats: SQLSTATE or node code, then the message. */
export function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  if (!e || typeof e !== 'object') return String(err);
  const code = typeof e.code === 'string' ? `${e.code} ` : '';
  return `${code}${typeof e.message === 'string' ? e.message : String(err)}`;
}
