// Shell completion scripts for bash, zsh and fish, rendered from the command table (oclif's manifest, the same
// source as --help and docs/commands.md): commands, flags, flag values, and bundle names and secret keys looked up
// when Tab is pressed. The package installs them (scripts/package.js); `svcctl autocomplete SHELL` prints them.

import type { CompletionPlaces } from '../flows/autocomplete.js';

export type Shell = 'bash' | 'zsh' | 'fish';
export const shells: readonly Shell[] = ['bash', 'zsh', 'fish'];

/** What a command's manifest entry says about its arguments and flags (oclif.manifest.json, or config.commands). */
export interface CommandShape {
  id: string;
  hidden?: boolean;
  strict?: boolean;
  args: Record<string, { name: string }>;
  flags: Record<string, { name: string; char?: string; type: 'boolean' | 'option'; allowNo?: boolean; options?: readonly string[]; hidden?: boolean }>;
}


/**
 * What a positional argument completes to: the names of installed bundles (the day-2 commands), bundle names
 * and directories for the commands that take a bundle to load, the secret keys of the bundle named before it
 * (root only: `svcctl secret list`), or files.
 */
type ArgumentKind = 'installed' | 'source' | 'secret' | 'files';

function argumentKind(commandId: string, argument: string): ArgumentKind {
  if (argument === 'bundle') return commandId === 'install' || commandId === 'verify' ? 'source' : 'installed';
  if (argument === 'key') return 'secret';
  return 'files';
}

interface CompletionCommand {
  /** words, e.g. ['secret', 'set'] */
  words: string[];
  flags: string[];
  /** flags that take a value, as typed (--name and -n) */
  valueFlags: string[];
  /** the values of flags that have a fixed list */
  flagValues: Array<{ spellings: string[]; values: string[] }>;
  kinds: ArgumentKind[];
  /** whether the last argument repeats (non-strict commands) */
  variadic: boolean;
}

// Every word goes into the scripts unquoted: command ids, flag names and their values must stay this plain.
const plainWord = /^[A-Za-z0-9][A-Za-z0-9_.:+-]*$/;

function plain(word: string, what: string): string {
  if (!plainWord.test(word)) throw new Error(`completion: ${what} "${word}" is not a plain word`);
  return word;
}

function completionCommands(commands: readonly CommandShape[]): CompletionCommand[] {
  return commands
    .filter((command) => !command.hidden)
    .map((command) => {
      const flags = Object.values(command.flags).filter((flag) => !flag.hidden);
      const spellings = (flag: (typeof flags)[number]) => [`--${plain(flag.name, 'flag')}`, ...(flag.char ? [`-${plain(flag.char, 'flag')}`] : [])];
      const args = Object.values(command.args);
      return {
        words: command.id.split(':').map((word) => plain(word, 'command')),
        flags: flags.flatMap((flag) => [...spellings(flag), ...(flag.allowNo ? [`--no-${flag.name}`] : [])]).sort(),
        valueFlags: flags.filter((flag) => flag.type === 'option').flatMap(spellings),
        flagValues: flags.filter((flag) => flag.options).map((flag) => ({ spellings: spellings(flag), values: (flag.options ?? []).map((value) => plain(value, 'flag value')) })),
        kinds: args.map((arg) => argumentKind(command.id, arg.name)),
        variadic: command.strict === false && args.length > 0,
      };
    })
    .sort((a, b) => (a.words.join(' ') < b.words.join(' ') ? -1 : 1));
}

/** The first words of the commands and, for each topic (`secret`, `sandbox`), the words after it. */
function commandWords(commands: CompletionCommand[]): { first: string[]; topics: Map<string, string[]> } {
  const topics = new Map<string, string[]>();
  for (const command of commands) {
    if (command.words.length === 2) topics.set(command.words[0]!, [...(topics.get(command.words[0]!) ?? []), command.words[1]!]);
  }
  return { first: [...new Set(commands.map((command) => command.words[0]!))].sort(), topics };
}

