#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Make a small OCI bundle from Debian's busybox-static (apt-get install
# busybox-static): DIR/rootfs with busybox and its applets, and
# DIR/config.json from runc spec.  Kiln writes each job's own config from
# the job (its command, user, cores, memory, mounts), keeping this bundle's
# root and mounts.
#   examples/containers/busybox-bundle.sh DIR
#   kiln submit --container DIR --wrap "id; grep Cpus_allowed_list /proc/self/status"
set -eu
dir=${1:?usage: busybox-bundle.sh DIR}
bb=/bin/busybox # static: busybox-static installs it there
[ -x "$bb" ] || { echo "busybox-bundle: no busybox: apt-get install busybox-static" >&2; exit 1; }
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" \
	"$dir/rootfs/tmp" "$dir/rootfs/etc"
cp "$bb" "$dir/rootfs/bin/busybox"
for applet in $("$dir/rootfs/bin/busybox" --list); do
	[ -e "$dir/rootfs/bin/$applet" ] || ln -s busybox "$dir/rootfs/bin/$applet"
done
chmod 1777 "$dir/rootfs/tmp"
echo "root:x:0:0:root:/:/bin/sh" >"$dir/rootfs/etc/passwd"
if command -v runc >/dev/null; then
	(cd "$dir" && rm -f config.json && runc spec)
fi
echo "bundle in $dir (rootfs: $(ls "$dir/rootfs/bin" | wc -l) commands)"
