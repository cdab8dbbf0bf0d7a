// The files of a new bundle (`svcctl init`): a job run by a timer, or a daemon. Pure: names and contents
// only; src/flows/init.ts writes them. Every scaffold passes `svcctl verify` as it is, and its service scores
// "OK" (at most 2.0) on systemd-analyze security while it still runs.
import { UserError } from './errors.js';
import { BUNDLE_NAME_PATTERN } from './bundle/manifest.js';
import { parseSchedule, renderTimerTriggers } from './schedule.js';

export interface ScaffoldOptions {
  /** A daemon (Type=simple, restarted on failure, enabled at boot) instead of a job run by a timer. */
  daemon: boolean;
  /** The job's schedule: an interval (5min) or a calendar expression. */
  schedule: string;
}

export interface ScaffoldFile {
  name: string;
  content: string;
  mode: number;
}

/**
 * The system user for a bundle: its name when that is a valid user name (a letter or _ first, at most 31
 * characters, systemd-sysusers' limit), else "svc-" and the name, cut to 31.
 */
export function userNameFor(name: string): string {
  return /^[a-z_][a-z0-9_-]{0,30}$/.test(name) ? name : `svc-${name}`.slice(0, 31);
}

/** A YAML double-quoted scalar (JSON's string syntax is YAML's): "0" stays a string, not a number. */
const q = (value: string): string => JSON.stringify(value);

export function scaffoldBundle(name: string, options: ScaffoldOptions): ScaffoldFile[] {
  if (!BUNDLE_NAME_PATTERN.test(name)) {
    throw new UserError(`"${name}" is not a bundle name`, 'use lowercase letters, digits and dashes, starting with a letter or digit (at most 63), e.g. nightly-report');
  }
  const user = userNameFor(name);
  const service = `${name}.service`;
  const timer = `${name}.timer`;
  const script = `/usr/local/bin/${name}.sh`;
  const schedule = options.daemon ? undefined : parseSchedule(options.schedule);
  const triggers = schedule === undefined ? [] : renderTimerTriggers(schedule);
  const manifest = [
    `# Bundle ${name}, made by \`svcctl init\`. The format: docs/bundles.md in svcctl's sources.`,
    `# Check it with \`svcctl verify DIR\`, try it with \`sudo svcctl sandbox exec -- svcctl install DIR\`.`,
    `name: ${q(name)}`,
    `description: ${q(options.daemon ? `The ${name} daemon.` : `Runs ${script} on a schedule.`)}`,
    '',
    'units:',
    `  - ${q(service)}`,
    ...(options.daemon ? [] : [`  - ${q(timer)}`]),
    'enable:',
    `  - ${q(options.daemon ? service : timer)}`,
    '',
    'payload:',
    `  - source: ${q(`${name}.sh`)}`,
    `    destination: ${q(script)}`,
    '    mode: "0755"',
    '',
    '# The system user the service runs as (created with systemd-sysusers, removed by uninstall --purge).',
    'user:',
    `  name: ${q(user)}`,
    `  home: ${q(`/var/lib/${name}`)}`,
    '',
    '# Settings become Environment= lines of a drop-in; give other values with --set KEY=VALUE.',
    'settings:',
    '  - key: GREETING',
    '    description: What the script prints.',
    `    default: ${q(`hello from ${name}`)}`,
    '',
    '# Secrets go to a 0600 EnvironmentFile=, never to Environment=; this one is optional.',
    'secrets:',
    '  - key: API_TOKEN',
    '    prompt: API token (leave empty if there is none)',
    '    required: false',
    // `svcctl check` derives the max age of the last success from the schedule; health.maxAge overrides it.
    ...(schedule === undefined ? [] : ['', 'schedule:', `  timer: ${q(timer)}`, `  default: ${q(options.schedule.trim())}`]),
    '',
  ].join('\n');
  const serviceUnit = [
    `# ${options.daemon ? `The ${name} daemon` : `Runs ${script}; started by ${timer}`}. Installed by svcctl with a drop-in for its settings and secrets.`,
    '[Unit]',
    `Description=${options.daemon ? `The ${name} daemon` : `Run ${name}`}`,
    '',
    '[Service]',
    ...(options.daemon ? ['Type=simple', 'Restart=on-failure', 'RestartSec=5s'] : ['Type=oneshot']),
    `User=${user}`,
    `Group=${user}`,
    `ExecStart=${script}`,
    '',
    `# Hardening: ${name}.service scores about 1.1 ("OK") on systemd-analyze security; \`svcctl verify DIR\` shows the score`,
    '# after a change. The script may use the network and write nothing: each line below closes something else.',
    '# If it must write, add ReadWritePaths=DIR (or StateDirectory=NAME for /var/lib/NAME). Without the network, add',
    '# PrivateNetwork=yes and IPAddressDeny=any. A JIT runtime (node, java) needs MemoryDenyWriteExecute= removed.',
    'NoNewPrivileges=yes',
    'CapabilityBoundingSet=',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'PrivateUsers=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'ProcSubset=pid',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'MemoryDenyWriteExecute=yes',
    'RemoveIPC=yes',
    'UMask=0077',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallFilter=~@privileged @resources',
    ...(options.daemon ? ['', '[Install]', 'WantedBy=multi-user.target'] : []),
    '',
  ].join('\n');
  const timerUnit = [
    schedule?.kind === 'calendar'
      ? `# Starts ${service} at every elapse of the calendar expression; Persistent=true catches up a run missed while the machine was off.`
      : `# Starts ${service}. OnActiveSec= gives the first run a base time: with OnUnitActiveSec= alone the timer never fires until the service has run once.`,
    '[Unit]',
    `Description=Run ${name} on its schedule`,
    '',
    '[Timer]',
    ...triggers,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  const scriptText = [
    '#!/bin/sh',
    `# ${name}: replace with the real work. GREETING comes from the bundle's settings, API_TOKEN (if set) from its secrets file.`,
    'set -eu',
    `echo "\${GREETING:-hello from ${name}}"`,
    ...(options.daemon ? ['exec sleep infinity'] : []),
    '',
  ].join('\n');
  return [
    { name: 'bundle.yaml', content: manifest, mode: 0o644 },
    { name: service, content: serviceUnit, mode: 0o644 },
    ...(options.daemon ? [] : [{ name: timer, content: timerUnit, mode: 0o644 }]),
    { name: `${name}.sh`, content: scriptText, mode: 0o755 },
  ];
}
