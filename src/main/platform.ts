// Hosting hints read off the environment at start-up.
// Railway's container disk is replaced on every deploy: without a volume, the spool (rows waiting for the
// database) and the dead letters under DATA_DIR are lost at the next redeploy, so say so once, at start.
import { isAbsolute, relative, resolve } from 'node:path';

/** Lines to log at warn level (none when not on Railway or DATA_DIR is on its volume). */
export function platformWarnings(env: NodeJS.ProcessEnv, dataDir: string): string[] {
  const onRailway = Object.keys(env).some((k) => k.startsWith('RAILWAY_'));
  if (!onRailway) return [];
  const volume = env.RAILWAY_VOLUME_MOUNT_PATH;
  if (!volume) {
    return [
      `running on Railway without a volume: DATA_DIR (${dataDir}) is lost at every redeploy (spool and dead letters); attach a volume and set DATA_DIR to a folder on it`,
    ];
  }
  const rel = relative(resolve(volume), resolve(dataDir));
  if (rel.startsWith('..') || isAbsolute(rel)) {
    return [
      `DATA_DIR (${dataDir}) is not on the Railway volume mounted at ${volume}: set DATA_DIR=${volume}/data so the spool survives a redeploy`,
    ];
  }
  return [];
}
