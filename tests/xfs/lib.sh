# Shared by the tests that format a real XFS over another (carve-domains,
# carve-roots) and those that corrupt one (carve-xfs-hostile*). Sourced
# after they set -eu and define fail().

# mount_new_xfs: a fresh 300 MB XFS in disk.img, loop mounted on mnt/ (and
# unmounted at exit); skips the test where that cannot be done here.
mount_new_xfs() {
	[ "$(id -u)" = 0 ] || { echo "skip: loop mounts need root"; exit 77; }
	[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }
	command -v mkfs.xfs >/dev/null || { echo "skip: mkfs.xfs is not installed (xfsprogs)"; exit 77; }
	truncate -s 300M disk.img
	mkfs.xfs -q -f -K disk.img
	mkdir mnt
	mount -o loop disk.img mnt || { echo "skip: this kernel cannot loop mount XFS"; exit 77; }
	trap 'umount mnt 2>/dev/null || true' EXIT
}

# write_messages NAME:N:LINES:WIDTH...: NAME.eml, message N, whose body is
# LINES numbered lines of WIDTH bytes. Two of one size with other line
# counts differ only in their W=, so nothing but metadata tells them apart.
write_messages() {
	python3 - "$@" <<'PY' || fail "making the messages"
import sys
for arg in sys.argv[1:]:
    name, n, lines, width = arg.split(":")
    n, lines, width = int(n), int(lines), int(width)
    raw = (b"From: ann@example.net\nTo: bob@example.com\nSubject: message %d\n"
           b"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <x%d@example.net>\n\n" % (n, n))
    open(name + ".eml", "wb").write(raw + b"".join(b"%0*d\n" % (width - 1, i) for i in range(lines)))
PY
}

# maildir_name BASE FILE: BASE,S=SIZE,W=VSIZE:2,S, Dovecot's name for FILE.
maildir_name() {
	echo "$1,S=$(stat -c %s "$2"),W=$(($(stat -c %s "$2") + $(wc -l <"$2"))):2,S"
}

# fill_dir DIR: 40 small messages, enough names that DIR is a directory
# block, not short form in its inode.
fill_dir() {
	for i in $(seq 10 49); do
		printf 'From: carl@example.org\nSubject: filler %d\n\n%*s\n' "$i" $((i * 7)) x >f.eml
		cp f.eml "$1/$(maildir_name 17000001$i.M$i.host f.eml)"
	done
}
