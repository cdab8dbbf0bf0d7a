// The parts of oclif svcctl uses, imported by subpath: the package index also loads help, ux and more,
// which costs every command ~35 ms of start-up.
export { Command } from '@oclif/core/command';
export * as Args from '@oclif/core/args';
export * as Flags from '@oclif/core/flags';
