/** Jest runs TypeScript through ts-jest (type checking is `npm run typecheck`'s job, so tests transpile only). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  setupFiles: ['<rootDir>/test/support/quiet-temporal.ts'],
  testTimeout: 120_000,
  maxWorkers: 2,
};
