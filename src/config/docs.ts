// Documentation read off the settings table: .env.example, the README's table and --help.
// So .env.example, --help and the README never drift (a test compares the committed files with these
// renderings).
import { flagName, formatDefault, SETTINGS, type SettingKey } from './settings.js';

const GROUP_TITLES: Record<string, string> = {
  feed: 'Feed (EODHD or the built-in simulator)',
  schedule: 'Schedule',
  database: 'Database',
  candles: 'Candles',
  backfill: 'Gaps and backfill (EODHD tick REST API)',
  operations: 'Operations',
  news: 'News',
  publish: 'Publishing (NATS JetStream)',
};

function keysByGroup(): Map<string, SettingKey[]> {
  const groups = new Map<string, SettingKey[]>();
  for (const k of Object.keys(SETTINGS) as SettingKey[]) {
    const g = SETTINGS[k].group;
    groups.set(g, [...(groups.get(g) ?? []), k]);
  }
  return groups;
}

export function renderEnvExample(): string {
  const out = [
    '# tick-collector configuration. Every variable is optional: with none set, the collector runs in local',
    '# mode (embedded PGlite under ./data, the built-in simulated feed). Each line shows the default.',
    '# Flags override the environment: EXAMPLE_VAR=1 is --example-var 1 on the command line.',
  ];
  for (const [group, keys] of keysByGroup()) {
    out.push('', `# --- ${GROUP_TITLES[group] ?? group}`);
    for (const k of keys) {
      const s = SETTINGS[k];
      out.push(
        `# ${s.doc}`,
        `${s.default === null || s.secret ? '# ' : ''}${s.env}=${formatDefault(s.default)}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

export function renderSettingsTable(): string {
  const rows = ['| Variable | Flag | Default | Meaning |', '| --- | --- | --- | --- |'];
  for (const k of Object.keys(SETTINGS) as SettingKey[]) {
    const s = SETTINGS[k];
    const def = formatDefault(s.default);
    rows.push(`| \`${s.env}\` | \`${flagName(s.env)}\` | ${def ? `\`${def}\`` : '—'} | ${s.doc} |`);
  }
  return rows.join('\n');
}

/** `--help`'s settings block; `except` leaves out flags the command defines itself. */
/** The settings' help lines by group: all of them, or only those in `only` (a command's own). */
export function renderSettingsHelp(
  except: ReadonlySet<string> = new Set(),
  only?: ReadonlySet<SettingKey>,
): string {
  const lines: string[] = [];
  for (const [group, all] of keysByGroup()) {
    const keys = only ? all.filter((k) => only.has(k)) : all;
    if (keys.length === 0) continue;
    lines.push(`  ${GROUP_TITLES[group] ?? group}:`);
    for (const k of keys) {
      const s = SETTINGS[k];
      if (except.has(flagName(s.env))) continue;
      const def = formatDefault(s.default);
      lines.push(`    ${flagName(s.env).padEnd(32)} ${s.env}${def ? ` (default ${def})` : ''}`);
    }
  }
  return lines.join('\n');
}
