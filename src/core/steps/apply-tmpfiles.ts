// apply-tmpfiles: systemd-tmpfiles makes the bundle's declared directories with their modes and owners; undone by
// removing the directories it made and restoring the ones it adjusted, from what was observed before.
import type { ApplyTmpfiles, StepKind } from './types.js';

export const applyTmpfiles: StepKind<ApplyTmpfiles> = {
  describe(a) {
    if (a.atBoot) return `directories ${a.created.join(', ') || 'declared'} are made at the tree's first boot (systemd-tmpfiles-setup.service reads ${a.path})`;
    const made = a.created.length > 0 ? `create directories ${a.created.join(', ')}` : '';
    const changed = a.adjusted.length > 0 ? `change the mode or owner of ${a.adjusted.map((d) => d.path).join(', ')} (--force; restored on uninstall)` : '';
    return `${[made, changed].filter(Boolean).join('; ') || 'check the declared directories'} (systemd-tmpfiles)`;
  },
  data: (a) => ({ ...a }),
  touches: (a) => ({ paths: a.atBoot ? [] : [...a.created, ...a.adjusted.map((d) => d.path)], units: [] }),
};
