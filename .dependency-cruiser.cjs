// The "may import" table of docs/architecture.md, checked by `npm test` (scripts/check-boundaries.js): a module that
// imports across a boundary fails the suite. Each rule names what it protects.
const nodeIo = '^(node:)?(fs|fs/promises|child_process|net|http|https|tls|dgram|dns|os|readline|worker_threads|cluster|vm|module)$';

module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'src/core is pure: no file system, processes, network, prompts or colour, and nothing of the imperative shell.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: [nodeIo, '^execa$', '^@inquirer/', '^chalk$', '^yaml$', '^ajv', '^@oclif/', '^src/(system|apply|flows|views|commands)/', '^src/(cli|oclif|base-command|modules|debug)\\.ts$'] },
    },
    {
      name: 'only-system-does-io',
      comment: 'Only src/system imports the file system, child processes, execa and the prompt library (one exec seam, one atomic write).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/system/' },
      to: { path: ['^(node:)?(fs|fs/promises|child_process)$', '^execa$', '^@inquirer/'] },
    },
    {
      name: 'system-below-flows',
      comment: 'src/system serves the layers above it and knows none of them.',
      severity: 'error',
      from: { path: '^src/system/' },
      to: { path: '^src/(apply|flows|views|commands)/' },
    },
    {
      name: 'apply-below-flows',
      comment: 'src/apply runs Actions; it does not orchestrate or print.',
      severity: 'error',
      from: { path: '^src/apply/' },
      to: { path: '^src/(flows|views|commands)/' },
    },
    {
      name: 'flows-do-not-print',
      comment: 'Flows return data and talk to the person only through FlowUi: no views, no commands.',
      severity: 'error',
      from: { path: '^src/flows/' },
      to: { path: '^src/(views|commands)/' },
    },
    {
      name: 'views-only-render',
      comment: 'Views render results: they do not apply, and reach the system only for prompts and the time zone.',
      severity: 'error',
      from: { path: '^src/views/' },
      to: { path: ['^src/(apply|commands)/', '^src/system/(?!prompt|timezone)'] },
    },
    {
      name: 'commands-are-thin',
      comment: 'A command parses flags, calls one flow and one view: it reaches neither the system nor apply directly.',
      severity: 'error',
      from: { path: '^src/commands/' },
      to: { path: '^src/(system|apply)/' },
    },
    {
      name: 'no-circular',
      comment: 'Modules import in one direction.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    moduleSystems: ['es6', 'cjs'],
  },
};
