// Runs once before the suite: the integration tests spawn the built CLI, so dist/ must exist.
import { existsSync } from 'node:fs';

export default async function globalSetup() {
  if (!existsSync(new URL('../../dist/cli.js', import.meta.url))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does it for you)');
  }
}
