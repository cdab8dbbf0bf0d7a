#!/bin/bash
# cleanup-blocking-coordination.sh: deletes the Redis state of blocking coordinators whose
# heartbeat has gone stale. Installed by `svcctl install cleanup-blocking` and run every 5 minutes
# by cleanup-blocking-coordination.timer; see docs/cleanup-blocking.md.
#
# Usage: cleanup-blocking-coordination.sh [--dry-run] [--help]
#   --dry-run   list what would be deleted; delete nothing
#
# Key layout (the one claude-flow's blocking coordinators write; <id> is a coordinator id made of
# letters, digits, "_", "." and "-"; a heartbeat key whose id has any other character is skipped):
#   blocking:heartbeat:<id>          string: a unix time in seconds (10 digits) or milliseconds
#                                    (13 digits), or JSON with a top-level "timestamp" field holding
#                                    one, e.g. {"coordinatorId":"c1","timestamp":1731000000000}.
#                                    Anything else (another type, no such number, a time before
#                                    2001-09-09) cannot be dated: the coordinator is left alone.
#   blocking:signal:<id>             companion: the coordinator's pending signal
#   blocking:ack:<id>:<anything>     companions: acknowledgements sent to it
#   coordinator:activity:<id>        companion: activity tracking
#   blocking:idempotency:<sender>:<receiver>:<rest>
#                                    companions: deduplication records of a message; deleted when
#                                    the sender or the receiver is stale
# A coordinator is stale when now - heartbeat > STALE_THRESHOLD_SECONDS. Its heartbeat and every
# existing companion are deleted together in one Lua script that re-reads the heartbeat first, so
# a coordinator that heartbeats between the scan and the deletion is kept.
#
# Environment (svcctl writes the settings into the unit's drop-in and the secrets into an
# EnvironmentFile= readable by root only):
#   STALE_THRESHOLD_SECONDS  default 600; 1..999999999
#   REDIS_HOST               default 127.0.0.1
#   REDIS_PORT               default 6379
#   REDIS_DB                 default 0
#   LOG_DIR                  if set: also append each message to $LOG_DIR/blocking-cleanup.log,
#                            when that directory is writable (otherwise one warning, and on)
#   REDIS_PASSWORD           secret, optional: handed to redis-cli through REDISCLI_AUTH, never
#                            on a command line, never printed
#   BLOCKING_COORDINATION_SECRET
#                            secret, required: the coordinators' shared secret. This job does not
#                            use it; it refuses to run without it so that a host whose secrets file
#                            lost it shows up as a failed run instead of a quietly "healthy" one.
#
# Redis commands used: PING, SCAN, EVAL (GET, TYPE, EXISTS, DEL inside the scripts). Standalone
# Redis only (not Redis Cluster: a coordinator's keys are deleted in one script).
#
# Exit status: 0 done (also when nothing was stale); 1 some coordinators could not be cleaned up
# (Redis failed mid-run); 2 Redis unreachable or authentication failed; 64 bad usage;
# 78 bad configuration (invalid setting, BLOCKING_COORDINATION_SECRET missing, redis-cli missing).
set -euo pipefail
umask 027

readonly EXIT_PARTIAL=1 EXIT_REDIS=2 EXIT_USAGE=64 EXIT_CONFIG=78
readonly SCAN_COUNT=1000 BATCH_SIZE=500 LOG_FILE_NAME=blocking-cleanup.log
# One deletion script handles this many coordinators or keys at most: short enough not to stall
# Redis, long enough that 10,000 coordinators take seconds rather than minutes.
readonly DELETE_BATCH_COORDINATORS=200 DELETE_BATCH_KEYS=4000
readonly ID_PATTERN='^[A-Za-z0-9_.-]+$'
readonly MIN_SECRET_LENGTH=32

dry_run=false
log_file=''

# ---- output ----

# When stdout is the journal (systemd sets JOURNAL_STREAM), a "<N>" prefix sets the priority.
if [[ -n ${JOURNAL_STREAM:-} ]]; then journal_prefix=true; else journal_prefix=false; fi

