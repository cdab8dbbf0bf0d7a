// run-job: the job runs now and must succeed (secret rotate); it runs again with the restored configuration on rollback.
import type { RunJob, StepKind } from './types.js';

export const runJob: StepKind<RunJob> = {
  describe: (a) => `run ${a.service} now (systemctl start)`,
  data: (a) => ({ ...a }),
  touches: (a) => ({ paths: [], units: [a.service] }),
};
