// The startup block (formatDiagnostics): the daemon's plan, formatted as log lines.
// One place that says what the daemon will do and when (the postmortem's "no visibility into startup state").
// Pure: `now` and the market status come in; main logs the lines as one message.
import { DateTime } from 'luxon';
import { type MarketStatus, NYSE_ZONE } from '../calendar/index.js';
import { describeReason, formatCountdown, formatEtAndUtc } from './describe.js';

export interface DiagnosticsInput {
  now: number;
  status: MarketStatus;
  symbols: string[];
  feed: string;
  /** Already redacted. */
  database: string;
  candleKinds: string[];
  /** The page's address (what a person should open); /health is beside it. */
  pageUrl: string;
  mode: string;
  /** Collecting regardless of the calendar (local mode, --skip-market-hours). */
  ignoresMarketHours?: boolean;
  /** false: `status` found no collector answering (say what a run would do, not what is happening). */
  running?: boolean;
}

const MAX_SYMBOLS_SHOWN = 20;

export function formatDiagnostics(d: DiagnosticsInput): string[] {
  const et = DateTime.fromMillis(d.now, { zone: NYSE_ZONE });
  const { status } = d;
  const nyse = status.open
    ? `OPEN (closes ${formatEtAndUtc(status.nextClose)}, in ${formatCountdown(status.nextClose - d.now)})`
    : `CLOSED (${describeReason(status)})`;
  // Collecting while the banner said CLOSED confused users: say that the calendar is not followed.
  const now = d.running === false ? 'a run collects at once' : 'collecting now';
  const market = d.ignoresMarketHours ? `ignored, ${now} (NYSE is ${nyse})` : nyse;
  const shown = d.symbols.slice(0, MAX_SYMBOLS_SHOWN).join(', ');
  const more =
    d.symbols.length > MAX_SYMBOLS_SHOWN ? `, … (+${d.symbols.length - MAX_SYMBOLS_SHOWN} more)` : '';
  const lines = [
    `mode:        ${d.mode}`,
    `time now:    ${et.toFormat('ccc yyyy-MM-dd HH:mm:ss')} ET (${new Date(d.now).toISOString()})`,
    `market:      ${market}`,
  ];
  if (!status.open) {
    lines.push(
      `next open:   ${formatEtAndUtc(status.nextOpen)}, in ${formatCountdown(status.nextOpen - d.now)}`,
    );
  }
  lines.push(
    `next close:  ${formatEtAndUtc(status.nextClose)}, in ${formatCountdown(status.nextClose - d.now)}`,
    `symbols:     ${d.symbols.length === 0 ? '(none)' : `${shown}${more}`} (${d.symbols.length})`,
    `feed:        ${d.feed}`,
    `database:    ${d.database}`,
    `candles:     ${d.candleKinds.join(', ')}`,
    `page:        ${d.pageUrl}  (health: ${d.pageUrl}health)`,
  );
  return lines;
}
