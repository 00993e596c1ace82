#!/usr/bin/env python3
"""Host-side helper of the VM test harness (scripts/vm/run-tests.sh).

Subcommands:
  modules  KDIR MOD...           print the load order (dependencies first) of
                                 modules of an extracted kernel package
  initramfs --kdir KDIR --init FILE --busybox FILE --out FILE MOD...
                                 write an uncompressed newc cpio
  plan     --metadata F --artifacts F --out F [FILTER...]
                                 select test binaries and tests, write the plan
  report   --results F --plan F [--console F] [--require-run RE]...
                                 summarise the guest's results; exit 1 on any
                                 failure, crash, missing test or empty run

Only the Python standard library is used.
"""

import argparse
import json
import lzma
import os
import re
import stat
import subprocess
import sys

MARK = "@@WARD-VM@@ "


# --------------------------------------------------------------- modules


def _module_index(kdir):
    """name -> path of every module file under KDIR/lib/modules/*/."""
    idx = {}
    for base in ("lib/modules", "usr/lib/modules"):
        root = os.path.join(kdir, base)
        if not os.path.isdir(root):
            continue
        for dirpath, _, files in os.walk(root):
            for f in files:
                m = re.match(r"^(.*)\.ko(\.xz|\.zst|\.gz)?$", f)
                if m:
                    idx[m.group(1).replace("-", "_")] = os.path.join(dirpath, f)
    return idx


def _read_module(path):
    data = open(path, "rb").read()
    if path.endswith(".xz"):
        data = lzma.decompress(data)
    elif path.endswith(".zst"):
        data = subprocess.run(
            ["zstd", "-dc", path], check=True, stdout=subprocess.PIPE
        ).stdout
    elif path.endswith(".gz"):
        import gzip

        data = gzip.decompress(data)
    return data


def _depends(data):
    # .modinfo is a run of NUL-terminated key=value strings.
    m = re.search(rb"\x00depends=([^\x00]*)\x00", data)
    if not m or not m.group(1):
        return []
    return [d.decode().replace("-", "_") for d in m.group(1).split(b",") if d]


def module_order(kdir, wanted):
    """Modules in load order, dependencies first; built-in (absent) ones are
    skipped. Returns [(name, path)]."""
    idx = _module_index(kdir)
    order, seen = [], set()

    def visit(name):
        name = name.replace("-", "_")
        if name in seen:
            return
        seen.add(name)
        path = idx.get(name)
        if path is None:
            return  # built in, or not in this kernel
        for d in _depends(_read_module(path)):
            visit(d)
        order.append((name, path))

    for w in wanted:
        visit(w)
    return order


def cmd_modules(a):
    for name, path in module_order(a.kdir, a.mods):
        print(name, path)


# ------------------------------------------------------------- initramfs


class Cpio:
    """Minimal newc writer."""

    def __init__(self, f):
        self.f = f
        self.ino = 1000

    def _entry(self, name, mode, data=b"", nlink=1):
        self.ino += 1
        name_b = name.encode() + b"\x00"
        hdr = "070701" + "".join(
            "%08X" % v
            for v in (
                self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0,
                len(name_b), 0,
            )
        )
        self.f.write(hdr.encode() + name_b)
        self.f.write(b"\x00" * ((4 - (110 + len(name_b)) % 4) % 4))
        self.f.write(data)
        self.f.write(b"\x00" * ((4 - len(data) % 4) % 4))

    def dir(self, name, mode=0o755):
        self._entry(name, stat.S_IFDIR | mode, nlink=2)

    def file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def trailer(self):
        self._entry("TRAILER!!!", 0)


def cmd_initramfs(a):
    order = module_order(a.kdir, a.mods)
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        c = Cpio(f)
        for d in ("bin", "dev", "proc", "sys", "newroot", "modules"):
            c.dir(d)
        c.file("bin/busybox", open(a.busybox, "rb").read(), 0o755)
        c.symlink("bin/sh", "busybox")
        c.file("init", open(a.init, "rb").read(), 0o755)
        lines = []
        for name, path in order:
            c.file("modules/%s.ko" % name, _read_module(path))
            lines.append(name)
        c.file("modules/order", ("\n".join(lines) + "\n").encode())
        c.trailer()
    os.replace(tmp, a.out)
    print(" ".join(n for n, _ in order))


