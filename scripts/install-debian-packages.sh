#!/usr/bin/env bash
# Installs the Debian packages the sandbox, the demo and the tests need, when they are missing (root, apt).
# Debian's maintainer scripts would start redis-server, exim4, sshd and cron on the host; the demo and the tests start
# their own inside sandboxes (the fleet's sshd listens only inside its hosts' network namespaces), so a policy-rc.d
# forbids service starts for the length of the install.
set -euo pipefail
# The second line builds and checks the Debian package (npm run package, test/integration/package.test.ts):
# dpkg-dev (dpkg-shlibdeps, binutils' strip), lintian, man-db (man, groff), and the shells whose completion is tested.
# bindfs: the user-scope test's home on a file system that ignores modes. exim4-daemon-light: the alerts test delivers email through a real MTA; the third line is the fleet's (export.md).
packages=(util-linux systemd redis-server redis-tools iproute2 python3 openssl git openssh-client bindfs exim4-daemon-light
  dpkg-dev lintian man-db bash-completion zsh fish
  openssh-server libwrap0 cron ansible-core)
need=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]}; run this as root: sudo sh $0" >&2
  exit 77
fi
echo "installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
policy=/usr/sbin/policy-rc.d
if [ -e "$policy" ]; then
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  rm -f "$policy"
  trap - EXIT
fi
