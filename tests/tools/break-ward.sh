#!/usr/bin/env bash
# Breaks ward's own security code, one deliberate breakage at a time, and
# checks that at least one test catches each (issue 15: a test suite is
# only as good as the bugs it notices). Each breakage is a literal edit of
# the source in a private worktree of HEAD (never this checkout); the
# script builds it, runs the tests named for it and expects them to FAIL,
# then restores the file.
#
#   tests/tools/break-ward.sh            every breakage (~1 min each here)
#   tests/tools/break-ward.sh --list     the breakages and their tests
#   tests/tools/break-ward.sh NAME...    only these
#
# Exit 0 when every breakage was caught; 1 when one was not (the report
# names it), or when an edit no longer applies (the code moved: update the
# breakage here). Needs root (the tests create containers), like the suite.
# WARD_BREAK_DIR: where the worktree and its target dir go (default
# target/break; the first build of the worktree takes a few minutes).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${WARD_BREAK_DIR:-$repo/target/break}

names=() files=() olds=() news=() tests=()
# breakage NAME FILE OLD NEW TEST: TEST is "PACKAGE:TARGET FILTER".
breakage() {
    names+=("$1") files+=("$2") olds+=("$3") news+=("$4") tests+=("$5")
}

breakage fds-not-closed crates/init/src/pipeline.rs \
    '    exec::seal_fds(who.preserve_fds())?;' \
    '' \
    'ward-tests:inside only_stdio_fds_are_open_in_the_container'
breakage no-seccomp-in-the-init crates/init/src/pipeline.rs \
    '    load_seccomp_last(who.seccomp())?;' \
    '' \
    'ward-tests:layers default_profile_denies_the_new_mount_api_with_mount'
breakage exec-skips-the-mount-namespace crates/init/src/pipeline.rs \
    '    let flags = differing_namespaces(e.init_pid);' \
    '    let flags = differing_namespaces(e.init_pid) & !(libc::CLONE_NEWNS as u64);' \
    'ward-tests:exec exec_joins_every_namespace_and_the_cgroup_of_the_init'
breakage inheritable-set-kept crates/init/src/capabilities.rs \
    '            inheritable: mask(&c.inheritable),' \
    '            inheritable: mask(&c.bounding),' \
    'ward-tests:escapes inheritable_file_caps_give_a_user_nothing'
breakage bounding-set-kept crates/init/src/capabilities.rs \
    '    let keep = c.map(|c| mask(&c.bounding)).unwrap_or(0);' \
    '    let keep = u64::MAX;' \
    'ward:sandbox no_caps_no_new_privs_seccomp::as_root'
breakage spec-without-no-new-privileges crates/runtime/src/template.rs \
    '    spec["process"]["noNewPrivileges"] = json!(true);' \
    '    spec["process"]["noNewPrivileges"] = json!(false);' \
    'ward-tests:policy hardened_spec_runs_and_compat_writes_runcs'
breakage masked-paths-skipped crates/init/src/pipeline.rs \
    '    masked::mask(new_root.as_fd(), &linux.masked_paths, mount_label)?;' \
    '' \
    'ward-tests:inside masked_and_readonly_paths'
breakage readonly-paths-skipped crates/init/src/pipeline.rs \
    '    masked::make_readonly(new_root.as_fd(), &linux.readonly_paths)?;' \
    '' \
    'ward-tests:inside masked_and_readonly_paths'
breakage exec-without-landlock crates/init/src/pipeline.rs \
    '    privileges::no_new_privs(p)?;
    if let Some(l) = landlock {
        l.restrict()?;
    }
    exec::reset_signals()?;' \
    '    privileges::no_new_privs(p)?;
    exec::reset_signals()?;' \
    'ward-tests:landlock exec_process_gets_the_same_domain'
breakage notify-filter-before-fds-sealed crates/init/src/pipeline.rs \
    '    exec::seal_fds(preserve_fds)?;
    if let Some(listener) = crate::seccomp::load(prog)? {' \
    '    if let Some(listener) = crate::seccomp::load(prog)? {' \
    'ward-tests:seccomp_notify notify_profile_keeps_no_fd_of_the_caller'
breakage sandbox-submounts-writable crates/sandbox/src/plan.rs \
    '            rootfs_recursive_readonly: true,' \
    '            rootfs_recursive_readonly: false,' \
    'ward:sandbox host_submounts_are_read_only_too'
breakage sandbox-keeps-the-hosts-root crates/sandbox/src/plan.rs \
    '    let remap = host.uid == 0 && !o.keep_root;' \
    '    let remap = false;' \
    'ward:sandbox root_callers_sandbox_is_the_hosts_nobody'
breakage death-signal-not-rearmed crates/init/src/pipeline.rs \
    '    let death_signal = if init.extras.keep_death_signal {' \
    '    let death_signal = if false {' \
    'ward:sandbox dies_with_its_parent::as_root'
breakage no-new-session crates/init/src/console.rs \
    '    nix::unistd::setsid()
        .layer("console", || "setsid".into())
        .map(drop)' \
    '    Ok(())' \
    'ward-tests:escapes tiocsti'
breakage policy-ignores-bind-sources crates/gate/src/context.rs \
    '        judge_sources(&mut ctx, resolved);' \
    '' \
    'ward-tests:policy bypass'
breakage init-mounts-what-was-not-judged crates/init/src/rootfs/source.rs \
    '    if id != pin {' \
    '    if false && id != pin {' \
    'ward-tests:escapes with_the_rule_off_the_init_mounts_only_the_judged_file'
breakage host-namespace-fails-open crates/gate/src/context.rs \
    '        Path::new("/proc/self/ns").join(kind),
    ]
    .iter()
    .filter_map(|p| id(p))
    .collect();
    refs.is_empty() || refs.contains(&joined)' \
    '    ]
    .iter()
    .filter_map(|p| id(p))
    .collect();
    refs.contains(&joined)' \
    'ward-tests:policy host_namespace_by_another_path_is_the_hosts'
