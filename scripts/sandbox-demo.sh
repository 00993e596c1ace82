#!/usr/bin/env bash
# Builds `ward` and shows, from inside `ward sandbox`, what an untrusted
# command can and cannot do on this host. Run from anywhere, as root or as
# a user (where unprivileged user namespaces are allowed).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p ward
WARD=${CARGO_TARGET_DIR:-$PWD/target}/release/ward
echo "== ward sandbox --explain: the layers, and why"
"$WARD" sandbox --explain -- true
echo
echo "== inside the sandbox"
"$WARD" sandbox -- /bin/sh -c '
  echo "who:            $(id)"
  echo "uid_map:       $(tr -s " " < /proc/self/uid_map) (inside, on the host, count)"
  if touch ./ward-demo 2>/dev/null; then echo "write to cwd:   ALLOWED"; else echo "write to cwd:   refused (read-only)"; fi
  if touch /etc/ward-demo 2>/dev/null; then echo "write to /etc:  ALLOWED"; else echo "write to /etc:  refused (read-only)"; fi
  echo "network:        $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " ")"
  echo "processes:      $(ls -d /proc/[0-9]* | wc -l) visible"
  echo "/run:           [$(ls -A /run)]"
  grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status | sed "s/^/status          /"
  if unshare -U true 2>/dev/null; then echo "unshare:        ALLOWED"; else echo "unshare:        refused"; fi
'
echo
echo "== with --rw . the current directory becomes writable"
tmp=$(mktemp -d)
( cd "$tmp" && "$WARD" sandbox --rw . -- /bin/sh -c 'echo hello > out' && echo "host sees: $(cat "$tmp/out")" )
rm -rf "$tmp"