# ------------------------------------------------------------------ plan


def _label(pkg, target):
    kinds = target["kind"]
    if "lib" in kinds or "rlib" in kinds or "proc-macro" in kinds:
        return "%s:lib" % pkg
    if "bin" in kinds:
        return "%s:bin-%s" % (pkg, target["name"])
    return "%s:%s" % (pkg, target["name"])


def _selects(sel, pkg, target, label):
    if not sel:
        return True
    return sel in (pkg, target, label) or sel.replace("_", "-") == pkg


# Packages whose tests do not depend on the kernel (pure logic, generated
# docs, the architecture check, which needs cargo): run on the host only,
# so the guests carry what needs their kernel.
HOST_ONLY = {"ward-arch", "ward-gen-docs", "ward-policy", "ward-spec", "ward-cli", "ward-oci-cli", "ward-registry", "ward-image", "ward-trust", "ward-engine", "ward-audit", "ward-dockerapi"}
# Test targets of other packages that are host-only for the same reason
# (LABEL as _label writes it): the image commands talk to registries and
# stores, not to the kernel's container features (so does ward audit image);
# the authz plugin's test drives the host's dockerd (the guests have none).
HOST_ONLY_TARGETS = {"ward:image", "ward:image_registry", "ward:trust", "ward:authz_plugin", "ward:audit_image",
                     # builds its image with skopeo, which the guests lack (ward run in the
                     # guests' kernels: issue 18's next step)
                     "ward:run"}


def cmd_plan(a):
    meta = json.load(open(a.metadata))
    pkgs = {p["id"]: p for p in meta["packages"]}
    bins = []
    seen = set()
    for line in open(a.artifacts):
        line = line.strip()
        if not line.startswith("{"):
            continue
        m = json.loads(line)
        if m.get("reason") != "compiler-artifact" or not m.get("executable"):
            continue
        if not m.get("profile", {}).get("test"):
            continue
        p = pkgs.get(m["package_id"])
        if p is None or p["name"] in HOST_ONLY:
            continue
        if _label(p["name"], m["target"]) in HOST_ONLY_TARGETS:
            continue
        exe = m["executable"]
        if exe in seen:
            continue
        seen.add(exe)
        label = _label(p["name"], m["target"])
        bins.append(
            dict(
                pkg=p["name"],
                target=m["target"]["name"],
                label=label,
                exe=exe,
                cwd=os.path.dirname(p["manifest_path"]),
            )
        )
    bins.sort(key=lambda b: b["label"])

    filters = []
    for f in a.filters:
        sel, _, sub = f.partition("/")
        filters.append((sel, sub))
    if not filters:
        filters = [("", "")]

    bad = [
        sel
        for sel, _ in filters
        if sel and not any(_selects(sel, b["pkg"], b["target"], b["label"]) for b in bins)
    ]
    if bad:
        print(
            "vm: no test binary matches %s; known: %s"
            % (", ".join(bad), " ".join(b["label"] for b in bins)),
            file=sys.stderr,
        )
        return 2

    out = []
    for b in bins:
        subs = [sub for sel, sub in filters if _selects(sel, b["pkg"], b["target"], b["label"])]
        if not subs:
            continue
        listed = _list_tests(b["exe"], b["cwd"], ignored=False)
        ignored = set(_list_tests(b["exe"], b["cwd"], ignored=True))
        for t in listed:
            if t in ignored:
                continue
            if any(s == "" or s in t for s in subs):
                out.append("\t".join((b["label"], b["exe"], b["cwd"], t)))
    if not out:
        print("vm: the filters %s select no test" % (a.filters or ["(all)"]), file=sys.stderr)
        return 2
    with open(a.out, "w") as f:
        f.write("\n".join(out) + "\n")
    counts = {}
    for l in out:
        k = l.split("\t")[0]
        counts[k] = counts.get(k, 0) + 1
    for k in sorted(counts):
        print("vm: plan: %-28s %3d tests" % (k, counts[k]))
    print("vm: plan: %d tests in %d binaries" % (len(out), len(counts)))
    return 0


def _list_tests(exe, cwd, ignored):
    args = [exe, "--list", "--format", "terse"]
    if ignored:
        args.append("--ignored")
    r = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("vm: %s --list failed: %s" % (exe, r.stderr.decode(errors="replace")))
    tests = []
    for l in r.stdout.decode(errors="replace").splitlines():
        if l.endswith(": test"):
            tests.append(l[: -len(": test")])
    return tests


