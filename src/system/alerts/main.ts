// Entry of the alert sender (built by scripts/bundle.js into units/svcctl-alerts/svcctl-alert.cjs, installed as
// /usr/local/lib/svcctl-alerts/svcctl-alert): `svcctl-alert failure|resolved UNIT`.
import { runAlert } from './runner.js';

runAlert(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    // The errors raised on the way name files and fields, never a value read from the channel file.
    process.stderr.write(`svcctl-alert: ${error.message}\n`);
    process.exitCode = 1;
  },
);
