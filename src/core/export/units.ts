// The "units" export: the tree `svcctl install --root` renders (units, drop-ins, payload, sysusers.d and tmpfiles.d
// entries, the enable symlinks), for review and packaging; secret files as what they will hold, never a value. Pure.
import type { Bundle } from '../bundle/types.js';
import { managedHeader, type DesiredState } from '../desired.js';
import { installLinks } from '../plan.js';
import { layout, type Target } from '../target.js';
import { describeSecretFile, manifestEntryOf, manifestExportFile, manifestOf, relativeOf, type ExportFile, type ExportTree, type ManifestEntry } from './tree.js';

export function exportUnits(desired: DesiredState, bundle: Bundle, target: Target): ExportTree {
  const header = managedHeader(bundle.name);
  const files: ExportFile[] = [];
  const entries: ManifestEntry[] = [];
  for (const file of desired.files) {
    const content = file.secret ? describeSecretFile(file, bundle, header) : file.content;
    files.push({ path: relativeOf(file.path), content, mode: file.mode, kind: 'file' });
    entries.push(manifestEntryOf(file));
  }
  // The symlinks `systemctl enable` makes ([Install] WantedBy= and the like), as install --root makes them.
  const l = layout(target);
  const enable = desired.enableDeferred ? [] : desired.enable;
  for (const unit of enable) {
    for (const link of installLinks({ files: desired.files, enable: [unit] }, l)) {
      files.push({ path: relativeOf(link), content: Buffer.from(l.unitFile(unit)), mode: 0o777, kind: 'symlink' });
      entries.push({ path: link, role: 'enable-link', mode: '0777', owner: target.user, group: target.group, linkTo: l.unitFile(unit) });
    }
  }
  const notes = [
    'the receipt is not part of the tree: svcctl writes it when it installs (svcctl install --root DIR renders the same tree with one)',
    ...(desired.user ? [`user ${desired.user.name} is created at first boot from ${l.sysusers(bundle.name)} (systemd-sysusers)`] : []),
    ...(desired.directories.some((d) => d.kind === 'data') ? [`the data directories are made at first boot from ${l.tmpfiles(bundle.name)} (systemd-tmpfiles)`] : []),
    ...(desired.files.some((f) => f.secret) ? ['secret files carry a description of the secrets that fill them, never a value: fill them on the host (mode and owner as the manifest says)'] : []),
  ];
  const manifest = manifestOf('units', desired, entries, notes);
  // svcctl's own directories as install --root makes them (the declared ones are made at first boot).
  const directories = desired.directories.filter((d) => d.kind === 'own').map((d) => ({ path: relativeOf(d.path), mode: d.mode }));
  return { format: 'units', bundle: bundle.name, files: [...files, manifestExportFile(manifest)], directories, manifest, notes };
}
