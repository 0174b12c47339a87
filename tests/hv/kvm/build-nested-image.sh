#!/usr/bin/env bash
# Builds the boot files of the nested KVM test from Debian packages only (never installed):
#   <out>/<key>/vmlinuz         Debian's kernel (linux-image-amd64's versioned dependency)
#   <out>/<key>/outer.img       initramfs of the QEMU TCG guest: busybox-static, the kvm,
#                               kvm-amd modules (+ irqbypass, ccp), vitrine-vmm (with the shared
#                               libraries it needs) and vitrine-kvm, the launcher that hands
#                               vitrine-vmm the bus, and /inner/ holding the same kernel,
#                               inner.img and vm.toml (backend kvm, --cpus vCPUs)
#   <out>/<key>/inner.img       initramfs of the guest vitrine-kvm boots: busybox-static and the
#                               test's guest program
# With --bench (bench_vm): the outer guest also holds qemu-system-x86_64 (its libraries and
# bios-microvm.bin) and its init runs bench_vm's comparison instead of the test: the inner guest
# under `vitrine-vmm --backend kvm`, then under QEMU -M microvm, then QEMU -M q35, each served
# by `nested-launcher --serve` (lines "bench: ..."); the inner program runs with --bench.
# <key> hashes every input; a second run with the same inputs only prints the paths.
# Last line printed: IMAGE <dir>
# Usage: build-nested-image.sh --out DIR --vmm VITRINE_KVM --vmmd VITRINE_VMM --launcher LAUNCHER
#                              --guest GUEST_PROGRAM [--cpus N] [--bench]
set -euo pipefail

out="" vmm="" vmmd="" launcher="" guest="" cpus=1 bench=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --vmm) vmm="$2"; shift 2 ;;
    --guest) guest="$2"; shift 2 ;;
    --vmmd) vmmd="$2"; shift 2 ;;
    --launcher) launcher="$2"; shift 2 ;;
    --bench) bench=1; shift ;;
    --cpus) cpus="$2"; shift 2 ;;
    *) echo "build-nested-image: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] && [ -f "$vmm" ] && [ -f "$vmmd" ] && [ -f "$launcher" ] && [ -f "$guest" ] ||
  { echo "build-nested-image: need --out DIR, --vmm FILE, --vmmd FILE, --launcher FILE and --guest FILE" >&2; exit 2; }
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

key=$({ echo "$kpkg $kver $bver cpus $cpus bench $bench"; sha256sum "$0" "$vmm" "$vmmd" "$launcher" "$guest" | cut -d' ' -f1; } | sha256sum | cut -c1-16)
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
# Inner guest (booted by vitrine-kvm): run the bus test program, then power off (ACPI S5),
# which ends the VM.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "inner: init running, $(grep -c ^processor /proc/cpuinfo) cpus"
if grep -q vitrine.bench /proc/cmdline; then /bin/nested-guest --bench; else /bin/nested-guest; fi
rc=$?
echo "inner: nested-guest exited $rc"
if [ $rc != 0 ]; then  # what the kernel made of the PCI bus, for the log
  dmesg | grep -i -e pci -e mmconf -e ecam -e acpi | tail -40
  cat /proc/iomem
fi
poweroff -f
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
strip --strip-debug -o "$outer/bin/vitrine-kvm" "$vmm"
strip --strip-debug -o "$outer/bin/vitrine-vmm" "$vmmd"
strip --strip-debug -o "$outer/bin/nested-launcher" "$launcher"
# vitrine-vmm is dynamically linked: its libraries and the loader, at the paths ldd names.
ldd "$vmmd" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u | while read -r lib; do
  mkdir -p "$outer$(dirname "$lib")"
  cp -L "$lib" "$outer$lib"
