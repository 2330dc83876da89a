#!/bin/sh
# Every boot medium boots in qemu (TCG) to /init's "ready" line on the
# serial console: the kernel and initramfs directly, the hybrid ISO as a CD and as a USB stick under BIOS
# (SeaBIOS, ISOLINUX), the GPT USB image under BIOS (gptmbr, SYSLINUX) and
# under UEFI (OVMF, the unified kernel image), the ISO as a CD under UEFI,
# PXELINUX over TFTP, and iPXE fetching its script, kernel and initramfs
# over HTTP. The network boots run in a network namespace of their own:
# qemu's user-mode network serves TFTP itself, and the HTTP server listens
# on the namespace's loopback (10.0.2.2 to the guest). lifeboat-disks
# names the medium booted from: the ISO and the USB image written onto
# sticks, and both where both are in; none after a CD or PXE. A USB stick
# made with a site overlay boots with the sender's credentials in place.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "skip: needs root for a network namespace"; exit 77; }
. "$TOP/tests/boot/lib.sh"
need_qemu
ovmf=/usr/share/OVMF/OVMF_CODE_4M.fd
[ -f "$ovmf" ] || { echo "skip: OVMF (package ovmf) is not installed"; exit 77; }
netns_up lifeboat-media
trap netns_down EXIT

"$TOP/scripts/image" >/dev/null 2>&1 || fail "scripts/image"
"$TOP/scripts/media" >media.log 2>&1 || { cat media.log; fail "scripts/media"; }
cat media.log
img=$BUILD/image

# The ISO is an ISO 9660 file system with both El Torito images, and an MBR
# and GPT for USB; the USB image has one EFI system partition.
xorriso -indev "$img/lifeboat.iso" -report_el_torito plain 2>/dev/null >eltorito.txt
grep -q "El Torito boot img :   1  BIOS" eltorito.txt || fail "no BIOS El Torito image: $(cat eltorito.txt)"
grep -q "El Torito boot img :   2  UEFI" eltorito.txt || fail "no UEFI El Torito image: $(cat eltorito.txt)"
sfdisk -d "$img/lifeboat.img" | grep -q "type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B.*LegacyBIOSBootable" ||
	fail "the USB image has no legacy-bootable EFI system partition"
# The public media hold no key: no key.pem in the initrds of PXE and of the
# unified image.
objcopy -O binary --only-section=.initrd "$img/lifeboat.efi" uki-initrd
for f in uki-initrd "$img/pxe/initramfs.cpio.gz"; do
	zcat "$f" | cpio -t 2>/dev/null >files.txt
	grep -q '^bin/lifeboat$' files.txt || fail "$f: not our initramfs"
	if grep -q 'key.pem' files.txt; then fail "$f holds a key"; fi
done

console() { "$TOP/tests/boot/console.py" "$@"; }
qemu() { echo qemu-system-x86_64 -accel tcg -m 512 -smp 1 -display none -monitor none -serial stdio; }
# ISOLINUX, SYSLINUX and PXELINUX wait 5 s at their boot: prompt; the test types Enter.
bios_prompt="expect:boot: send:\r"
ready="expect:lifeboat:\\sready\\safter\\s[0-9.]+\\ss"
uefi() { cp /usr/share/OVMF/OVMF_VARS_4M.fd vars.fd
	echo -drive if=pflash,format=raw,readonly=on,file=$ovmf -drive if=pflash,format=raw,file=vars.fd; }
# usb IMAGE [off]: the image as a USB stick, read-only unless off.
usb() { echo -device qemu-xhci -drive if=none,id=stick,format=raw,readonly=${2:-on},file=$1 -device usb-storage,drive=stick,bootindex=0; }

# medium NAME STEP... -- QEMU ARGS: boot, and print the seconds from qemu's
# start to /init's ready line, and the kernel's uptime at that line.
medium() {
	name=$1; shift
	console --timeout 300 --log "$name.log" "$@" >"$name.steps" || { cat "$name.steps"; fail "$name"; }
	wall=$(grep -a 'sready' "$name.steps" | sed 's/.* after //')
	up=$(grep -ao 'ready after [0-9.]* s' "$name.log" | sed 's/.*after //')
	# (kernel messages can cut into the line on the serial console)
	[ -n "$up" ] || up="? s"
	echo "$name: ready $wall after qemu started, $up after the kernel started"
}

# shellcheck disable=SC2046,SC2086
# (quiet: the kernel's messages would cut into the ready line it times)
medium direct $ready -- $(qemu) -nic none -kernel "$img/bzImage" -initrd "$img/initramfs.cpio.gz" \
	-append "console=ttyS0,115200 quiet"
