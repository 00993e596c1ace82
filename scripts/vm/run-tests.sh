#!/usr/bin/env bash
# Run ward's privileged tests inside a qemu guest with a Debian kernel,
# cgroup v2 only and AppArmor on. See docs/vm-harness.md.
#
#   scripts/vm/run-tests.sh [OPTIONS] [FILTER...]
#
# FILTER is SELECTOR[/SUBSTRING]: SELECTOR is a package (ward-cgroups), a
# test target (apparmor, limits) or PACKAGE:TARGET (ward-tests:lifecycle,
# ward-cgroups:lib); SUBSTRING keeps the tests whose name contains it. No
# filter: every test binary of the workspace.
#
# Options:
#   --kernel K        bookworm (default), backports, or all (both, in turn)
#   --timeout S       hard limit of one qemu run, seconds (default 2400)
#   --test-timeout S  limit of one test in the guest, seconds (default 600)
#   --require-run RE  fail unless every planned test matching RE ("LABEL NAME")
#                     ran and passed (not skipped); repeatable
#   --xfail RE        a failure of the tests matching RE is expected (a known
#                     bug): reported, not counted as failed; repeatable
#   --env NAME=VALUE  set in the tests' environment in the guest; repeatable
#   --append ARGS     extra kernel command line (e.g. to test a broken boot)
#   --mem MB --smp N  guest size (default 2048, 2)
#   --list            print the plan and stop
#   -v, --verbose     stream the guest console
#
# Environment: CARGO_TARGET_DIR (the harness uses that target dir, and
# caches under TARGET/vm), WARD_VM_ACCEL=kvm|tcg (skip the probe),
# WARD_VM_TCG_THREAD=single|multi (TCG's threading, default single),
# WARD_VM_MODULES (extra guest kernel modules to load, space separated).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ws=$(cd "$here/../.." && pwd)

kernels=bookworm
qemu_timeout=2400
test_timeout=600
mem=2048
smp=2
append=
list_only=0
verbose=0
require=()
guest_env=()
filters=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernels=$2; shift 2 ;;
	--timeout) qemu_timeout=$2; shift 2 ;;
	--test-timeout) test_timeout=$2; shift 2 ;;
	--require-run) require+=(--require-run "$2"); shift 2 ;;
	--xfail) require+=(--xfail "$2"); shift 2 ;;
	--append) append=$2; shift 2 ;;
	--env)
		case "$2" in [A-Za-z_]*=*) ;; *) echo "run-tests.sh: --env wants NAME=VALUE" >&2; exit 2 ;; esac
		guest_env+=("$2"); shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--list) list_only=1; shift ;;
	-v | --verbose) verbose=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	--) shift; filters+=("$@"); break ;;
	-*) echo "run-tests.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	*) filters+=("$1"); shift ;;
	esac
done
case "$kernels" in
bookworm | backports) kernel_list=("$kernels") ;;
all) kernel_list=(bookworm backports) ;;
*) echo "run-tests.sh: --kernel must be bookworm, backports or all" >&2; exit 2 ;;
esac

log() { echo "vm: $*" >&2; }
die() { echo "vm: FAIL: $*" >&2; exit 1; }
t_start=$(date +%s)

# ---------------------------------------------------------------- packages
export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return 0
	apt_updated=1
	# Skip when the lists are less than a day old.
	[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ] && return 0
	log "apt-get update"
	apt-get update -qq || log "warning: apt-get update failed"
}
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
{ [ -x /usr/bin/busybox ] && ! ldd /usr/bin/busybox >/dev/null 2>&1; } ||
	need+=(busybox-static)
command -v apparmor_parser >/dev/null || [ -x /usr/sbin/apparmor_parser ] || need+=(apparmor)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing ${need[*]}: run as root or apt-get install ${need[*]}"
	apt_update
	log "installing ${need[*]}"
	apt_log=$(mktemp)
	apt-get install -y -qq --no-install-recommends "${need[@]}" >"$apt_log" 2>&1 ||
		{ cat "$apt_log" >&2; die "apt-get install ${need[*]} failed"; }
	rm -f "$apt_log"
fi
[ "$(id -u)" = 0 ] || log "warning: not root: the guest runs the tests as root anyway"

