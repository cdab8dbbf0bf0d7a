#!/bin/sh
# The baseline for `npm run bench`: seed 000's install guide done by hand, as an operator would script it,
# with the same checks svcctl makes (systemd-analyze verify before copying, the timer active and its next
# run shown after enabling, reset-failed after removing), then its uninstall. The guide's own commands
# reload systemd twice each way (daemon-reload, and enable/disable's implicit reload).
# Usage: bench-manual-install.sh install|uninstall BUNDLE_DIR
set -eu
bundle=${2:-}
case "$1" in
install)
  verify=$(mktemp -d)
  cp "$bundle/cleanup-blocking-coordination.service" "$bundle/cleanup-blocking-coordination.timer" "$verify/"
  systemd-analyze verify "$verify/cleanup-blocking-coordination.service" "$verify/cleanup-blocking-coordination.timer" 2>/dev/null || true
  rm -rf "$verify"
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
  systemctl is-active --quiet cleanup-blocking-coordination.timer
  systemctl list-timers --no-pager cleanup-blocking-coordination.timer >/dev/null
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
