#!/usr/bin/env bash
# Fault-injecting wrapper around a real runtime, to check that the contract
# tests can fail (see docs/testing.md, "Checking the tests themselves"):
#
#   MUTATION=no-mask WARD_TEST_RUNTIME=$PWD/tests/tools/mutate-runtime.sh \
#       CARGO_TARGET_DIR=/work/target-tests cargo test -p ward-tests --no-fail-fast
#
# Each MUTATION breaks one piece of the contract; at least one test must fail.
# REAL_RUNTIME (default: runc) is what actually runs. The wrapper's file name
# is not runc/crun, so the suite holds it to runc's behaviour.
set -u
real=${REAL_RUNTIME:-runc}
args=("$@")
cmd="" bundle=$PWD
n=${#args[@]}
i=0
while [ "$i" -lt "$n" ]; do
    case "${args[$i]}" in
        --root | --log | --log-format) i=$((i + 2)); continue ;;
        --bundle | -b) bundle=${args[$((i + 1))]} ;;
        run | create | start | state | kill | delete | exec | list | ps | spec)
            [ -n "$cmd" ] || cmd=${args[$i]} ;;
    esac
    i=$((i + 1))
done
last=${args[$((n - 1))]:-}
mut() {
    jq "$1" "$bundle/config.json" >"$bundle/config.json.m" && mv "$bundle/config.json.m" "$bundle/config.json"
}
if [ "$cmd" = run ] || [ "$cmd" = create ]; then
    case "${MUTATION:-}" in
        drop-netns) mut 'del(.linux.namespaces[] | select(.type=="network"))' ;;
        no-mask) mut '.linux.maskedPaths=[]' ;;
        no-ropaths) mut '.linux.readonlyPaths=[]' ;;
        rw-root) mut '.root.readonly=false' ;;
        no-rlimits) mut '.process.rlimits=[]' ;;
        no-hostname) mut 'del(.hostname)' ;;
        env-leak) mut '.process.env += ["WARD_LEAK_CANARY=x"]' ;;
        no-umask) mut 'del(.process.user.umask)' ;;
        no-devices) mut 'del(.linux.devices)' ;;
        no-sysctl) mut 'del(.linux.sysctl)' ;;
        no-groups) mut 'del(.process.user.additionalGids)' ;;
        no-hooks) mut 'del(.hooks)' ;;
        no-annotations) mut 'del(.annotations)' ;;
        bind-rw) mut '(.mounts[] | select(.destination=="/data") | .options) |= map(select(. != "ro"))' ;;
        no-cwd) mut '.process.cwd="/"' ;;
    esac
fi
case "${MUTATION:-}:$cmd" in
    exit0:run) "$real" "$@"; exit 0 ;;
    ignore-preserve:run)
        new=() skip=0
        for a in "$@"; do
            if [ "$skip" = 1 ]; then skip=0; continue; fi
            if [ "$a" = --preserve-fds ]; then skip=1; continue; fi
            new+=("$a")
        done
        exec "$real" "${new[@]}" ;;
    leak-cgroup:delete)
        "$real" "$@"; rc=$?
        for h in /sys/fs/cgroup/pids /sys/fs/cgroup/unified /sys/fs/cgroup; do
            [ -d "$h" ] && mkdir -p "$h/$last-leak" && break
        done
        exit $rc ;;
    fake-kill:kill) exit 0 ;;
    no-created:state) "$real" "$@" | jq 'del(.created)'; exit "${PIPESTATUS[0]}" ;;
    fail-ok:state) "$real" "$@" 2>/dev/null; exit 0 ;;
    quiet-errors:*) "$real" "$@" 2>/dev/null; exit $? ;;
esac
exec "$real" "$@"
