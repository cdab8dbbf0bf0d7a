#!/bin/sh
# /usr/bin/svcctl: starts svcctl's executable, /usr/lib/svcctl/svcctl (Node's single-executable application,
# scripts/package.js), without the variables through which Node would run the caller's code, load the caller's
# files or write where the caller says before svcctl's first line: a root tool honours none of them.
# NODE_OPTIONS (--require, --import, --inspect), NODE_PATH, NODE_REDIRECT_WARNINGS, NODE_V8_COVERAGE,
# NODE_ICU_DATA, and OpenSSL's configuration, which can load engines and providers: Node reads it at start.
# NODE_EXTRA_CA_CERTS is moved aside as bin/run.js's first line does for a clone: Node 20 parses that file at
# every start (70+ ms), svcctl needs it only for an https health URL (src/system/http.ts), and the processes
# svcctl starts get it back (src/system/exec.ts).
unset NODE_OPTIONS NODE_PATH NODE_REDIRECT_WARNINGS NODE_V8_COVERAGE NODE_ICU_DATA OPENSSL_CONF OPENSSL_ENGINES OPENSSL_MODULES
SVCCTL_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS-}
export SVCCTL_EXTRA_CA_CERTS
unset NODE_EXTRA_CA_CERTS
exec /usr/lib/svcctl/svcctl "$@"
