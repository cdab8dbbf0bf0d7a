import { Args, Flags } from '../../oclif.js';
import { SvcctlCommand } from '../../base-command.js';
import { refuseValueOnArgv, rotateSecrets, type SecretChangeResult } from '../../flows/secrets.js';
import { secretRotateLines } from '../../views/secrets.js';
import { say } from '../../views/output.js';
import { terminalUi } from '../../views/progress.js';
import { userFlag } from '../../flags.js';

export default class SecretRotate extends SvcctlCommand {
  static override summary = 'Rotate secrets: write the new value, restart the daemon or run the timer job, check health, and restore the old value if that fails.';
  static override description = `Without KEY, every secret the bundle can generate gets a fresh value. With KEY, a secret with a generator gets a generated value unless --from-file FILE (or --from-file - for stdin) is given, so a rotation from cron needs nothing on stdin; one without a generator takes --from-file, stdin (not a terminal) or a masked prompt, as for \`secret set\`.

The new value is written atomically (0600 root:root), then a daemon is restarted (and must stay active and answer on its health URL within --timeout) or a timer's job is run now and waited for (a run already under way is waited out first: it started with the old value). If that fails, the old value is put back, the daemon restarted (or the job run again) with it, and the command says so and exits 1. A daemon that is not running is not started: the new value is written and used when it starts.`;
  static override examples = [
    '<%= config.bin %> secret rotate cleanup-blocking',
    '<%= config.bin %> secret rotate cleanup-blocking BLOCKING_COORDINATION_SECRET',
    '<%= config.bin %> secret rotate cleanup-blocking REDIS_PASSWORD --from-file /root/redis.new',
  ];
  static override strict = false;
  static override args = {
    bundle: Args.string({ description: 'installed bundle name (or bundle path)', required: true }),
    key: Args.string({ description: 'the secret to rotate (default: every secret with a generator)', required: false }),
  };
  static override flags = {
    user: userFlag,
    'from-file': Flags.string({ description: 'read the new value from this file, or - for stdin (needs KEY)', exclusive: ['generate'] }),
    generate: Flags.boolean({ description: 'generate the new value: 32 random bytes as hex', default: false, exclusive: ['from-file'] }),
    timeout: Flags.integer({ description: 'seconds a restarted daemon has to become healthy', default: 10, min: 1 }),
  };

  async run(): Promise<SecretChangeResult> {
    const { args, argv, flags } = await this.parse(SecretRotate);
    refuseValueOnArgv(argv as string[], args.key);
    const result = await rotateSecrets(args.bundle, args.key, {
      ...(flags['from-file'] !== undefined ? { fromFile: flags['from-file'] } : {}),
      generate: flags.generate,
      timeoutMs: flags.timeout * 1000,
      user: flags.user,
    }, terminalUi);
    for (const line of secretRotateLines(result)) say(line);
    return result;
  }
}
