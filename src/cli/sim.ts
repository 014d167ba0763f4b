// `tick-collector sim`: the simulated EODHD feed on a port, until Ctrl-C.
import { type Config, ConfigError, type Flags } from '../config/load.js';
import { integer, ParseProblem } from '../config/parse.js';
import { startSimServer } from '../feed/sim/server.js';
import { createLogger } from '../log/logger.js';
import { stringFlag } from './args.js';

function intFlag(flags: Flags, name: string, fallback: number, min: number, max: number): number {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return fallback;
  try {
    return integer(min, max)(raw);
  } catch (err) {
    if (err instanceof ParseProblem) throw new ConfigError(name, err.message);
    throw err;
  }
}

export async function simCommand(config: Config, flags: Flags): Promise<number> {
  const log = createLogger({
    level: config.logLevel,
    ...(config.logFormat === 'auto' ? {} : { pretty: config.logFormat === 'pretty' }),
  });
  const port = intFlag(flags, '--port', config.simPort || 8765, 0, 65_535);
  const rate = intFlag(flags, '--rate', config.simRate, 1, 5_000_000);
  const host = stringFlag(flags, '--host') ?? '127.0.0.1';
  // Its tape too: a collector pointed at it can backfill through the same tick API (EODHD_API_URL).
  const sim = await startSimServer({ host, port, rate, log, keepTape: true });
  log.info(
    { url: sim.url, apiUrl: sim.apiUrl, rate },
    `simulated EODHD feed on ${sim.url} (${rate} trades/s); try: EODHD_WS_URL=${sim.url} EODHD_API_TOKEN=any EODHD_API_URL=${sim.apiUrl} npx tick-collector run --skip-market-hours`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  log.info({ trades: sim.stats.tradesGenerated }, 'simulated feed stopped');
  return 0;
}
