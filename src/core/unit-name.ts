// Template units and their instances, as systemd names them: x@.service is a template, x@INSTANCE.service one of its
// instances (systemd.unit(5), "Description").

/** Whether `unit` names a template (x@.service), which runs only as instances: its first @ is right before its type. */
export function isTemplateName(unit: string): boolean {
  const at = unit.indexOf('@');
  const dot = unit.lastIndexOf('.');
  return at > 0 && dot === at + 1 && /^[a-z]+$/.test(unit.slice(dot + 1));
}

/** The template an instance's name comes from (svcctl-alert@foo.service.service → svcctl-alert@.service; the instance is
 * what follows the first @), if it is one. */
export function templateOfInstance(unit: string): string | undefined {
  const at = unit.indexOf('@');
  const dot = unit.lastIndexOf('.');
  return at > 0 && dot > at + 1 ? `${unit.slice(0, at)}@${unit.slice(dot)}` : undefined;
}
