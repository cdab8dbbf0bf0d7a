// Every escaping dialect svcctl writes, in one place: import from here, never build these lines by hand.
export { commentLine, directiveLine, environmentDirective, environmentFileDirective, escapeSpecifiers, isSpecifierText, unitDirectiveValue, unitSpecifiers, unitSuffixes, unitValueText, validateDirectiveName, validateEnvName, validateUnitName, withSpecifiers, type SpecifierText, type UnitValue } from './unit.js';
export { execArgument, execCommandLine } from './exec.js';
export { envFileLine, parseEnvFile } from './env-file.js';
export { tmpfilesLine, type TmpfilesEntry } from './tmpfiles.js';
export { sysusersGroupLine, sysusersMemberLine, sysusersUserLine, validateUserGroupName, type SysusersUser } from './sysusers.js';
export { nagiosPerfLabel, prometheusHelpText, prometheusLabelName, prometheusLabels, prometheusLabelValue, prometheusMetricName } from './labels.js';
export { yamlString } from './yaml.js';
export { crontabCommand, crontabEntryLine, crontabEnvLine, crontabSchedule, shellQuote, type CrontabEntry } from './crontab.js';
