#!/usr/bin/env node
// The `tick-collector` command.
// Parses arguments and configuration first (a bad value exits within a second with one line), then loads only
// the command it runs.
import { type CommandFlag, parseArgs } from './cli/args.js';
import { renderSettingsHelp } from './config/docs.js';
import { ConfigError, envTypos, loadConfig, loadDotEnv } from './config/load.js';
import type { SettingKey } from './config/settings.js';
import { VERSION } from './version.js';

interface Command {
  summary: string;
  flags: CommandFlag[];
  /** Whether the settings apply (sessions needs none). */
  settings: boolean;
  /** The settings this command reads, shown by its --help (the others are run's: `run --help`). Absent: all. */
  reads?: SettingKey[];
  /** Streams trades: the feed's token is required with DATABASE_URL (read-only commands need none). */
  feed?: boolean;
}

const JSON_FLAG: CommandFlag = {
  name: '--json',
  switch: true,
  doc: 'One JSON object per line (times ISO-8601 UTC) instead of a table.',
};

/** Where the database is and how to reach it: what every command that reads it needs. */
const DATABASE: SettingKey[] = [
  'databaseUrl',
  'pgSslMode',
  'dataDir',
  'dbConnectTimeoutMs',
  'dbQueryTimeoutMs',
  'logLevel',
  'logFormat',
];

const COMMANDS: Record<string, Command> = {
  run: { summary: 'Run the collector (the default command).', flags: [], settings: true, feed: true },
  status: {
    summary: 'Print the startup diagnostics and exit.',
    flags: [JSON_FLAG],
    settings: true,
    reads: [
      ...DATABASE,
      'eodhdApiToken',
      'eodhdWsUrl',
      'feed',
      'symbols',
      'maxSymbolsPerConnection',
      'skipMarketHours',
      'simRate',
      'candleIntervalMs',
      'tickCandleSize',
      'archiveTicks',
      'port',
      'webToken',
    ],
  },
  sessions: {
    summary: 'Print NYSE sessions: date, open and close (UTC ISO-8601), one per line.',
    flags: [
      { name: '--from', doc: 'First date, YYYY-MM-DD (default: today in New York).' },
      { name: '--to', doc: 'Last date, YYYY-MM-DD (default: 14 days after --from).' },
      JSON_FLAG,
    ],
    settings: false,
  },
  migrate: {
    summary: 'Apply the database migrations and exit.',
    flags: [
      {
        name: '--partition',
        switch: true,
        doc: 'Also convert plain candle/tick tables to partitions, whatever their size (online; see README).',
      },
    ],
    settings: true,
    reads: DATABASE,
  },
  candles: {
    summary: 'Print the latest stored candles.',
    flags: [
      { name: '--symbol', doc: 'Only this symbol.' },
      { name: '--kind', doc: '1s (default), 100t, or bars: 1m, 5m, 1h, 1d.' },
      { name: '--limit', doc: 'How many rows (default 20).' },
      JSON_FLAG,
    ],
    settings: true,
    reads: DATABASE,
  },
  export: {
    summary: "Stream one symbol's candles or bars over a time range to stdout.",
    flags: [
      { name: '--symbol', doc: 'The symbol (required).' },
      { name: '--kind', doc: '1m (default), 5m, 1h, 1d, 1s or 100t.' },
      {
        name: '--from',
        doc: 'YYYY-MM-DD (New York day) or ISO-8601 time with a zone (default: the beginning).',
      },
      { name: '--to', doc: 'YYYY-MM-DD (inclusive) or ISO-8601 time (exclusive) (default: now).' },
      {
        name: '--format',
        doc: 'csv (default, with a header), jsonl or parquet; columns as in the database.',
      },
      { name: '--output', doc: 'Write to this file instead of stdout (required for parquet).' },
    ],
    settings: true,
    reads: DATABASE,
  },
  news: {
    summary: 'Print the latest stored news items.',
    flags: [{ name: '--limit', doc: 'How many items (default 20).' }, JSON_FLAG],
    settings: true,
    reads: DATABASE,
  },
  backfill: {
    summary: 'Fill the unfilled gaps of the ledger from the tick API (local mode: the simulator tape).',
    flags: [
      { name: '--date', doc: 'Only gaps of this New York date, YYYY-MM-DD (default: every unfilled gap).' },
      { name: '--symbols', doc: 'Only these symbols, comma-separated.' },
      {
        name: '--dry-run',
        switch: true,
        doc: 'Fetch, rebuild and compare; say what would be replaced and deleted per table; write nothing.',
      },
    ],
    settings: true,
    reads: [
      ...DATABASE,
      'eodhdApiToken',
      'eodhdApiUrl',
      'backfillMaxCallsPerDay',
      'symbols',
      'feed',
      'simRate',
      'skipMarketHours',
      'sessionTailMs',
      'candleIntervalMs',
      'candleLatenessMs',
      'tickCandleSize',
      'candleConditions',
    ],
  },
  gaps: {
    summary: "List the gap ledger with each gap's fill state.",
    flags: [
      { name: '--date', doc: 'Only gaps of this New York date, YYYY-MM-DD.' },
      { name: '--json', switch: true, doc: 'One JSON object per line instead of a table.' },
    ],
    settings: true,
    reads: DATABASE,
  },
  tail: {
    summary: 'Follow the candles and gaps published to NATS (NATS_URL) as they come.',
    flags: [
      { name: '--kind', doc: '1s, 100t or 1m (default: every kind).' },
      { name: '--symbol', doc: 'Only this symbol.' },
      { name: '--since', doc: 'Start at this ISO-8601 time, or this long ago (15m, 2h) (default: now).' },
      { name: '--count', doc: 'Exit after this many messages (default: follow until Ctrl-C).' },
      JSON_FLAG,
    ],
    settings: true,
  },
  sim: {
    summary: 'Serve the simulated EODHD feed on a local port.',
    flags: [
      { name: '--port', doc: 'Port (default 8765).' },
      { name: '--rate', doc: 'Trades per second over all symbols (default SIM_RATE).' },
      { name: '--host', doc: 'Interface (default 127.0.0.1).' },
    ],
    settings: true,
    reads: ['symbols', 'simRate', 'logLevel', 'logFormat'],
  },
};

