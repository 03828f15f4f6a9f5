/** The repository root (the folder holding package.json), wherever a script is started from, compiled or not. */
import fs from 'node:fs';
import path from 'node:path';

function findRoot(start: string): string {
  // From src/dev this is two levels up; from the compiled dist/src/dev it is three.
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start, '..', '..');
  }
}

export const PROJECT_ROOT = findRoot(__dirname);
