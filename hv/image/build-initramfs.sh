#!/usr/bin/env bash
# Builds a bootable guest for the qemu backend from Debian packages only:
#   kernel   apt-get download linux-image-amd64 and the versioned linux-image-X-amd64 it depends
#            on, unpacked with dpkg -x (never installed)
#   userland busybox-static (unpacked the same way)
#   programs statically linked guest programs given with --add (e.g. vitrine-guest, a test server)
#   modules  the virtio-net modules, so that a VM with user networking can be compared with the bus
# Output: <out>/<key>/vmlinuz and <out>/<key>/initramfs.img, where <key> hashes every input
# (package versions, program bytes, init script, this script); a second run with the same
# inputs prints the cached paths without rebuilding. The last line printed is
#   IMAGE <dir>
# Usage: build-initramfs.sh --out DIR [--add SRC[:DEST]]... [--init-cmd 'CMD']
set -euo pipefail

out=""
adds=()
init_cmd="/bin/sh"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --add) adds+=("$2"); shift 2 ;;
    --init-cmd) init_cmd="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build-initramfs: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "build-initramfs: --out DIR is required" >&2; exit 2; }
mkdir -p "$out/debs"
out=$(cd "$out" && pwd)
# One builder at a time per cache (tests may run in parallel): the others wait, then hit.
exec 9> "$out/.lock"
flock 9
step=0
progress() { step=$((step + 1)); echo "[image $step/7] $*"; }

# The virtio-net stack as modules of Debian's kernel, in load order.
modules=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net)

progress "resolving package versions (linux-image-amd64, busybox-static)"
pkg_version() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'; }
meta_ver=$(pkg_version linux-image-amd64)
if [ -z "$meta_ver" ] || [ "$meta_ver" = "(none)" ]; then
  echo "build-initramfs: apt knows no linux-image-amd64 (run apt-get update)" >&2; exit 1
fi
kpkg=$(apt-cache show "linux-image-amd64=$meta_ver" | awk -F': ' '/^Depends:/ {print $2; exit}' |
  tr ',' '\n' | sed 's/[ (].*//; s/^ *//' | grep -E '^linux-image-[0-9].*-amd64$' | head -1)
[ -n "$kpkg" ] || { echo "build-initramfs: no versioned kernel in linux-image-amd64's Depends" >&2; exit 1; }
kver=$(pkg_version "$kpkg")
bver=$(pkg_version busybox-static)
echo "  kernel package $kpkg $kver, busybox-static $bver"

progress "hashing inputs"
hash_input() {
  {
    echo "kernel $kpkg $kver busybox $bver modules ${modules[*]} init $init_cmd"
    sha256sum "$0" | cut -d' ' -f1
    for a in "${adds[@]}"; do
      src=${a%%:*}
      [ -f "$src" ] || { echo "build-initramfs: --add $src: no such file" >&2; exit 1; }
      echo "$a $(sha256sum "$src" | cut -d' ' -f1)"
    done
  } | sha256sum | cut -c1-16
}
key=$(hash_input)
dest="$out/$key"
if [ -f "$dest/initramfs.img" ] && [ -f "$dest/vmlinuz" ]; then
  progress "cache hit: $dest"
  echo "IMAGE $dest"
  exit 0
fi

progress "downloading $kpkg and busybox-static into $out/debs"
(cd "$out/debs" &&
  for p in "$kpkg=$kver" "busybox-static=$bver"; do
    name=${p%%=*}
    ls "${name}_"*.deb >/dev/null 2>&1 && [ -n "$(ls "${name}_$(echo "${p#*=}" | sed 's/:/%3a/')"_*.deb 2>/dev/null)" ] ||
      apt-get download -q "$p"
  done)

work=$(mktemp -d "$out/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
progress "unpacking with dpkg -x"
dpkg -x "$(ls "$out/debs/${kpkg}_"*.deb | head -1)" "$work/kernel"
dpkg -x "$(ls "$out/debs/busybox-static_"*.deb | head -1)" "$work/busybox"
vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -1)
moddir=$(ls -d "$work"/kernel/lib/modules/* | head -1)

progress "assembling the root file system"
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,lib/modules}
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
for a in sh mount umount mkdir cat echo ls ip sleep poweroff insmod ifconfig dmesg; do
  ln -s busybox "$root/bin/$a"
done
for m in "${modules[@]}"; do
  f=$(find "$moddir" -name "$m.ko*" | head -1)
  if [ -n "$f" ]; then
    case "$f" in
      *.xz) xz -dc "$f" > "$root/lib/modules/$m.ko" ;;
      *.zst) zstd -qdc "$f" > "$root/lib/modules/$m.ko" ;;
      *) cp "$f" "$root/lib/modules/$m.ko" ;;
    esac
  fi
done
for a in "${adds[@]}"; do
  src=${a%%:*}
  dst=${a#*:}
  [ "$dst" = "$a" ] && dst="/bin/$(basename "$src")"
  mkdir -p "$root/$(dirname "$dst")"
  cp "$src" "$root/$dst"
  chmod 755 "$root/$dst"
done
cat > "$root/init" <<INIT
#!/bin/sh
# Vitrine guest init: mount the basics, bring up virtio-net if the VM has it, run the guest
# program, power off when it ends (QEMU exits with -no-reboot).
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${modules[*]}; do [ -f /lib/modules/\$m.ko ] && insmod /lib/modules/\$m.ko; done
# virtio-net registers eth0 shortly after the module loads: wait for it (5 s at most).
if [ -n "\$(ls /sys/bus/virtio/devices 2>/dev/null)" ]; then
  i=0
  while [ ! -e /sys/class/net/eth0 ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
fi
if [ -e /sys/class/net/eth0 ]; then
  ip link set lo up; ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; ip route add default via 10.0.2.2
  echo "vitrine-init: eth0 10.0.2.15/24 via 10.0.2.2 (QEMU user networking)"
fi
echo "vitrine-init: starting: $init_cmd"
$init_cmd
echo "vitrine-init: guest program exited with \$?"
poweroff -f
INIT
chmod 755 "$root/init"

progress "writing initramfs (cpio newc, gzip)"
mkdir -p "$dest.tmp"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -6) > "$dest.tmp/initramfs.img"
cp "$vmlinuz" "$dest.tmp/vmlinuz"
echo "$kpkg $kver busybox-static $bver" > "$dest.tmp/inputs.txt"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "  $(du -h "$dest/initramfs.img" | cut -f1) initramfs, $(du -h "$dest/vmlinuz" | cut -f1) kernel"
# Keep the four newest images of this cache (older keys come from older inputs).
(cd "$out" && ls -dt [0-9a-f]*/ 2>/dev/null | grep -E '^[0-9a-f]{16}/$' | tail -n +5 | xargs -r rm -rf)
echo "IMAGE $dest"
