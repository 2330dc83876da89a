# Shared by the boot tests (tests/boot-*.t), sourced after they set -eu and define fail().

# Skip unless qemu and the kernel source for the image are installed.
need_qemu() {
	command -v qemu-system-x86_64 >/dev/null || { echo "skip: qemu-system-x86_64 is not installed"; exit 77; }
	[ -f /usr/src/linux-source-6.1.tar.xz ] || { echo "skip: linux-source-6.1 is not installed"; exit 77; }
}

# netns_up NAME: a network namespace of the test's own, loopback up, in $ns
# (qemu's user-mode network and any server run inside it, so no traffic
# leaves it). netns_down kills what runs in it and deletes it.
netns_up() {
	ns=$1-$$
	ip netns add "$ns" 2>/dev/null || { echo "skip: network namespaces are not available here"; exit 77; }
	ip netns exec "$ns" ip link set lo up
}
netns_down() {
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
}
