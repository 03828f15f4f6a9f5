// ESLint: strict TypeScript, no floating promises (a forgotten await on a Temporal API is a
// bug), and a fence around src/workflows so the deterministic sandbox cannot import I/O.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', '.tools/**', 'test-output/**', 'coverage/**', '*.js', '*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'child_process'], message: 'workflows are deterministic: no Node built-ins' },
            { group: ['knex', 'pg', 'better-sqlite3', 'fastify', 'nats', 'pino', 'zod', 'undici', 'axios'], message: 'workflows are deterministic: no I/O libraries' },
            { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'], message: 'workflows may import only @temporalio/workflow and @temporalio/common' },
            { group: ['**/config', '**/services/**', '**/db/**', '**/idempotency/**', '**/outbox/**', '**/api/**'], message: 'workflows may not import config, services or storage' },
          ],
        },
      ],
    },
  },
);
