#!/usr/bin/env bash
# Builds the boot files of the nested KVM test from Debian packages only (never installed):
#   <out>/<key>/vmlinuz         Debian's kernel (linux-image-amd64's versioned dependency)
#   <out>/<key>/outer.img       initramfs of the QEMU TCG guest: busybox-static, the kvm,
#                               kvm-amd modules (+ irqbypass, ccp), vitrine-kvm, and /inner/
#                               holding the same kernel and inner.img
#   <out>/<key>/inner.img       initramfs of the guest vitrine-kvm boots: busybox-static and the
#                               test's guest program
# <key> hashes every input; a second run with the same inputs only prints the paths.
# Last line printed: IMAGE <dir>
# Usage: build-nested-image.sh --out DIR --vmm VITRINE_KVM --guest GUEST_PROGRAM [--cpus N]
set -euo pipefail

out="" vmm="" guest="" cpus=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --vmm) vmm="$2"; shift 2 ;;
    --guest) guest="$2"; shift 2 ;;
    --cpus) cpus="$2"; shift 2 ;;
    *) echo "build-nested-image: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] && [ -f "$vmm" ] && [ -f "$guest" ] ||
  { echo "build-nested-image: need --out DIR, --vmm FILE and --guest FILE" >&2; exit 2; }
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
step=0
progress() { step=$((step + 1)); echo "[nested-image $step/6] $*"; }

progress "resolving package versions"
pkg_version() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
meta_ver=$(pkg_version linux-image-amd64)
if [ -z "$meta_ver" ] || [ "$meta_ver" = "(none)" ]; then
  echo "build-nested-image: apt knows no linux-image-amd64 (run apt-get update)" >&2; exit 1
fi
kpkg=$(apt-cache show "linux-image-amd64=$meta_ver" | awk -F': ' '/^Depends:/ {print $2; exit}' |
  tr ',' '\n' | sed 's/[ (].*//; s/^ *//' | grep -E '^linux-image-[0-9].*-amd64$' | head -1)
[ -n "$kpkg" ] || { echo "build-nested-image: no versioned kernel in linux-image-amd64's Depends" >&2; exit 1; }
kver=$(pkg_version "$kpkg")
bver=$(pkg_version busybox-static)

key=$({ echo "$kpkg $kver $bver cpus $cpus"; sha256sum "$0" "$vmm" "$guest" | cut -d' ' -f1; } | sha256sum | cut -c1-16)
dest="$out/$key"
progress "inputs: $kpkg $kver, busybox-static $bver, key $key"
if [ -f "$dest/outer.img" ] && [ -f "$dest/vmlinuz" ]; then
  progress "cache hit"
  echo "IMAGE $dest"
  exit 0
fi

progress "downloading into $out/debs (apt-get download)"
(cd "$out/debs" &&
  for p in "$kpkg" busybox-static; do
    ls "${p}_"*.deb >/dev/null 2>&1 || apt-get download -q "$p"
  done)

work=$(mktemp -d "$out/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
progress "unpacking with dpkg -x"
dpkg -x "$(ls "$out/debs/${kpkg}_"*.deb | head -1)" "$work/kernel"
dpkg -x "$(ls "$out/debs/busybox-static_"*.deb | head -1)" "$work/busybox"
vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -1)
moddir=$(ls -d "$work"/kernel/lib/modules/* | head -1)

new_root() {
  mkdir -p "$1"/{bin,dev,proc,sys,tmp,lib/modules}
  cp "$work/busybox/bin/busybox" "$1/bin/busybox"
  for a in sh mount cat echo ls sleep poweroff reboot insmod grep dmesg; do ln -s busybox "$1/bin/$a"; done
}

progress "assembling both root file systems"
inner="$work/inner"
new_root "$inner"
cp "$guest" "$inner/bin/nested-guest"
cat > "$inner/init" <<'INIT'
#!/bin/sh
# Inner guest (booted by vitrine-kvm): run the bus test program, then reset, which ends the VM.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "inner: init running, $(grep -c ^processor /proc/cpuinfo) cpus"
/bin/nested-guest
echo "inner: nested-guest exited $?"
reboot -f
INIT
chmod 755 "$inner/init"
(cd "$inner" && find . | cpio -o -H newc --quiet | gzip -6) > "$work/inner.img"

outer="$work/outer"
new_root "$outer"
for m in irqbypass kvm ccp kvm-amd; do
  f=$(find "$moddir" -name "$m.ko*" | head -1)
  [ -n "$f" ] || { echo "build-nested-image: module $m not in $kpkg" >&2; exit 1; }
  case "$f" in
    *.xz) xz -dc "$f" > "$outer/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" > "$outer/lib/modules/$m.ko" ;;
    *) cp "$f" "$outer/lib/modules/$m.ko" ;;
  esac
done
cp "$vmm" "$outer/bin/vitrine-kvm"
mkdir -p "$outer/inner"
cp "$vmlinuz" "$outer/inner/vmlinuz"
cp "$work/inner.img" "$outer/inner/inner.img"
cat > "$outer/init" <<INIT
#!/bin/sh
# Outer guest (QEMU TCG, -cpu max): load KVM, find QEMU's ivshmem device, run vitrine-kvm on it.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in irqbypass kvm ccp kvm-amd; do insmod /lib/modules/\$m.ko 2>/dev/null; done
if [ ! -e /dev/kvm ]; then
  echo "nested: NO-KVM: svm flags in /proc/cpuinfo: \$(grep -c -w svm /proc/cpuinfo)"
  poweroff -f
fi
dev=""
for d in /sys/bus/pci/devices/*; do
  [ "\$(cat \$d/vendor)" = 0x1af4 ] && [ "\$(cat \$d/device)" = 0x1110 ] && dev=\$d
done
echo "nested: /dev/kvm ready, ivshmem at \$dev"
/bin/vitrine-kvm --kernel /inner/vmlinuz --initrd /inner/inner.img --mem 256 --cpus $cpus \\
  --cmdline "console=ttyS0 quiet panic=-1 reboot=k 8250.nr_uarts=1 i8042.noaux no_timer_check" \\
  --bus-file \$dev/resource2
echo "nested: vitrine-kvm exited \$?"
poweroff -f
INIT
chmod 755 "$outer/init"

progress "writing initramfs images (cpio newc, gzip)"
mkdir -p "$dest.tmp"
(cd "$outer" && find . | cpio -o -H newc --quiet | gzip -6) > "$dest.tmp/outer.img"
cp "$work/inner.img" "$dest.tmp/inner.img"
cp "$vmlinuz" "$dest.tmp/vmlinuz"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "IMAGE $dest"
