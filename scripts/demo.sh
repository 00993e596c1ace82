#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install what is missing,
# build ward-oci, build a busybox bundle, and run a container that shows
# what it can and cannot do. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "demo: run as root (ward-oci creates real containers)" >&2
    exit 1
fi
if ! [ -x /bin/busybox ] || ! file -L /bin/busybox 2>/dev/null | grep -q static || ! command -v jq >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq busybox-static file jq >/dev/null
fi
cargo build --release -q -p ward-oci
bin=$PWD/target/release/ward-oci

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts/mkbundle.sh "$work/bundle" -- /bin/sh -c '
echo "hostname:     $(hostname)"
echo "pid:          $$ (the container init)"
echo "network:      $(ls /sys/class/net | tr "\n" " ")"
grep -E "^(Cap(Eff|Bnd)|NoNewPrivs)" /proc/self/status | sed "s/^/status:       /"
if touch /host-write 2>/dev/null; then echo "rootfs:       WRITABLE"; else echo "rootfs:       read-only (write refused)"; fi
echo "/proc/keys:   $(wc -c </proc/keys) bytes visible (masked with /dev/null)"
if echo 1 > /proc/sys/kernel/panic 2>/dev/null; then echo "/proc/sys:    WRITABLE"; else echo "/proc/sys:    read-only"; fi
' >/dev/null
"$bin" --root "$work/state" run -b "$work/bundle" "demo-$$"
echo "exit code:    $?"
