#!/bin/bash
# Boots a throwaway systemd as PID 1 in private namespaces over a copy-on-write view of the host.
# Used by `svcctl sandbox start` (src/system/sandbox.ts); never run it by hand on a host you care about.
#
#   sandbox-boot.sh launch NAME STATE_DIR PACKAGE_ROOT NODE_BINARY TOKEN
#
# TOKEN is the random word in STATE_DIR's marker file: it is on the command line of the processes this
# starts, so that `svcctl sandbox stop` signals only those.
#
# Phase "launch" (host side) moves itself into a cgroup of its own, so that several sandboxes can
# run side by side without sharing /init.scope or /system.slice, then re-executes itself as
# phase "host-view" in a mount namespace of its own: a private copy of the host's mounts, in which
# STATE_DIR/incoming is made a shared mount. `svcctl sandbox exec` mounts a host directory there
# (read-only) to pass it into the sandbox, whose copy of STATE_DIR/incoming is a slave: mounts
# propagate from the host view into the sandbox, never back, and the host's own mount table never
# changes. Then it re-executes itself as phase "inside" under unshare. Phase "inside" builds the new root:
#   - overlayfs with the host's / as the read-only lower layer and STATE_DIR/upper as the upper
#     layer: every write inside (/etc, /var, /usr/local, /home, /opt, /root, /srv, ...) lands in
#     STATE_DIR/upper, never on the host;
#   - fresh /proc, private tmpfs on /run, /tmp and /dev/shm (systemd-tmpfiles empties /tmp at
#     boot: without a private /tmp it would wipe the host's), cgroup hierarchies rooted in the
#     sandbox's own cgroup namespace;
#   - PACKAGE_ROOT bind-mounted read-only at its own path (reachable even when it lives under /tmp);
#   - STATE_DIR/incoming at /run/svcctl-sandbox/incoming, read-only (see "host-view" above);
#   - own network namespace (loopback only), UTS, IPC and PID namespaces;
# then execs systemd with basic.target, which keeps the host's multi-user services from starting.
set -euo pipefail

# Phase "fleet-net" (host side; `svcctl sandbox fleet up`): a network namespace of its own holding the fleet's bridge,
# with ADDRESS on it; its hosts' veth peers are attached there and the fleet's controller runs there. Nothing of it
# is in the host's network namespace.
#
#   sandbox-boot.sh fleet-net NAME ADDRESS/PREFIX TOKEN
if [ "$1" = fleet-net ]; then
  # --kill-child: killing the unshare (svcctl sandbox fleet down) ends the namespace's one process, and so the namespace.
  exec unshare --net --fork --kill-child /bin/sh -c '
    ip link set lo up
    ip link add svcctl-br0 type bridge
    ip addr add "$2" dev svcctl-br0
    ip link set svcctl-br0 up
    echo ready
    while :; do sleep 3600; done' svcctl-fleet-net "$2" "$3" "$4"
fi

phase=$1
name=$2
state=$3
package_root=$4
node_binary=$5
token=$6

if [ "$phase" = launch ]; then
  for hierarchy in systemd unified; do
    cgroup="/sys/fs/cgroup/$hierarchy/svcctl-sandbox-$name"
    if [ -d "/sys/fs/cgroup/$hierarchy" ]; then
      mkdir -p "$cgroup"
      echo $$ > "$cgroup/cgroup.procs"
    fi
  done
  # --kill-child: whichever of these processes is killed, the ones below it (and the sandbox) end too.
  exec unshare --mount --fork --kill-child --propagation private \
    "$0" host-view "$name" "$state" "$package_root" "$node_binary" "$token"
fi

if [ "$phase" = host-view ]; then
  mkdir -p "$state/incoming" "$state/staging"
  mount --bind "$state/incoming" "$state/incoming"
  mount --make-shared "$state/incoming"
  # --propagation slave: the sandbox's copy of STATE_DIR/incoming receives what is mounted there; every
  # other mount is private here already and stays private.
  exec unshare --pid --fork --kill-child --mount --uts --ipc --net --cgroup --propagation slave \
    "$0" inside "$name" "$state" "$package_root" "$node_binary" "$token"
fi

root="$state/root"
mkdir -p "$state/upper" "$state/work" "$root"
mount -t overlay svcctl-sandbox -o "lowerdir=/,upperdir=$state/upper,workdir=$state/work" "$root"

mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
if mountpoint -q /sys/fs/cgroup; then
  umount -l "$root/sys/fs/cgroup"
fi
mount -t tmpfs -o mode=755 cgroup "$root/sys/fs/cgroup"
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  umount -l "$root/sys/fs/cgroup"
  mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"
else
  mkdir "$root/sys/fs/cgroup/systemd" "$root/sys/fs/cgroup/unified"
  mount -t cgroup -o none,name=systemd,xattr cgroup "$root/sys/fs/cgroup/systemd"
  mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup/unified"
fi
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$root/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
# The distribution's maintenance timers (apt, dpkg's database backup, man-db, fstrim...) are masked for this boot
# (a runtime mask in the sandbox's own /run): at their hour they would write under /var, changes no test made.
mkdir -p "$root/run/systemd/system"
for wanted in "$root"/etc/systemd/system/timers.target.wants/*.timer; do
  if [ -e "$wanted" ] || [ -L "$wanted" ]; then ln -s /dev/null "$root/run/systemd/system/${wanted##*/}"; fi
done

# The project's CLI, reachable as `svcctl` for commands run through `svcctl sandbox exec`.
if [ ! -d "$root$package_root" ]; then mkdir -p "$root$package_root"; fi
mount --bind "$package_root" "$root$package_root"
mount -o remount,bind,ro "$root$package_root"
mkdir -p "$root/run/svcctl-sandbox/bin" "$root/run/svcctl-sandbox/incoming"
mount --bind "$state/incoming" "$root/run/svcctl-sandbox/incoming"
mount -o remount,bind,ro,nosuid,nodev "$root/run/svcctl-sandbox/incoming"
# A clone's only: the packaged svcctl (/usr/bin/svcctl) is seen inside through the overlay, and its executable is no node.
if [ -e "$package_root/bin/run.js" ]; then
  ln -s "$package_root/bin/run.js" "$root/run/svcctl-sandbox/bin/svcctl"
  # The test build (fault injection, tool-path overrides) for the test suite; never shipped.
  ln -s "$package_root/bin/svcctl-test.js" "$root/run/svcctl-sandbox/bin/svcctl-test"
  ln -s "$node_binary" "$root/run/svcctl-sandbox/bin/node"
fi

cd "$root"
pivot_root . .
umount -l .
cd /

export container=svcctl-sandbox
exec /lib/systemd/systemd --system --unit=basic.target --log-target=journal --show-status=false
