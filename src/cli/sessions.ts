// `tick-collector sessions --from YYYY-MM-DD --to YYYY-MM-DD`: one line per NYSE session.
import { DateTime } from 'luxon';
import { formatSessionLine, parseDateArg, sessions } from '../calendar/index.js';
import { ConfigError, type Flags } from '../config/load.js';
import { stringFlag } from './args.js';
import { withIsoTimes, writeJsonLines } from './json.js';

function dateFlag(flags: Flags, name: string, fallback: string): string {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return fallback;
  try {
    return parseDateArg(raw);
  } catch (err) {
    throw new ConfigError(name, (err as Error).message);
  }
}

export function sessionsCommand(flags: Flags, now = Date.now()): number {
  const today = DateTime.fromMillis(now, { zone: 'America/New_York' }).toISODate()!;
  const from = dateFlag(flags, '--from', today);
  const to = dateFlag(flags, '--to', DateTime.fromISO(from).plus({ days: 14 }).toISODate()!);
  if (to < from) throw new ConfigError('--to', `(${to}) is before --from (${from})`);
  const list = sessions(from, to);
  if (flags['--json']) {
    writeJsonLines(list.map((s) => withIsoTimes(s, ['open', 'close'])));
    return 0;
  }
  const lines = list.map(formatSessionLine);
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
