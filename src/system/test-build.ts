// Whether this is a test build: true in the sources (jest) and in dist/test/svcctl.cjs, false in the shipped
// build (dist/cli/svcctl.cjs), where esbuild replaces SVCCTL_TEST_BUILD with false and drops every branch it
// guards — fault injection and tool-path overrides do not exist in what ships (scripts/bundle.js).
declare const SVCCTL_TEST_BUILD: boolean | undefined;

export const testBuild: boolean = typeof SVCCTL_TEST_BUILD === 'boolean' ? SVCCTL_TEST_BUILD : true;
