#!/bin/bash
# cleanup-blocking-coordination.sh: deletes the Redis state of blocking coordinators whose
# heartbeat has gone stale. Installed by `svcctl install cleanup-blocking` and run every 5 minutes
# by cleanup-blocking-coordination.timer; see docs/cleanup-blocking.md.
#
# Usage: cleanup-blocking-coordination.sh [--dry-run] [--help]
#   --dry-run   list what would be deleted, key by key; delete nothing
#
# Key layout (what claude-flow-novice's coordinators write; <id> is a coordinator id made of
# letters, digits, "_", "." and "-"; a heartbeat key whose id has any other character is skipped):
#   blocking:heartbeat:<id>          string: a unix time in seconds (10 digits) or milliseconds
#                                    (13 digits), or a JSON object whose "timestamp" (what the
#                                    coordinators write) or else "lastHeartbeat" (what
#                                    HeartbeatWarningSystem writes) holds one. Anything else
#                                    (another type, no such number, a time before 2001-09-09)
#                                    cannot be dated: the coordinator is left alone.
#   blocking:signal:<id>             companion: the coordinator's pending signal
#   coordinator:activity:<id>        companion: activity tracking
#   blocking:ack:<id>:<signal>       companions: acknowledgements the coordinator sent
#   blocking:idempotency:<fields>    companions: deduplication records, <fields> separated by ":".
#                                    A message id <sender>:<receiver>:<type>:<iteration>:<ms>
#                                    (5 fields, the last two digits) goes with a stale sender or
#                                    receiver; any other record (op1:<id>, <id>:<x>, <x>:<id>:<y>)
#                                    with a stale coordinator named by any one of its fields.
# An id is always a whole field: cleaning c-1 never touches c-10's keys.
# A coordinator is stale when now - heartbeat > STALE_THRESHOLD_SECONDS, now being the start of the
# run. Keys whose coordinator has no heartbeat key at all (it expired through its TTL) are left to
# their own TTLs, as claude-flow-novice's own cleanups do: without a heartbeat nothing proves them
# stale.
#
# How: the work runs inside Redis, in short Lua scripts sent through one redis-cli. Each script
# SCANs one slice of the keyspace (at most SCANS_PER_SCRIPT x SCAN_COUNT slots and KEYS_PER_SCRIPT
# matching keys), so that Redis, which serves no other client while a script runs, is held for
# milliseconds at a time. Pass 1 deletes the ACK and idempotency keys of stale coordinators, pass 2
# each stale heartbeat with its signal and activity keys. A script reads the heartbeats it judges
# and deletes in the same atomic step, so a coordinator that heartbeats during the run keeps its
# heartbeat, signal and activity; and heartbeats go last, so a run stopped half-way leaves no
# companion without the heartbeat through which the next run finds it.
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
# Redis commands used: PING, EVAL (SCAN, MGET, TYPE, EXISTS, DEL, TIME inside the scripts).
# Redis 3.2 or later, standalone (not Redis Cluster: the scripts reach keys they do not declare).
#
# Exit status: 0 done (also when nothing was stale); 1 Redis failed mid-run (what was deleted is
# consistent; the next run carries on); 2 Redis unreachable or authentication failed; 64 bad
# usage; 78 bad configuration (invalid setting, BLOCKING_COORDINATION_SECRET missing, no redis-cli).
set -euo pipefail
umask 027