# ---------------------------------------------------------------- report


def parse_results(path):
    """Returns (header dict, tests list, finished flag)."""
    header, tests, finished = {}, [], False
    cur = None
    try:
        raw = open(path, "rb").read().decode(errors="replace")
    except FileNotFoundError:
        raw = ""
    for line in raw.replace("\r", "").split("\n"):
        i = line.find(MARK)
        if i < 0:
            if cur is not None:
                cur["out"].append(line)
            continue
        if i > 0 and cur is not None:
            cur["out"].append(line[:i])
        f = line[i + len(MARK):].split()
        if not f:
            continue
        kind = f[0]
        if kind == "START":
            for kv in f[1:]:
                k, _, v = kv.partition("=")
                header[k] = v
        elif kind == "TEST" and len(f) >= 3:
            cur = dict(label=f[1], name=f[2], out=[], rc=None, secs=None)
            tests.append(cur)
        elif kind == "END" and len(f) >= 5 and cur is not None:
            cur["rc"] = int(f[3]) if f[3].lstrip("-").isdigit() else -1
            cur["secs"] = f[4]
            cur = None
        elif kind == "FATAL":
            header["fatal"] = " ".join(f[1:])
        elif kind == "FINISHED":
            finished = True
            cur = None
        elif kind == "INFO":
            header.setdefault("info", []).append(" ".join(f[1:]))
    return header, tests, finished


def classify(t):
    out = "\n".join(t["out"])
    # With --nocapture a test's own output follows "test NAME ... " on the
    # same line.
    skips = []
    for l in t["out"]:
        # "SKIP: reason" (not e.g. "SKIP-WEAKENED:", a note of a test that
        # ran).
        m = re.search(r"(?:^|\.\.\. )\s*(SKIP:.*)", l)
        if m:
            skips.append(m.group(1).strip())
    if t["rc"] is None:
        return "crash", skips
    if t["rc"] != 0:
        # busybox timeout: 143 (TERM), then 137 (KILL); coreutils: 124.
        return ("timeout" if t["rc"] in (124, 137, 143) else "fail"), skips
    if not re.search(r"test result: ok\. 1 passed", out):
        return "notrun", skips
    return ("skip" if skips else "pass"), skips


