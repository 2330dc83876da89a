#!/bin/sh
# Write-blocking in the booted image (qemu, TCG). Two evidence disks: a
# reformatted lab disk on AHCI (sda) and a dirty ext4 on virtio (vda), one
# whose journal needs recovery, so that even a read-only mount would write
# to it. At the console the test uses the menu (list disks, then a shell)
# and tries to write: dd onto each disk and a plain mount of the dirty one
# must fail; a ro,noload mount works; md arrays would start read-only.
# Then a USB stick holding another copy of the dirty ext4 is plugged in
# (qemu's monitor), after the boot: it must be write-blocked as it appears,
# and dd and a plain mount of it must fail too.
# It scans and carves both disks into RAM; the carve of the lab disk finds
# as many files as the same carve on the host. Every disk's sha256 is
# unchanged.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root for the lab and a loop mount"; exit 77; }
. "$TOP/tests/boot/lib.sh"
need_qemu

# A dirty ext4: copied while mounted, after writes, so its superblock says
# needs_recovery and its journal holds transactions.
truncate -s 64M dirty.img
mkfs.ext4 -q -F dirty.img
mkdir mnt
mount -o loop dirty.img mnt 2>/dev/null || { echo "skip: loop mounts are not available here"; exit 77; }
mkdir -p mnt/vmail/example.com/bob/Maildir/cur
for i in 1 2 3; do
	printf 'From: a@example.com\nSubject: dirty %s\n\nbody %s\n' "$i" "$i" \
		>"mnt/vmail/example.com/bob/Maildir/cur/17000000$i.M1P1.box,S=46:2,S"
done
sync
cp dirty.img dirty-copy.img
umount mnt
mv dirty-copy.img dirty.img
dumpe2fs -h dirty.img 2>/dev/null | grep -q needs_recovery || fail "the copy is not dirty"
cp dirty.img stick.img

lab=$("$TOP/tests/lab/get" ext4 reformat) || fail "lab ext4 reformat"
cp --sparse=always "$lab/disk.img" lab.img
"$LIFEBOAT" carve -q lab.img --out host >/dev/null || true
want=$(find host -type f | wc -l)
[ "$want" -gt 100 ] || fail "the host carve found only $want files"
# An NVMe disk (the servers' most common kind now), holding a copy of the dirty ext4.
cp dirty.img nvme.img
before_lab=$(sha256sum <lab.img) before_dirty=$(sha256sum <dirty.img) before_stick=$(sha256sum <stick.img)
before_nvme=$(sha256sum <nvme.img)