function usage(command?: string): string {
  if (command && COMMANDS[command]) {
    const c = COMMANDS[command];
    const own = c.flags.map((f) => `    ${f.name.padEnd(32)} ${f.doc}`).join('\n');
    // A command's own flag wins over the setting of the same name (sim --port): list it once.
    const shadowed = new Set(c.flags.map((f) => f.name));
    return [
      `Usage: tick-collector ${command} [flags]`,
      '',
      c.summary,
      ...(own ? ['', '  Flags:', own] : []),
      ...(c.settings
        ? [
            '',
            `  Settings ${c.reads ? 'it reads ' : ''}(flag or environment variable):`,
            renderSettingsHelp(shadowed, c.reads ? new Set(c.reads) : undefined),
          ]
        : []),
      ...(c.reads ? ['', "Every other setting is the daemon's: tick-collector run --help"] : []),
    ].join('\n');
  }
  const list = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
    .join('\n');
  return `Usage: tick-collector [command] [flags]\n\nCommands:\n${list}\n\nRun "tick-collector <command> --help" for its flags; --version prints the version.`;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${usage(argv[1])}\n`);
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version') {
    process.stdout.write(`tick-collector ${VERSION}\n`);
    return 0;
  }
  const specs = Object.fromEntries(Object.entries(COMMANDS).map(([k, c]) => [k, c.flags]));
  const args = parseArgs(argv, specs);
  const command = COMMANDS[args.command]!;
  if (args.help) {
    process.stdout.write(`${usage(args.command)}\n`);
    return 0;
  }
  if (!command.settings && Object.keys(args.settings).length > 0) {
    const flag = Object.keys(args.settings)[0]!;
    throw new ConfigError(
      flag,
      `is not a flag of "${args.command}" (see tick-collector ${args.command} --help)`,
    );
  }
  if (args.command === 'sessions') {
    const { sessionsCommand } = await import('./cli/sessions.js');
    return sessionsCommand(args.own);
  }
  loadDotEnv();
  for (const line of envTypos(process.env)) process.stderr.write(`tick-collector: warning: ${line}\n`);
  const config = loadConfig(process.env, args.settings, { feed: command.feed ?? false });
  switch (args.command) {
    case 'run': {
      const { runCommand } = await import('./main/run.js');
      return runCommand(config);
    }
    case 'status': {
      const { statusCommand } = await import('./cli/status.js');
      return statusCommand(config, args.own);
    }
    case 'migrate': {
      const { migrateCommand } = await import('./cli/migrate.js');
      return migrateCommand(config, args.own);
    }
    case 'candles': {
      const { candlesCommand } = await import('./cli/candles.js');
      return candlesCommand(config, args.own);
    }
    case 'export': {
      const { exportCommand } = await import('./cli/export.js');
      return exportCommand(config, args.own);
    }
    case 'news': {
      const { newsCommand } = await import('./cli/news.js');
      return newsCommand(config, args.own);
    }
    case 'backfill': {
      const { backfillCommand } = await import('./cli/backfill.js');
      return backfillCommand(config, args.own);
    }
    case 'gaps': {
      const { gapsCommand } = await import('./cli/gaps.js');
      return gapsCommand(config, args.own);
    }
    case 'tail': {
      const { tailCommand } = await import('./cli/tail.js');
      return tailCommand(config, args.own);
    }
    case 'sim': {
      const { simCommand } = await import('./cli/sim.js');
      return simCommand(config, args.own);
    }
  }
  return 2;
}

// `tick-collector … | head`: once the reader is gone, output has nowhere to go. Stop as a signal would
// (run drains and exits; one-shot commands just exit) instead of failing every later write.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  if (process.listenerCount('SIGTERM') > 0) process.kill(process.pid, 'SIGTERM');
  else process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`tick-collector: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    const e = err as Error;
    process.stderr.write(`tick-collector: ${e?.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
