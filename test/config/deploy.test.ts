// What Railway reads: the Node version it installs is the one the tests ran on, and a change to the docs or
// the tests does not redeploy (a redeploy cuts a collecting session).
import { readFileSync } from 'node:fs';
import { matchesGlob } from 'node:path';
import { describe, expect, it } from 'vitest';

const railway = JSON.parse(readFileSync('railway.json', 'utf8')) as { build: { watchPatterns: string[] } };
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const deploys = (path: string) => railway.build.watchPatterns.some((p) => matchesGlob(path, p));

describe('deployment settings', () => {
  it('pins the Node version the tests run on (engines.node, which Railpack reads first, and .nvmrc)', () => {
    expect(pkg.engines.node).toBe(process.versions.node);
    expect(readFileSync('.nvmrc', 'utf8').trim()).toBe(process.versions.node);
  });

  it('redeploys for code, migrations and dependencies only', () => {
    for (const p of [
      'src/cli.ts',
      'src/store/sink/sink.ts',
      'migrations/0002_condition_rules.sql',
      'package-lock.json',
    ])
      expect(deploys(p), p).toBe(true);
    for (const p of [
      'README.md',
      'docs/ARCHITECTURE.md',
      'test/e2e/cli.test.ts',
      'bench/run.ts',
      '.env.example',
    ])
      expect(deploys(p), p).toBe(false);
  });
});
