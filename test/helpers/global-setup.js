// Runs once before the suite: the integration tests spawn the built CLI, so dist/ must exist, and the
// sandbox tests run a real Redis, a Python HTTP server and bindfs from Debian's packages.
import { existsSync } from 'node:fs';

export default async function globalSetup() {
  if (!existsSync(new URL('../../dist/cli/svcctl.cjs', import.meta.url))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does it for you)');
  }
  const sandboxTestsRun = process.getuid?.() === 0 || process.env.CI === 'true' || process.env.CI === '1';
  const missing = ['/usr/bin/redis-server', '/usr/bin/redis-cli', '/usr/bin/python3', '/usr/bin/bindfs'].filter((p) => !existsSync(p));
  if (sandboxTestsRun && missing.length > 0) {
    throw new Error(`the sandbox tests need ${missing.join(', ')}: run \`sudo bash scripts/install-debian-packages.sh\` (npm run demo does it too)`);
  }
}
