# shellcheck shell=bash disable=SC2034
# (SC2034: the variables set here are used by the scripts that source this file.)
# Shared by test/lab/setup and test/lab/run: where things live and how cache keys
# are computed. Sourced, never executed. Both scripts must agree on these names,
# otherwise `run` would boot a kernel that `setup` never built.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
LAB_REPO=$(cd "$LAB_DIR/../.." && pwd -P)
LAB_CACHE=${TIERSCOPE_LAB_CACHE:-/var/cache/tierscope-lab}
LAB_KERNEL_SRC=${TIERSCOPE_LAB_KERNEL_SRC:-/usr/src/linux-source-6.12.tar.xz}
LAB_FRAGMENT=$LAB_DIR/kernel.config
LAB_INIT=$LAB_DIR/init
# busybox-static's binary; the dynamically linked busybox would not run in the
# initramfs, which has no libc.
LAB_BUSYBOX=${TIERSCOPE_LAB_BUSYBOX:-/bin/busybox}
# Workload binaries: inside the repo so the guest sees them at the same path,
# under /.lab-out/ which the repository's .gitignore already excludes.
LAB_BIN=${TIERSCOPE_LAB_BIN:-$LAB_REPO/.lab-out/bin}

# Bump when the build recipe in `setup` changes in a way that alters the output.
LAB_KERNEL_RECIPE=1
LAB_INITRAMFS_RECIPE=1

lab_log() { printf 'tierscope-lab: %s\n' "$*" >&2; }

# Version of the kernel sources: the Debian package version when dpkg knows the
# tarball, else the tarball's size and mtime (cheap and changes on replacement).
lab_kernel_src_version() {
  local pkg
  if pkg=$(dpkg-query -S "$LAB_KERNEL_SRC" 2>/dev/null); then
    pkg=${pkg%%:*}
    dpkg-query -W -f='${Package}=${Version}' "$pkg"
  else
    stat -c 'file=%n size=%s mtime=%Y' "$LAB_KERNEL_SRC" 2>/dev/null || echo 'source=missing'
  fi
}

lab_kernel_key() {
  {
    printf 'recipe=%s\nsource=%s\n' "$LAB_KERNEL_RECIPE" "$(lab_kernel_src_version)"
    cat "$LAB_FRAGMENT"
  } | sha256sum | cut -c1-16
}

lab_initramfs_key() {
  {
    printf 'recipe=%s\n' "$LAB_INITRAMFS_RECIPE"
    sha256sum <"$LAB_BUSYBOX" 2>/dev/null || echo 'busybox=missing'
    cat "$LAB_INIT" 2>/dev/null || echo "init=missing"
  } | sha256sum | cut -c1-16
}

# Sets LAB_KERNEL_DIR, LAB_BZIMAGE, LAB_INITRAMFS.
lab_paths() {
  LAB_KERNEL_DIR=$LAB_CACHE/kernel-$(lab_kernel_key)
  LAB_BZIMAGE=$LAB_KERNEL_DIR/bzImage
  LAB_INITRAMFS=$LAB_CACHE/initramfs-$(lab_initramfs_key).cpio.gz
}
