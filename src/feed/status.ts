// EODHD status frames classified: what each means for the connect loop, and the fix to tell the operator.
// What an EODHD status frame (or a refused HTTP upgrade) means for the connect loop, and the fix to tell
// the operator. 4xx rejections are not transient: retrying at the normal pace would hammer the server.

export type StatusClass = 'ok' | 'rejected' | 'server' | 'other';

export interface StatusVerdict {
  cls: StatusClass;
  /** One line for the log: what happened and how to fix it. */
  text: string;
}

/** Tickers the EODHD demo token streams (docs: "works for AAPL, MSFT, TSLA, EURUSD, ETH-USD and BTC-USD"). */
export const DEMO_SYMBOLS = ['AAPL', 'MSFT', 'TSLA', 'EURUSD', 'ETH-USD', 'BTC-USD'] as const;

export function classifyStatus(code: number, message: string): StatusVerdict {
  const quoted = message ? ` "${message}"` : '';
  if (code >= 200 && code < 300) return { cls: 'ok', text: `EODHD status ${code}${quoted}` };
  if (code === 401 || code === 403) {
    return {
      cls: 'rejected',
      text: `EODHD rejected the token (status ${code}${quoted}): check EODHD_API_TOKEN (your own key from eodhd.com; the demo key only covers ${DEMO_SYMBOLS.join(', ')})`,
    };
  }
  if (code === 422) {
    const lower = message.toLowerCase();
    if (lower.includes('demo')) {
      return {
        cls: 'rejected',
        text: `EODHD refused the symbols (status 422${quoted}): the demo token only covers ${DEMO_SYMBOLS.join(', ')}; set EODHD_API_TOKEN to your own key or limit SYMBOLS to those`,
      };
    }
    return {
      cls: 'rejected',
      text: `EODHD refused the symbols (status 422${quoted}): lower SYMBOLS or MAX_SYMBOLS_PER_CONNECTION to your plan's limit (50 per connection by default)`,
    };
  }
  if (code >= 400 && code < 500) {
    return {
      cls: 'rejected',
      text: `EODHD refused the connection (status ${code}${quoted}): check EODHD_API_TOKEN and SYMBOLS`,
    };
  }
  if (code >= 500) return { cls: 'server', text: `EODHD server error (status ${code}${quoted})` };
  return { cls: 'other', text: `EODHD status ${code}${quoted}` };
}