done
mkdir -p "$outer/inner"
cp "$vmlinuz" "$outer/inner/vmlinuz"
cp "$work/inner.img" "$outer/inner/inner.img"
cat > "$outer/inner/vm.toml" <<TOML
# The inner VM: vitrine-vmm --backend kvm runs vitrine-kvm on it. The bus geometry is the one
# the test creates on the machine above (1 channel, 64 KiB rings, 1 MiB region).
name = "inner"
backend = "kvm"
log_dir = "/tmp/vm"
[bus]
size = 1048576
channels = 1
ring_size = 65536
[vm]
kernel = "vmlinuz"
initramfs = "inner.img"
cmdline = "console=ttyS0 quiet panic=-1 reboot=k 8250.nr_uarts=1 no_timer_check"
memory_mib = 256
vcpus = $cpus
TOML
sed -e 's/^vcpus = .*/vcpus = 1/' -e 's/^\(cmdline = ".*\)"$/\1 vitrine.bench"/' "$outer/inner/vm.toml" > "$outer/inner/vm-bench.toml"
copy_with_libs() {  # a dynamically linked program and what ldd says it loads, at the same paths
  mkdir -p "$outer$(dirname "$1")"
  cp -L "$1" "$outer$1"
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u | while read -r lib; do
    mkdir -p "$outer$(dirname "$lib")"
    [ -f "$outer$lib" ] || cp -L "$lib" "$outer$lib"
  done
}
if [ "$bench" = 1 ]; then
  qemu=$(command -v qemu-system-x86_64) || { echo "build-nested-image: --bench needs qemu-system-x86_64" >&2; exit 1; }
  copy_with_libs "$qemu"
  mkdir -p "$outer/usr/share/qemu"
  for f in bios-microvm.bin linuxboot_dma.bin kvmvapic.bin; do
    cp -L "/usr/share/qemu/$f" "$outer/usr/share/qemu/"
  done
  # Debian's QEMU finds SeaBIOS (q35) on its firmware path /usr/share/seabios.
  mkdir -p "$outer/usr/share/seabios"
  cp -L /usr/share/seabios/bios-256k.bin "$outer/usr/share/seabios/"
fi
if [ "$bench" = 1 ]; then
  main_run="/bin/bench-run"
else
  main_run="/bin/test-run"
