// Jest runs the TypeScript sources as native ESM (node --experimental-vm-modules), so ESM-only
// dependencies such as execa and chalk load for real.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  testTimeout: 60000,
  // Not the host's /tmp: the tests leave nothing outside the checkout.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  // The Debian package's staging tree (scripts/package.js) holds a package.json of its own.
  modulePathIgnorePatterns: ['<rootDir>/dist/deb/'],
};
