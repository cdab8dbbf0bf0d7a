#!/bin/bash
# vx11-autosync.sh: commits every change of a git working tree and syncs its branch with a remote
# (pull --rebase, then push). Installed by `svcctl install vx11-autosync` and run every 5 minutes by
# vx11-autosync.timer; see docs/vx11-autosync.md.
#
# Usage: vx11-autosync.sh                one sync
#        vx11-autosync.sh --remove-lock  remove a lock file left by a run that was killed, unless a
#                                        run holds it (the service's ExecStopPost=)
#        vx11-autosync.sh --help
#
# Environment:
#   REPO_DIR  default /home/elkakas314/vx11: the top level of the working tree
#   REMOTE    default vx_11_remote: the name of a remote configured in that repository
#
# One sync, under the lock $REPO_DIR/.autosync.lock (flock):
#   1. git add -A (everything but the lock file) and commit, only when something is staged;
#   2. git pull --rebase REMOTE BRANCH, BRANCH being the branch checked out (skipped while the
#      remote has no such branch);
#   3. git push REMOTE HEAD:BRANCH, when HEAD differs from the remote's branch.
# A rebase that conflicts is aborted: HEAD, index and working tree are as they were before the pull,
# and the run fails with one line naming the conflicting files. git never prompts: no terminal
# prompt, ssh in batch mode.
#
# A second run while one holds the lock waits for it (up to LOCK_WAIT_SECONDS), then syncs: what
# changed while the first one ran is committed now rather than at the next timer run.
#
# Exit status: 0 synced (also when there was nothing to do); 1 the sync failed (remote unreachable,
# rebase conflict, push rejected, a hook refused the commit); 64 bad usage; 75 another run kept the
# lock for LOCK_WAIT_SECONDS; 78 the repository or the settings do not allow a sync (REPO_DIR not a
# working tree or not writable, no such remote, detached HEAD, a merge or rebase in progress).
set -euo pipefail

readonly EXIT_FAILED=1 EXIT_USAGE=64 EXIT_LOCKED=75 EXIT_CONFIG=78
readonly LOCK_NAME=.autosync.lock
# Shorter than the unit's TimeoutStartSec= (4 min), so that a waiting run still has time to sync.
readonly LOCK_WAIT_SECONDS=120

mode=sync
lock_fd=''
lock_held=false
pulling=false

# ---- output ----

# When stdout is the journal (systemd sets JOURNAL_STREAM), a "<N>" prefix sets the priority.
if [[ -n ${JOURNAL_STREAM:-} ]]; then journal_prefix=true; else journal_prefix=false; fi