"$TOP/scripts/image" >/dev/null 2>&1 || fail "scripts/image"
# The console session: the menu lists the disks (name, size, write-blocked,
# model, serial: lifeboat-disks; 64 MiB and 400 MiB are 67 and 419 MB),
# then gives a shell. Each
# command typed ends by echoing NAME=$?, written so that the echo of the
# typed line itself does not match what the test waits for; the statuses
# are checked against WANT (a regex) after the session.
run() {
	printf 'send:%s; echo "%s=$?"\\r\nexpect:%s=[0-9]+\n' "$1" "$2" "$2"
	echo "$2 $3" >>want
}
: >want
{
	printf '%s\n' "expect:lifeboat: ready after" "expect:choice: " 'send:1\r' \
		"expect:nvme0n1 +67 MB +write-blocked +QEMU NVMe Ctrl +NVME-5\r?\n" \
		"expect:sda +419 MB +write-blocked +QEMU HARDDISK +LABDISK-7\r?\n" \
		"expect:vda +67 MB +write-blocked +- +DIRTY-3\r?\n" "expect:choice: " 'send:4\r'
	run "blockdev --getro /dev/sda >/tmp/ro && blockdev --getro /dev/vda >>/tmp/ro && test \$(grep -c 1 /tmp/ro) = 2" blocked-at-boot 0
	run "grep -qx 1 /sys/module/md_mod/parameters/start_ro" md-start-ro 0
	run "dd if=/dev/zero of=/dev/sda bs=4096 count=1 conv=notrunc" dd-sda '[1-9][0-9]*'
	run "dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=notrunc" dd-vda '[1-9][0-9]*'
	run "blockdev --getro /dev/nvme0n1 | grep -qx 1" nvme-blocked 0
	run "dd if=/dev/zero of=/dev/nvme0n1 bs=4096 count=1 conv=notrunc" dd-nvme '[1-9][0-9]*'
	run "lifeboat scan /dev/nvme0n1 | grep -q \"^disk: a block device of [0-9]* bytes, model 'QEMU NVMe Ctrl', serial 'NVME-5'\"" nvme-serial 0
	run "mount /dev/vda /mnt" plain-mount '[1-9][0-9]*'
	run "mount -o ro,noload /dev/vda /mnt && ls /mnt/vmail/example.com/bob/Maildir/cur | grep -c S=46 >/tmp/n && umount /mnt && grep -qx 3 /tmp/n" noload-mount 0
	printf '%s\n' "monitor:device_add usb-storage,id=stick,drive=stick,bus=xhci.0" \
		"expect:lifeboat: write-blocked: sdb \\(ro=1\\)"
	run "blockdev --getro /dev/sdb | grep -qx 1" blocked-late 0
	run "dd if=/dev/zero of=/dev/sdb bs=4096 count=1 conv=notrunc" dd-late '[1-9][0-9]*'
	run "mount /dev/sdb /mnt" plain-mount-late '[1-9][0-9]*'
	run "lifeboat scan /dev/vda >/tmp/scan-vda" scan-vda 0
	run "lifeboat scan /dev/sda >/tmp/scan-sda" scan-sda 0
	# scan names the SATA disk by its serial (VPD page 0x80), as the list did.
	run "grep -q \"^disk: a block device of [0-9]* bytes, vendor 'ATA', model 'QEMU HARDDISK', serial 'LABDISK-7'\" /tmp/scan-sda" scan-serial 0
	run "lifeboat carve -q /dev/vda --out /tmp/vda >/dev/null; test \$? -le 1" carve-vda 0
	run "lifeboat carve -q /dev/sda --out /tmp/sda >/dev/null; test \$? -le 1" carve-sda 0
	printf '%s\n' 'send:echo "files=$(find /tmp/sda -type f | wc -l)"\r' "expect:files=[0-9]+" 'send:poweroff -f\r' exit
} >steps
cat steps
"$TOP/tests/boot/console.py" --timeout 900 --log serial.log --steps steps --monitor mon.sock \
	-- qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 1 -no-reboot \
	-kernel "$BUILD/image/bzImage" -initrd "$BUILD/image/initramfs.cpio.gz" -append "console=ttyS0" \
	-device ahci,id=ahci -drive if=none,id=lab,file=lab.img,format=raw -device ide-hd,drive=lab,bus=ahci.0,serial=LABDISK-7 \
	-drive if=none,id=dirty,file=dirty.img,format=raw -device virtio-blk-pci,drive=dirty,serial=DIRTY-3 \
	-drive if=none,id=nvme,file=nvme.img,format=raw -device nvme,drive=nvme,serial=NVME-5 \
	-device qemu-xhci,id=xhci -drive if=none,id=stick,file=stick.img,format=raw \
	-nic none -display none -monitor "unix:$PWD/mon.sock,server=on,wait=off" -serial stdio ||
	fail "the console session: $(tail -n 20 serial.log)"
grep -a "write-blocked" serial.log
while read -r name re; do
	st=$(grep -ao "$name=[0-9]*" serial.log | tail -n 1 | cut -d= -f2)
	echo "$st" | grep -Eqx "$re" || fail "$name: exit status $st, wanted $re"
done <want
got=$(grep -ao 'files=[0-9]*' serial.log | tail -n 1 | cut -d= -f2)
[ "$got" = "$want" ] || fail "the carve in the image wrote $got files, on the host $want"
[ "$(sha256sum <lab.img)" = "$before_lab" ] || fail "the lab disk changed"
[ "$(sha256sum <dirty.img)" = "$before_dirty" ] || fail "the dirty disk changed"
[ "$(sha256sum <stick.img)" = "$before_stick" ] || fail "the USB stick plugged in late changed"
[ "$(sha256sum <nvme.img)" = "$before_nvme" ] || fail "the NVMe disk changed"
echo "dd refused on SATA, virtio and NVMe disks, a plain mount refused, ro,noload mount, scan and carve ($got files) in the image; a USB stick plugged in late write-blocked as it appeared; every disk unchanged"
