#!/bin/sh
# /init of the VM test harness's guest (see docs/vm-harness.md). Run by a
# static busybox sh, in two stages:
#
#  stage 1 (pid 1 in the initramfs): load the virtio/9p modules, build a
#    tmpfs root whose /usr and /etc are the host's (read-only 9p) and which
#    has the host's workspace and target dirs at the same paths (read-only
#    9p), then switch_root into it. A tmpfs root (not the initramfs) so
#    that pivot_root works in containers.
#  stage 2 (pid 1 in the tmpfs root): mount what a cgroup-v2/AppArmor host
#    has, run every test of the plan one by one, write the results to the
#    second serial port (/dev/ttyS1) between @@WARD-VM@@ markers, power off.
#
# Kernel command line: ward.shares=PATH,PATH,... (9p tags share0, share1,
# ...) and ward.run=HOSTDIR (holds plan.tsv and config.sh).

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

say() { echo "ward-vm: $*" >/dev/console 2>/dev/null || echo "ward-vm: $*"; }

die() {
	say "FATAL: $*"
	[ -e /dev/ttyS1 ] && echo "@@WARD-VM@@ FATAL $*" >/dev/ttyS1
	sync
	# pid 1 exiting panics the kernel; with panic=-1 and -no-reboot qemu exits.
	busybox poweroff -f
	echo o >/proc/sysrq-trigger 2>/dev/null
	exit 1
}

param() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "$1"=*) echo "${w#*=}"; return 0 ;; esac
	done
	return 1
}

stage1() {
	/bin/busybox mkdir -p /usr/bin /usr/sbin /sbin
	/bin/busybox --install -s /bin
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev
	say "stage 1: kernel $(uname -r)"
	for m in $(cat /modules/order); do
		insmod "/modules/$m.ko" || say "insmod $m failed"
	done
	shares=$(param ward.shares) || die "no ward.shares= on the kernel command line"
	mount -t tmpfs -o mode=0755,size=80% root /newroot || die "tmpfs root"
	cd /newroot || die "cd /newroot"
	mkdir -p usr etc proc sys dev tmp run root var/tmp var/lib mnt opt home
	chmod 1777 tmp var/tmp
	chmod 0700 root
	for l in bin sbin lib lib32 lib64 libx32; do ln -s "usr/$l" "$l"; done
	ln -s ../run var/run
	# /tmp and /run first: a share may live below them (a clone in /tmp).
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs tmp || die "tmpfs /tmp"
	mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs run || die "tmpfs /run"
	i=0
	for p in $(echo "$shares" | tr , ' '); do
		mkdir -p "/newroot$p"
		mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro \
			"share$i" "/newroot$p" || die "mount 9p share$i at $p"
		i=$((i + 1))
	done
	[ -x /newroot/usr/bin/busybox ] || die "the host has no /usr/bin/busybox (apt-get install busybox-static)"
	cp /init /newroot/init || die "copy init"
	mount --move /dev /newroot/dev
	mount --move /sys /newroot/sys
	mount --move /proc /newroot/proc
	exec switch_root /newroot /usr/bin/busybox sh /init stage2
	die "switch_root failed"
}

# ------------------------------------------------------------------ stage 2

out() { echo "$*" >&3; }

stage2() {
	mkdir -p /dev/pts /dev/shm /dev/mqueue
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
	[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
	mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
	mount -t mqueue mqueue /dev/mqueue 2>/dev/null
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
	mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || die "mount cgroup2"
	mount -t bpf bpf /sys/fs/bpf 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	busybox hostname ward-vm
	busybox ip link set lo up

	run=$(param ward.run) || die "no ward.run= on the kernel command line"
	[ -r "$run/plan.tsv" ] || die "no plan at $run/plan.tsv"
	TEST_TIMEOUT=600
	WARD_TEST_RUNTIME=
	SCRATCH_DIRS=
	# shellcheck disable=SC1091
	[ -r "$run/config.sh" ] && . "$run/config.sh"
	for d in $SCRATCH_DIRS; do
		[ -d "$d" ] && mount -t tmpfs -o mode=1777 scratch "$d"
	done

	# Results channel: the second serial port, raw.
	busybox stty -F /dev/ttyS1 raw -echo
	exec 3>/dev/ttyS1

	# cgroup v2 as systemd sets it up: every controller enabled below the
	# root, processes only in leaves (the runner in /init.scope).
	for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null ||
			say "cannot enable the $c controller"
	done
	mkdir -p /sys/fs/cgroup/init.scope
	echo $$ >/sys/fs/cgroup/init.scope/cgroup.procs || die "move into /init.scope"

	aa=$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null || echo none)
	ctl=$(tr ' ' , </sys/fs/cgroup/cgroup.subtree_control)
	v1=$(grep -c '^[^#].*[[:space:]]1$' /proc/cgroups 2>/dev/null)
	layout=v2
	grep -q ' cgroup ' /proc/mounts && layout=hybrid
	out "@@WARD-VM@@ START kernel=$(uname -r) cgroup=$layout apparmor=$aa controllers=$ctl accel=${ACCEL:-?}"
	out "@@WARD-VM@@ INFO $(grep -c . "$run/plan.tsv") planned tests; nproc=$(nproc); mem=$(busybox awk '/MemTotal/{print $2 "kB"}' /proc/meminfo)"
	out "@@WARD-VM@@ INFO lsm=$(cat /sys/kernel/security/lsm 2>/dev/null) apparmor_parser=$(command -v apparmor_parser || echo none) busybox=$(command -v busybox)"
	say "stage 2: cgroup=$layout apparmor=$aa controllers=$ctl; running $(grep -c . "$run/plan.tsv") tests"

	export WARD_TEST_RUNTIME HOME=/root TMPDIR=/tmp RUST_BACKTRACE=1 LANG=C.UTF-8
	n=0
	total=$(grep -c . "$run/plan.tsv")
	tab=$(printf '\t')
	while IFS="$tab" read -r label exe cwd name; do
		[ -n "$name" ] || continue
		n=$((n + 1))
		out "@@WARD-VM@@ TEST $label $name"
		t0=$(cut -d' ' -f1 /proc/uptime)
		(
			cd "$cwd" || exit 125
			CARGO_MANIFEST_DIR=$cwd exec busybox timeout -s TERM -k 10 "$TEST_TIMEOUT" "$exe" --exact "$name" \
				--nocapture --test-threads=1 </dev/null
		) >&3 2>&3
		rc=$?
		t1=$(cut -d' ' -f1 /proc/uptime)
		secs=$(busybox awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
		out ""
		out "@@WARD-VM@@ END $label $name $rc $secs"
		say "[$n/$total] $label $name: rc=$rc ${secs}s"
	done <"$run/plan.tsv"
	out "@@WARD-VM@@ FINISHED"
	exec 3>&-
	sync
	say "done; powering off"
	busybox poweroff -f
	echo o >/proc/sysrq-trigger
}

case "$1" in
stage2) stage2 ;;
*) stage1 ;;
esac
die "init fell through"