# Every line goes through here: it removes the Redis password, should redis-cli ever echo it, and
# forks nothing (a run may log thousands of lines).
emit() { # priority level message
  local priority=$1 level=$2 message=$3 line stamp
  if [[ -n ${REDISCLI_AUTH:-} ]]; then message=${message//"$REDISCLI_AUTH"/'<redacted>'}; fi
  line=$message
  if [[ $level != info ]]; then line="$level: $message"; fi
  if $journal_prefix; then line="<$priority>$line"; fi
  if [[ $level == info ]]; then printf '%s\n' "$line"; else printf '%s\n' "$line" >&2; fi
  if [[ -n $log_file ]]; then
    TZ=UTC0 printf -v stamp '%(%Y-%m-%dT%H:%M:%SZ)T' -1
    if ! { printf '%s %s %s\n' "$stamp" "$level" "$message" >>"$log_file"; } 2>/dev/null; then
      log_file=''
      warn "could not append to $LOG_DIR/$LOG_FILE_NAME; logging to the journal only from now on"
    fi
  fi
}
info() { emit 6 info "$1"; }
warn() { emit 4 warning "$1"; }
error() { emit 3 error "$1"; }
die() { # status message
  error "$2"
  exit "$1"
}

usage() {
  cat <<'EOF'
Usage: cleanup-blocking-coordination.sh [--dry-run] [--help]

Deletes the Redis state of blocking coordinators whose heartbeat
(blocking:heartbeat:<id>) is older than STALE_THRESHOLD_SECONDS (default 600),
with their companion keys (blocking:signal:<id>, blocking:ack:<id>:*,
coordinator:activity:<id>, blocking:idempotency:<sender>:<receiver>:*).

  --dry-run   list what would be deleted; delete nothing
  --help      show this text

Environment: STALE_THRESHOLD_SECONDS, REDIS_HOST, REDIS_PORT, REDIS_DB, LOG_DIR,
REDIS_PASSWORD (optional), BLOCKING_COORDINATION_SECRET (required).
Exit status: 0 done, 1 partly failed, 2 Redis unreachable or authentication
failed, 64 bad usage, 78 bad configuration.
EOF
}

# ---- configuration ----

parse_arguments() {
  while (($# > 0)); do
    case $1 in
      --dry-run | -n) dry_run=true ;;
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

# Validates one setting against an extended regular expression; the value is shown (settings are
# not secret), and the message names the setting.
require_match() { # name value regex what
  if ! [[ $2 =~ $3 ]]; then
    die "$EXIT_CONFIG" "invalid $1=\"$2\": must be $4"
  fi
}

load_configuration() {
  STALE_THRESHOLD_SECONDS=${STALE_THRESHOLD_SECONDS:-600}
  REDIS_HOST=${REDIS_HOST:-127.0.0.1}
  REDIS_PORT=${REDIS_PORT:-6379}
  REDIS_DB=${REDIS_DB:-0}
  LOG_DIR=${LOG_DIR:-}

  require_match STALE_THRESHOLD_SECONDS "$STALE_THRESHOLD_SECONDS" '^[1-9][0-9]{0,8}$' 'a whole number of seconds from 1 to 999999999'
  require_match REDIS_HOST "$REDIS_HOST" '^[A-Za-z0-9:][A-Za-z0-9._:-]{0,252}$' 'a host name or an IP address'
  require_match REDIS_PORT "$REDIS_PORT" '^[1-9][0-9]{0,4}$' 'a port number from 1 to 65535'
  if ((REDIS_PORT > 65535)); then die "$EXIT_CONFIG" "invalid REDIS_PORT=\"$REDIS_PORT\": must be a port number from 1 to 65535"; fi
  require_match REDIS_DB "$REDIS_DB" '^(0|[1-9][0-9]{0,4})$' 'a database number (0, 1, ...)'
  if [[ -n $LOG_DIR ]]; then
    require_match LOG_DIR "$LOG_DIR" '^/' 'an absolute path (or empty to log to the journal only)'
  fi

  if [[ -z ${BLOCKING_COORDINATION_SECRET:-} ]]; then
    die "$EXIT_CONFIG" "BLOCKING_COORDINATION_SECRET is not set: the blocking coordinators need their shared secret; set it with \`svcctl secret set cleanup-blocking BLOCKING_COORDINATION_SECRET\` (or in the unit's EnvironmentFile=)"
  fi
  if ((${#BLOCKING_COORDINATION_SECRET} < MIN_SECRET_LENGTH)); then
    die "$EXIT_CONFIG" "BLOCKING_COORDINATION_SECRET is too short (${#BLOCKING_COORDINATION_SECRET} characters, at least $MIN_SECRET_LENGTH): generate one with \`openssl rand -hex 32\`"
  fi
  # This job needs neither secret in its own environment: redis-cli gets the password through
  # REDISCLI_AUTH (never -a, which would put it on the command line for every local user to see).
  unset BLOCKING_COORDINATION_SECRET
  if [[ -n ${REDIS_PASSWORD:-} ]]; then
    export REDISCLI_AUTH=$REDIS_PASSWORD
  else
    unset REDISCLI_AUTH
  fi
  unset REDIS_PASSWORD

  if ! command -v redis-cli >/dev/null 2>&1; then
    die "$EXIT_CONFIG" "redis-cli not found on PATH: install it (Debian/Ubuntu: apt-get install redis-tools)"
  fi
}

open_log_file() {
  [[ -n $LOG_DIR ]] || return 0
  if [[ ! -d $LOG_DIR ]]; then mkdir -p -- "$LOG_DIR" 2>/dev/null || true; fi
  local candidate=$LOG_DIR/$LOG_FILE_NAME
  if [[ -d $LOG_DIR && -w $LOG_DIR && (! -e $candidate || -w $candidate) ]]; then
    log_file=$candidate
  else
    warn "LOG_DIR $LOG_DIR is not a writable directory for $(id -un); logging to the journal only (under systemd, the unit's ReadWritePaths= must list it)"
  fi
}

# ---- Redis ----

redis() {
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" "$@"
}

check_connection() {
  local reply status=0
  reply=$(timeout 15 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" PING 2>&1) || status=$?
  if [[ $status -eq 0 && $reply == PONG ]]; then return 0; fi
  reply=${reply//$'\n'/ }
  case $reply in
    *NOAUTH* | *WRONGPASS* | *'AUTH failed'* | *'invalid password'* | *'invalid username-password'*)
      if [[ -n ${REDISCLI_AUTH:-} ]]; then
        die "$EXIT_REDIS" "authentication to Redis at $REDIS_HOST:$REDIS_PORT failed: REDIS_PASSWORD is wrong (Redis said: $reply)"
      else
        die "$EXIT_REDIS" "Redis at $REDIS_HOST:$REDIS_PORT requires a password and REDIS_PASSWORD is not set: set it with \`svcctl secret set cleanup-blocking REDIS_PASSWORD\`"
      fi
      ;;
  esac
  if [[ $status -eq 0 ]]; then
    die "$EXIT_REDIS" "Redis at $REDIS_HOST:$REDIS_PORT (database $REDIS_DB) answered PING with an error: $reply"
  fi
  if [[ $status -eq 124 ]]; then reply='no answer within 15 s'; fi
  die "$EXIT_REDIS" "cannot reach Redis at $REDIS_HOST:$REDIS_PORT (database $REDIS_DB): ${reply:-redis-cli exited with status $status}"
}

# Prints every key matching a glob, one per line, with SCAN (never KEYS, which blocks the server).
# Fails on any error reply or lost connection.
scan_keys() { # pattern
  local cursor=0 reply
  while :; do
    reply=$(redis SCAN "$cursor" MATCH "$1" COUNT "$SCAN_COUNT") || return 1
    cursor=${reply%%$'\n'*}
    if ! [[ $cursor =~ ^[0-9]+$ ]]; then
      error "SCAN $1 failed: $(printf '%s' "$reply" | head -n 1)"
      return 1
    fi
    if [[ $reply == *$'\n'* ]]; then printf '%s\n' "${reply#*$'\n'}"; fi
    if [[ $cursor == 0 ]]; then return 0; fi
  done
}

# Lua shared by both scripts: the one definition of a heartbeat's age. Returns the age in seconds,
# or nil and why not.
readonly LUA_AGE='
local function heartbeat_age(key, now)
  local kind = redis.call("TYPE", key).ok
  if kind == "none" then return nil, "gone" end
  if kind ~= "string" then return nil, "type " .. kind end
  local value = redis.call("GET", key)
  local digits = string.match(value, "^%s*(%d+)%s*$")
    or string.match(value, "^%s*{.-\"timestamp\"%s*:%s*(%d+)%s*[,}]")
  if not digits then return nil, "undated" end
  local seconds = tonumber(digits)
  if seconds >= 100000000000 then seconds = math.floor(seconds / 1000) end
  if seconds < 1000000000 then return nil, "undated" end
  return now - seconds
end
'

# KEYS: heartbeat keys. ARGV[1]: now. Returns "cbc-ages" then, per key, "age N", "gone" (deleted or
# expired since the scan), "type T" (not a string) or "undated". The marker tells a reply apart from an error line (redis-cli exits 0 on error replies).
readonly LUA_AGES=$LUA_AGE'
local now = tonumber(ARGV[1])
local out = {"cbc-ages"}
for _, key in ipairs(KEYS) do
  local age, why = heartbeat_age(key, now)
  if age then out[#out + 1] = "age " .. string.format("%d", age) else out[#out + 1] = why end
end
return out
'

# A batch of coordinators. KEYS: for each coordinator its heartbeat, then its companions.
# ARGV: now, threshold, "delete" or "dry-run", then each coordinator's number of keys. For each
# coordinator, re-checks the heartbeat, then deletes (or only lists) those of its keys that exist,
# all in one atomic script. Returns "cbc-batch" then, per coordinator in order, either
# "stale AGE N" followed by its N existing keys, or "kept WHY".
readonly LUA_DELETE=$LUA_AGE'
local now, threshold, mode = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local out = {"cbc-batch"}
local first = 1
for c = 4, #ARGV do
  local last = first + tonumber(ARGV[c]) - 1
  local age, why = heartbeat_age(KEYS[first], now)
  if not age then
    out[#out + 1] = "kept " .. why
  elseif age <= threshold then
    out[#out + 1] = "kept fresh"
  else
    local found = {}
    for k = first, last do
      if redis.call("EXISTS", KEYS[k]) == 1 then
        if mode == "delete" then redis.call("DEL", KEYS[k]) end
        found[#found + 1] = KEYS[k]
      end
    end
    out[#out + 1] = "stale " .. string.format("%d", age) .. " " .. #found
    for _, key in ipairs(found) do out[#out + 1] = key end
  end
  first = last + 1
end
return out
'

# ---- the run ----

declare -a heartbeat_ids=()
declare -A stale_age=() companions=()
checked=0 skipped=0 stale=0 kept_fresh=0 undated=0 deleted_keys=0 failed=0

find_heartbeats() {
  local listing key id
  declare -A seen=()
  listing=$(scan_keys 'blocking:heartbeat:*') || die "$EXIT_REDIS" "could not list heartbeats (blocking:heartbeat:*) in Redis at $REDIS_HOST:$REDIS_PORT"
  while IFS= read -r key; do
    [[ -n $key ]] || continue
    id=${key#blocking:heartbeat:}
    [[ $key == blocking:heartbeat:* && -z ${seen[$id]+x} ]] || continue
    seen[$id]=1
    if [[ $id =~ $ID_PATTERN ]]; then
      heartbeat_ids+=("$id")
    else
      skipped=$((skipped + 1))
      warn "skipped $(printf '%q' "$key"): coordinator id is not made of letters, digits, _ . -"
    fi
  done <<<"$listing"
}

date_heartbeats() {
  local now=$1 start reply id age
  local -a keys lines
  for ((start = 0; start < ${#heartbeat_ids[@]}; start += BATCH_SIZE)); do
    keys=()
    for id in "${heartbeat_ids[@]:start:BATCH_SIZE}"; do keys+=("blocking:heartbeat:$id"); done
    reply=$(redis EVAL "$LUA_AGES" "${#keys[@]}" "${keys[@]}" "$now") || die "$EXIT_REDIS" "lost Redis at $REDIS_HOST:$REDIS_PORT while reading heartbeats"
    mapfile -t lines <<<"$reply"
    if [[ ${lines[0]} != cbc-ages || ${#lines[@]} -ne $((${#keys[@]} + 1)) ]]; then
      die "$EXIT_REDIS" "reading heartbeats failed: ${lines[0]}"
    fi
    local i=0
    for id in "${heartbeat_ids[@]:start:BATCH_SIZE}"; do
      i=$((i + 1))
      checked=$((checked + 1))
      case ${lines[i]} in
        'age '*)
          age=${lines[i]#age }
          if ((age > STALE_THRESHOLD_SECONDS)); then
            stale_age[$id]=$age
          else
            kept_fresh=$((kept_fresh + 1))
          fi
          ;;
        gone) checked=$((checked - 1)) ;;
        'type '*)
          undated=$((undated + 1))
          warn "kept coordinator $id: its heartbeat is a Redis ${lines[i]#type }, not a string holding a time"
          ;;
        *)
          undated=$((undated + 1))
          warn "kept coordinator $id: its heartbeat holds no unix time in seconds or milliseconds (nor JSON with a \"timestamp\" one)"
          ;;
      esac
    done
  done
}

add_companion() { # id key
  companions[$1]+="$2"$'\n'
}

find_companions() {
  local id key rest sender receiver listing
  for id in "${!stale_age[@]}"; do
    add_companion "$id" "blocking:signal:$id"
    add_companion "$id" "coordinator:activity:$id"
  done
  listing=$(scan_keys 'blocking:ack:*') || die "$EXIT_PARTIAL" "could not list blocking:ack:* keys; deleted nothing (deleting a heartbeat without its companions would orphan them)"
  while IFS= read -r key; do
    [[ $key == blocking:ack:*:* ]] || continue
    rest=${key#blocking:ack:}
    id=${rest%%:*}
    if [[ -n ${stale_age[$id]+x} ]]; then add_companion "$id" "$key"; fi
  done <<<"$listing"
  listing=$(scan_keys 'blocking:idempotency:*') || die "$EXIT_PARTIAL" "could not list blocking:idempotency:* keys; deleted nothing (deleting a heartbeat without its companions would orphan them)"
  while IFS= read -r key; do
    [[ $key == blocking:idempotency:*:*:* ]] || continue
    rest=${key#blocking:idempotency:}
    sender=${rest%%:*}
    rest=${rest#*:}
    receiver=${rest%%:*}
    if [[ -n ${stale_age[$sender]+x} ]]; then
      add_companion "$sender" "$key"
    elif [[ -n ${stale_age[$receiver]+x} ]]; then
      add_companion "$receiver" "$key"
    fi
  done <<<"$listing"
}

declare -a batch_ids=() batch_counts=() batch_keys=()

# Queues stale coordinator `id` with its keys; runs the batch when it is full.
queue_coordinator() { # id now
  local id=$1
  local -a keys=("blocking:heartbeat:$id")
  if [[ -n ${companions[$id]:-} ]]; then
    mapfile -t -O 1 keys <<<"${companions[$id]%$'\n'}"
  fi
  batch_ids+=("$id")
  batch_counts+=("${#keys[@]}")
  batch_keys+=("${keys[@]}")
  if ((${#batch_ids[@]} >= DELETE_BATCH_COORDINATORS || ${#batch_keys[@]} >= DELETE_BATCH_KEYS)); then
    run_batch "$2"
  fi
}

run_batch() { # now
  ((${#batch_ids[@]} > 0)) || return 0
  local mode=delete reply status=0 line=0 id age count word
  local -a lines listed
  if $dry_run; then mode=dry-run; fi
  reply=$(redis EVAL "$LUA_DELETE" "${#batch_keys[@]}" "${batch_keys[@]}" "$1" "$STALE_THRESHOLD_SECONDS" "$mode" "${batch_counts[@]}" 2>&1) || status=$?
  mapfile -t lines <<<"$reply"
  if [[ $status -ne 0 || ${lines[0]} != cbc-batch ]]; then
    failed=$((failed + ${#batch_ids[@]}))
    error "could not clean up ${#batch_ids[@]} stale coordinators (${batch_ids[*]}): ${reply//$'\n'/ }"
    batch_ids=() batch_counts=() batch_keys=()
    return 0
  fi
  for id in "${batch_ids[@]}"; do
    line=$((line + 1))
    case ${lines[line]} in
      'stale '*)
        read -r _ age count <<<"${lines[line]}"
        listed=("${lines[@]:line+1:count}")
        line=$((line + count))
        stale=$((stale + 1))
        word=keys
        if ((count == 1)); then word=key; fi
        if $dry_run; then
          info "would delete stale coordinator $id (heartbeat ${age}s old > ${STALE_THRESHOLD_SECONDS}s): $count $word: ${listed[*]}"
        else
          deleted_keys=$((deleted_keys + count))
          info "deleted stale coordinator $id (heartbeat ${age}s old > ${STALE_THRESHOLD_SECONDS}s): $count $word: ${listed[*]}"
        fi
        ;;
      *)
        kept_fresh=$((kept_fresh + 1))
        info "kept coordinator $id: its heartbeat changed since the scan (${lines[line]#kept })"
        ;;
    esac
  done
  batch_ids=() batch_counts=() batch_keys=()
}

main() {
  parse_arguments "$@"
  load_configuration
  open_log_file
  check_connection

  local now id mode=''
  now=$(date +%s)
  if $dry_run; then mode=' (dry run: nothing will be deleted)'; fi
  info "cleanup started$mode: Redis $REDIS_HOST:$REDIS_PORT database $REDIS_DB, stale after ${STALE_THRESHOLD_SECONDS}s"

  find_heartbeats
  date_heartbeats "$now"
  if ((${#stale_age[@]} > 0)); then
    find_companions
    while IFS= read -r id; do
      queue_coordinator "$id" "$now"
    done < <(printf '%s\n' "${!stale_age[@]}" | sort)
    run_batch "$now"
  fi

  local verb=deleted
  if $dry_run; then verb='would delete'; fi
  info "cleanup finished$mode: $checked coordinators checked, $stale stale ($verb), $kept_fresh active, $undated undated, $skipped skipped, $deleted_keys keys deleted, $failed failed"
  if ((failed > 0)); then
    exit "$EXIT_PARTIAL"
  fi
}

main "$@"
