#!/usr/bin/env bash
# Whole-process benchmark: `RUNTIME run` of /bin/true in a busybox bundle,
# for ward-oci, runc and crun in one hyperfine run.
#
#   scripts/bench.sh [hyperfine options...]      (needs root)
#
# Environment:
#   WARD_OCI     ward-oci binary (default: the static release build of
#                scripts/build-release.sh, built here)
#   RUNC, CRUN   runc/crun binaries (default: from PATH)
#   BENCH_RUNS   runs per runtime (default 50), BENCH_WARMUP (default 5)
#   BENCH_JSON   also keep hyperfine's JSON export at this path
#   BENCH_SECCOMP  none (default) | docker: the bundle carries Docker's default
#                seccomp profile (testdata/reference, resolved for this host
#                with Docker's default capabilities: what every `docker run`
#                sends), in OCI form
#   BENCH_ROOT   kept (default) | fresh: each runtime keeps one --root for
#                all its runs, as an engine does (/run/docker/runtime-runc,
#                /run/containerd/runc/...), so caches under it count (ward's
#                and crun's compiled seccomp filters); `fresh` recreates it
#                before every run (hyperfine's --prepare, not timed), the
#                setting of the figures before 2026-12-07
#   RUNTIMES_EXTRA  more runtimes to compare, as NAME=PATH words (e.g. a
#                newer crun built by hand: "crun127=/opt/crun-1.27/crun")
#
# Each run gets a unique container id (b-<pid of the shell hyperfine
# spawns>; hyperfine subtracts that shell's start-up time). `run` deletes
# the container when /bin/true exits; everything else is removed on exit.
# Prints the median wall time of each runtime and the ratios ward/OTHER of
# medians, and of mean CPU time (user + system, hyperfine's means).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

[ "$(id -u)" = 0 ] || { echo "$0: needs root" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "$0: hyperfine not installed (apt-get install hyperfine)" >&2; exit 1; }
command -v jq >/dev/null || { echo "$0: jq not installed" >&2; exit 1; }

if [ -n "${WARD_OCI:-}" ]; then
    ward=$WARD_OCI
else
    ward=$("$here/build-release.sh")/ward-oci
fi
runc=${RUNC:-$(command -v runc || true)}
crun=${CRUN:-$(command -v crun || true)}
runs=${BENCH_RUNS:-50}
warmup=${BENCH_WARMUP:-5}

work=$(mktemp -d /tmp/ward-bench.XXXXXX)
cleanup() {
    # Containers are deleted by `run` itself; remove what may remain after an
    # interrupted iteration (state under our roots), then the work dir.
    for r in "$work"/root-*; do
        [ -d "$r" ] || continue
        name=${r##*/root-}
        bin=${bins[$name]:-}
        if [ -n "$bin" ]; then
            for c in $("$bin" --root "$r" list -q 2>/dev/null); do
                "$bin" --root "$r" delete --force "$c" >/dev/null 2>&1 || true
            done
        fi
    done
    rm -rf "$work"
}
declare -A bins=()
trap cleanup EXIT

"$here/mkbundle.sh" "$work/bundle" -- /bin/true
case ${BENCH_SECCOMP:-none} in
none) ;;
docker)
    (cd "$repo" && cargo build -q -p ward-seccomp --bin ward-seccomp-exec)
    "$repo/target/debug/ward-seccomp-exec" --docker "$repo/testdata/reference/docker-default-seccomp.json" oci \
        >"$work/seccomp.json"
    jq --slurpfile p "$work/seccomp.json" '.linux.seccomp = $p[0]' "$work/bundle/config.json" \
        >"$work/config.json" && mv "$work/config.json" "$work/bundle/config.json"
    ;;
*) echo "$0: BENCH_SECCOMP must be none or docker" >&2; exit 1 ;;
esac
fresh_root=0
case ${BENCH_ROOT:-kept} in
kept) ;;
fresh) fresh_root=1 ;;
*) echo "$0: BENCH_ROOT must be kept or fresh" >&2; exit 1 ;;
esac

names=()
add() { # name binary
    [ -n "$2" ] && [ -x "$2" ] || return 0
    names+=("$1")
    bins[$1]=$2
}
if [ -x "$ward" ]; then
    add ward "$ward"
else
    echo "NOTE: ward-oci not found at $ward (build it: scripts/build-release.sh, or set WARD_OCI);"
    echo "      benchmarking runc vs crun only."
fi
add runc "$runc"
add crun "$crun"
for extra in ${RUNTIMES_EXTRA:-}; do
    add "${extra%%=*}" "${extra#*=}"
done
[ ${#names[@]} -ge 1 ] || { echo "$0: no runtime found" >&2; exit 1; }

# crun refuses a hybrid cgroup layout without a v1 hugetlb hierarchy.
if [ -n "${bins[crun]:-}" ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null \
    && ! mountpoint -q /sys/fs/cgroup/hugetlb 2>/dev/null; then
    mkdir -p /sys/fs/cgroup/hugetlb
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb \
        || echo "warning: could not mount /sys/fs/cgroup/hugetlb; crun may refuse to run" >&2
fi

# Sanity: each runtime must actually run the bundle.
for n in "${names[@]}"; do
    r="$work/root-$n"
    mkdir -p "$r"
    if ! "${bins[$n]}" --root "$r" run --bundle "$work/bundle" "check-$n-$$" </dev/null; then
        echo "$0: $n (${bins[$n]}) cannot run the bundle" >&2
        exit 1
    fi
done

hf=()
for n in "${names[@]}"; do
    r="$work/root-$n"
    if [ "$fresh_root" = 1 ]; then
        hf+=(--command-name "$n" --prepare "rm -rf '$r' && mkdir '$r'")
    else
        hf+=(--command-name "$n")
    fi
    hf+=("'${bins[$n]}' --root '$r' run --bundle '$work/bundle' b-$n-\$\$ </dev/null")
done

json=$work/result.json
hyperfine --warmup "$warmup" --runs "$runs" --export-json "$json" "$@" "${hf[@]}"
[ -z "${BENCH_JSON:-}" ] || cp "$json" "$BENCH_JSON"

echo
echo "Median wall time of \`run\` (/bin/true, busybox bundle, seccomp ${BENCH_SECCOMP:-none}, root ${BENCH_ROOT:-kept}), $runs runs each:"
declare -A med=()
for n in "${names[@]}"; do
    m=$(jq -r --arg n "$n" '.results[] | select(.command == $n) | .median' "$json")
    med[$n]=$m
    awk -v n="$n" -v m="$m" 'BEGIN { printf "  %-5s %8.2f ms\n", n, m * 1000 }'
done
cpu() { jq -r --arg n "$1" '.results[] | select(.command == $n) | (.user + .system)' "$json"; }
if [ -n "${med[ward]:-}" ]; then
    for o in "${names[@]}"; do
        [ "$o" != ward ] || continue
        awk -v a="${med[ward]}" -v b="${med[$o]}" -v ca="$(cpu ward)" -v cb="$(cpu "$o")" -v o="$o" \
            'BEGIN { printf "  ward/%s = %.2f wall (median ratio; < 1 means ward is faster), %.2f cpu (mean ratio)\n", o, a / b, ca / cb }'
    done
else
    echo "  (no ward-oci: no ward ratios)"
    if [ -n "${med[runc]:-}" ] && [ -n "${med[crun]:-}" ]; then
        awk -v a="${med[runc]}" -v b="${med[crun]}" 'BEGIN { printf "  runc/crun = %.2f\n", a / b }'
    fi
fi
