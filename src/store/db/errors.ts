// Which database errors are worth retrying (docs/ARCHITECTURE.md, "Database and sink" and "Error codes").
// A retryable error means the link or the server was in trouble: the batch stays in memory and is written
// again (the upserts make that harmless). Everything else is a bug in the data or the code: the batch is
// set aside, never retried in a loop. Errors are recognised by their `.code`; only node-postgres' own
// code-less errors are matched by message.

export type ErrorClass = 'retry' | 'reject';

/** The store's own error codes (as ws does: `err.code`), listed in docs/ARCHITECTURE.md "Error codes". */
export const StoreErrorCode = {
  /** A COPY did not finish within the query timeout (query_timeout does not reach a COPY stream). */
  COPY_TIMEOUT: 'TC_COPY_TIMEOUT',
  /** A row cannot be encoded for the database (a time outside a Date's range, a condition outside int4). */
  BAD_ROW: 'TC_BAD_ROW',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/**
 * Every retryable code in one table: exact SQLSTATEs, SQLSTATE classes (two characters), Node.js
 * socket/DNS codes (the server never saw or never answered) and the store's own codes. Anything else
 * with a code is rejected.
 */
const RETRY_CODES: Record<string, string> = {
  '08': 'connection exception (class)',
  '25006': 'read-only transaction (a replica promoted or the primary demoted after a failover)',
  '40001': 'serialization failure',
  '40P01': 'deadlock detected',
  '53100': 'disk full on the server',
  '53200': 'out of memory on the server',
  '53300': 'too many connections',
  '53400': 'configuration limit exceeded',
  '55P03': 'lock not available',
  '57014': 'query canceled (statement_timeout)',
  '57P01': 'admin shutdown (server stopping or pg_terminate_backend)',
  '57P02': 'crash shutdown',
  '57P03': 'cannot connect now (server starting up)',
  ECONNRESET: 'link reset',
  ECONNREFUSED: 'connection refused',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'write on a closed socket',
  ETIMEDOUT: 'TCP timeout',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host down',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  ENOTFOUND: 'DNS lookup failed',
  ERR_STREAM_DESTROYED: 'socket stream destroyed',
  ERR_STREAM_WRITE_AFTER_END: 'socket stream ended',
  ERR_SOCKET_CLOSED: 'socket closed',
  [StoreErrorCode.COPY_TIMEOUT]: 'COPY timed out (a black-holed link)',
};

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

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** Classifies an error thrown by pg/pg-pool/pg-copy-streams or the store. Unknown shapes are rejected. */
export function classifyError(err: unknown): ErrorClass {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined;
  if (!e || typeof e !== 'object') return 'reject';
  const code = typeof e.code === 'string' ? e.code : '';
  const msg = typeof e.message === 'string' ? e.message.toLowerCase() : '';
  if (msg.includes('cannot use a pool after calling end')) return 'reject';
  if (code !== '') {
    // Exact codes first: 'EPIPE' also has the shape of a SQLSTATE (its class 'EP' is not in the table).
    if (RETRY_CODES[code] || (SQLSTATE.test(code) && RETRY_CODES[code.slice(0, 2)])) return 'retry';
    if (SQLSTATE.test(code) || code.startsWith('TC_')) return 'reject';
  }
  if (RETRY_MESSAGES.some((m) => msg.includes(m))) return 'retry';
  if (e.cause && e.cause !== err) return classifyError(e.cause);
  return 'reject';
}

/** One line for logs and stats: SQLSTATE, node or store code, then the message. */
export function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  if (!e || typeof e !== 'object') return String(err);
  const code = typeof e.code === 'string' ? `${e.code} ` : '';
  return `${code}${typeof e.message === 'string' ? e.message : String(err)}`;
}
