// One HTTP GET of a feed with the global fetch (fetchFeed).
// Conditional (ETag / Last-Modified, so an unchanged feed costs a 304), bounded in time (timeout covers the
// body too) and in size, and every failure turned into a short reason. Remote trouble (HTTP errors, DNS,
// refused, timeouts, TLS) is `expected`; anything else (a bad URL in the config, a bug) is not, and the
// caller logs it louder.

export const DEFAULT_USER_AGENT = 'tick-collector/0.1 (RSS/Atom news poller)';
/** Podcast feeds run to a few MB; parsing happens in a worker thread (feedParser.ts), off the trade path. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

export type FetchResult =
  | { kind: 'not-modified' }
  | { kind: 'ok'; body: string; validators: Validators }
  | {
      kind: 'error';
      /** Short, for the summary line: "404", "timeout", "dns", "refused", … */
      reason: string;
      expected: boolean;
      status?: number;
      retryAfter?: string | null;
      error?: unknown;
    }
  /** The caller's signal ended the request (shutdown): not a failure of the feed. */
  | { kind: 'aborted' };

export interface FetchOptions {
  validators: Validators;
  timeoutMs: number;
  signal: AbortSignal;
  userAgent: string;
  maxBodyBytes: number;
  fetchImpl: typeof fetch;
}

export async function fetchFeed(url: string, opts: FetchOptions): Promise<FetchResult> {
  if (opts.signal.aborted) return { kind: 'aborted' };
  // One controller per request, its listener and timer removed in `finally`: the caller's signal lives as
  // long as the process, and listeners left on it would pile up with every poll.
  const ac = new AbortController();
  let timedOut = false;
  const onAbort = () => ac.abort(opts.signal.reason);
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new Error(`timed out after ${opts.timeoutMs} ms`));
  }, opts.timeoutMs);
  const signal = ac.signal;
  const headers: Record<string, string> = {
    'User-Agent': opts.userAgent,
    Accept: 'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5',
  };
  if (opts.validators.etag) headers['If-None-Match'] = opts.validators.etag;
  if (opts.validators.lastModified) headers['If-Modified-Since'] = opts.validators.lastModified;

  // fetch refuses a URL with credentials in it ("Request cannot be constructed from a URL that includes
  // credentials"): they go in an Authorization header instead (HTTP Basic, as a browser would send them).
  const target = withoutCredentials(url, headers);

  try {
    const res = await opts.fetchImpl(target, { headers, signal, redirect: 'follow' });
    if (res.status === 304) {
      await res.body?.cancel();
      return { kind: 'not-modified' };
    }
    if (!res.ok) {
      await res.body?.cancel();
      return {
        kind: 'error',
        reason: String(res.status),
        expected: true,
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
      };
    }
    const bytes = await readCapped(res, opts.maxBodyBytes);
    if (bytes === null) return { kind: 'error', reason: 'too large', expected: true };
    return {
      kind: 'ok',
      body: decode(bytes, res.headers.get('content-type')),
      validators: { etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') },
    };
  } catch (err) {
    if (opts.signal.aborted) return { kind: 'aborted' };
    if (timedOut) return { kind: 'error', reason: 'timeout', expected: true };
    return classifyNetworkError(err);
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onAbort);
  }
}

/** The URL without its userinfo; when it had one, `headers` gets the matching Authorization. */
export function withoutCredentials(url: string, headers: Record<string, string>): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (!u.username && !u.password) return url;
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
  u.username = '';
  u.password = '';
  return u.toString();
}

async function readCapped(res: Response, max: number): Promise<Uint8Array | null> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    return null;
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

// Charset from Content-Type, else from the XML declaration, else UTF-8 (the XML default).
function decode(bytes: Uint8Array, contentType: string | null): string {
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  const label =
    /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1] ??
    /^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']/i.exec(head)?.[1] ??
    'utf-8';
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

const NETWORK_CODES: Record<string, string> = {
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_NONAME: 'dns',
  EAI_NODATA: 'dns',
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  ETIMEDOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
};

function classifyNetworkError(err: unknown): FetchResult {
  // undici reports network failures as `TypeError('fetch failed')` with the system error as `cause`.
  // With several addresses (happy eyeballs) the cause is an AggregateError holding one error per address.
  type Cause = {
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown };
    errors?: { code?: unknown }[];
  };
  const cause = (err as { cause?: Cause }).cause;
  const code = String(cause?.code ?? cause?.cause?.code ?? cause?.errors?.[0]?.code ?? '');
  const mapped = NETWORK_CODES[code];
  if (mapped) return { kind: 'error', reason: mapped, expected: true, error: err };
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code)) {
    return { kind: 'error', reason: 'tls', expected: true, error: err };
  }
  const message = err instanceof Error ? err.message : String(err);
  if (message === 'fetch failed') {
    const why =
      typeof cause?.message === 'string' && /redirect/i.test(cause.message) ? 'redirects' : 'network';
    return { kind: 'error', reason: why, expected: true, error: err };
  }
  return { kind: 'error', reason: 'error', expected: false, error: err };
}
