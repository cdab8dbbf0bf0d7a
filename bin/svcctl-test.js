#!/usr/bin/env -S -u NODE_OPTIONS -u NODE_EXTRA_CA_CERTS SVCCTL_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
// The test build of svcctl (dist/test/svcctl.cjs, scripts/bundle.js): the same CLI with its fault-injection hooks
// (SVCCTL_FAULT_INJECTION, SVCCTL_TEST_TOOL_PATH). For the test suite only: it is never shipped or packaged.
globalThis[Symbol.for('svcctl.testBuild')] = true;
await import('./run.js');
