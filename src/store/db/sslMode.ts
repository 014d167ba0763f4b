// libpq's sslmode, built by hand (planTls, isTlsRefused, isPlainRefused).
// node-postgres merges the URL's sslmode over any `ssl` object and gives `require` the meaning of
// verify-full, so the URL's ssl* parameters are stripped and turned into TLS options here
// (docs/ARCHITECTURE.md, "Database and sink").
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { SSL_MODES, type SslMode } from '../../config/settings.js';

export type { SslMode } from '../../config/settings.js';

/** URL parameters libpq reads for TLS; node-postgres must never see them. */
const SSL_PARAMS = [
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'sslpassword',
  'sslcrl',
  'uselibpqcompat',
  'ssl',
];

export interface TlsPlan {
  mode: SslMode;
  /** The URL without ssl* parameters. */
  url: string;
  /** TLS options for the first attempt (false = plain). */
  first: ConnectionOptions | false;
  /** allow/prefer: what to try when the server refuses the first attempt. */
  fallback: ConnectionOptions | false | undefined;
}

export interface TlsInput {
  url: string;
  /** Used when the URL has no sslmode (libpq: PGSSLMODE, else prefer). */
  defaultSslMode?: SslMode | null;
  /** Used when the URL has no sslrootcert (libpq: PGSSLROOTCERT). */
  defaultSslRootCert?: string | null;
}

export function isSslMode(s: string): s is SslMode {
  return (SSL_MODES as readonly string[]).includes(s);
}

export function planTls(input: TlsInput): TlsPlan {
  const u = new URL(input.url);
  const raw = u.searchParams.get('sslmode') ?? input.defaultSslMode ?? 'prefer';
  if (!isSslMode(raw)) throw new Error(`sslmode=${raw} is not one of ${SSL_MODES.join(', ')}`);
  const rootCert = u.searchParams.get('sslrootcert') ?? input.defaultSslRootCert ?? null;
  const certFile = u.searchParams.get('sslcert');
  const keyFile = u.searchParams.get('sslkey');
  for (const p of SSL_PARAMS) u.searchParams.delete(p);

  const base: ConnectionOptions = {};
  if (certFile && keyFile) {
    base.cert = readFileSync(certFile, 'utf8');
    base.key = readFileSync(keyFile, 'utf8');
  }
  // 'system' means the default CA store, as in libpq.
  const ca = rootCert && rootCert !== 'system' ? readFileSync(rootCert, 'utf8') : undefined;
  if (ca) base.ca = ca;
  const noHostCheck = () => undefined;
  // Encrypt without verifying (libpq require); with a root cert, libpq require behaves as verify-ca.
  const encrypt: ConnectionOptions = ca
    ? { ...base, rejectUnauthorized: true, checkServerIdentity: noHostCheck }
    : { ...base, rejectUnauthorized: false };

  const url = u.toString();
  switch (raw) {
    case 'disable':
      return { mode: raw, url, first: false, fallback: undefined };
    case 'allow':
      return { mode: raw, url, first: false, fallback: encrypt };
    case 'prefer':
      return { mode: raw, url, first: encrypt, fallback: false };
    case 'require':
      return { mode: raw, url, first: encrypt, fallback: undefined };
    case 'verify-ca':
      return {
        mode: raw,
        url,
        first: { ...base, rejectUnauthorized: true, checkServerIdentity: noHostCheck },
        fallback: undefined,
      };
    case 'verify-full':
      // SNI only for names (RFC 6066); node checks the certificate against the dialled host either way.
      return {
        mode: raw,
        url,
        first: { ...base, rejectUnauthorized: true, ...(isIP(u.hostname) ? {} : { servername: u.hostname }) },
        fallback: undefined,
      };
  }
}

/** The server answered the SSLRequest with 'N' (prefer → retry plain). */
export function isTlsRefused(err: unknown): boolean {
  return /does not support SSL/i.test(String((err as Error)?.message));
}

/** The server wants TLS for this client (allow → retry with TLS): pg_hba has only hostssl, or 'SSL off'. */
export function isPlainRefused(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '28000' && /SSL off|no encryption/i.test(e.message ?? '');
}
