import { describe, expect, it } from 'vitest';
import { statusAt } from '../../src/calendar/index.js';
import { formatCountdown, formatDiagnostics } from '../../src/scheduler/index.js';
import { et } from './harness.js';

describe('formatCountdown', () => {
  it.each([
    [3 * 3_600_000 + 12 * 60_000 + 59_000, '3h 12m'],
    [2 * 86_400_000 + 17 * 3_600_000 + 30 * 60_000, '2d 17h 30m'],
    [12 * 60_000 + 5_000, '12m 5s'],
    [5_999, '5s'],
    [0, '0s'],
    [-10_000, '0s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatCountdown(ms)).toBe(text);
  });
});

const base = {
  symbols: ['AAPL', 'MSFT', 'SPY'],
  feed: 'eodhd (wss://ws.eodhistoricaldata.com/ws/us)',
  database: 'postgres://collector:***@db.internal:5432/ticks',
  candleKinds: ['1s', '100t'],
  pageUrl: 'http://127.0.0.1:8080/',
  mode: 'production',
};

describe('formatDiagnostics', () => {
  it('local mode (market hours ignored) says it is collecting, not CLOSED', () => {
    const now = et('2025-12-13T11:00'); // a Saturday
    const lines = formatDiagnostics({ ...base, now, status: statusAt(now), ignoresMarketHours: true });
    expect(lines[2]).toBe('market:      ignored, collecting now (NYSE is CLOSED (weekend))');
  });

  it('before the open (the postmortem example: 08:45 ET)', () => {
    const now = et('2025-12-11T08:45');
    expect(formatDiagnostics({ ...base, now, status: statusAt(now) })).toEqual([
      'mode:        production',
      'time now:    Thu 2025-12-11 08:45:00 ET (2025-12-11T13:45:00.000Z)',
      'market:      CLOSED (before the open)',
      'next open:   Thu 2025-12-11 09:30 ET (14:30 UTC), in 45m 0s',
      'next close:  Thu 2025-12-11 16:00 ET (21:00 UTC), in 7h 15m',
      'symbols:     AAPL, MSFT, SPY (3)',
      'feed:        eodhd (wss://ws.eodhistoricaldata.com/ws/us)',
      'database:    postgres://collector:***@db.internal:5432/ticks',
      'candles:     1s, 100t',
      'page:        http://127.0.0.1:8080/  (health: http://127.0.0.1:8080/health)',
    ]);
  });

  it('open on an early-close day', () => {
    const now = et('2024-07-03T11:00');
    const lines = formatDiagnostics({ ...base, now, status: statusAt(now) });
    expect(lines[2]).toBe('market:      OPEN (closes Wed 2024-07-03 13:00 ET (17:00 UTC), in 2h 0m)');
    expect(lines.some((l) => l.startsWith('next open:'))).toBe(false);
  });

  it('on a holiday, and with many symbols', () => {
    const now = et('2024-11-28T12:00');
    const symbols = Array.from({ length: 25 }, (_, i) => `S${i}`);
    const lines = formatDiagnostics({ ...base, symbols, now, status: statusAt(now) });
    expect(lines[2]).toBe('market:      CLOSED (holiday: Thanksgiving Day)');
    expect(lines[3]).toBe('next open:   Fri 2024-11-29 09:30 ET (14:30 UTC), in 21h 30m');
    expect(lines.find((l) => l.startsWith('symbols:'))).toMatch(/S19, … \(\+5 more\) \(25\)$/);
  });
});
