// What `svcctl sandbox fleet` shows: the hosts of a fleet that came up, and its inventory.
import type { FleetRecord } from '../flows/sandbox.js';
import { style } from './output.js';

export function fleetLines(record: FleetRecord, seconds: number): string[] {
  return [
    `${style.green('✔')} fleet "${record.name}": ${record.hosts.length} hosts up in ${seconds.toFixed(1)} s`,
    ...record.hosts.map((h) => `  ${h.sandbox}  ${h.address}  (svcctl sandbox fleet exec ${h.index} -- CMD)`),
    `  inventory: ${record.inventory}`,
    `  run Ansible: svcctl sandbox fleet exec controller -- ansible-playbook site.yml`,
  ];
}