breakage hooks-not-judged crates/policy/src/checks.rs \
    '        if !allowed {
            out.push(Trip::at(
                Place::Hooks,' \
    '        if false && !allowed {
            out.push(Trip::at(
                Place::Hooks,' \
    'ward-tests:policy hooks_are_judged_and_recorded'
breakage seccomp-cache-trusts-a-changed-entry crates/seccomp/src/cache.rs \
    '    if hex(&Sha256::digest(body.as_bytes())) != sum {' \
    '    if false && hex(&Sha256::digest(body.as_bytes())) != sum {' \
    'ward-tests:seccomp_cache a_cached_filter_still_denies_and_a_changed_entry_is_not_used'
breakage pull-skips-the-signature-check crates/engine/src/pull.rs \
    '    let admitted = check_trust(opts.policy, &client, &reference, &digest)?;' \
    '    let admitted = check_trust(opts.policy, &client, &reference, &digest).unwrap_or(Admitted { scope: String::new(), signature: None });' \
    'ward:image_registry only_images_signed_by_the_policys_key_are_pulled'

if [ "${1:-}" = --list ]; then
    for i in "${!names[@]}"; do
        printf '%-34s %-36s %s\n' "${names[$i]}" "${files[$i]}" "${tests[$i]}"
    done
    exit 0
fi
selected=("$@")
want() {
    [ ${#selected[@]} -eq 0 ] && return 0
    local s
    for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done
    return 1
}
for s in "${selected[@]}"; do
    printf '%s\n' "${names[@]}" | grep -qx -- "$s" || { echo "break-ward: no breakage named $s (--list)" >&2; exit 2; }
done

# A private worktree of HEAD: this checkout is never edited.
tree=$work/tree
if [ -d "$tree" ]; then
    git -C "$tree" checkout -q --detach "$(git -C "$repo" rev-parse HEAD)"
    git -C "$tree" reset -q --hard
else
    mkdir -p "$work"
    git -C "$repo" worktree add -q --detach "$tree" HEAD
fi
export CARGO_TARGET_DIR=$work/target WARD_ESCAPES_STRICT=1
cd "$tree"
echo "break-ward: building $(git rev-parse --short HEAD) in $tree (unbroken)"
cargo build -q --workspace

# Runs the test named for breakage $1, output to $2; its exit status.
named_test() {
    local target filter
    read -r target filter <<<"${tests[$1]}"
    cargo test -q -p "${target%%:*}" --test "${target#*:}" -- "$filter" >"$2" 2>&1
}

# The control: every named test passes on the unbroken code (a test that
# always fails would otherwise "catch" every breakage).
for i in "${!names[@]}"; do
    want "${names[$i]}" || continue
    if ! named_test "$i" "$work/control.log"; then
        echo "break-ward: ${tests[$i]} fails on the unbroken code (see $work/control.log)" >&2
        exit 1
    fi
done
echo "break-ward: the named tests pass on the unbroken code"

# Replaces OLD by NEW in FILE (exactly one occurrence) or fails.
edit() {
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
n = text.count(old)
if n != 1:
    sys.exit(f"{path}: the text to break occurs {n} times (expected once): {old!r}")
open(path, "w").write(text.replace(old, new))
EOF
}

missed=() stale=() caught=0
for i in "${!names[@]}"; do
    name=${names[$i]} file=${files[$i]}
    want "$name" || continue
    if ! edit "$file" "${olds[$i]}" "${news[$i]}"; then
        stale+=("$name")
        continue
    fi
    t0=$(date +%s)
    if ! cargo build -q --workspace 2>"$work/$name.build.log"; then
        echo "break-ward: $name: the broken code does not build (see $work/$name.build.log)" >&2
        stale+=("$name")
    elif named_test "$i" "$work/$name.log"; then
        missed+=("$name")
        echo "MISSED  $name ($(($(date +%s) - t0))s): ${tests[$i]} passed with the breakage"
    else
        caught=$((caught + 1))
        echo "CAUGHT  $name ($(($(date +%s) - t0))s): ${tests[$i]} failed"
    fi
    git checkout -q -- "$file"
done
echo "break-ward: $caught caught, ${#missed[@]} missed${missed:+ (${missed[*]})}, ${#stale[@]} stale${stale:+ (${stale[*]})}"
[ ${#missed[@]} -eq 0 ] && [ ${#stale[@]} -eq 0 ]
