#!/usr/bin/env bash
# Build a minimal OCI bundle whose rootfs is busybox-static.
#
#   scripts/mkbundle.sh DIR [-- CMD ARGS...]
#
# DIR/rootfs gets /bin/busybox (copied from the host, or $BUSYBOX) plus applet
# symlinks and the empty directories a runtime mounts onto (proc, dev, sys,
# tmp, etc).  DIR/config.json is
#   * `$RUNTIME spec` output when RUNTIME is set (e.g. RUNTIME=runc), or
#   * `ward-oci spec --compat runc` otherwise (runc's template with a cgroup
#     namespace and Docker's masked paths; the one copy of it is
#     crates/runtime/src/template.rs): $WARD_OCI, else target/release or
#     target/debug ward-oci, else `cargo run -p ward-oci`,
# in both cases with terminal=false and process.args set to CMD ARGS...
# (default: sh).  Needs jq.
set -euo pipefail

usage() {
    echo "usage: $0 DIR [-- CMD ARGS...]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
dir=$1
shift
if [ $# -gt 0 ]; then
    [ "$1" = "--" ] || usage
    shift
fi
if [ $# -eq 0 ]; then
    set -- sh
fi

busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "$0: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if command -v file >/dev/null && ! file -L "$busybox" | grep -q 'statically linked'; then
    echo "$0: warning: $busybox does not look statically linked" >&2
fi

mkdir -p "$dir/rootfs"
rootfs=$dir/rootfs
mkdir -p "$rootfs"/{bin,proc,dev,sys,tmp,etc,root}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
chmod 755 "$rootfs/bin/busybox"

# (umask and ulimit are sh builtins.)
applets="sh cat ls id hostname ip sleep echo true false env readlink stat grep wc
mount umount pwd kill ps head tr test tty touch mkdir rm ln chmod sed awk printf
uname"
for a in $applets; do
    ln -sfn busybox "$rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

# JSON string escaping for the args array.
json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/\\t}
    s=${s//$'\n'/\\n}
    printf '"%s"' "$s"
}
args=""
for a in "$@"; do
    [ -z "$args" ] || args="$args, "
    args="$args$(json_str "$a")"
done

command -v jq >/dev/null || { echo "$0: needs jq (apt-get install jq)" >&2; exit 1; }
rm -f "$dir/config.json"
if [ -n "${RUNTIME:-}" ]; then
    (cd "$dir" && "$RUNTIME" spec)
else
    repo=$(cd "$(dirname "$0")/.." && pwd)
    ward=${WARD_OCI:-}
    for b in "$repo/target/release/ward-oci" "$repo/target/debug/ward-oci"; do
        [ -n "$ward" ] || [ ! -x "$b" ] || ward=$b
    done
    if [ -n "$ward" ]; then
        (cd "$dir" && "$ward" spec --compat runc)
    else
        bundle=$(cd "$dir" && pwd)
        (cd "$repo" && cargo run -q -p ward-oci -- spec --compat runc --bundle "$bundle")
    fi
    # The version runc 1.1 writes: crun 1.8 (Debian 12) refuses "1.2.0",
    # and scripts/bench.sh runs this bundle with runc and crun too.
    jq '.ociVersion = "1.0.2-dev"' "$dir/config.json" >"$dir/config.json.tmp"
    mv "$dir/config.json.tmp" "$dir/config.json"
fi
jq --argjson args "[$args]" '.process.terminal = false | .process.args = $args' \
    "$dir/config.json" >"$dir/config.json.tmp"
mv "$dir/config.json.tmp" "$dir/config.json"
