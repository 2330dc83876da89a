#!/bin/sh
# The whole day in qemu (TCG): the boot image, with a site overlay as a
# second initrd and the receiver's pin on the kernel command line, boots
# a server whose disk was reformatted, gets an address by DHCP,
# write-blocks the disk, carves it unattended and streams the mail
# over TLS to a receiver, then powers off. The receiver's bag verifies and
# equals a carve of the same disk on the host; the disk is unchanged, and
# its SHA-256 (lifeboat.sha256) is in the bag. qemu
# and the receiver run in a network namespace of their own: the guest
# reaches the receiver through qemu's user-mode network (10.0.2.2 is the
# namespace's loopback), and no traffic leaves it. A second boot takes a
# static address (lifeboat.ip=, lifeboat.gw=) instead of DHCP, and reaches
# the receiver with it: the job is complete there already, so it is told
# so; its second disk holds the same filesystem 1 MiB in, carved from there
# (lifeboat.disks=vdb@1048576) to the same mail.
set -eu
fail() { echo "FAIL: $*"; tail -n 5 recv.log 2>/dev/null; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root for the lab and a network namespace"; exit 77; }
. "$TOP/tests/boot/lib.sh"
need_qemu
netns_up lifeboat-boot
rpid=
cleanup() {
	[ -z "$rpid" ] || kill -9 "$rpid" 2>/dev/null || true
	netns_down
}
trap cleanup EXIT
. "$TOP/tests/transfer/lib.sh"

lab=$("$TOP/tests/lab/get" ext4 reformat) || fail "lab ext4 reformat"
cp --sparse=always "$lab/disk.img" disk.img
before=$(sha256sum <disk.img)
"$TOP/scripts/mkcerts" site box1 >/dev/null 2>&1 || fail "mkcerts"
"$TOP/scripts/image" >/dev/null 2>&1 || fail "scripts/image"
# The overlay carries a wrong receiver pin; the right one comes from the
# kernel command line (lifeboat.pin=), so the transfer works only if /init
# honours it.
pin=$(cut -c1-64 site/box1/pins)
echo 0000000000000000000000000000000000000000000000000000000000000000 >site/box1/pins
"$TOP/scripts/site" site/box1 site.cpio.gz >/dev/null || fail "scripts/site"
cat "$BUILD/image/initramfs.cpio.gz" site.cpio.gz >initrd
zcat "$BUILD/image/initramfs.cpio.gz" | cpio -t 2>/dev/null | grep -q 'key.pem' && fail "the public image holds a key"

ip netns exec "$ns" "$LIFEBOAT" receive --tls site/receiver --listen 127.0.0.1:0 --dest recv \
	--once >/dev/null 2>recv.log &
rpid=$!
wait_listening recv.log
port=$rport

start=$(date +%s)
ip netns exec "$ns" timeout 900 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 -no-reboot \
	-kernel "$BUILD/image/bzImage" -initrd initrd \
	-append "console=ttyS0 quiet lifeboat.job=carve lifeboat.disks=serial=EVIDENCE-0001 lifeboat.send=10.0.2.2:$port lifeboat.name=box1 lifeboat.pin=$pin lifeboat.sha256 lifeboat.end=poweroff" \
	-drive file=disk.img,format=raw,if=none,id=evidence \
	-device virtio-blk-pci,drive=evidence,serial=EVIDENCE-0001 -nic user,model=virtio-net-pci \
	-display none -monitor none -serial file:serial.log || fail "qemu exited $?: $(tail -n 20 serial.log)"
secs=$(( $(date +%s) - start ))
grep -E "lifeboat: (write-blocked: vda|eth0|job done)" serial.log
grep -q "lifeboat: write-blocked: vda (ro=1)" serial.log || fail "vda was not write-blocked"
grep -q "lifeboat: eth0: 10.0.2.15/24 (DHCP)" serial.log || fail "no DHCP address: $(grep eth0 serial.log)"
grep -q "lifeboat: job done (exit 0)" serial.log || fail "the job failed: $(tail -n 15 serial.log)"
wait "$rpid" || fail "the receiver exited $?"
rpid=
# The disk named by its serial (lifeboat.disks=serial=...): found whatever
# the kernel called it, and its job named by the serial, so that a reboot
# that names the disks otherwise resumes the same job.
grep -q "lifeboat: serial=EVIDENCE-0001 is /dev/vda" serial.log || fail "the disk by its serial: $(grep -a serial= serial.log)"
bag=recv/box1/box1-EVIDENCE-0001
[ -f "$bag/bagit.txt" ] || fail "the job is not complete at the receiver"
"$LIFEBOAT" verify "$bag" || fail "verify"
"$LIFEBOAT" carve -q disk.img --out local >/dev/null || fail "carve on the host"
tree_digest local >want.txt
tree_digest "$bag/data" >got.txt
cmp -s want.txt got.txt || fail "the bag differs from a carve on the host"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "the disk changed"
# lifeboat.sha256: the bag gives the disk's hash, as the box read it.
grep -qx "Lifeboat-Source-SHA256: ${before%% *}" "$bag/bag-info.txt" ||
	fail "bag-info.txt does not give the disk's SHA-256: $(cat "$bag/bag-info.txt")"
# The bag names the disk as the box's kernel knew it (its serial number,
# from sysfs) and the version that read it (the image's lifeboat is this one).
grep -qx "Lifeboat-Source: '/dev/vda': a block device of $(stat -c %s disk.img) bytes, serial 'EVIDENCE-0001'" "$bag/bag-info.txt" &&
	grep -qx "Bag-Software-Agent: $("$LIFEBOAT" --version)" "$bag/bag-info.txt" ||
	fail "bag-info.txt does not name the disk and the version: $(cat "$bag/bag-info.txt")"

# The second disk holds the same filesystem 1 MiB in (a wiped partition
# table): lifeboat.disks=vdb@1048576 carves it from there, as job
# box1-vdb.1048576, and gets the same mail.
{ head -c 1048576 /dev/zero; cat disk.img; } | cp --sparse=always /dev/stdin shifted.img
shifted_before=$(sha256sum <shifted.img)
ip netns exec "$ns" "$LIFEBOAT" receive --tls site/receiver --listen 127.0.0.1:0 --dest recv \
	>/dev/null 2>recv.log &
rpid=$!
wait_listening recv.log
ip netns exec "$ns" timeout 900 qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 -no-reboot \
	-kernel "$BUILD/image/bzImage" -initrd initrd \
	-append "console=ttyS0 quiet lifeboat.ip=10.0.2.20/24 lifeboat.gw=10.0.2.2 lifeboat.job=carve lifeboat.disks=serial=EVIDENCE-0001,serial=NO-SUCH-DISK,vdb@1048576 lifeboat.send=10.0.2.2:$rport lifeboat.name=box1 lifeboat.pin=$pin lifeboat.end=poweroff" \
	-drive if=none,id=evidence,file=disk.img,format=raw -device virtio-blk-pci,drive=evidence,serial=EVIDENCE-0001 \
	-drive file=shifted.img,format=raw,if=virtio \
	-nic user,model=virtio-net-pci \
	-display none -monitor none -serial file:static.log || fail "qemu exited $?: $(tail -n 20 static.log)"
kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null || true
rpid=
grep -q "lifeboat: eth0: 10.0.2.20/24 (static)" static.log || fail "no static address: $(grep eth0 static.log)"
grep -q "the receiver already holds job box1-EVIDENCE-0001" static.log || fail "the static boot did not reach the receiver: $(tail -n 15 static.log)"
# A serial no disk has: said, the other disks carved all the same, and the
# job ends with a failure (111).
grep -q "lifeboat: serial=NO-SUCH-DISK: no disk has that serial" static.log ||
	fail "a serial no disk has: $(grep -a NO-SUCH static.log)"
grep -q "lifeboat carve /dev/vdb --offset 1048576 .* --job box1-vdb.1048576" static.log ||
	fail "vdb@1048576 was not carved with --offset: $(grep 'lifeboat carve' static.log)"
grep -q "lifeboat: job done (exit 111)" static.log || fail "the static boot's job: $(tail -n 15 static.log)"
shifted=recv/box1/box1-vdb.1048576
"$LIFEBOAT" verify "$shifted" >/dev/null || fail "verify of the shifted disk's bag"
grep -qx "Lifeboat-Source: '/dev/vdb': a block device of $(stat -c %s shifted.img) bytes, read from byte 1048576 on" "$shifted/bag-info.txt" ||
	fail "the shifted disk's bag-info.txt: $(cat "$shifted/bag-info.txt")"
"$LIFEBOAT" carve -q --offset 1048576 shifted.img --out local2 >/dev/null || fail "carve --offset on the host"
tree_digest local2 >want2.txt
tree_digest "$shifted/data" >shifted.txt
cmp -s want2.txt shifted.txt || fail "the shifted disk's bag differs from a carve of it on the host"
# The same mail as the disk's, but for the names that carry a source
# offset (unverified/ and orphans/cur/: the device's own, 1 MiB on).
grep -v '^unverified/\|^orphans/cur/' want.txt >placed.txt
grep -v '^unverified/\|^orphans/cur/' shifted.txt >placed2.txt
[ -s placed.txt ] && cmp -s placed.txt placed2.txt || fail "the shifted disk gives other mail than the disk"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "the disk changed"
[ "$(sha256sum <shifted.img)" = "$shifted_before" ] || fail "the shifted disk changed"
echo "booted, carved and sent $(wc -l <got.txt) messages in $secs s (TCG); with a static address, reached the receiver, and carved the same disk 1 MiB in (vdb@1048576) to the same mail; disks unchanged"