# Every message is one line (git's multi-line answers are joined with " | "), and the password of a
# URL such as https://user:password@host/ is masked, should git ever print one.
emit() { # priority level message
  local priority=$1 level=$2 message=$3 line
  message=${message//$'\r'/}
  while [[ $message == *$'\n\n'* ]]; do message=${message//$'\n\n'/$'\n'}; done
  message=${message%$'\n'}
  message=${message//$'\n'/ | }
  while [[ $message =~ ^(.*://[^/@:[:space:]]*:)([^/@[:space:]*][^/@[:space:]]*)(@.*)$ ]]; do
    message="${BASH_REMATCH[1]}***${BASH_REMATCH[3]}"
  done
  line=$message
  if [[ $level != info ]]; then line="$level: $message"; fi
  if $journal_prefix; then line="<$priority>$line"; fi
  if [[ $level == info ]]; then printf '%s\n' "$line"; else printf '%s\n' "$line" >&2; fi
}
info() { emit 6 info "$1"; }
warn() { emit 4 warning "$1"; }
die() { # status message
  emit 3 error "$2"
  exit "$1"
}

usage() {
  cat <<'EOF'
Usage: vx11-autosync.sh [--remove-lock | --help]

Commits every change of the git working tree REPO_DIR (default
/home/elkakas314/vx11), pulls its branch from REMOTE (default vx_11_remote)
with --rebase and pushes it back, under the lock REPO_DIR/.autosync.lock.

  --remove-lock  remove a lock file left by a killed run, unless a run holds it
  --help         show this text

Exit status: 0 synced, 1 sync failed (rebase conflict, remote unreachable,
push rejected), 64 bad usage, 75 lock held by another run too long,
78 REPO_DIR or REMOTE unusable (not a working tree, no such remote,
detached HEAD, a merge or rebase in progress).
EOF
}

# ---- configuration ----

parse_arguments() {
  while (($# > 0)); do
    case $1 in
      --remove-lock) mode=remove-lock ;;
      --help | -h)
        usage
        exit 0
        ;;
      *)
        usage >&2
        die "$EXIT_USAGE" "unknown argument: $1"
        ;;
    esac
    shift
  done
}

load_configuration() {
  REPO_DIR=${REPO_DIR:-/home/elkakas314/vx11}
  REMOTE=${REMOTE:-vx_11_remote}
  if [[ $REPO_DIR != /* || $REPO_DIR =~ (^|/)\.\.?(/|$) ]]; then
    die "$EXIT_CONFIG" "invalid REPO_DIR=\"$REPO_DIR\": must be an absolute path without . or .. components"
  fi
  REPO_DIR=${REPO_DIR%/}
  # A remote name, never an option: "git pull --rebase --upload-pack=..." would run a command.
  if ! [[ $REMOTE =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    die "$EXIT_CONFIG" "invalid REMOTE=\"$REMOTE\": must be the name of a git remote (letters, digits, \".\", \"_\", \"-\"; not starting with \"-\" or \".\")"
  fi
  readonly REPO_DIR REMOTE
  lock_file=$REPO_DIR/$LOCK_NAME
}

# git answers in English (its messages end up in the journal and are read by people who search for
# them), never asks anything, and gives up on a stalled connection instead of hanging until the
# unit's timeout.
configure_git() {
  if ! command -v git >/dev/null 2>&1; then
    die "$EXIT_CONFIG" "git not found on PATH: install it (Debian/Ubuntu: apt-get install git)"
  fi
  export LC_ALL=C GIT_TERMINAL_PROMPT=0
  export GIT_HTTP_LOW_SPEED_LIMIT=${GIT_HTTP_LOW_SPEED_LIMIT:-1000} GIT_HTTP_LOW_SPEED_TIME=${GIT_HTTP_LOW_SPEED_TIME:-60}
  exec </dev/null
}

# ssh options given on its command line win over ~/.ssh/config; the repository's core.sshCommand
# (e.g. "ssh -i /root/.ssh/vx11_key") is kept and extended.
configure_ssh() {
  if [[ -n ${GIT_SSH_COMMAND:-} || -n ${GIT_SSH:-} ]]; then return 0; fi
  local ssh_command
  ssh_command=$(git_ config --get core.sshCommand 2>/dev/null) || ssh_command=ssh
  export GIT_SSH_COMMAND="$ssh_command -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"
}

# Every git command runs in the repository, without the lock's descriptor: a process that git leaves
# behind (a hook's daemon, a stuck ssh) must not keep the lock after this run has ended.
git_() {
  if [[ -n $lock_fd ]]; then
    git -C "$REPO_DIR" "$@" {lock_fd}>&-
  else
    git -C "$REPO_DIR" "$@"
  fi
}

# A commit needs an author: the repository's or root's git configuration when it has one, else this
# job's name on this host.
configure_identity() {
  if ! git_ config user.name >/dev/null 2>&1; then
    export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-vx11-autosync} GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-vx11-autosync}
  fi
  if ! git_ config user.email >/dev/null 2>&1; then
    export GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-vx11-autosync@$HOSTNAME} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-vx11-autosync@$HOSTNAME}
  fi
}

# ---- the repository ----

# Before the lock: REPO_DIR must be the top of a working tree, since the lock file lives there.
check_working_tree() {
  local top real
  if [[ ! -d $REPO_DIR ]]; then
    die "$EXIT_CONFIG" "REPO_DIR $REPO_DIR does not exist or is not a directory"
  fi
  if ! top=$(git_ rev-parse --show-toplevel 2>&1); then
    case $top in
      *'dubious ownership'*)
        local me owner shown
        me=$(id -un)
        owner=$(stat -c %U -- "$REPO_DIR")
        if [[ $owner == UNKNOWN ]]; then owner=$(stat -c %u -- "$REPO_DIR"); fi
        shown="owned by $owner"
        # Inside the service's user namespace (PrivateUsers=) every other user shows as the overflow
        # user, 65534 (ProcSubset=pid hides /proc/sys/kernel/overflowuid, which could say otherwise).
        if [[ $(stat -c %u -- "$REPO_DIR") == "$(cat /proc/sys/kernel/overflowuid 2>/dev/null || echo 65534)" ]] && ! grep -Eq '^ *0 +0 +4294967295$' /proc/self/uid_map; then
          owner=OWNER
          shown="owned by another user (ls -ld $REPO_DIR names them; the service's PrivateUsers= hides who)"
        fi
        die "$EXIT_CONFIG" "REPO_DIR $REPO_DIR is $shown and git refuses to work in another user's repository as $me (its hooks and configuration would run as $me): run the service as the owner (a drop-in with User=$owner), or make $me own the repository"
        ;;
    esac
    die "$EXIT_CONFIG" "REPO_DIR $REPO_DIR is not a git working tree: $top"
  fi
  real=$(cd "$REPO_DIR" && pwd -P)
  if [[ $top != "$real" ]]; then
    die "$EXIT_CONFIG" "REPO_DIR $REPO_DIR is inside the working tree $top, not its top level: set REPO_DIR=$top"
  fi
}

# Under the lock, so that another run's rebase is never taken for a human's.
check_repository_state() {
  local name path url
  for name in rebase-merge:rebase rebase-apply:rebase MERGE_HEAD:merge CHERRY_PICK_HEAD:cherry-pick REVERT_HEAD:revert BISECT_LOG:bisect; do
    path=$(git_ rev-parse --git-path "${name%%:*}")
    if [[ $path != /* ]]; then path=$REPO_DIR/$path; fi
    if [[ -e $path ]]; then
      die "$EXIT_CONFIG" "a ${name#*:} is in progress in $REPO_DIR ($path exists): finish or abort it by hand; autosync commits nothing in the middle of it"
    fi
  done
  if ! branch=$(git_ symbolic-ref -q --short HEAD); then
    die "$EXIT_CONFIG" "HEAD is detached in $REPO_DIR (at $(git_ rev-parse -q --short HEAD || echo 'no commit')): autosync syncs a branch; check one out (git switch BRANCH)"
  fi
  if ! url=$(git_ remote get-url -- "$REMOTE" 2>/dev/null); then
    local remotes
    remotes=$(git_ remote | paste -sd, | sed 's/,/, /g')
    die "$EXIT_CONFIG" "$REPO_DIR has no remote named $REMOTE (its remotes: ${remotes:-none}): add it (git remote add $REMOTE URL) or set REMOTE"
  fi
  remote_url=$url
}

# ---- the lock ----

same_file() { # fd path: does the descriptor still name the file at path (not one removed since)?
  local held current
  held=$(stat -L -c %d:%i "/dev/fd/$1" 2>/dev/null) || return 1
  current=$(stat -c %d:%i -- "$2" 2>/dev/null) || return 1
  [[ $held == "$current" ]]
}

lock_holder() {
  local pid=''
  read -r pid <"$lock_file" 2>/dev/null || true
  if [[ $pid =~ ^[0-9]+$ ]]; then printf 'PID %s' "$pid"; else printf 'PID unknown'; fi
}

# flock on the lock file. The file is removed when a run ends (by the run, or by ExecStopPost=), so
# a waiter may wake up holding a file that is gone: it then locks the new one. Whoever removes the
# file holds its lock, so at most one run holds the lock of the file the path names.
take_lock() {
  local deadline=$((SECONDS + LOCK_WAIT_SECONDS)) reason remaining
  while :; do
    if [[ -L $lock_file ]]; then
      die "$EXIT_CONFIG" "the lock file $lock_file is a symbolic link: refusing to follow it; remove it"
    fi
    if ! reason=$({ : >>"$lock_file"; } 2>&1); then
      reason=${reason##*: }
      if [[ $reason == 'Read-only file system' ]]; then
        die "$EXIT_CONFIG" "cannot create the lock file $lock_file: $reason. The service may write only the paths of its ReadWritePaths= (the default REPO_DIR /home/elkakas314/vx11): for another REPO_DIR add a drop-in with ReadWritePaths=$REPO_DIR"
      fi
      die "$EXIT_CONFIG" "cannot create the lock file $lock_file: $reason"
    fi
    exec {lock_fd}>>"$lock_file"
    if ! flock -n "$lock_fd"; then
      info "waiting up to ${LOCK_WAIT_SECONDS}s for the lock $lock_file, held by another run ($(lock_holder))"
      remaining=$((deadline - SECONDS))
      if ((remaining < 1)) || ! flock -w "$remaining" "$lock_fd"; then
        die "$EXIT_LOCKED" "another run ($(lock_holder)) has held the lock $lock_file for more than ${LOCK_WAIT_SECONDS}s: skipping this run; the next one tries again"
      fi
    fi
    if same_file "$lock_fd" "$lock_file"; then break; fi
    exec {lock_fd}>&-
    lock_fd=''
  done
  lock_held=true
  printf '%s\n' "$$" >"$lock_file"
  info "lock $lock_file taken (PID $$)"
}

# At exit, also after a failure. A run killed with SIGKILL cannot do this; ExecStopPost= can.
release_lock() {
  if ! $lock_held; then return 0; fi
  if same_file "$lock_fd" "$lock_file"; then rm -f -- "$lock_file"; fi
  exec {lock_fd}>&-
  lock_fd=''
  lock_held=false
}

# --remove-lock: a lock file whose lock nobody holds is left over from a killed run.
remove_stale_lock() {
  if [[ -L $lock_file ]]; then
    warn "the lock file $lock_file is a symbolic link: left alone"
    return 0
  fi
  # Opened read-only, so that a lock file that is already gone is not created again.
  { exec {lock_fd}<"$lock_file"; } 2>/dev/null || return 0
  if ! flock -n "$lock_fd"; then
    info "the lock file $lock_file is held by another run ($(lock_holder)): left in place"
  elif same_file "$lock_fd" "$lock_file"; then
    rm -f -- "$lock_file"
    info "removed the lock file $lock_file left by a run that did not finish"
  fi
  exec {lock_fd}>&-
  lock_fd=''
}

# ---- the sync ----

rebase_in_progress() {
  local name path
  for name in rebase-merge rebase-apply; do
    path=$(git_ rev-parse --git-path "$name")
    if [[ $path != /* ]]; then path=$REPO_DIR/$path; fi
    if [[ -e $path ]]; then return 0; fi
  done
  return 1
}

# Stages everything but the lock file, commits when that staged anything; prints a summary word.
commit_changes() {
  local output count stamp
  if ! output=$(git_ add -A -- ':/' ":(top,exclude)$LOCK_NAME" 2>&1); then
    die "$EXIT_FAILED" "git add -A failed in $REPO_DIR: $output"
  fi
  if git_ diff --cached --quiet; then
    committed=''
    return 0
  fi
  count=$(git_ diff --cached --name-only | wc -l)
  TZ=UTC0 printf -v stamp '%(%Y-%m-%d %H:%M:%S UTC)T' -1
  if ! output=$(git_ commit -q -m "vx11-autosync: $HOSTNAME at $stamp" -m "$count file(s) changed, committed by vx11-autosync on $HOSTNAME at $stamp." 2>&1); then
    die "$EXIT_FAILED" "git commit failed in $REPO_DIR (the changes stay staged): $output"
  fi
  committed="committed $count file(s) as $(git_ rev-parse --short HEAD)"
}

conflicting_files() {
  local -a files
  mapfile -d '' -t files < <(git_ diff --name-only --diff-filter=U -z)
  local joined
  printf -v joined '%s, ' "${files[@]}"
  printf '%s' "${joined%, }"
}

# Rebases the branch onto the remote's. Fails, after an abort that puts HEAD, index and working tree
# back as they were, when the rebase conflicts.
pull_rebase() { # head_before
  local head_before=$1 output conflicts abort_output status_after
  pulling=true
  if output=$(git_ pull --rebase --no-autostash -q -- "$REMOTE" "$branch" 2>&1); then
    pulling=false
    return 0
  fi
  if ! rebase_in_progress; then
    pulling=false
    die "$EXIT_FAILED" "git pull --rebase $REMOTE $branch failed: $output"
  fi
  conflicts=$(conflicting_files)
  if ! abort_output=$(git_ rebase --abort 2>&1); then
    die "$EXIT_FAILED" "pulling $REMOTE $branch conflicted in: ${conflicts:-(no file named by git)}, and git rebase --abort failed: $abort_output; the rebase is still in progress in $REPO_DIR: finish or abort it by hand"
  fi
  pulling=false
  status_after=$(git_ status --porcelain -- ':/' ":(top,exclude)$LOCK_NAME")
  if [[ $(git_ rev-parse HEAD) != "$head_before" || -n $status_after ]]; then
    die "$EXIT_FAILED" "pulling $REMOTE $branch conflicted in: ${conflicts:-(no file named by git)}; the rebase was aborted but $REPO_DIR is not as before the pull (HEAD was ${head_before:0:12}; git status: $status_after)"
  fi
  die "$EXIT_FAILED" "pulling $REMOTE $branch conflicted in: ${conflicts:-(no file named by git)}; rebase aborted, $REPO_DIR is as before the pull (HEAD ${head_before:0:12}, local commits not pushed); resolve by hand: cd $REPO_DIR && git pull --rebase $REMOTE $branch"
}

# A run stopped by systemd (timeout, systemctl stop) in the middle of the rebase leaves none behind.
on_exit() {
  if $pulling && rebase_in_progress; then
    git_ rebase --abort >/dev/null 2>&1 && warn "interrupted during the pull: rebase aborted" || true
  fi
  release_lock
}

sync() {
  local head listing status=0 remote_head='' output pushed
  check_working_tree
  configure_ssh
  take_lock
  check_repository_state
  configure_identity
  commit_changes

  if ! head=$(git_ rev-parse -q --verify HEAD); then
    info "$branch has no commit yet and nothing to commit: nothing to sync"
    return 0
  fi

  listing=$(git_ ls-remote --exit-code --heads -- "$REMOTE" "refs/heads/$branch" 2>&1) || status=$?
  case $status in
    # stderr is in the listing too (an ssh warning, say): the branch's line is the one ending in its ref.
    0) [[ $listing =~ (^|$'\n')([0-9a-f]{40,64})$'\t'"refs/heads/$branch"($'\n'|$) ]] && remote_head=${BASH_REMATCH[2]} ;;
    2) info "$REMOTE has no branch $branch yet: the push creates it" ;;
    *) die "$EXIT_FAILED" "cannot reach the remote $REMOTE ($remote_url): $listing" ;;
  esac
  if [[ -n $remote_head ]]; then
    pull_rebase "$head"
    head=$(git_ rev-parse HEAD)
  fi

  if [[ $head == "$remote_head" ]]; then
    pushed="$REMOTE/$branch already at ${head:0:12}"
  else
    if ! output=$(git_ push -q -- "$REMOTE" "HEAD:refs/heads/$branch" 2>&1); then
      die "$EXIT_FAILED" "git push $REMOTE HEAD:$branch failed (the next run tries again): $output"
    fi
    pushed="pushed ${head:0:12} to $REMOTE/$branch"
  fi
  info "synced $REPO_DIR ($branch): ${committed:-nothing to commit}; $pushed"
}

main() {
  parse_arguments "$@"
  load_configuration
  configure_git
  trap on_exit EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  case $mode in
    remove-lock) remove_stale_lock ;;
    sync) sync ;;
  esac
}

main "$@"
