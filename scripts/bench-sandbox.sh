#!/usr/bin/env bash
# ward sandbox vs bubblewrap, in one hyperfine run: start-up cost of a
# sandbox around /bin/true. Prints both medians and the ratio of medians.
#   scripts/bench-sandbox.sh [RUNS]      (default 200 runs, 20 warm-up)
# Needs hyperfine, bwrap, jq-free (python3 reads the JSON export).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-200}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release -q -p ward
WARD=$CARGO_TARGET_DIR/release/ward
for t in hyperfine bwrap python3; do
  command -v $t >/dev/null || { echo "bench-sandbox: $t is not installed" >&2; exit 1; }
done
OUT=$(mktemp /tmp/bench-sandbox.XXXXXX.json)
trap 'rm -f "$OUT"' EXIT
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$OUT" \
  -n ward "$WARD sandbox -- /bin/true" \
  -n bwrap "bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all --die-with-parent /bin/true"
python3 - "$OUT" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
w, b = r["ward"]["median"] * 1000, r["bwrap"]["median"] * 1000
print(f"median ward sandbox: {w:.2f} ms")
print(f"median bwrap:        {b:.2f} ms")
print(f"ratio (ward/bwrap):  {w / b:.2f}x")
PY
