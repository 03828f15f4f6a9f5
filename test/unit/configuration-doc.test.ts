/** docs/configuration.md lists every variable src/config.ts reads, and no other. */
import fs from 'node:fs';
import path from 'node:path';
import { envSchema } from '../../src/config';

it('documents exactly the variables of the config schema, one table row each', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]);
  expect(documented.length).toBe(new Set(documented).size);
  expect([...documented].sort()).toEqual(Object.keys(envSchema.shape).sort());
});
