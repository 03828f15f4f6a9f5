/**
 * Jest runs TypeScript through ts-jest (type checking is `npm run typecheck`'s job, so tests
 * transpile only), in three tiers: unit (no servers, seconds), integration (one real server:
 * Temporal, PostgreSQL or NATS), system (the whole stack, compose, browser). `npm test` runs all.
 */
const tier = (name) => ({
  displayName: name,
  testEnvironment: 'node',
  roots: [`<rootDir>/test/${name}`],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  setupFiles: ['<rootDir>/test/support/quiet-temporal.ts'],
});

module.exports = {
  projects: [tier('unit'), tier('integration'), tier('system')],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 120_000,
  maxWorkers: 2,
};
