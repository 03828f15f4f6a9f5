/** The repository root, wherever a script is started from. */
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
