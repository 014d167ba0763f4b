// `tick-collector backfill [--date D] [--symbols A,B] [--dry-run]`: the backfill, run by hand.
// Fills the ledger's unfilled gaps from the tick API (the simulator's tape in local mode only), one line per
// gap and a summary; exit 0 when every gap was filled or is not loaded yet (the tape is published T+1), 1
// when a gap failed or was refused (the tape had fewer prints than what is stored: nothing replaced) or
// another backfill is running. With DATABASE_URL it needs EODHD_API_TOKEN (exit 2 without): the simulator's
// tape is never the truth for a database it did not fill. --dry-run says what would be replaced and deleted,
// per table, and writes nothing.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  backfillPass,
  createTickApi,
  describeCounts,
  type GapOutcome,
  openSimTape,
} from '../backfill/index.js';
import { RequestLimits } from '../backfill/limits.js';
import { parseDateArg } from '../calendar/index.js';
import { systemClock } from '../clock.js';
import { type Config, ConfigError, type Flags } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { openDatabase } from '../store/database.js';
import { migrate } from '../store/schema/migrate.js';
import { stringFlag } from './args.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function gapLine(o: GapOutcome, dryRun = false): string {
  const g = o.gap;
  const what =
    o.state === 'filled'
      ? dryRun
        ? `would fill ${o.trades} trades (${describeCounts(o.counts)})`
        : `filled ${o.trades} trades (${describeCounts(o.counts, ['replaced', 'deleted', 'inserted'])})`
      : o.state === 'not-loaded'
        ? (o.error ?? 'not loaded yet')
        : o.state === 'refused'
          ? `refused: ${o.error}`
          : `failed: ${o.error}`;
  const mode = g.mode === 'skip' ? ' [skip-market-hours]' : '';
  return `#${g.id} ${g.symbol === '*' ? `* (${g.symbols.length} symbols)` : g.symbol} ${iso(g.startedAt)} … ${iso(g.endedAt)} ${g.reason}${mode}: ${what}`;
}

export function parseSymbolsFlag(raw: string | undefined): string[] | null {
  if (raw === undefined) return null;
  const list = raw
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s.length > 0);
  if (list.length === 0) throw new ConfigError('--symbols', 'must name at least one symbol, e.g. AAPL,MSFT');
  return list;
}

export function parseDateFlag(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  try {
    return parseDateArg(raw);
  } catch (err) {
    throw new ConfigError('--date', (err as Error).message);
  }
}

export async function backfillCommand(config: Config, flags: Flags): Promise<number> {
  const date = parseDateFlag(stringFlag(flags, '--date'));
  const symbols = parseSymbolsFlag(stringFlag(flags, '--symbols'));
  const dryRun = flags['--dry-run'] === true;
  // Only local mode's own embedded database (filled from the simulator) may take the simulator's tape as the
  // truth; any other database is rebuilt from EODHD's tick API, with the token.
  const local = config.mode === 'local';
  if (!local && !config.eodhdApiToken) {
    throw new ConfigError(
      'EODHD_API_TOKEN',
      config.databaseUrl
        ? "is required when DATABASE_URL is set: the backfill replaces candles with the tick API's tape (the simulator's tape is only the truth for local mode's own database)"
        : 'must be set: the backfill reads the tick API with it',
    );
  }
  const log = createLogger({ level: 'warn' });
  const clock = systemClock;
  // Local mode: the simulator's tape file, served on loopback through the same tick API the real one has.
  let close: () => Promise<void> = async () => undefined;
  let base = config.eodhdApiUrl;
  if (local) {
    const tape = openSimTape(config);
    const server = createServer((req, res) => {
      if (!tape.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    close = () => new Promise((r) => server.close(() => r()));
  }
  const limits = new RequestLimits(clock, 900, config.backfillMaxCallsPerDay);
  const api = createTickApi(config, clock, base, limits);
  const db = await openDatabase(config, log);
  const started = clock.now();
  try {
    await migrate(db.pool);
    const n = { filled: 0, 'not-loaded': 0, refused: 0, failed: 0 };
    const r = await backfillPass(
      config,
      { pool: db.pool, api, clock, log },
      {
        date,
        symbols,
        dryRun,
        onGap: (o) => {
          n[o.state]++;
          process.stdout.write(`${gapLine(o, dryRun)}\n`);
        },
      },
    );
    if (r.busy) {
      process.stderr.write(`tick-collector: ${r.busy}\n`);
      return 1;
    }
    const total = r.outcomes.length;
    const secs = ((clock.now() - started) / 1000).toFixed(1);
    const rows = dryRun
      ? `dry run, nothing written; would change ${describeCounts(r.counts)}`
      : describeCounts(r.counts, ['replaced', 'deleted', 'inserted']);
    process.stdout.write(
      total === 0
        ? `no unfilled gaps${date ? ` on ${date}` : ''}\n`
        : `${total} gaps: ${n.filled} ${dryRun ? 'would be filled' : 'filled'}, ${n['not-loaded']} not loaded yet, ` +
            `${n.refused} refused (tape incomplete), ${n.failed} failed; ${r.requests} requests in ${secs} s; ${rows}\n`,
    );
    if (r.denied) process.stderr.write(`tick-collector: ${r.denied}\n`);
    return n.failed > 0 || n.refused > 0 ? 1 : 0;
  } finally {
    await db.close();
    await close();
  }
}
