#!/usr/bin/env bash
# Release build of `ward` and `ward-oci` as static-pie executables (glibc
# and libseccomp linked in). Prints the directory that holds them.
#
#   scripts/build-release.sh [cargo build options...]
#
# Why static: a dynamically linked ward spends about 0.6 ms of every start
# in the dynamic loader (mapping libseccomp, libgcc_s and libc, resolving
# every symbol up front because of full RELRO) — more than a tenth of
# `ward sandbox -- /bin/true` — and ward-oci pays it twice (it re-executes
# itself from a read-only copy, CVE-2019-5736). A static-pie keeps ASLR and
# a read-only GOT, and ward calls nothing that needs glibc's NSS or dlopen.
# `--target` is explicit so that +crt-static applies to the binaries only,
# not to build scripts and proc-macros (which must stay dynamic).
# Needs libseccomp.a (Debian: libseccomp-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
triple=$(rustc -vV | sed -n 's/^host: //p')
libdir=$(pkg-config --variable=libdir libseccomp 2>/dev/null || true)
if [ -z "$libdir" ] || [ ! -f "$libdir/libseccomp.a" ]; then
    echo "build-release: libseccomp.a not found (install libseccomp-dev and pkg-config)" >&2
    exit 1
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH=$libdir \
    cargo build --release -q --target "$triple" -p ward -p ward-oci "$@" >&2
dir=$CARGO_TARGET_DIR/$triple/release
for b in ward ward-oci; do
    # A dynamic binary here would silently bring the loader's cost back.
    if ! file -L "$dir/$b" | grep -q 'static-pie linked'; then
        echo "build-release: $dir/$b is not a static-pie executable: $(file -L "$dir/$b")" >&2
        exit 1
    fi
done
echo "$dir"