export function renderCompletion(shell: Shell, commands: readonly CommandShape[], places: CompletionPlaces): string {
  const table = completionCommands(commands);
  const header = `svcctl completion for ${shell}, generated from svcctl's command table (src/views/completion.ts): do not edit.`;
  if (shell === 'bash') return renderBash(table, places, header);
  if (shell === 'zsh') return renderZsh(table, places, header);
  return renderFish(table, places, header);
}

/** A single-quoted word for sh, bash and zsh: the same string back, whatever it holds. */
export function quotePosix(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A single-quoted word for fish, where backslash and quote are the two escapes inside single quotes. */
export function quoteFish(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

// The index is written by JSON.stringify with an indent (writePublicIndex): one property per line, and a string
// holds no raw line break, so a line that starts with "bundle": is an entry's name. Names are [a-z0-9-].
const indexNameRegex = '^[[:space:]]*"bundle": "([a-z0-9-]+)",?$';

/** The case arms shared by bash and zsh: per command, its flags, value flags, flag values, argument kinds. */
function posixCommandArms(table: CompletionCommand[]): string[] {
  const arms: string[] = [];
  for (const command of table) {
    const valueCases = command.flagValues.map((f) => `${f.spellings.join('|')}) values=(${f.values.join(' ')}) ;;`).join(' ');
    arms.push(
      `    '${command.words.join(' ')}')`,
      `      flags=(${command.flags.join(' ')})`,
      `      value_flags=(${command.valueFlags.join(' ')})`,
      `      kinds=(${command.kinds.join(' ')})`,
      `      variadic=${command.variadic ? 1 : 0}`,
      `      case $prev in ${valueCases} esac`,
      '      ;;',
    );
  }
  return arms;
}

function renderBash(table: CompletionCommand[], places: CompletionPlaces, header: string): string {
  const { first, topics } = commandWords(table);
  const topicArms = [...topics].map(([topic, words]) => `    ${topic}) topic_words=(${words.join(' ')}) ;;`);
  return `# ${header}
# Installed as /usr/share/bash-completion/completions/svcctl; in a clone: source <(svcctl autocomplete bash)

# $1: the index to read (the system's, or with --user the user's own)
_svcctl_installed() {
  local line re=${quotePosix(indexNameRegex)}
  [[ -r $1 ]] || return 0
  while IFS= read -r line; do
    [[ $line =~ $re ]] && printf '%s\\n' "\${BASH_REMATCH[1]}"
  done < "$1"
}

_svcctl_builtin() {
  local manifest
  for manifest in ${quotePosix(places.builtinBundlesDir)}/*/bundle.yaml; do
    [[ -e $manifest ]] || continue
    manifest=\${manifest%/bundle.yaml}
    printf '%s\\n' "\${manifest##*/}"
  done
}

_svcctl() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local command=\${COMP_WORDS[1]} rest=2
  local -a topic_words=() flags=() value_flags=() kinds=() values=() args=()
  local variadic=0 word i skip=0 kind index=${quotePosix(places.installedIndex)} user=()
  COMPREPLY=()
  case \${COMP_WORDS[1]} in
${topicArms.join('\n')}
  esac
  if (( COMP_CWORD == 1 )); then
    COMPREPLY=($(compgen -W '${first.join(' ')}' -- "$cur"))
    return 0
  fi
  if (( \${#topic_words[@]} > 0 )); then
    if (( COMP_CWORD == 2 )); then
      COMPREPLY=($(compgen -W "\${topic_words[*]}" -- "$cur"))
      return 0
    fi
    command="\${COMP_WORDS[1]} \${COMP_WORDS[2]}"
    rest=3
  fi
  case $command in
${posixCommandArms(table).join('\n')}
    *) return 0 ;;
  esac
  if (( \${#values[@]} > 0 )); then
    COMPREPLY=($(compgen -W "\${values[*]}" -- "$cur"))
    return 0
  fi
  for word in "\${value_flags[@]}"; do
    [[ $prev == "$word" ]] && return 0 # a value to type, or a file: readline's default
  done
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "\${flags[*]}" -- "$cur"))
    return 0
  fi
  # The arguments typed so far: words that are not flags nor a flag's value.
  for (( i = rest; i < COMP_CWORD; i++ )); do
    word=\${COMP_WORDS[i]}
    if (( skip )); then skip=0; continue; fi
    if [[ $word == -* ]]; then
      [[ $word == --user ]] && index=$HOME/${quotePosix(places.userInstalledIndex)} user=(--user)
      [[ $word != *=* && " \${value_flags[*]} " == *" $word "* ]] && skip=1
      continue
    fi
    args+=("$word")
  done
  if (( \${#args[@]} < \${#kinds[@]} )); then kind=\${kinds[\${#args[@]}]}
  elif (( variadic )); then kind=\${kinds[\${#kinds[@]}-1]}
  else return 0
  fi
  case $kind in
    installed) COMPREPLY=($(compgen -W "$(_svcctl_installed "$index")" -- "$cur")) ;;
    source)
      COMPREPLY=($(compgen -W "$(_svcctl_builtin)" -- "$cur"))
      # a bundle directory once the word looks like a path
      [[ $cur == */* || $cur == .* ]] && COMPREPLY+=($(compgen -d -- "$cur"))
      ;;
    secret)
      # Secret keys are in the receipt, readable by root only (a user's own, with --user).
      (( EUID == 0 || \${#user[@]} )) && COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" secret list "\${user[@]}" "\${args[0]}" 2>/dev/null | awk 'NR > 1 { print $1 }')" -- "$cur"))
      ;;
  esac
  return 0
}

complete -o default -F _svcctl svcctl
`;
}

function renderZsh(table: CompletionCommand[], places: CompletionPlaces, header: string): string {
  const { first, topics } = commandWords(table);
  const topicArms = [...topics].map(([topic, words]) => `    ${topic}) topic_words=(${words.join(' ')}) ;;`);
  return `#compdef svcctl
# ${header}
# Installed as /usr/share/zsh/vendor-completions/_svcctl; in a clone: source <(svcctl autocomplete zsh)

# $1: the index to read (the system's, or with --user the user's own)
_svcctl_installed() {
  local line
  [[ -r $1 ]] || return 0
  for line in "\${(@f)$(<$1)}"; do
    [[ $line =~ ${quotePosix(indexNameRegex)} ]] && print -r -- "$match[1]"
  done
}

_svcctl_builtin() {
  local manifest
  for manifest in ${quotePosix(places.builtinBundlesDir)}/*/bundle.yaml(N); do
    print -r -- "\${\${manifest:h}:t}"
  done
}

_svcctl() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
  local command=\${words[2]} rest=3
  local -a topic_words flags value_flags kinds values args
  local variadic=0 word i skip=0 kind index=${quotePosix(places.installedIndex)}
  local -a user
  case \${words[2]} in
${topicArms.join('\n')}
  esac
  if (( CURRENT == 2 )); then
    compadd -- ${first.join(' ')}
    return
  fi
  if (( \${#topic_words} > 0 )); then
    if (( CURRENT == 3 )); then
      compadd -a topic_words
      return
    fi
    command="\${words[2]} \${words[3]}"
    rest=4
  fi
  case $command in
${posixCommandArms(table).join('\n')}
    *) return 1 ;;
  esac
  if (( \${#values} > 0 )); then
    compadd -a values
    return
  fi
  if (( \${value_flags[(Ie)$prev]} )); then
    _files
    return
  fi
  if [[ $cur == -* ]]; then
    compadd -a flags
    return
  fi
  for (( i = rest; i < CURRENT; i++ )); do
    word=\${words[i]}
    if (( skip )); then skip=0; continue; fi
    if [[ $word == -* ]]; then
      [[ $word == --user ]] && index=$HOME/${quotePosix(places.userInstalledIndex)} user=(--user)
      [[ $word != *=* ]] && (( \${value_flags[(Ie)$word]} )) && skip=1
      continue
    fi
    args+=("$word")
  done
  if (( \${#args} < \${#kinds} )); then kind=\${kinds[\${#args}+1]}
  elif (( variadic )); then kind=\${kinds[-1]}
  else return 1
  fi
  case $kind in
    installed) compadd -- \${(f)"$(_svcctl_installed $index)"} ;;
    source)
      compadd -- \${(f)"$(_svcctl_builtin)"}
      [[ $cur == */* || $cur == .* ]] && _files -/
      ;;
    secret) (( EUID == 0 || \${#user} )) && compadd -- \${(f)"$("\${words[1]}" secret list $user "\${args[1]}" 2>/dev/null | awk 'NR > 1 { print $1 }')"} ;;
    *) _files ;;
  esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _svcctl "$@"
else
  compdef _svcctl svcctl
fi
`;
}

function renderFish(table: CompletionCommand[], places: CompletionPlaces, header: string): string {
  const { first, topics } = commandWords(table);
  const topicArms = [...topics].map(([topic, words]) => `        case ${topic}\n            set topic_words ${words.join(' ')}`);
  const commandArms = table.map((command) => {
    const valueCases = command.flagValues.map((f) => `            if contains -- $prev ${f.spellings.join(' ')}\n                set values ${f.values.join(' ')}\n            end`);
    return [
      `        case '${command.words.join(' ')}'`,
      `            set flags ${command.flags.join(' ')}`,
      `            set value_flags ${command.valueFlags.join(' ')}`,
      `            set kinds ${command.kinds.join(' ')}`,
      `            set variadic ${command.variadic ? 1 : 0}`,
      ...valueCases,
    ].join('\n');
  });
  return `# ${header}
# Installed as /usr/share/fish/vendor_completions.d/svcctl.fish; in a clone: svcctl autocomplete fish | source

# $argv[1]: the index to read (the system's, or with --user the user's own)
function __svcctl_installed
    test -r $argv[1]; or return 0
    string match -r -g ${quoteFish(indexNameRegex.replace('[[:space:]]', '\\s'))} < $argv[1]
end

function __svcctl_builtin
    for manifest in ${quoteFish(places.builtinBundlesDir)}/*/bundle.yaml
        basename (dirname $manifest)
    end
end

function __svcctl_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l prev $tokens[-1]
    set -l command $tokens[2]
    set -l rest 3
    set -l topic_words
    set -l flags
    set -l value_flags
    set -l kinds
    set -l values
    set -l variadic 0
    set -l args
    set -l index ${quoteFish(places.installedIndex)}
    set -l user
    switch "$tokens[2]"
${topicArms.join('\n')}
    end
    if test (count $tokens) -eq 1
        printf '%s\\n' ${first.join(' ')}
        return
    end
    if set -q topic_words[1]
        if test (count $tokens) -eq 2
            printf '%s\\n' $topic_words
            return
        end
        set command "$tokens[2] $tokens[3]"
        set rest 4
    end
    switch $command
${commandArms.join('\n')}
        case '*'
            return
    end
    if set -q values[1]
        printf '%s\\n' $values
        return
    end
    if contains -- $prev $value_flags
        __fish_complete_path $cur
        return
    end
    if string match -q -- '-*' $cur
        printf '%s\\n' $flags
        return
    end
    set -l skip 0
    for word in $tokens[$rest..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $word
            if test "$word" = --user
                set index $HOME/${quoteFish(places.userInstalledIndex)}
                set user --user
            end
            if not string match -q -- '*=*' $word; and contains -- $word $value_flags
                set skip 1
            end
            continue
        end
        set -a args $word
    end
    set -l kind
    if test (count $args) -lt (count $kinds)
        set kind $kinds[(math (count $args) + 1)]
    else if test $variadic -eq 1
        set kind $kinds[-1]
    else
        return
    end
    switch $kind
        case installed
            __svcctl_installed $index
        case source
            __svcctl_builtin
            if string match -q -r -- '/|^\\.' $cur
                __fish_complete_directories $cur
            end
        case secret
            if fish_is_root_user; or set -q user[1]
                $tokens[1] secret list $user $args[1] 2>/dev/null | awk 'NR > 1 { print $1 }'
            end
        case '*'
            __fish_complete_path $cur
    end
end

complete -c svcctl -f -a '(__svcctl_complete)'
`;
}