def cmd_report(a):
    plan = [l.rstrip("\n").split("\t") for l in open(a.plan) if l.strip()]
    header, tests, finished = parse_results(a.results)
    kern = a.name or header.get("kernel", "?")
    by_key = {(t["label"], t["name"]): t for t in tests}
    xfail = [re.compile(p) for p in a.xfail]
    rows = {}
    failed, skipped, xfailed, xpassed = [], [], [], []
    for label, _, _, name in plan:
        t = by_key.get((label, name))
        if t is None:
            state, skips = "missing", []
        else:
            state, skips = classify(t)
        expected = any(rx.search("%s %s" % (label, name)) for rx in xfail)
        r = rows.setdefault(label, dict(passed=0, failed=0, skipped=0, xfailed=0))
        if state == "pass":
            r["passed"] += 1
            if expected:
                xpassed.append((label, name))
        elif state == "skip":
            r["skipped"] += 1
            skipped.append((label, name, skips))
        elif expected and state in ("fail", "timeout"):
            r["xfailed"] += 1
            xfailed.append((label, name, state, t))
        else:
            r["failed"] += 1
            failed.append((label, name, state, t))

    print()
    print("=== VM results: kernel %s, %s ===" % (kern, " ".join(
        "%s=%s" % (k, header[k]) for k in ("accel", "cgroup", "apparmor", "controllers") if k in header)))
    for i in header.get("info", []):
        print("    guest: %s" % i)
    cols = ("passed", "failed", "skipped") + (("xfailed",) if xfail else ())
    print("%-30s" % "binary" + "".join(" %8s" % c for c in cols))
    tot = dict(passed=0, failed=0, skipped=0, xfailed=0)
    for label in sorted(rows):
        r = rows[label]
        print("%-30s" % label + "".join(" %8d" % r[c] for c in cols))
        for k in tot:
            tot[k] += r[k]
    print("%-30s" % "total" + "".join(" %8d" % tot[c] for c in cols))

    if skipped:
        print("\nskipped in the guest:")
        for label, name, skips in skipped:
            print("  %s %s: %s" % (label, name, skips[0] if skips else ""))

    def show(kind, label, name, state, t, lines):
        print("\n----- %s: %s %s -----" % (kind, label, name))
        if t is None:
            print("  (never started: the guest stopped before reaching it)")
            return
        # Without the backtrace's frames: the message is what matters.
        body = [l for l in t["out"] if l.strip() and not re.match(r"^\s+(\d+: |at )", l)]
        for l in body[-lines:]:
            print("  " + l)
        if t["rc"] is not None:
            print("  [exit code %s after %ss]" % (t["rc"], t["secs"]))

    for label, name, state, t in xfailed:
        show("EXPECTED FAILURE (--xfail)", label, name, state, t, 12)
    for label, name in xpassed:
        print("\nvm: XPASS: %s %s passes now: drop its --xfail" % (label, name))
    missing = [(l, n) for l, n, st, _ in failed if st == "missing"]
    for label, name, state, t in failed:
        if state != "missing":
            show(state.upper(), label, name, state, t, a.lines)
    if missing:
        print("\n----- NOT RUN: %d planned test(s) never started (the guest stopped first) -----" % len(missing))
        for l, n in missing[:10]:
            print("  %s %s" % (l, n))
        if len(missing) > 10:
            print("  ... and %d more" % (len(missing) - 10))

    problems = []
    if "kernel" not in header:
        problems.append("the guest never started the test runner (no START marker)")
    if header.get("fatal"):
        problems.append("the guest init failed: %s" % header["fatal"])
    if not finished:
        problems.append("the guest did not finish (no FINISHED marker): crashed, hung or timed out")
    if tot["passed"] == 0:
        problems.append("no test passed: refusing to report success")
    for pat in a.require_run:
        rx = re.compile(pat)
        hit = [(l, n) for l, _, _, n in plan if rx.search("%s %s" % (l, n))]
        if not hit:
            problems.append("--require-run %r matches no planned test" % pat)
        for l, n in hit:
            t = by_key.get((l, n))
            st = "missing" if t is None else classify(t)[0]
            if st != "pass":
                problems.append("--require-run %r: %s %s did not run and pass (%s)" % (pat, l, n, st))
    if failed:
        problems.append("%d test(s) failed" % len(failed))

    if a.counts:
        with open(a.counts, "w") as f:
            f.write("%d %d %d %d\n" % (tot["passed"], tot["failed"] + (1 if problems and not tot["failed"] else 0),
                                       tot["skipped"], tot["xfailed"]))
    print("\nvm: kernel %s: %d passed, %d failed, %d skipped%s" % (
        kern, tot["passed"], tot["failed"], tot["skipped"],
        ", %d expected failures" % tot["xfailed"] if tot["xfailed"] else ""))
    if problems:
        for p in problems:
            print("vm: FAIL: %s" % p)
        if a.console and os.path.exists(a.console):
            tail = open(a.console, "rb").read().decode(errors="replace").replace("\r", "").split("\n")
            while tail and not tail[-1].strip():
                tail.pop()
            print("\n----- guest console (last %d lines of %s) -----" % (a.lines, a.console))
            for l in tail[-a.lines:]:
                print(l)
            print("----- end of guest console -----")
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)
    p = sp.add_parser("modules")
    p.add_argument("kdir")
    p.add_argument("mods", nargs="+")
    p = sp.add_parser("initramfs")
    p.add_argument("--kdir", required=True)
    p.add_argument("--init", required=True)
    p.add_argument("--busybox", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("mods", nargs="*")
    p = sp.add_parser("plan")
    p.add_argument("--metadata", required=True)
    p.add_argument("--artifacts", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("filters", nargs="*")
    p = sp.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--plan", required=True)
    p.add_argument("--console")
    p.add_argument("--name")
    p.add_argument("--lines", type=int, default=60)
    p.add_argument("--require-run", action="append", default=[])
    p.add_argument("--xfail", action="append", default=[])
    p.add_argument("--counts")
    a = ap.parse_args()
    rc = {
        "modules": cmd_modules,
        "initramfs": cmd_initramfs,
        "plan": cmd_plan,
        "report": cmd_report,
    }[a.cmd](a)
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