# The run's own clock, read without a fork: the summary line reports the run's duration.
readonly STARTED_US=${EPOCHREALTIME//[.,]/}

readonly EXIT_PARTIAL=1 EXIT_REDIS=2 EXIT_USAGE=64 EXIT_CONFIG=78
readonly LOG_FILE_NAME=blocking-cleanup.log
# The slice of one script: 1,000 matching keys take Redis about 8 ms, 8 SCANs of unrelated keys
# about 12 ms (measured on a loaded 2-core machine; docs/cleanup-blocking.md has the figures).
readonly SCAN_COUNT=1000 SCANS_PER_SCRIPT=8 KEYS_PER_SCRIPT=1000
# Lines naming single coordinators or problems, per run: a run that deletes 10,000 coordinators
# writes about a hundred lines, not 10,000 (journald's rate limit is 10,000 lines per 30 s).
readonly LIST_LIMIT=100
readonly MIN_SECRET_LENGTH=32
# Seconds to wait for each line of a script's answer.
readonly REPLY_TIMEOUT=60

dry_run=false
log_file=''

# ---- output ----

# When stdout is the journal (systemd sets JOURNAL_STREAM), a "<N>" prefix sets the priority.
if [[ -n ${JOURNAL_STREAM:-} ]]; then journal_prefix=true; else journal_prefix=false; fi

# Every line goes through here: it removes the Redis password, should redis-cli ever echo it, and
# forks nothing.
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

warnings_shown=0 warnings_hidden=0
# A warning about one coordinator or key: the first LIST_LIMIT of a run are shown, the rest counted.
warn_limited() {
  if ((warnings_shown < LIST_LIMIT)); then
    warnings_shown=$((warnings_shown + 1))
    warn "$1"
  else
    warnings_hidden=$((warnings_hidden + 1))
  fi
}

usage() {
  cat <<'EOF'
Usage: cleanup-blocking-coordination.sh [--dry-run] [--help]

Deletes the Redis state of blocking coordinators whose heartbeat
(blocking:heartbeat:<id>) is older than STALE_THRESHOLD_SECONDS (default 600),
with their companion keys: blocking:signal:<id>, coordinator:activity:<id>,
blocking:ack:<id>:*, and the blocking:idempotency:* records that name <id>
as a whole ":"-separated field.

  --dry-run   list what would be deleted, key by key; delete nothing
  --help      show this text

Environment: STALE_THRESHOLD_SECONDS, REDIS_HOST, REDIS_PORT, REDIS_DB, LOG_DIR,
REDIS_PASSWORD (optional), BLOCKING_COORDINATION_SECRET (required).
Exit status: 0 done, 1 Redis failed mid-run, 2 Redis unreachable or
authentication failed, 64 bad usage, 78 bad configuration.
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

# The start of both scripts. ARGV: cursor, now, threshold, "delete" or "dry-run", SCAN COUNT,
# SCAN calls at most, matching keys at most, stale coordinators to name at most. Defines the one
# reading of a heartbeat and of an id. Keys are read with MGET and deleted with DEL in batches:
# a GET per key took Redis about three times as long as one MGET for them all (measured).
readonly LUA_PRELUDE='
-- Redis 3.2 to 4.x replicate a script as its text unless told to replicate its effects, and then
-- refuse a write after SCAN; from 5.0 on this is the default (and the call a no-op).
if redis.replicate_commands then redis.replicate_commands() end
local started = redis.call("TIME")
local cursor, now, threshold = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local dry = ARGV[4] == "dry-run"
local scan_count, max_scans, max_keys = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local to_name = tonumber(ARGV[8])
local BATCH = 500

local function is_id(text)
  return string.find(text, "^[A-Za-z0-9_%.%-]+$") ~= nil
end

-- A key as one word of plain ASCII: a backslash, a space, a control or non-ASCII byte as \xNN.
local function printable(key)
  return (string.gsub(key, "[%z\1-\32\92\127-\255]", function(c) return string.format("\\x%02x", string.byte(c)) end))
end

-- The age in seconds of a heartbeat holding a string value, or nil when it holds no time: the first
-- "timestamp" of a JSON object, else its first "lastHeartbeat", else the whole value as a number.
local function age_of(value)
  local seconds = tonumber(string.match(value, "^%s*{.-\"timestamp\"%s*:%s*(%d+)%s*[,}]")
    or string.match(value, "^%s*{.-\"lastHeartbeat\"%s*:%s*(%d+)%s*[,}]")
    or string.match(value, "^%s*(%d+)%s*$") or "")
  if not seconds then return nil end
  if seconds >= 100000000000 then seconds = math.floor(seconds / 1000) end
  if seconds < 1000000000 then return nil end
  return now - seconds
end

-- Runs command (DEL, EXISTS) on keys, BATCH at a time; returns the sum of its replies.
local function in_batches(command, keys)
  local total = 0
  for first = 1, #keys, BATCH do
    total = total + redis.call(command, unpack(keys, first, math.min(first + BATCH - 1, #keys)))
  end
  return total
end

-- MGET of keys, BATCH at a time: a value, or false for a key that is missing or not a string.
local function values_of(keys)
  local values = {}
  for first = 1, #keys, BATCH do
    local got = redis.call("MGET", unpack(keys, first, math.min(first + BATCH - 1, #keys)))
    for i = 1, math.min(BATCH, #keys - first + 1) do values[first + i - 1] = got[i] end
  end
  return values
end

local function busy_microseconds()
  local t = redis.call("TIME")
  return string.format("%d", (tonumber(t[1]) - tonumber(started[1])) * 1000000 + tonumber(t[2]) - tonumber(started[2]))
end
'

# Pass 1: the ACK and idempotency keys of stale coordinators. Returns "cbc-companions", the next
# cursor, the script'"'"'s Redis time in microseconds, the ACKs and the records deleted (or found),
# then in a dry run one "D <a|r> <owner> <key>" per key, then "cbc-end".
readonly LUA_COMPANIONS=$LUA_PRELUDE'
local verdicts = {}   -- coordinator id: the age of its heartbeat when stale, else false
local unjudged, heartbeat_keys = {}, {}
-- Notes id as a coordinator a key may go with: its heartbeat is read in the next MGET.
local function consider(id)
  if verdicts[id] == nil and is_id(id) then
    verdicts[id] = false
    unjudged[#unjudged + 1] = id
    heartbeat_keys[#heartbeat_keys + 1] = "blocking:heartbeat:" .. id
  end
end

local acks, records, listed = {}, {}, {}
local seen, scans = 0, 0
repeat
  local reply = redis.call("SCAN", cursor, "MATCH", "blocking:[ai]*", "COUNT", scan_count)
  cursor, scans = reply[1], scans + 1
  -- The candidate coordinators of the i-th companion are names[first[i] .. last[i]]: an ACK'"'"'s
  -- first field; an idempotency record'"'"'s sender and receiver when it is a message id (5 fields,
  -- the last two digits), else each of its fields. Flat arrays: a table per key costs more.
  local keys, kinds, first, last, names = {}, {}, {}, {}, {}
  for _, key in ipairs(reply[2]) do
    seen = seen + 1
    local from = #names + 1
    local ack_of = string.match(key, "^blocking:ack:([^:]+):")
    if ack_of then
      names[from] = ack_of
    else
      local fields_text = string.match(key, "^blocking:idempotency:(.+)$")
      if fields_text then
        local sender, receiver = string.match(fields_text, "^([^:]*):([^:]*):[^:]*:%d+:%d+$")
        if sender then
          names[from], names[from + 1] = sender, receiver
        else
          for field in string.gmatch(fields_text .. ":", "([^:]*):") do names[#names + 1] = field end
        end
      end
    end
    if #names >= from then
      local i = #keys + 1
      keys[i], kinds[i], first[i], last[i] = key, ack_of and "a" or "r", from, #names
      for n = from, #names do consider(names[n]) end
    end
  end
  local values = values_of(heartbeat_keys)
  for i, id in ipairs(unjudged) do
    local age = values[i] and age_of(values[i])
    if age and age > threshold then verdicts[id] = age end
  end
  unjudged, heartbeat_keys = {}, {}
  for i, key in ipairs(keys) do
    for n = first[i], last[i] do
      local id = names[n]
      if verdicts[id] then
        if kinds[i] == "a" then acks[#acks + 1] = key else records[#records + 1] = key end
        if dry then listed[#listed + 1] = "D " .. kinds[i] .. " " .. id .. " " .. printable(key) end
        break
      end
    end
  end
until cursor == "0" or scans >= max_scans or seen >= max_keys
local command = dry and "EXISTS" or "DEL"
local out = {"cbc-companions", cursor, "", tostring(in_batches(command, acks)), tostring(in_batches(command, records))}
for _, line in ipairs(listed) do out[#out + 1] = line end
out[#out + 1] = "cbc-end"
out[3] = busy_microseconds()
return out
'

# Pass 2: the heartbeats. A stale one goes with its signal and activity keys. Returns
# "cbc-heartbeats", the next cursor, the Redis time in microseconds, the heartbeats, signals and
# activity keys deleted (or found), the stale coordinators not named, then one line per heartbeat:
# "S <id> <age> <keys>" (the first to_name stale ones), "A <id>" (active), "U <id> <why>"
# (undated) or "K <key>" (skipped: not an id), then "cbc-end". A heartbeat seen again after its
# deletion (SCAN may return a key twice while Redis resizes its table) is gone, and left out.
readonly LUA_HEARTBEATS=$LUA_PRELUDE'
local heartbeats, signals, activities, lines = {}, {}, {}, {}
local unnamed, seen, scans = 0, 0, 0
repeat
  local reply = redis.call("SCAN", cursor, "MATCH", "blocking:heartbeat:*", "COUNT", scan_count)
  cursor, scans = reply[1], scans + 1
  local keys, ids = {}, {}
  for _, key in ipairs(reply[2]) do
    seen = seen + 1
    local id = string.sub(key, 20)
    if is_id(id) then
      keys[#keys + 1], ids[#ids + 1] = key, id
    else
      lines[#lines + 1] = "K " .. printable(key)
    end
  end
  local values = values_of(keys)
  for i, key in ipairs(keys) do
    local id, value = ids[i], values[i]
    local age = value and age_of(value)
    if not value then
      local kind = redis.call("TYPE", key).ok
      if kind ~= "none" then lines[#lines + 1] = "U " .. id .. " type " .. kind end
    elseif not age then
      lines[#lines + 1] = "U " .. id .. " undated"
    elseif age <= threshold then
      lines[#lines + 1] = "A " .. id
    else
      local names = {key, "blocking:signal:" .. id, "coordinator:activity:" .. id}
      heartbeats[#heartbeats + 1], signals[#signals + 1], activities[#activities + 1] = names[1], names[2], names[3]
      if to_name > 0 then
        to_name = to_name - 1
        local line = "S " .. id .. " " .. string.format("%d", age)
        for _, name in ipairs(names) do
          if redis.call("EXISTS", name) == 1 then line = line .. " " .. name end
        end
        lines[#lines + 1] = line
      else
        unnamed = unnamed + 1
      end
    end
  end
until cursor == "0" or scans >= max_scans or seen >= max_keys
local command = dry and "EXISTS" or "DEL"
local out = {"cbc-heartbeats", cursor, "", tostring(in_batches(command, heartbeats)), tostring(in_batches(command, signals)), tostring(in_batches(command, activities)), tostring(unnamed)}
for _, line in ipairs(lines) do out[#out + 1] = line end
out[#out + 1] = "cbc-end"
out[3] = busy_microseconds()
return out
'

# ---- the run ----

declare -A seen_coordinators=() seen_keys=()
checked=0 stale=0 active=0 undated=0 skipped=0 listed=0 unlisted=0
deleted_acks=0 deleted_records=0 deleted_heartbeats=0 deleted_signals=0 deleted_activities=0
scripts=0 busy_us=0 longest_us=0
declare -a reply_lines=()
failure=''

# One redis-cli for all the scripts of a run: it runs each command line of its stdin as it comes
# and prints the answer, and the next line is sent once that answer is read. A redis-cli per script
# would cost more time than Redis spends on the scripts. It authenticates with REDISCLI_AUTH, as the
# PING did.
session_in='' session_out='' session_pid=''
open_session() {
  coproc REDIS_SESSION { exec redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" 2>&1; }
  # Bash forgets the coprocess's descriptors when it ends; keep their numbers.
  session_in=${REDIS_SESSION[1]} session_out=${REDIS_SESSION[0]} session_pid=$REDIS_SESSION_PID
  # A redis-cli that died must fail the write below, not kill this script with SIGPIPE.
  trap '' PIPE
}

# A script as one double-quoted argument of a redis-cli command line.
quote_for_session() { # text
  local text=${1//\\/\\\\}
  text=${text//\"/\\\"}
  printf '"%s"' "${text//$'\n'/\\n}"
}

# Runs one slice of a pass: the script, starting at cursor. Sets reply_lines (the reply without
# its last line "cbc-end"), whose first `numbers` lines after the marker must be numbers; on
# failure, sets failure.
run_script() { # marker quoted-lua cursor numbers
  local line mode=delete to_name=$((LIST_LIMIT - listed))
  # A dry run names every coordinator: it is read by a person, not written to the journal every 5 min.
  if $dry_run; then mode=dry-run to_name=999999999; fi
  reply_lines=()
  if ! printf 'EVAL %s 0 %s %s %s %s %s %s %s %s\n' "$2" "$3" "$now" "$STALE_THRESHOLD_SECONDS" "$mode" "$SCAN_COUNT" "$SCANS_PER_SCRIPT" "$KEYS_PER_SCRIPT" "$to_name" >&"$session_in" 2>/dev/null; then
    failure='redis-cli ended'
    return 1
  fi
  while :; do
    if ! IFS= read -r -t "$REPLY_TIMEOUT" -u "$session_out" line 2>/dev/null; then
      failure="no complete answer within $REPLY_TIMEOUT s${reply_lines[0]:+ (got ${#reply_lines[@]} lines)}"
      return 1
    fi
    # An error reply or a connection error is one line without the marker.
    if ((${#reply_lines[@]} == 0)) && [[ $line != "$1" ]]; then
      failure=$line
      return 1
    fi
    [[ $line != cbc-end ]] || break
    reply_lines+=("$line")
  done
  # Checked before any of them reaches an arithmetic expression.
  for line in "${reply_lines[@]:1:$4}"; do
    if ! [[ $line =~ ^[0-9]+$ ]]; then
      failure="unexpected answer: ${reply_lines[*]:0:$(($4 + 1))}"
      return 1
    fi
  done
  scripts=$((scripts + 1))
  busy_us=$((busy_us + reply_lines[2]))
  if ((reply_lines[2] > longest_us)); then longest_us=${reply_lines[2]}; fi
}

companions_pass() {
  local cursor=0 line kind owner key quoted
  quoted=$(quote_for_session "$LUA_COMPANIONS")
  while :; do
    run_script cbc-companions "$quoted" "$cursor" 4 || return 1
    cursor=${reply_lines[1]}
    if ! $dry_run; then
      deleted_acks=$((deleted_acks + reply_lines[3]))
      deleted_records=$((deleted_records + reply_lines[4]))
    fi
    # A dry run names and counts each key once: SCAN may return a key twice while Redis resizes
    # its table (deleted keys are not found twice, so a real run counts in Redis).
    for line in "${reply_lines[@]:5}"; do
      line=${line#D }
      kind=${line%% *} line=${line#* }
      owner=${line%% *} key=${line#* }
      [[ -z ${seen_keys[$key]+x} ]] || continue
      seen_keys[$key]=1
      if [[ $kind == a ]]; then deleted_acks=$((deleted_acks + 1)); else deleted_records=$((deleted_records + 1)); fi
      info "would delete $key (with stale coordinator $owner)"
    done
    [[ $cursor != 0 ]] || return 0
  done
}

# A dry run counts the keys a stale coordinator's line names (each coordinator is named once).
count_keys() { # key...
  local key
  for key in "$@"; do
    case $key in
      blocking:heartbeat:*) deleted_heartbeats=$((deleted_heartbeats + 1)) ;;
      blocking:signal:*) deleted_signals=$((deleted_signals + 1)) ;;
      *) deleted_activities=$((deleted_activities + 1)) ;;
    esac
  done
}

heartbeats_pass() {
  local cursor=0 line kind rest id age keys verb=deleted quoted
  quoted=$(quote_for_session "$LUA_HEARTBEATS")
  if $dry_run; then verb='would delete'; fi
  while :; do
    run_script cbc-heartbeats "$quoted" "$cursor" 6 || return 1
    cursor=${reply_lines[1]}
    if ! $dry_run; then
      deleted_heartbeats=$((deleted_heartbeats + reply_lines[3]))
      deleted_signals=$((deleted_signals + reply_lines[4]))
      deleted_activities=$((deleted_activities + reply_lines[5]))
    fi
    # Deleted stale coordinators beyond the ones named: exact counts (a deleted heartbeat is not seen twice).
    unlisted=$((unlisted + reply_lines[6]))
    stale=$((stale + reply_lines[6]))
    checked=$((checked + reply_lines[6]))
    for line in "${reply_lines[@]:7}"; do
      kind=${line%% *}
      rest=${line#* }
      if [[ $kind == K ]]; then
        [[ -z ${seen_keys[$rest]+x} ]] || continue
        seen_keys[$rest]=1
        skipped=$((skipped + 1))
        warn_limited "skipped $rest: coordinator id is not made of letters, digits, _ . -"
        continue
      fi
      id=${rest%% *}
      # SCAN may return a heartbeat twice (while Redis resizes its table): count each once.
      [[ -z ${seen_coordinators[$id]+x} ]] || continue
      seen_coordinators[$id]=1
      checked=$((checked + 1))
      case $kind in
        A) active=$((active + 1)) ;;
        U)
          undated=$((undated + 1))
          case ${rest#* } in
            'type '*) warn_limited "kept coordinator $id: its heartbeat is a Redis ${rest#* type }, not a string holding a time" ;;
            *) warn_limited "kept coordinator $id: its heartbeat holds no unix time in seconds or milliseconds (nor JSON with a \"timestamp\" or \"lastHeartbeat\" one)" ;;
          esac
          ;;
        S)
          stale=$((stale + 1))
          rest=${rest#* }
          age=${rest%% *}
          keys=${rest#* }
          listed=$((listed + 1))
          if $dry_run; then count_keys $keys; fi
          info "$verb stale coordinator $id (heartbeat ${age}s old > ${STALE_THRESHOLD_SECONDS}s): $keys"
          ;;
      esac
    done
    [[ $cursor != 0 ]] || return 0
  done
}

# Milliseconds from microseconds, with one decimal.
milliseconds() { # microseconds
  printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
}

summary() { # outcome
  local verb=deleted keys_verb='keys deleted' elapsed_us total
  if $dry_run; then verb='would delete' keys_verb='keys to delete'; fi
  elapsed_us=$((${EPOCHREALTIME//[.,]/} - STARTED_US))
  total=$((deleted_heartbeats + deleted_signals + deleted_activities + deleted_acks + deleted_records))
  info "$1: $checked coordinators checked, $stale stale ($verb), $active active, $undated undated, $skipped skipped; $total $keys_verb (heartbeats $deleted_heartbeats, signals $deleted_signals, activity $deleted_activities, ACKs $deleted_acks, idempotency $deleted_records); run $(milliseconds "$elapsed_us") ms, Redis busy $(milliseconds "$busy_us") ms in $scripts scripts, the longest $(milliseconds "$longest_us") ms"
}

main() {
  parse_arguments "$@"
  load_configuration
  open_log_file
  check_connection

  local mode=''
  printf -v now '%(%s)T' -1
  if $dry_run; then mode=' (dry run: nothing will be deleted)'; fi
  info "cleanup started$mode: Redis $REDIS_HOST:$REDIS_PORT database $REDIS_DB, stale after ${STALE_THRESHOLD_SECONDS}s"

  open_session
  # Companions first: a run that fails half-way must not leave ACKs whose heartbeat is already gone.
  if ! companions_pass; then
    error "Redis at $REDIS_HOST:$REDIS_PORT failed a script while deleting ACK and idempotency keys (no heartbeat deleted yet; the next run carries on): $failure"
    summary "cleanup stopped$mode"
    exit "$EXIT_PARTIAL"
  fi
  if ! heartbeats_pass; then
    error "Redis at $REDIS_HOST:$REDIS_PORT failed a script while deleting stale heartbeats (the next run carries on): $failure"
    summary "cleanup stopped$mode"
    exit "$EXIT_PARTIAL"
  fi
  if ((unlisted > 0)); then info "$unlisted more stale coordinators deleted, not named one by one (the first $LIST_LIMIT are above)"; fi
  if ((warnings_hidden > 0)); then warn "$warnings_hidden more coordinators kept or skipped, not named one by one (the first $LIST_LIMIT are above)"; fi
  exec {session_in}>&-
  wait "$session_pid" 2>/dev/null || true
  summary "cleanup finished$mode"
}

main "$@"
