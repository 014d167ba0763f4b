// Command-line parsing: `tick-collector <command> [--flag value | --flag=value | --switch]`.
// Every setting of the config table is a flag; each command adds its own. Unknown flags are errors.
import { ConfigError, type Flags, isSettingFlag } from '../config/load.js';
import { flagName, SETTINGS, type SettingKey } from '../config/settings.js';
import { closest } from '../config/similar.js';

export interface CommandFlag {
  /** `--from` */
  name: string;
  /** A switch takes no value. */
  switch?: boolean;
  doc: string;
}

export interface ParsedArgs {
  command: string;
  /** Flags that set configuration (passed to loadConfig). */
  settings: Flags;
  /** The command's own flags. */
  own: Flags;
  help: boolean;
}

const SETTING_FLAGS = (Object.keys(SETTINGS) as SettingKey[]).map((k) => flagName(SETTINGS[k].env));

const SWITCH_SETTINGS = new Set(
  (Object.keys(SETTINGS) as SettingKey[])
    .filter((k) => typeof SETTINGS[k].default === 'boolean')
    .map((k) => flagName(SETTINGS[k].env)),
);

export function parseArgs(
  argv: string[],
  commands: Record<string, CommandFlag[]>,
  fallback = 'run',
): ParsedArgs {
  let rest = argv;
  let command = fallback;
  if (rest[0] && !rest[0].startsWith('-')) {
    command = rest[0];
    rest = rest.slice(1);
  }
  const own = commands[command];
  if (!own) {
    const near = closest(command, Object.keys(commands));
    throw new ConfigError(
      `command "${command}"`,
      `is unknown${near ? `; did you mean "${near}"?` : ''} (commands: ${Object.keys(commands).join(', ')})`,
    );
  }
  const result: ParsedArgs = { command, settings: {}, own: {}, help: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--help' || arg === '-h') {
      result.help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`argument "${arg}"`, `is not expected by ${command}`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const spec = own.find((f) => f.name === name);
    const isSwitch = spec ? Boolean(spec.switch) : SWITCH_SETTINGS.has(name);
    if (!spec && !isSettingFlag(name)) {
      const near = closest(name, [...own.map((f) => f.name), ...SETTING_FLAGS]);
      throw new ConfigError(
        name,
        `is not a flag of "${command}"${near ? `; did you mean ${near}?` : ''} (see tick-collector ${command} --help)`,
      );
    }
    let value: string | true;
    if (inline !== undefined) value = inline;
    else if (isSwitch) value = true;
    else {
      const next = rest[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ConfigError(name, 'needs a value');
      value = next;
      i++;
    }
    (spec ? result.own : result.settings)[name] = value;
  }
  return result;
}

/** A command flag's value as a string, or undefined; a switch given a value is an error. */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  if (v === true) throw new ConfigError(name, 'needs a value');
  return v;
}
