// One config, four projects: fast unit specs beside the code, e2e suites in test/ that talk
// to the real RabbitMQ and PostgreSQL, the fault suite and the measurements. Run through `node --experimental-vm-modules`
// because Nest 12 is ESM: without it, Node 20 stops with "Must use import to load ES Module".
import { swcOptions } from './test/support/swc-options.mjs';

const swc = ['@swc/jest', swcOptions];

const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@app/messaging/testing$': '<rootDir>/libs/messaging/src/testing/index.ts',
    '^@app/(contracts|database|dead-letters|messaging|outbox|platform)$':
      '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};

export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,tools,test}/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
    {
      // Fault injection: the built services run as child processes against a private
      // RabbitMQ node (test/faults/support/private-broker.ts). `npm run test:faults`.
      ...shared,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
    },
    {
      // Measurements on the fault-suite infrastructure, not tests: `npm run measure:scaling`.
      ...shared,
      displayName: 'measure',
      testMatch: ['<rootDir>/test/faults/**/*.measure.ts'],
    },
  ],
  // e2e suites wait for real outcomes (each wait has its own, shorter bound).
  testTimeout: 60_000,
};
