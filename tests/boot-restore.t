#!/bin/sh
# The restore job in qemu (TCG): fresh hardware boots the image with a
# restore host's credentials (site overlay) and an unattended restore job
# on the kernel command line: it partitions the one disk it may write
# (lifeboat.rw=), formats it (ext4, then XFS), pulls a received job from the
# receiver over TLS, verifies it, and writes the Maildirs, owned by the
# mail user. On the host, that disk's file system is then served by a real
# Dovecot: every intact live message of the lab disk in its user and
# folder, with its flags and INTERNALDATE (tests/lab/imapcheck). Without
# lifeboat.rw= the same job refuses to touch the disk. The console menu's
# restore does the same once the disk's name is typed twice; so does the
# job with the received tree on a USB disk instead of the network. qemu and the
# receiver run in a network namespace of their own.
set -eu
fail() { echo "FAIL: $*"; tail -n 5 recv.log 2>/dev/null; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root for the lab, a network namespace and loop devices"; exit 77; }
. "$TOP/tests/boot/lib.sh"
need_qemu
[ -x /usr/sbin/dovecot ] || { echo "skip: dovecot is not installed"; exit 77; }
netns_up lifeboat-restore
loop=
cleanup() {
	umount mnt 2>/dev/null || true
	[ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
	netns_down
}
trap cleanup EXIT
. "$TOP/tests/transfer/lib.sh"

lab=$("$TOP/tests/lab/get" ext4 reformat) || fail "lab ext4 reformat"
"$TOP/scripts/mkcerts" site box1 restore1 >/dev/null 2>&1 || fail "mkcerts"
"$TOP/scripts/image" >/dev/null 2>&1 || fail "scripts/image"
owner="$(id -u lbmail):$(id -g lbmail)" || fail "no user lbmail (made by the lab)"
# The site's owners.map gives alice her own owner on the new disk; the
# other users get lifeboat.owner=.
echo "example.com/alice 2001:2001" >site/restore1/owners.map
"$TOP/scripts/site" site/restore1 site.cpio.gz >/dev/null || fail "scripts/site"
cat "$BUILD/image/initramfs.cpio.gz" site.cpio.gz >initrd

# The receiver holds the job that the rescue box sent.
ip netns exec "$ns" setsid "$LIFEBOAT" receive --tls site/receiver --listen 127.0.0.1:0 --dest recv \
	--serve restore1 >/dev/null 2>recv.log &
wait_listening recv.log
port=$rport
ip netns exec "$ns" "$LIFEBOAT" carve -q "$lab/disk.img" --send "127.0.0.1:$port" --tls site/box1 \
	--job mail1-sda >/dev/null 2>send.log || fail "carve --send: $(cat send.log)"

# The same job on a USB disk (a copy of the receiver's tree), for a restore
# with no network. Its ext4 says its journal needs recovery (pulled out
# while mounted): the job must read it write-blocked, with noload.
mkdir usbtree
cp -a recv/box1 usbtree/
mkfs.ext4 -q -d usbtree usb.img 256M
debugfs -w -R "feature needs_recovery" usb.img >/dev/null 2>&1
dumpe2fs -h usb.img 2>/dev/null | grep -q needs_recovery || fail "the USB disk is not dirty"

# boot APPEND [QEMU ARGS]: a machine with one blank disk and user-mode networking.
boot() {
	append=$1
	shift
	ip netns exec "$ns" timeout 900 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 -no-reboot \
		-kernel "$BUILD/image/bzImage" -initrd initrd \
		-append "console=ttyS0 quiet lifeboat.job=restore lifeboat.disks=vda lifeboat.send=10.0.2.2:$port lifeboat.bag=box1/mail1-sda lifeboat.owner=$owner lifeboat.end=poweroff $append" \
		-drive if=none,id=target,file=target.img,format=raw \
		-device virtio-blk-pci,drive=target,serial=NEWDISK-1 -nic user,model=virtio-net-pci "$@" \
		-display none -monitor none -serial file:serial.log || fail "qemu exited $?: $(tail -n 20 serial.log)"
}

# Not named writable: the job refuses, the disk stays blank.
truncate -s 1G target.img
boot ""
grep -q "vda is write-blocked: name it in lifeboat.rw=" serial.log || fail "restore without lifeboat.rw=: $(tail -n 8 serial.log)"
grep -q "job done (exit 100)" serial.log || fail "restore without lifeboat.rw= did not fail"
[ -z "$(tr -d '\0' <target.img | head -c 1)" ] || fail "a write-blocked disk was written"
echo "without lifeboat.rw=vda: refused, the disk untouched"

# Named writable, but not blank (lifeboat.rw= names a disk by its kernel
# name, which can change between boots): refused without lifeboat.force.
printf 'label: gpt\ntype=linux\n' | sfdisk -q target.img
before=$(sha256sum <target.img)
boot "lifeboat.rw=vda"
grep -q "restore: /dev/vda is not blank" serial.log || fail "restore onto a used disk: $(tail -n 8 serial.log)"
grep -q "job done (exit 100)" serial.log || fail "restore onto a used disk did not fail"
[ "$(sha256sum <target.img)" = "$before" ] || fail "a disk that is not blank was written without lifeboat.force"
echo "onto a disk with a partition table, without lifeboat.force: refused, the disk untouched"

# The console menu's restore (no job on the command line: a UEFI stick's
# command line is fixed): the disk must be named twice before it is
# made writable and erased.
menu() {
	rm -f target.img
	truncate -s 1G target.img
	{
		printf '%s\n' "expect:choice: " 'send:5\r' "expect:erase \(e.g. sda\): " 'send:vda\r' \
			"expect:ext4 or xfs\): " 'send:ext4\r' "expect:HOST:PORT: " "send:10.0.2.2:$port\\r" \
			"expect:SENDER/JOB\): " 'send:box1/mail1-sda\r' "expect:UID:GID: " "send:$owner\\r" \
			"expect:type its name again to go on: " "send:$1\\r"
		if [ "$1" = vda ]; then echo "expect:restore: done"; else echo "expect:nothing written"; fi
		printf '%s\n' "expect:choice: " 'send:4\r' 'send:poweroff -f\r' exit
	} >steps
	ip netns exec "$ns" "$TOP/tests/boot/console.py" --timeout 900 --log serial.log --steps steps -- \
		qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 -no-reboot \
		-kernel "$BUILD/image/bzImage" -initrd initrd -append "console=ttyS0 quiet" \
		-drive file=target.img,format=raw,if=virtio -nic user,model=virtio-net-pci \
		-display none -monitor none -serial stdio >steps.out || fail "menu restore ($1): $(cat steps.out)"
}
menu sda
[ -z "$(tr -d '\0' <target.img | head -c 1)" ] || fail "an unconfirmed menu restore wrote the disk"
echo "menu restore, not confirmed: the disk untouched"

mkdir mnt
for fs in ext4 xfs menu usb; do
	start=$(date +%s)
	label=$fs
	if [ $fs = menu ]; then
		menu vda
		fs=ext4 label="ext4 by the menu"
	elif [ $fs = usb ]; then
		rm -f target.img
		truncate -s 1G target.img
		usb_before=$(sha256sum <usb.img)
		boot "lifeboat.rw=vda lifeboat.fs=ext4 lifeboat.send=/dev/vdb" -drive file=usb.img,format=raw,if=virtio
		grep -q "job done (exit 0)" serial.log || fail "usb: the restore job failed: $(tail -n 15 serial.log)"
		grep -q "restore: copying box1/mail1-sda from /dev/vdb" serial.log || fail "usb: not restored from the USB disk"
		[ "$(sha256sum <usb.img)" = "$usb_before" ] || fail "usb: the USB disk changed"
		fs=ext4 label="ext4 from a USB disk"
	else
		rm -f target.img
		truncate -s 1G target.img
		force=
		if [ $fs = xfs ]; then
			# A used disk, erased because the job says lifeboat.force.
			printf 'label: gpt\ntype=linux\n' | sfdisk -q target.img
			force=lifeboat.force
		fi
		# ext4: the disk named by its serial number (kernel names can
		# change from one boot to the next), for the job and to be left
		# writable; xfs: by its kernel name.
		disk="lifeboat.rw=vda"
		[ $fs = ext4 ] && disk="lifeboat.disks=serial=NEWDISK-1 lifeboat.rw=serial=NEWDISK-1"
		boot "$disk lifeboat.fs=$fs $force"
		grep -q "job done (exit 0)" serial.log || fail "$fs: the restore job failed: $(tail -n 15 serial.log)"
		if [ $fs = ext4 ]; then
			grep -q "lifeboat: serial=NEWDISK-1 is /dev/vda" serial.log &&
				grep -q "lifeboat: writable by request: vda" serial.log ||
				fail "the disk named by its serial: $(grep -a 'vda' serial.log | head)"
		fi
	fi
	secs=$(( $(date +%s) - start ))
	grep -aE "^(restore|pull): " serial.log
	sfdisk -d target.img | grep -q "^label: gpt" || fail "$fs: no GPT on the disk"
	# The partition by its offset (partition scanning of loop devices is
	# not available everywhere).
	start=$(sfdisk -d target.img | sed -n 's/^target.img1 : start= *\([0-9]*\),.*/\1/p')
	[ -n "$start" ] || fail "$fs: no partition 1: $(sfdisk -d target.img)"
	loop=$(losetup -f --show -r -o $((start * 512)) target.img) ||
		{ echo "skip: loop devices are not available here"; exit 77; }
	[ "$(blkid -p -o value -s TYPE "$loop")" = "$fs" ] || fail "$fs: the partition is $(blkid -p "$loop")"
	mount -o ro "$loop" mnt
	"$TOP/tests/lab/imapcheck" "$lab/truth.json" mnt/vmail >imap.log ||
		{ tail -n 10 imap.log; fail "$fs: Dovecot does not serve the restored disk as it was"; }
	f=$(find mnt/vmail/example.com/bob -type f | head -n 1)
	[ "$(stat -c '%U %a' "$f")" = "lbmail 600" ] || fail "$fs: bob's owner and mode: $(stat -c '%U %a' "$f")"
	[ "$(find mnt/vmail/example.com/alice -printf '%u:%g\n' | sort -u)" = 2001:2001 ] ||
		fail "$fs: alice's owner (owners.map): $(find mnt/vmail/example.com/alice -printf '%u:%g\n' | sort -u)"
	[ -f mnt/lifeboat/mail1-sda/bagit.txt ] || fail "$fs: the bag is not kept on the disk"
	echo "$label: $(tail -n 1 imap.log) (boot, partition, format, pull, restore, power-off in $secs s, TCG)"
	umount mnt
	losetup -d "$loop"
	loop=
done
echo ok
