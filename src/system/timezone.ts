// The user's time zone, for printing times as `date` and systemctl do.
import { readlinkSync } from 'node:fs';
import { isUtcZone } from '../core/time.js';

let resolved: { tz: string | undefined; zone: string } | undefined;

/**
 * TZ when set, else the system's zone (what `date` uses). UTC, the usual zone of a server, is recognised
 * without Intl: ICU's first use costs 20–30 ms of start-up on these machines, more than the commands that
 * print a time. Any other zone is resolved by ICU, which reads the same TZ and /etc/localtime.
 */
export function userTimeZone(): string {
  const tz = process.env.TZ;
  if (resolved === undefined || resolved.tz !== tz) resolved = { tz, zone: resolveZone(tz) };
  return resolved.zone;
}

function resolveZone(tz: string | undefined): string {
  const named = tz === undefined ? zoneOfLocaltime() : tz.replace(/^:/, '');
  if (named !== undefined && isUtcZone(named)) return 'UTC';
  if (tz !== undefined) {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: named }).resolvedOptions().timeZone;
    } catch {
      // not a zone name ICU knows (a POSIX rule such as EST5EDT): ICU's own reading of TZ below
    }
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** The zone /etc/localtime links to (…/zoneinfo/Etc/UTC → Etc/UTC), as glibc and ICU read it. */
function zoneOfLocaltime(): string | undefined {
  try {
    return readlinkSync('/etc/localtime').match(/zoneinfo\/(?:posix\/)?(.+)$/)?.[1];
  } catch {
    return undefined;
  }
}
