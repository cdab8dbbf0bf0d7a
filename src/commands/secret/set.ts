import { Args, Flags } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { refuseValueOnArgv, setSecret, type SecretChangeResult } from '../../flows/secrets.js';
import { secretSetLines } from '../../views/secrets.js';
import { say } from '../../views/output.js';
import { terminalUi } from '../../views/progress.js';
import { userFlag } from '../../flags.js';

export default class SecretSet extends SvcctlCommand {
  static override summary = "Set one of a bundle's secrets from a file, a generator, stdin or a masked prompt. Never from the command line.";
  static override description = `The value comes from --from-file FILE, --generate (32 random bytes as hex, like \`openssl rand -hex 32\`), stdin when it is not a terminal, or else a masked prompt. One trailing newline is dropped. A value on the command line is refused: every local user can read argv.

The secrets file (/etc/svcctl/<bundle>/secrets.env) is replaced atomically with mode 0600 root:root, in one locked transaction with the receipt (which records when the secret changed, never its value). Services read it when they start: a timer's next run uses the new value; a daemon needs a restart — \`svcctl secret rotate\` does that with a health check and reverts on failure.`;
  static override examples = [
    '<%= config.bin %> secret set cleanup-blocking REDIS_PASSWORD',
    '<%= config.bin %> secret set cleanup-blocking REDIS_PASSWORD --from-file /root/redis.pass',
    'vault kv get -field=password secret/redis | <%= config.bin %> secret set cleanup-blocking REDIS_PASSWORD',
    '<%= config.bin %> secret set cleanup-blocking BLOCKING_COORDINATION_SECRET --generate',
  ];
  // Not strict: an extra argument (a value typed after KEY) is refused without being echoed back.
  static override strict = false;
  static override args = {
    bundle: Args.string({ description: 'installed bundle name (or bundle path)', required: true }),
    key: Args.string({ description: 'the secret, e.g. REDIS_PASSWORD', required: true }),
  };
  static override flags = {
    user: userFlag,
    'from-file': Flags.string({ description: 'read the value from this file (- for stdin)', exclusive: ['generate'] }),
    generate: Flags.boolean({ description: 'generate a value: 32 random bytes as hex', default: false, exclusive: ['from-file'] }),
  };

  async run(): Promise<SecretChangeResult> {
    const { args, argv, flags } = await this.parse(SecretSet);
    refuseValueOnArgv(argv as string[], args.key);
    const result = await setSecret(args.bundle, args.key, { ...(flags['from-file'] !== undefined ? { fromFile: flags['from-file'] } : {}), generate: flags.generate, user: flags.user }, terminalUi);
    for (const line of secretSetLines(result)) say(line);
    return result;
  }
}