fi
cat > "$outer/bin/test-run" <<INIT
#!/bin/sh
# The test: vitrine-vmm --backend kvm on QEMU's ivshmem BAR2; the test machine is the bus host.
dev=""
for d in /sys/bus/pci/devices/*; do
  [ "\$(cat \$d/vendor)" = 0x1af4 ] && [ "\$(cat \$d/device)" = 0x1110 ] && dev=\$d
done
echo "nested: /dev/kvm ready, ivshmem at \$dev"
/bin/nested-launcher --bus-file \$dev/resource2 -- /bin/vitrine-vmm --config /inner/vm.toml --backend kvm
echo "nested: vitrine-vmm exited \$?"
echo "nested: --- inner serial console"
cat /tmp/vm/inner-serial.log
echo "nested: --- vitrine-kvm log"
cat /tmp/vm/inner-kvm.log
echo "nested: --- end"
INIT
cmdline=$(sed -n 's/^cmdline = "\(.*\)"$/\1/p' "$outer/inner/vm-bench.toml")
cat > "$outer/bin/bench-run" <<INIT
#!/bin/sh
# bench_vm: the same kernel and initramfs under vitrine-vmm --backend kvm, then QEMU -M microvm,
# then QEMU -M q35 (SeaBIOS, a full PC: a third reference point);
# nested-launcher is the bus host of all three (hello time, RSS, doorbell numbers).
# microvm: QEMU maps PCI memory only inside the GPEX windows it announces in ACPI _CRS
# (32-bit 0xc0000000-0xdfffffff; 64-bit = the top quarter of the guest-physical space, here
# 768 GiB-1 TiB with the TCG CPU's 40 phys-bits). Linux puts the 64-bit ivshmem BAR2 at 768 GiB,
# where the bus is a KVM memory slot once the guest enables memory decoding (nested-guest writes
# sysfs "enable"). Never pass pci=nocrs there: Linux then assigns the BAR above 4 GiB, outside
# both windows, and the guest reads unassigned space (zeros), not the bus.
# microvm also gets rtc=on: its default (an RTC only without KVM) leaves Linux's rtc_cmos probe
# waiting for a CMOS clock that is not there (5-10 s in this nested setup); vitrine-kvm has one.
# --console: the launcher times the start to the inner /init's first line from the serial log.
# No transparent huge pages in this (outer) guest: in one run khugepaged, collapsing QEMU's
# guest RAM, waited 300 s for a TLB-flush IPI that the vCPU running the inner guest (nested SVM
# emulated by TCG) never took, and the outer guest locked up ("soft lockup ... khugepaged").
# vitrine-kvm's memfd RAM is not a khugepaged candidate; QEMU's anonymous RAM is.
echo never > /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null
mount -t tmpfs tmpfs /dev/shm
echo "bench: start"
/bin/nested-launcher --create-bus /dev/shm/vbus-kvm --serve --label kvm --timeout 200 \\
  --console /tmp/vm/inner-serial.log -- \\
  /bin/vitrine-vmm --config /inner/vm-bench.toml --backend kvm
echo "nested: vitrine-vmm exited \$?"
/bin/nested-launcher --create-bus /dev/shm/vbus-qemu --serve --label microvm --timeout 200 \\
  --console /tmp/vm/microvm-serial.log -- \\
  /usr/bin/qemu-system-x86_64 -M microvm,pcie=on,rtc=on -accel kvm -cpu host -m 256 -smp 1 -nodefaults \\
  -no-user-config -display none -no-reboot -serial file:/tmp/vm/microvm-serial.log \\
  -kernel /inner/vmlinuz -initrd /inner/inner.img -append "$cmdline" \\
  -object memory-backend-file,id=vbus,mem-path=/dev/shm/vbus-qemu,size=1048576,share=on \\
  -device ivshmem-plain,memdev=vbus
echo "nested: qemu exited \$?"
/bin/nested-launcher --create-bus /dev/shm/vbus-q35 --serve --label q35 --timeout 200 \\
  --console /tmp/vm/q35-serial.log -- \\
  /usr/bin/qemu-system-x86_64 -M q35 -accel kvm -cpu host -m 256 -smp 1 -nodefaults \\
  -no-user-config -display none -no-reboot -serial file:/tmp/vm/q35-serial.log \\
  -kernel /inner/vmlinuz -initrd /inner/inner.img -append "$cmdline" \\
  -object memory-backend-file,id=vbus,mem-path=/dev/shm/vbus-q35,size=1048576,share=on \\
  -device ivshmem-plain,memdev=vbus
echo "nested: qemu q35 exited \$?"
echo "nested: --- kvm serial"; tail -5 /tmp/vm/inner-serial.log
echo "nested: --- microvm serial"; grep -e nested-guest -e inner: /tmp/vm/microvm-serial.log
echo "nested: --- q35 serial"; grep -e nested-guest -e inner: /tmp/vm/q35-serial.log
echo "nested: --- end"
INIT
chmod 755 "$outer/bin/test-run" "$outer/bin/bench-run"
cat > "$outer/init" <<INIT
#!/bin/sh
# Outer guest (QEMU TCG, -cpu max): load KVM, then the test (or bench) run.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in irqbypass kvm ccp kvm-amd; do insmod /lib/modules/\$m.ko 2>/dev/null; done
if [ ! -e /dev/kvm ]; then
  echo "nested: NO-KVM: svm flags in /proc/cpuinfo: \$(grep -c -w svm /proc/cpuinfo)"
  poweroff -f
fi
mkdir -p /tmp/vm /dev/shm
$main_run
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
