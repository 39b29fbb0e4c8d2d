#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Make a fuller root file system, a minimal Debian 12, with debootstrap
# (apt-get install debootstrap; needs a Debian mirror).  Use it as is: Kiln
# runs a plain root file system as a container too.
#   examples/containers/debootstrap-rootfs.sh DIR [MIRROR]
#   kiln submit --container DIR/rootfs --wrap "cat /etc/debian_version"
set -eu
dir=${1:?usage: debootstrap-rootfs.sh DIR [MIRROR]}
mirror=${2:-http://deb.debian.org/debian}
command -v debootstrap >/dev/null || {
	echo "debootstrap-rootfs: apt-get install debootstrap" >&2
	exit 1
}
mkdir -p "$dir"
debootstrap --variant=minbase bookworm "$dir/rootfs" "$mirror"
echo "root file system in $dir/rootfs"