# boot_is "DISK..." STEP...: the STEPs (the boot), then from the menu's
# shell: wait for the DISKs (a USB stick is attached after the ready line),
# print the disks lifeboat-disks names the boot medium, and wait for them
# to be the DISKs ("": none, as after PXE). One step a line, for
# console.py --steps.
boot_is() {
	disks=$1 wait=; shift
	for d in $disks; do wait="$wait[ -e /sys/block/$d ] && "; done
	printf '%s\n' "$@" "expect:choice:" "send:4\r"
	printf 'send:for i in $(seq 100); do %sbreak; sleep 0.1; done; echo boot=$(lifeboat-disks --boot).\\r\n' "$wait"
	echo "expect:boot=$disks\\."
}
# shellcheck disable=SC2046,SC2086
# (The kernel has no CD driver: a CD is no disk, and none is named.)
boot_is "" $bios_prompt $ready >cd.steps
medium bios-cd --steps cd.steps -- $(qemu) -nic none -cdrom "$img/lifeboat.iso" -boot d
# shellcheck disable=SC2046,SC2086
boot_is sda $bios_prompt $ready >iso-stick.steps
medium bios-usb-iso --steps iso-stick.steps -- $(qemu) -nic none $(usb "$img/lifeboat.iso")
# shellcheck disable=SC2046,SC2086
# With the ISO on a second stick: both are named.
boot_is "sda sdb" $bios_prompt $ready >two-sticks.steps
medium bios-usb-img --steps two-sticks.steps -- $(qemu) -nic none $(usb "$img/lifeboat.img") \
	-drive if=none,id=iso,format=raw,readonly=on,file="$img/lifeboat.iso" -device usb-storage,drive=iso
# shellcheck disable=SC2046,SC2086
medium uefi-usb-img $ready -- $(qemu) -nic none $(uefi) $(usb "$img/lifeboat.img")
# shellcheck disable=SC2046,SC2086
medium uefi-cd $ready -- $(qemu) -nic none $(uefi) -cdrom "$img/lifeboat.iso"
# shellcheck disable=SC2046,SC2086
boot_is "" $bios_prompt $ready >pxe.steps
medium pxe-tftp --steps pxe.steps -- ip netns exec "$ns" $(qemu) \
	-nic user,model=e1000,tftp="$img/pxe",bootfile=pxelinux.0 -boot n

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ip netns exec "$ns" python3 -m http.server --bind 127.0.0.1 --directory "$img/pxe" "$port" >http.log 2>&1 &
for _ in $(seq 50); do grep -q "Serving HTTP" http.log 2>/dev/null && break; sleep 0.1; done
# shellcheck disable=SC2046,SC2086
medium ipxe-http $ready -- ip netns exec "$ns" $(qemu) \
	-nic user,model=e1000,bootfile="http://10.0.2.2:$port/boot.ipxe" -boot n
# Media made with a site overlay load it: the UEFI USB stick's unified
# image carries both initrds, and the shell finds the sender's key. The
# restore's list of disks marks the stick as the boot medium, and a
# restore onto it, confirmed, is refused with the stick write-blocked again.
"$TOP/scripts/mkcerts" site box1 >/dev/null 2>&1 || fail "mkcerts"
"$TOP/scripts/site" site/box1 site.cpio.gz >/dev/null || fail "scripts/site"
"$TOP/scripts/media" site.cpio.gz >/dev/null 2>&1 || fail "scripts/media with a site"
# A writable copy of the stick, so that its write-block is /init's and the
# menu's alone; named the boot medium under UEFI too.
cp "$img/site/lifeboat.img" stick.img
# shellcheck disable=SC2046,SC2086
boot_is sda $ready >site.steps
medium uefi-usb-site --steps site.steps "send:exit\r" "expect:choice:" "send:5\r" \
	"expect:sda +[0-9]+ MB +write-blocked .*\(Lifeboat's boot medium\)\r?\n" \
	"expect:new disk to erase" "send:sda\r" "expect:file system" "send:ext4\r" \
	"expect:receiver HOST:PORT" "send:10.0.2.2:9\r" "expect:job \(SENDER/JOB\)" "send:box1/x\r" \
	"expect:UID:GID" "send:0:0\r" "expect:type its name again" "send:sda\r" \
	"expect:restore: /dev/sda is Lifeboat's boot medium: not erased" \
	"expect:choice:" "send:1\r" "expect:sda +[0-9]+ MB +write-blocked " "expect:choice:" \
	"send:4\r" "send:ls /etc/lifeboat/site\r" \
	"expect:key.pem" -- $(qemu) -nic none $(uefi) $(usb stick.img off)
cmp -s stick.img "$img/site/lifeboat.img" || fail "the refused restore changed the stick"

grep -q '"GET /boot.ipxe' http.log || fail "iPXE did not fetch its script over HTTP"
grep -q '"GET /initramfs.cpio.gz' http.log || fail "iPXE did not fetch the initramfs over HTTP"
echo ok
