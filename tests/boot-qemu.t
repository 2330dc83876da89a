#!/bin/sh
# The boot image boots in qemu (TCG), write-blocks the disk it finds,
# runs an unattended scan job named on the kernel command line with its
# output on the serial console, and powers off; the disk is unchanged.
# lifeboat.rw= leaves a named disk writable. The initramfs is
# reproducible, and the kernel build's symbol check fails on a symbol
# that did not make it into the .config.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
. "$TOP/tests/boot/lib.sh"
need_qemu

"$TOP/scripts/image" >image.log 2>&1 || { cat image.log; fail "scripts/image"; }
cat image.log
img=$BUILD/image
first=$(sha256sum <"$img/initramfs.cpio.gz")
"$TOP/scripts/image" >/dev/null 2>&1 || fail "scripts/image, second run"
[ "$(sha256sum <"$img/initramfs.cpio.gz")" = "$first" ] || fail "the initramfs is not reproducible"
echo "initramfs: the same bytes from a second build"

# The symbol check: a requested symbol missing from the .config fails.
kdir=$("$TOP/scripts/build-kernel")
echo "CONFIG_LIFEBOAT_NO_SUCH_SYMBOL=y" >bogus.config
"$TOP/scripts/build-kernel" --check "$kdir/.config" "$TOP"/kernel-config/*.config ||
	fail "the real fragments fail the check"
if "$TOP/scripts/build-kernel" --check "$kdir/.config" bogus.config 2>check.err; then
	fail "the check passed a missing symbol"
fi
grep -q CONFIG_LIFEBOAT_NO_SUCH_SYMBOL check.err || fail "the check did not name the symbol"

# An evidence disk: a small ext4 holding one Maildir message (no loop mount needed).
mkdir -p tree/vmail/example.com/alice/Maildir/new tree/vmail/example.com/alice/Maildir/cur
printf 'From: a@example.com\nTo: alice@example.com\nSubject: boot test\n\nhello\n' \
	>"tree/vmail/example.com/alice/Maildir/new/1700000000.M1P1.test,S=66"
truncate -s 64M disk.img
mkfs.ext4 -q -F -d tree disk.img
before=$(sha256sum <disk.img)

# boot APPEND: direct kernel boot, serial to serial.log (ttyS0, the kernel's
# console) and serial1.log (ttyS1), no network device.
boot() {
	timeout 300 qemu-system-x86_64 -accel tcg -m 512 -smp 1 -no-reboot \
		-kernel "$img/bzImage" -initrd "$img/initramfs.cpio.gz" \
		-append "console=ttyS0 quiet $1" \
		-drive file=disk.img,format=raw,if=none,id=evidence \
		-device virtio-blk-pci,drive=evidence,serial=SCAN-0042 \
		-nic none -display none -monitor none -serial file:serial.log -serial file:serial1.log
}
start=$(date +%s)
boot "lifeboat.job=scan lifeboat.disks=vda lifeboat.end=poweroff" || fail "qemu exited $? (log: $(tail -n 20 serial.log))"
secs=$(( $(date +%s) - start ))
cat serial.log
grep -q "lifeboat: write-blocked: vda (ro=1)" serial.log || fail "vda was not write-blocked"
grep -q "lifeboat: lifeboat scan /dev/vda" serial.log || fail "the job did not start"
grep -qi "ext4" serial.log || fail "the scan output is not on the serial console"
# scan names the disk as the kernel knows it, so that the operator can tell
# which of the server's disks it is.
grep -q "^disk: a block device of $(stat -c %s disk.img) bytes, serial 'SCAN-0042'" serial.log ||
	fail "scan did not name the disk: $(grep -a '^disk:' serial.log)"
grep -q "lifeboat: job done (exit 0)" serial.log || fail "the job did not end well"
# The ready line names the version booted (the image's lifeboat is this build's).
grep -qF "lifeboat: ready after" serial.log && grep -q "s ($("$LIFEBOAT" --version))" serial.log ||
	fail "the ready line does not name the version: $(grep -a 'ready after' serial.log)"
# Every console gets the status and the job's output, not only the
# kernel's console=.
for line in "lifeboat: write-blocked: vda (ro=1)" "lifeboat: lifeboat scan /dev/vda" "lifeboat: job done (exit 0)"; do
	grep -qF "$line" serial1.log || fail "ttyS1 did not get '$line': $(head -c 500 serial1.log)"
done
grep -qi "ext4" serial1.log || fail "the scan output is not on ttyS1"
[ "$(sha256sum <disk.img)" = "$before" ] || fail "the disk changed"
echo "boot, scan job and poweroff in $secs s (TCG)"

boot "lifeboat.rw=vda lifeboat.job=scan lifeboat.disks=vda lifeboat.end=poweroff" || fail "qemu exited $?"
grep -q "lifeboat: writable by request: vda (ro=0)" serial.log || fail "lifeboat.rw=vda: $(grep vda serial.log)"

# lifeboat.console_lock: after the job, no menu and no shell on the console,
# whatever is typed. The same boot without it gets the menu (the control).
for lock in "lifeboat.console_lock" ""; do
	if [ -n "$lock" ]; then last="absent:6:choice:|# $"; else last="expect:choice: "; fi
	"$TOP/tests/boot/console.py" --timeout 300 --log console.log \
		"expect:job done" "send:\r4\r" "$last" -- \
		qemu-system-x86_64 -accel tcg -m 512 -smp 1 -no-reboot \
		-kernel "$img/bzImage" -initrd "$img/initramfs.cpio.gz" \
		-append "console=ttyS0 quiet lifeboat.job=scan lifeboat.disks=vda $lock" \
		-drive file=disk.img,format=raw,if=virtio,readonly=on \
		-nic none -display none -monitor none -serial stdio >steps.txt ||
		fail "console_lock='$lock': $(cat steps.txt)"
done
grep -q "console locked" console.log && fail "the control boot was locked"
echo "console_lock: no menu and no shell; without it, the menu"
echo ok
