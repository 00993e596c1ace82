#!/usr/bin/env bash
# ward sandbox vs bubblewrap, in one run: start-up cost of a sandbox around
# /bin/true. Prints both medians and the ratio of medians.
#   scripts/bench-sandbox.sh [RUNS] [ROUNDS]   (default 200 runs, 5 rounds)
#   WARD=/path/to/ward ...   uses that binary instead of building one, e.g.
#   as an unprivileged user: cp "$(scripts/build-release.sh)/ward" /tmp/w && \
#     WARD=/tmp/w setpriv --reuid 65534 --regid 65534 --clear-groups \
#     bash scripts/bench-sandbox.sh
# The runs of each command are split into ROUNDS hyperfine rounds whose
# command order alternates, and the medians are taken over all of them:
# on a shared machine the load drifts, and one long block per command
# would hand the drift to whichever ran second.
# Needs hyperfine, bwrap, python3 (reads the JSON exports).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-200}
ROUNDS=${2:-5}
if [ -z "${WARD:-}" ]; then
  WARD=$(scripts/build-release.sh)/ward   # static-pie release build
fi
for t in hyperfine bwrap python3; do
  command -v $t >/dev/null || { echo "bench-sandbox: $t is not installed" >&2; exit 1; }
done
DIR=$(mktemp -d /tmp/bench-sandbox.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
PER=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
W=(-n ward "$WARD sandbox -- /bin/true")
B=(-n bwrap "bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all --die-with-parent /bin/true")
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then set -- "${W[@]}" "${B[@]}"; else set -- "${B[@]}" "${W[@]}"; fi
  hyperfine -N --style none --warmup 10 --runs "$PER" --export-json "$DIR/$r.json" "$@" >/dev/null
done
python3 - "$DIR"/*.json <<'PY'
import json, statistics, sys
t = {"ward": [], "bwrap": []}
for f in sys.argv[1:]:
    for x in json.load(open(f))["results"]:
        t[x["command"]] += x["times"]
w, b = (statistics.median(t[k]) * 1000 for k in ("ward", "bwrap"))
print(f"runs: {len(t['ward'])} each")
print(f"median ward sandbox: {w:.2f} ms")
print(f"median bwrap:        {b:.2f} ms")
print(f"ratio (ward/bwrap):  {w / b:.2f}x")
PY
