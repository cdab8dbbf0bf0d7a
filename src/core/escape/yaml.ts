// A YAML scalar that reads back as exactly the given string, for YAML 1.2 readers (the yaml package) and 1.1 ones (PyYAML, Ansible).
//
// Written by hand rather than with the yaml package: loading yaml costs tens of milliseconds of svcctl's
// start-up (every command would pay it through this module), and its double-quoted output leaves U+0085,
// U+2028 and U+2029 raw, which YAML 1.1 readers take as line breaks and fold. The tests read every output
// back with the yaml package under both versions.
//
// Plain (unquoted) only for identifier-like text that no YAML version reads as anything but a string
// and paths (not yes/no/on/off/true/false/null/y/n in any case); everything else is a one-line double-quoted scalar
// using only the escapes both versions share.
import { refuseInvalidUnicode } from './chars.js';

const plainSafe = /^[A-Za-z_/][A-Za-z0-9_./-]*$/;
// The float of a YAML 1.1 reader with no digits before the exponent ("E0", "e-1": the yaml package's 1.1 schema
// reads them as NaN; PyYAML's needs a dot, but a value must read back the same in every reader).
const resolvedByAnyVersion = /^(?:y|n|yes|no|on|off|true|false|null|[eE][-+]?[0-9]+)$/i;

const namedEscapes: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\0': '\\0', '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '\x1b': '\\e', '\x85': '\\N', '\u2028': '\\L', '\u2029': '\\P' };

/**
 * A YAML scalar that parses back as exactly `value`: as a mapping value, a sequence item, in a flow
 * collection, or as a key (a key must stay under 1024 characters, YAML's limit for implicit keys).
 */
export function yamlString(value: string): string {
  refuseInvalidUnicode('YAML value', value);
  if (plainSafe.test(value) && !resolvedByAnyVersion.test(value)) return value;
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    const named = namedEscapes[ch];
    if (named !== undefined) out += named;
    // Not printable in YAML (c-printable): C0, DEL, C1, the BOM and the non-characters U+FFFE/U+FFFF.
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code === 0xfeff || code === 0xfffe || code === 0xffff) out += `\\u${code.toString(16)}`;
    else out += ch;
  }
  return `${out}"`;
}
