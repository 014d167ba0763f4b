// Human-readable times and market states, shared by the scheduler's log lines and the startup diagnostics.
import { DateTime } from 'luxon';
import { type MarketStatus, NYSE_ZONE } from '../calendar/index.js';

/** "2d 3h 12m", "3h 12m", "12m 5s", "5s" (negative → "0s"). */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** "Tue 2025-01-21 09:30 ET (14:30 UTC)". */
export function formatEtAndUtc(ms: number): string {
  const et = DateTime.fromMillis(ms, { zone: NYSE_ZONE });
  const utc = DateTime.fromMillis(ms, { zone: 'utc' });
  return `${et.toFormat('ccc yyyy-MM-dd HH:mm')} ET (${utc.toFormat('HH:mm')} UTC)`;
}

/** "holiday: Thanksgiving Day", "weekend", "before the open", "after the early close (13:00 ET)" … */
export function describeReason(status: MarketStatus): string {
  switch (status.reason) {
    case 'open':
      return 'session in progress';
    case 'weekend':
      return 'weekend';
    case 'holiday':
      return `holiday: ${status.holiday ?? 'exchange closed'}`;
    case 'before-open':
      return 'before the open';
    case 'after-close':
      return 'after the close';
    case 'early-close': {
      const close = status.session ? DateTime.fromMillis(status.session.close, { zone: NYSE_ZONE }) : null;
      return close ? `after the early close (${close.toFormat('HH:mm')} ET)` : 'after the early close';
    }
  }
}

/** "market closed (holiday: Thanksgiving Day); next open Fri 2024-11-29 09:30 ET (14:30 UTC) in 14h 2m". */
export function describeWaiting(status: MarketStatus, now: number): string {
  return (
    `market closed (${describeReason(status)}); next open ${formatEtAndUtc(status.nextOpen)}` +
    ` in ${formatCountdown(status.nextOpen - now)}`
  );
}
