// Credentials out of every URL we show (redactUrl, redactUrlsIn).
// A password in the userinfo (`https://user:pass@host/feed` → `https://user:***@host/feed`; a lone
// `https://token@host` → `https://***@host`) and the value of any query parameter whose name looks secret
// (`?key=…`, `api_token`, `access_token`, `sig`, …). Applied to every log line (logger.ts), every page and
// API answer (src/web) and the CLI's news output, so a feed URL with a key in it can be configured without
// that key reaching a log or a screen.

/** Query parameter names whose values are secrets (substring match, any case). */
const SECRET_PARAM = /key|token|secret|pass|pwd|sig|auth|cred|session/i;

/** A URL anywhere in a text: scheme://, then up to whitespace, a quote, a bracket or a backslash (JSON). */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>\\`]+/gi;

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** One URL with its credentials replaced by "***" (the shape kept, so it still reads as the URL). */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@/i, (_m, scheme: string, info: string) => {
      const colon = info.indexOf(':');
      return colon >= 0 ? `${scheme}${info.slice(0, colon)}:***@` : `${scheme}***@`;
    })
    .replace(/([?&;])([^=&#;\s]+)=([^&#;\s]*)/g, (m, sep: string, k: string) =>
      SECRET_PARAM.test(decoded(k)) ? `${sep}${k}=***` : m,
    );
}

/** Every URL in a text redacted (log lines, error messages). */
export function redactUrlsIn(text: string): string {
  return text.includes('://') ? text.replace(URL_IN_TEXT, redactUrl) : text;
}
