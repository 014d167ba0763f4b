// `tick-collector tail`: follows the NATS stream and prints candles and gaps as they come.
// From now or from a point in time (JetStream's start-time delivery). How a user checks publishing works, and
// the model consumer: an ordered consumer per subject filter, the latest revision of a key wins.
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { type Config, ConfigError, type Flags } from '../config/load.js';
import { duration, durationToMs } from '../config/parse.js';
import { connectNats } from '../publish/nats.js';
import { LOCAL_NATS_URL } from '../publish/start.js';
import { CANDLE_KINDS, type CandleKind, parseSubject, tokenOfSymbol } from '../publish/subject.js';
import { stringFlag } from './args.js';

const relative = duration(1_000, 3_650 * 86_400_000);

/** --since: an ISO-8601 time with a zone, or an age (`90s`, `15m`, `2h`, `1d`) before now. */
export function parseSince(raw: string, now: number): number {
  if (/^\s*\d+\s*[smhd]\s*$/i.test(raw)) return now - durationToMs(relative(raw));
  const t = Date.parse(raw);
  if (!/[zZ]|[+-]\d\d:?\d\d$/.test(raw.trim()) || Number.isNaN(t)) {
    throw new ConfigError(
      '--since',
      `must be an ISO-8601 time with a zone (2024-07-03T14:30:00Z) or an age (15m), got "${raw}"`,
    );
  }
  return t;
}

export async function tailCommand(config: Config, flags: Flags): Promise<number> {
  const kind = stringFlag(flags, '--kind') as CandleKind | undefined;
  if (kind !== undefined && !CANDLE_KINDS.includes(kind)) {
    throw new ConfigError('--kind', `must be one of ${CANDLE_KINDS.join(', ')}, got "${kind}"`);
  }
  const symbol = stringFlag(flags, '--symbol')?.trim().toUpperCase();
  const sinceRaw = stringFlag(flags, '--since');
  const since = sinceRaw === undefined ? null : parseSince(sinceRaw, Date.now());
  const countRaw = stringFlag(flags, '--count');
  const count = countRaw === undefined ? Number.POSITIVE_INFINITY : Number(countRaw);
  if (!(count >= 1) || (!Number.isInteger(count) && count !== Number.POSITIVE_INFINITY)) {
    throw new ConfigError('--count', `must be a whole number ≥ 1, got "${countRaw}"`);
  }
  if (config.natsUrl === 'off') throw new ConfigError('NATS_URL', 'is off: set it to the server to follow');
  const url = config.natsUrl ?? LOCAL_NATS_URL;
  const json = Boolean(flags['--json']);

  let nc: Awaited<ReturnType<typeof connectNats>>;
  try {
    nc = await connectNats(url, 'tick-collector-tail');
  } catch (err) {
    process.stderr.write(`cannot reach NATS at ${url}: ${(err as Error).message} (set NATS_URL)\n`);
    return 1;
  }
  const js = jetstream(nc);
  const token = symbol ? tokenOfSymbol(symbol) : '*';
  const filters = [`candles.${kind ?? '*'}.${token}`, `gaps.${token}`];
  let printed = 0;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const its = await Promise.all(
      filters.map(async (filter) => {
        const c = await js.consumers.get(config.natsStream, {
          filter_subjects: filter,
          ...(since === null
            ? { deliver_policy: DeliverPolicy.New }
            : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(since).toISOString() }),
        });
        return c.consume();
      }),
    );
    stop.signal.addEventListener('abort', () => {
      for (const it of its) void it.close();
    });
    await Promise.all(
      its.map(async (it) => {
        for await (const m of it) {
          if (printed >= count) break;
          printed++;
          process.stdout.write(`${format(m.subject, m.json<Record<string, unknown>>(), json)}\n`);
          if (printed >= count) stop.abort();
        }
      }),
    );
    return 0;
  } catch (err) {
    const e = err as { code?: number; message?: string };
    if (e.code === 10059 || /stream not found/i.test(e.message ?? '')) {
      process.stderr.write(
        `no stream ${config.natsStream} at ${url}: is a collector publishing there? (NATS_URL, NATS_STREAM)\n`,
      );
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await nc.close();
  }
}

const n = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));

/** One line per message: `{kind, ...payload}` with --json, else a readable line. */
export function format(subject: string, p: Record<string, unknown>, json: boolean): string {
  const what = parseSubject(subject);
  const kind = what?.kind ?? subject;
  if (json) return JSON.stringify({ kind, ...p });
  if (kind === 'gap') {
    return `gap   ${n(p.symbol).padEnd(8)} ${n(p.state).padEnd(6)} ${n(p.started_at)} → ${n(p.ended_at)}  ${n(p.reason)}${p.filled_at ? `  filled ${p.filled_at}` : ''}`;
  }
  const at = kind === '100t' ? `${p.session_date} #${p.seq}` : n(p.bucket);
  if (p.deleted) return `${kind.padEnd(5)} ${n(p.symbol).padEnd(8)} ${at}  deleted (rev ${n(p.revision)})`;
  return `${kind.padEnd(5)} ${n(p.symbol).padEnd(8)} ${at}  o ${n(p.open)} h ${n(p.high)} l ${n(p.low)} c ${n(p.close)} v ${n(p.volume)} n ${n(p.trade_count)}  rev ${n(p.revision)} ${n(p.source)}`;
}
