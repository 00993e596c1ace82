#!/usr/bin/env bash
# Build a minimal OCI bundle whose rootfs is busybox-static.
#
#   scripts/mkbundle.sh DIR [-- CMD ARGS...]
#
# DIR/rootfs gets /bin/busybox (copied from the host, or $BUSYBOX) plus applet
# symlinks and the empty directories a runtime mounts onto (proc, dev, sys,
# tmp, etc).  DIR/config.json is
#   * `$RUNTIME spec` output when RUNTIME is set (e.g. RUNTIME=runc), or
#   * a built-in template equivalent to `runc spec` (runc 1.1.x) otherwise,
# in both cases with terminal=false and process.args set to CMD ARGS...
# (default: sh).  The template also adds a cgroup namespace.
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

if [ -n "${RUNTIME:-}" ]; then
    command -v jq >/dev/null || { echo "$0: RUNTIME=... needs jq" >&2; exit 1; }
    rm -f "$dir/config.json"
    (cd "$dir" && "$RUNTIME" spec)
    jq --argjson args "[$args]" '.process.terminal = false | .process.args = $args' \
        "$dir/config.json" >"$dir/config.json.tmp"
    mv "$dir/config.json.tmp" "$dir/config.json"
    exit 0
fi

caps='"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"'
cat >"$dir/config.json" <<EOF
{
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ $args ],
    "env": [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm"
    ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ $caps ],
      "effective": [ $caps ],
      "permitted": [ $caps ],
      "ambient": [ $caps ]
    },
    "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs", "readonly": true },
  "hostname": "runc",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": [ "nosuid", "noexec", "nodev" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": [ "nosuid", "noexec", "nodev", "ro" ] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
      "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] }
  ],
  "linux": {
    "resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
    "namespaces": [
      { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
      { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }
    ],
    "maskedPaths": [
      "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
      "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
    ],
    "readonlyPaths": [
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
    ]
  }
}
EOF
