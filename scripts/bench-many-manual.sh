#!/bin/sh
# The baseline of `npm run bench`'s many-bundles section: the bundles written by
# scripts/make-many-bundles.sh installed one after another the way an install guide has it (copy the
# script and the units, write the drop-in, daemon-reload, enable --now the timer, check it is active),
# so one daemon-reload per bundle; and their uninstall.
# Usage: bench-many-manual.sh install|uninstall BUNDLE_DIR...
set -eu
action=$1
shift
for bundle in "$@"; do
  b=$(basename "$bundle")
  case $action in
  install)
    install -m 0755 "$bundle/$b.sh" "/usr/local/bin/$b.sh"
    install -m 0644 "$bundle/$b.service" "$bundle/$b.timer" /etc/systemd/system/
    mkdir -p "/etc/systemd/system/$b.service.d"
    (umask 077 && printf '[Service]\nEnvironment="THRESHOLD=600"\n' >"/etc/systemd/system/$b.service.d/override.conf")
    systemctl daemon-reload
    systemctl enable --now "$b.timer"
    systemctl is-active --quiet "$b.timer"
    ;;
  uninstall)
    systemctl disable --now "$b.timer"
    rm -rf "/etc/systemd/system/$b.service" "/etc/systemd/system/$b.timer" "/etc/systemd/system/$b.service.d" "/usr/local/bin/$b.sh"
    systemctl daemon-reload
    ;;
  esac
done
