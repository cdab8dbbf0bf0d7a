#!/bin/sh
# The baseline for `npm run bench`: seed 000's install guide done by hand, as an operator would script it
# (same files, user, directories, secrets drop-in, one daemon-reload, enable --now), then its uninstall.
# Usage: bench-manual-install.sh install|uninstall BUNDLE_DIR
set -eu
bundle=${2:-}
case "$1" in
install)
  install -m 0755 "$bundle/cleanup-blocking-coordination.sh" /usr/local/bin/cleanup-blocking-coordination.sh
  install -m 0644 "$bundle/cleanup-blocking-coordination.service" "$bundle/cleanup-blocking-coordination.timer" /etc/systemd/system/
  useradd -r -s /usr/sbin/nologin -d /opt/claude-flow-novice claude-flow
  mkdir -p /home/claude-flow/.claude-flow/logs
  chown -R claude-flow:claude-flow /home/claude-flow/.claude-flow
  chmod 0750 /home/claude-flow/.claude-flow /home/claude-flow/.claude-flow/logs
  mkdir -p -m 0700 /etc/svcctl-manual
  (umask 077 && printf 'BLOCKING_COORDINATION_SECRET="%s"\n' "$(openssl rand -hex 32)" > /etc/svcctl-manual/secrets.env)
  mkdir -p /etc/systemd/system/cleanup-blocking-coordination.service.d
  (umask 077 && cat > /etc/systemd/system/cleanup-blocking-coordination.service.d/override.conf <<'CONF'
[Service]
EnvironmentFile=/etc/svcctl-manual/secrets.env
Environment="STALE_THRESHOLD_SECONDS=600"
Environment="REDIS_HOST=127.0.0.1"
Environment="REDIS_PORT=6379"
Environment="REDIS_DB=0"
Environment="LOG_DIR=/home/claude-flow/.claude-flow/logs"
CONF
  )
  systemctl daemon-reload
  systemctl enable --now cleanup-blocking-coordination.timer
  ;;
uninstall)
  systemctl stop cleanup-blocking-coordination.timer cleanup-blocking-coordination.service
  systemctl disable cleanup-blocking-coordination.timer
  rm -f /etc/systemd/system/cleanup-blocking-coordination.service /etc/systemd/system/cleanup-blocking-coordination.timer
  rm -rf /etc/systemd/system/cleanup-blocking-coordination.service.d /etc/svcctl-manual /home/claude-flow
  rm -f /usr/local/bin/cleanup-blocking-coordination.sh
  systemctl daemon-reload
  systemctl reset-failed cleanup-blocking-coordination.timer cleanup-blocking-coordination.service 2>/dev/null || true
  userdel claude-flow
  ;;
esac
