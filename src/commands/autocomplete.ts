import { Args } from '../oclif.js';
import { SvcctlCommand } from '../base-command.js';
import { completionPlaces } from '../flows/autocomplete.js';
import { renderCompletion, shells, type Shell } from '../views/completion.js';

export default class Autocomplete extends SvcctlCommand {
  static override summary = 'Print the completion script for bash, zsh or fish: commands, flags, bundle names, secret keys.';
  static override description =
    'The Debian package installs these scripts for every user; from a clone, load one in your shell as the examples show. Installed bundle names come from the public index (readable by everyone; with `--user` on the line, your own index in your home), secret keys from `svcctl secret list` (root only, or with `--user` your own).';
  static override examples = [
    'source <(<%= config.bin %> autocomplete bash)            # in ~/.bashrc',
    '<%= config.bin %> autocomplete bash > ~/.local/share/bash-completion/completions/svcctl',
    '<%= config.bin %> autocomplete zsh > ~/.zfunc/_svcctl      # a directory on $fpath, before compinit',
    '<%= config.bin %> autocomplete fish > ~/.config/fish/completions/svcctl.fish',
  ];
  static override args = { shell: Args.string({ description: 'the shell', options: [...shells], default: 'bash' }) };

  async run(): Promise<{ shell: Shell; script: string }> {
    const { args } = await this.parse(Autocomplete);
    const shell = args.shell as Shell;
    const script = renderCompletion(shell, this.config.commands, completionPlaces());
    this.print(script);
    return { shell, script };
  }
}