# ------------------------------------------------------------ workspace
cd "$ws"
meta_json=$(cargo metadata --no-deps --format-version 1) || die "cargo metadata failed"
target=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' <<<"$meta_json")
vm=${WARD_VM_CACHE:-$target/vm}
mkdir -p "$vm/debs" "$vm/kernels" "$vm/runs"

# ---------------------------------------------------------------- kernels
# fetch_kernel FLAVOUR -> prints the extracted kernel dir.
backports_apt=()
setup_backports() {
	local d=$vm/apt-backports
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	# A private source list: the host's apt configuration is left alone.
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main" >"$d/sources.list"
	backports_apt=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache")
	if [ -z "$(find "$d/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
		log "apt-get update (bookworm-backports, private list under $d)"
		apt-get "${backports_apt[@]}" update -qq >/dev/null 2>&1 || return 1
	fi
}

fetch_kernel() {
	local flavour=$1 apt=() pkg ver dir deb keep old
	if [ "$flavour" = backports ]; then
		setup_backports || log "bookworm-backports unreachable"
		apt=("${backports_apt[@]}")
	else
		apt_update >&2
	fi
	pkg=$(apt-cache "${apt[@]}" depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	ver=
	[ -n "$pkg" ] && ver=$(apt-cache "${apt[@]}" policy "$pkg" 2>/dev/null | awk '/Candidate:/{print $2; exit}')
	if [ -z "$pkg" ] || [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		# Offline: the newest cached kernel of this flavour.
		dir=$(ls -d "$vm/kernels/$flavour-"* 2>/dev/null | sort -V | tail -1 || true)
		[ -n "$dir" ] && [ -f "$dir/.complete" ] || return 1
		log "no $flavour kernel package found by apt; using the cached $(basename "$dir")"
		echo "$dir"
		return 0
	fi
	dir=$vm/kernels/$flavour-$pkg-$ver
	if [ ! -f "$dir/.complete" ]; then
		log "downloading $pkg $ver ($flavour)"
		rm -rf "$dir" "$vm/debs/tmp"
		mkdir -p "$vm/debs/tmp"
		(cd "$vm/debs/tmp" && apt-get "${apt[@]}" download "$pkg=$ver" >/dev/null 2>&1) ||
			{ log "apt-get download $pkg=$ver failed"; return 1; }
		deb=$(ls "$vm/debs/tmp"/*.deb)
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir" || return 1
		ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1 || { log "no vmlinuz in $deb"; return 1; }
		keep=$vm/debs/$flavour-$(basename "$deb")
		mv "$deb" "$keep"
		rmdir "$vm/debs/tmp"
		echo "$pkg $ver" >"$dir/.complete"
		# Older versions of this flavour are not needed any more.
		for old in "$vm/kernels/$flavour-"* "$vm/debs/$flavour-"*.deb; do
			[ "$old" = "$dir" ] || [ "$old" = "$keep" ] || rm -rf "$old"
		done
	fi
	echo "$dir"
}

# ------------------------------------------------------------------ build
log "building (target dir $target)"
cargo build -p ward-oci --message-format=json-render-diagnostics >"$vm/ward-oci.json" ||
	die "cargo build -p ward-oci failed"
runtime=$(python3 -c '
import json,sys
for l in open(sys.argv[1]):
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ward-oci" and m.get("executable"):
        print(m["executable"])' "$vm/ward-oci.json" | tail -1)
[ -x "$runtime" ] || die "no ward-oci binary after cargo build"
cargo test --workspace --no-run --message-format=json-render-diagnostics >"$vm/artifacts.json" ||
	die "cargo test --no-run failed"
echo "$meta_json" >"$vm/metadata.json"

# Keep the logs of the last 20 runs.
find "$vm/runs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +21 |
	cut -d' ' -f2- | xargs -r -d '\n' rm -rf
stamp=$(date +%Y%m%d-%H%M%S)-$$
plan_dir=$vm/runs/$stamp
mkdir -p "$plan_dir"
python3 "$here/vm.py" plan --metadata "$vm/metadata.json" --artifacts "$vm/artifacts.json" \
	--out "$plan_dir/plan.tsv" "${filters[@]}" || exit $?
if [ $list_only = 1 ]; then
	cut -f1,4 "$plan_dir/plan.tsv" | tr '\t' ' '
	rm -rf "$plan_dir"
	exit 0
fi

# ----------------------------------------------------------------- accel
accel=${WARD_VM_ACCEL:-}
probe_kvm() {
	# /dev/kvm can exist yet not run a guest (no nested virtualisation):
	# boot the kernel for a few seconds and look for its banner.
	local kdir=$1 f=$vm/kvm-probe.log
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	rm -f "$f"
	timeout 15 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nodefaults -no-user-config \
		-display none -no-reboot -kernel "$kdir"/boot/vmlinuz-* \
		-append "console=ttyS0 earlyprintk=serial panic=-1" -serial "file:$f" \
		</dev/null >/dev/null 2>&1 || true
	grep -q 'Linux version' "$f" 2>/dev/null
}

# ------------------------------------------------------------------ shares
# Read-only 9p exports, mounted at the same paths in the guest: the host's
# /usr and /etc (every tool and library, as on the host) and the workspace,
# its target dir and the shared/ beside it (test binaries use absolute
# paths into them).
shares=()
add_share() {
	local p s
	p=$(cd "$1" 2>/dev/null && pwd -P) || return 0
	for s in "${shares[@]}"; do
		case "$p/" in "$s"/*) return 0 ;; esac
	done
	shares+=("$p")
}
mkdir -p "$target/tmp"
add_share "$ws"
add_share "$target"
[ -d "$ws/../shared" ] && add_share "$ws/../shared"
case "$runtime" in "$ws"/* | "$target"/*) ;; *) add_share "$(dirname "$runtime")" ;; esac
for s in "${shares[@]}"; do
	case "$s" in /usr | /usr/* | /etc | /etc/* | /proc/* | /sys/* | /dev/* | /) die "cannot export $s to the guest at the same path: move the workspace or its target dir" ;; esac
done
shares=(/usr /etc "${shares[@]}")

# ------------------------------------------------------------------- run
modules=(virtio_pci 9pnet_virtio 9p overlay ${WARD_VM_MODULES:-})
overall=0
summaries=()
sum_p=0 sum_f=0 sum_s=0 sum_x=0
for flavour in "${kernel_list[@]}"; do
	# One harness at a time downloads and builds the shared artefacts.
	exec 9>>"$vm/lock"
	flock 9
	kdir=$(fetch_kernel "$flavour") || {
		flock -u 9
		if [ "$flavour" = backports ]; then
			log "no bookworm-backports kernel available: skipping it"
			summaries+=("backports: not available (no bookworm-backports source reachable)")
			continue
		fi
		die "could not get the $flavour kernel package (linux-image-amd64)"
	}
	vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -1)
	kver=${vmlinuz##*/vmlinuz-}
	run=$vm/runs/$stamp-$flavour
	mkdir -p "$run"
	cp "$plan_dir/plan.tsv" "$run/plan.tsv"

	if [ -z "$accel" ]; then
		key=$vm/accel.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
		if [ -f "$key" ]; then
			accel=$(cat "$key")
		else
			if probe_kvm "$kdir"; then accel=kvm; else accel=tcg; fi
			echo "$accel" >"$key"
		fi
		log "accelerator: $accel"
	fi
	if [ "$accel" = kvm ]; then
		accel_args=(-accel kvm -cpu host)
	else
		# Single-threaded TCG: with thread=multi the 6.12 guest once took an
		# "Oops: int3" in devcgroup_check_permission right after a static
		# key flip (cross-modifying code between vCPUs), and on this loaded
		# 2-core host single is also faster (79 s vs 103 s for 32 tests).
		accel_args=(-accel "tcg,thread=${WARD_VM_TCG_THREAD:-single}" -cpu max)
	fi

	# The initramfs, cached per kernel and content of what goes in.
	key=$(cat "$here/guest-init.sh" /usr/bin/busybox | sha256sum | cut -c1-16)-$(echo "${modules[*]}" | sha256sum | cut -c1-8)
	initrd=$kdir/initramfs-$key.cpio
	if [ ! -f "$initrd" ]; then
		rm -f "$kdir"/initramfs-*.cpio
		loaded=$(python3 "$here/vm.py" initramfs --kdir "$kdir" --init "$here/guest-init.sh" \
			--busybox /usr/bin/busybox --out "$initrd" "${modules[@]}") || die "building the initramfs failed"
		log "initramfs for $kver: modules $loaded"
	fi

	flock -u 9

	{
		echo "TEST_TIMEOUT=$test_timeout"
		echo "WARD_TEST_RUNTIME=$(printf %q "$runtime")"
		echo "ACCEL=$accel"
		# Cargo's scratch dir for integration tests (CARGO_TARGET_TMPDIR):
		# writable (a tmpfs) in the guest.
		echo "SCRATCH_DIRS=$(printf %q "$target/tmp")"
		for e in "${guest_env[@]}"; do echo "export $(printf %q "$e")"; done
	} >"$run/config.sh"
	virtfs=()
	i=0
	for s in "${shares[@]}"; do
		virtfs+=(-virtfs "local,path=$s,mount_tag=share$i,security_model=none,readonly=on,multidevs=remap,id=fs$i")
		i=$((i + 1))
	done
	share_list=$(
		IFS=,
		echo "${shares[*]}"
	)
	cmdline="console=ttyS0 cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 apparmor=1 security=apparmor panic=-1 quiet ward.shares=$share_list ward.run=$run $append"
	[ ${#cmdline} -lt 2000 ] || die "kernel command line too long (${#cmdline} chars): use shorter paths"

	ntests=$(grep -c . "$run/plan.tsv")
	log "booting $kver ($flavour, $accel, ${mem}M, $smp cpus) to run $ntests tests; console: $run/console.log"
	: >"$run/console.log"
	: >"$run/results.log"
	t0=$(date +%s)
	timeout -k 10 "$qemu_timeout" qemu-system-x86_64 "${accel_args[@]}" -m "$mem" -smp "$smp" \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$vmlinuz" -initrd "$initrd" -append "$cmdline" \
		-serial "file:$run/console.log" -serial "file:$run/results.log" \
		"${virtfs[@]}" </dev/null >"$run/qemu.log" 2>&1 &
	qpid=$!
	# Progress while it runs (tail stops when qemu's timeout process ends).
	if [ $verbose = 1 ]; then
		tail -n +1 -F --pid=$qpid "$run/console.log" 2>/dev/null || true
	else
		tail -n +1 -F --pid=$qpid "$run/console.log" 2>/dev/null | grep --line-buffered -a 'ward-vm: \[' || true
	fi
	qrc=0
	wait $qpid || qrc=$?
	t1=$(date +%s)
	log "qemu exited $qrc after $((t1 - t0))s"
	if [ $qrc = 124 ] || [ $qrc = 137 ]; then
		log "qemu hit the hard timeout of ${qemu_timeout}s"
	elif [ $qrc != 0 ]; then
		log "qemu failed:"
		sed 's/^/    /' "$run/qemu.log" >&2
	fi
	set +e
	python3 "$here/vm.py" report --results "$run/results.log" --plan "$run/plan.tsv" \
		--console "$run/console.log" --name "$kver" --counts "$run/counts" "${require[@]}" | tee "$run/report.txt"
	rrc=${PIPESTATUS[0]}
	set -e
	[ $qrc = 0 ] || rrc=1
	[ $rrc = 0 ] || overall=1
	read -r np nf ns nx <"$run/counts" 2>/dev/null || { np=0; nf=1; ns=0; nx=0; }
	sum_p=$((sum_p + np)) sum_f=$((sum_f + nf)) sum_s=$((sum_s + ns)) sum_x=$((sum_x + nx))
	summaries+=("$flavour $kver: $np passed, $nf failed, $ns skipped$([ "$nx" = 0 ] || echo ", $nx expected failures") in $((t1 - t0))s: $([ $rrc = 0 ] && echo OK || echo FAILED)")
	ln -sfn "$(basename "$run")" "$vm/runs/last"
done
rm -rf "$plan_dir"

echo
for s in "${summaries[@]}"; do echo "vm: $s"; done
echo "vm: total time $(($(date +%s) - t_start))s; logs under $vm/runs/"
[ $overall = 0 ] && echo "vm: OK" || echo "vm: FAILED"
# The closing line, in the plain form CI reads.
echo "vm: $sum_p passed, $sum_f failed, $sum_s skipped"
exit $overall
