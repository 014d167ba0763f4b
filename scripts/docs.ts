// Rewrites .env.example and the README's configuration table from the settings table
// (`npm run docs`; test/config checks they are in step).
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvExample, renderSettingsTable } from '../src/config/docs.js';

writeFileSync('.env.example', renderEnvExample());
const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf('| Variable | Flag | Default | Meaning |');
const end = readme.indexOf('\n\n', start);
if (start < 0 || end < 0) throw new Error('README.md has no configuration table to replace');
writeFileSync('README.md', `${readme.slice(0, start)}${renderSettingsTable()}${readme.slice(end)}`);
console.log('wrote .env.example and the README configuration table');
