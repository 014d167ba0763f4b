import { describe, expect, it } from 'vitest';
import { platformWarnings } from '../../src/main/platform.js';

describe('platform warnings', () => {
  it('says nothing off Railway', () => {
    expect(platformWarnings({ HOME: '/root' }, './data')).toEqual([]);
  });

  it('warns on Railway without a volume, naming DATA_DIR', () => {
    const [line, ...rest] = platformWarnings({ RAILWAY_ENVIRONMENT: 'production' }, './data');
    expect(rest).toEqual([]);
    expect(line).toMatch(
      /^running on Railway without a volume: DATA_DIR \(\.\/data\) is lost at every redeploy/,
    );
  });

  it('warns when DATA_DIR is beside the volume, not on it; quiet when it is on it', () => {
    const env = { RAILWAY_ENVIRONMENT: 'production', RAILWAY_VOLUME_MOUNT_PATH: '/data' };
    expect(platformWarnings(env, '/app/data')).toEqual([
      'DATA_DIR (/app/data) is not on the Railway volume mounted at /data: set DATA_DIR=/data/data so the spool survives a redeploy',
    ]);
    expect(platformWarnings(env, '/data/tick-collector')).toEqual([]);
    expect(platformWarnings(env, '/data')).toEqual([]);
  });
});
