#!/usr/bin/env bash
# Whole-process benchmark of an image pull from a registry over TLS:
# `ward image pull` (fetch, verify, unpack) against `podman pull` (fetch,
# unpack into its storage) and `skopeo copy` to an OCI layout (fetch only),
# in one hyperfine run, each from an empty store.
#
#   scripts/bench-pull.sh [hyperfine options...]      (needs root)
#
# The image: Debian 12 built by `mmdebstrap --variant=minbase bookworm`
# (Essential: yes + Priority: required + apt, ~100 packages: a realistic base
# image with Debian's setuid binaries — passwd, su, mount, ...), one gzip
# layer in an OCI layout, built once and kept in target/bench-pull/ (delete
# that directory to rebuild; needs Debian's package mirror). It is pushed
# with skopeo to a private docker-registry (Debian's CNCF distribution
# registry) on 127.0.0.1 with its own openssl CA — the setup of
# ward_registry::testing — which is stopped by pid on exit.
#
# Environment:
#   WARD         ward binary (default: the static release build of
#                scripts/build-release.sh, built here)
#   BENCH_RUNS   runs per tool (default 10), BENCH_WARMUP (default 1)
#   BENCH_RSS_RUNS  runs per tool measured by /usr/bin/time for peak RSS
#                (default 3)
#   BENCH_JSON   also keep hyperfine's JSON export at this path
#   PODMAN_DRIVER  podman's storage driver (default overlay, podman's
#                default here; vfs copies every layer once more)
#
# Each tool's store is emptied by hyperfine's --prepare (not timed) before
# every run. Prints every run, the medians, the ratios ward/podman and
# ward/skopeo of medians, peak RSS, and the setuid/setgid files each tool
# left on disk.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

[ "$(id -u)" = 0 ] || { echo "$0: needs root" >&2; exit 1; }
for tool in hyperfine jq docker-registry skopeo podman openssl mmdebstrap /usr/bin/time; do
    command -v "$tool" >/dev/null || {
        echo "$0: $tool not installed (apt-get install hyperfine jq docker-registry skopeo podman openssl mmdebstrap time)" >&2
        exit 1
    }
done

if [ -n "${WARD:-}" ]; then
    ward=$WARD
else
    ward=$("$here/build-release.sh")/ward
fi
[ -x "$ward" ] || { echo "$0: no ward binary at $ward" >&2; exit 1; }
runs=${BENCH_RUNS:-10}
warmup=${BENCH_WARMUP:-1}
rss_runs=${BENCH_RSS_RUNS:-3}
driver=${PODMAN_DRIVER:-overlay}

# --- The image, built once ------------------------------------------------
cache=$repo/target/bench-pull
layout=$cache/layout
if [ ! -f "$layout/index.json" ]; then
    mkdir -p "$cache"
    rm -rf "$cache/build" "$layout"
    mkdir "$cache/build"
    if [ ! -f "$cache/rootfs.tar" ]; then
        echo "building the Debian 12 rootfs (mmdebstrap --variant=minbase bookworm) ..." >&2
        mmdebstrap --quiet --variant=minbase --format=tar bookworm "$cache/rootfs.tar.part"
        mv "$cache/rootfs.tar.part" "$cache/rootfs.tar"
    fi
    # A docker-archive assembled by hand (the layer is the rootfs tar, its
    # diff ID its digest), then skopeo copies it into an OCI layout,
    # compressing the layer with gzip.
    b=$cache/build
    cp "$cache/rootfs.tar" "$b/layer.tar"
    diff_id=sha256:$(sha256sum "$b/layer.tar" | cut -d' ' -f1)
    jq -n --arg d "$diff_id" --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{
        architecture: "amd64", os: "linux", created: $now,
        config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["bash"]},
        rootfs: {type: "layers", diff_ids: [$d]},
        history: [{created: $now, created_by: "mmdebstrap --variant=minbase bookworm"}]
    }' >"$b/config.json"
    jq -n '[{Config: "config.json", RepoTags: ["debian:12"], Layers: ["layer.tar"]}]' >"$b/manifest.json"
    tar -C "$b" -cf "$cache/debian.docker.tar" manifest.json config.json layer.tar
    skopeo --insecure-policy copy --quiet --dest-compress --dest-compress-format gzip \
        "docker-archive:$cache/debian.docker.tar" "oci:$layout.part:debian"
    rm -rf "$b" "$cache/debian.docker.tar"
    mv "$layout.part" "$layout"
fi
setuid_in_image=$(tar -tvf "$cache/rootfs.tar" | awk '$1 ~ /^-/ && $1 ~ /[sS]/' | wc -l)

# --- The registry -------------------------------------------------------------
work=$(mktemp -d /tmp/ward-bench-pull.XXXXXX)
registry_pid=
cleanup() {
    if [ -n "$registry_pid" ]; then
        kill "$registry_pid" 2>/dev/null || true
        wait "$registry_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The CA and server certificate of ward_registry::testing::make_certs.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -keyout "$work/ca.key" -out "$work/ca.crt" -subj /CN=ward-bench-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
    >"$work/server.ext"
openssl x509 -req -days 2 -CAcreateserial -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -out "$work/server.crt" -extfile "$work/server.ext" 2>/dev/null

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
host=
for _ in 1 2 3 4; do
    port=$((20000 + RANDOM % 40000))
    ! listening "$port" || continue
    cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
  secret: ward-bench-secret
  tls:
    certificate: $work/server.crt
    key: $work/server.key
EOF
    docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
    registry_pid=$!
    for _ in $(seq 100); do
        listening "$port" && break
        kill -0 "$registry_pid" 2>/dev/null || break
        sleep 0.1
    done
    if listening "$port" && kill -0 "$registry_pid" 2>/dev/null; then
        host=127.0.0.1:$port
        break
    fi
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
    registry_pid=
done
[ -n "$host" ] || { echo "$0: docker-registry did not start: $(cat "$work/registry.log")" >&2; exit 1; }

certs=$work/certs.d  # certs.d/HOST/ca.crt: ward's --certs-dir
mkdir -p "$certs/$host"
cp "$work/ca.crt" "$certs/$host/ca.crt"
image=$host/debian:12
skopeo --insecure-policy copy --quiet --dest-cert-dir "$certs/$host" "oci:$layout:debian" "docker://$image"

printf '[images.registries."%s"]\nsignatures = "none"\n' "$host" >"$work/policy.toml"

# --- The commands ---------------------------------------------------------
# One store per tool, emptied before every run. podman writes events to a
# file (its default here) and keeps its database under --root.
declare -A cmd prep
cmd[ward]="'$ward' image pull '$image' --root '$work/ward' --policy '$work/policy.toml' --certs-dir '$certs'"
prep[ward]="rm -rf '$work/ward'"
cmd[podman]="podman --root '$work/podman' --runroot '$work/podman-run' --storage-driver $driver pull --quiet --cert-dir '$certs/$host' '$image'"
prep[podman]="rm -rf '$work/podman' '$work/podman-run'"
cmd[skopeo]="skopeo copy --quiet --src-cert-dir '$certs/$host' 'docker://$image' 'oci:$work/skopeo:debian'"
prep[skopeo]="rm -rf '$work/skopeo'"
names=(ward podman skopeo)

# Sanity: each must pull the image (and ward must have unpacked it).
for n in "${names[@]}"; do
    eval "${prep[$n]}"
    if ! eval "${cmd[$n]}" >/dev/null 2>"$work/check-$n.err"; then
        echo "$0: $n cannot pull $image: $(cat "$work/check-$n.err")" >&2
        exit 1
    fi
done
ls -d "$work"/ward/layers/*/diff >/dev/null 2>&1 || {
    echo "$0: ward pulled but left no unpacked layer under $work/ward/layers" >&2
    exit 1
}

hf=()
for n in "${names[@]}"; do
    hf+=(--command-name "$n" --prepare "${prep[$n]}" "${cmd[$n]} >/dev/null 2>&1")
done
json=$work/result.json
hyperfine --warmup "$warmup" --runs "$runs" --export-json "$json" "$@" "${hf[@]}"
[ -z "${BENCH_JSON:-}" ] || cp "$json" "$BENCH_JSON"

layer_bytes=$(jq '.layers[0].size' "$layout/blobs/sha256/$(jq -r '.manifests[0].digest' "$layout/index.json" | cut -d: -f2)")
echo
echo "Pull of $image (Debian 12 minbase, one gzip layer of $((layer_bytes / 1000)) kB, $(($(stat -c %s "$cache/rootfs.tar") / 1000)) kB unpacked),"
echo "from an empty store each time; podman storage driver $driver; $runs runs each; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Every run (s):"
for n in "${names[@]}"; do
    jq -r --arg n "$n" '.results[] | select(.command == $n) | "  \($n): " + ([.times[] | (. * 1000 | round / 1000 | tostring)] | join(" "))' "$json"
done
echo "Median wall time:"
declare -A med=()
for n in "${names[@]}"; do
    m=$(jq -r --arg n "$n" '.results[] | select(.command == $n) | .median' "$json")
    med[$n]=$m
    cpu=$(jq -r --arg n "$n" '.results[] | select(.command == $n) | (.user + .system)' "$json")
    awk -v n="$n" -v m="$m" -v c="$cpu" 'BEGIN { printf "  %-6s %8.3f s   (mean cpu %.3f s)\n", n, m, c }'
done
for o in podman skopeo; do
    awk -v a="${med[ward]}" -v b="${med[$o]}" -v o="$o" \
        'BEGIN { printf "  ward/%s = %.2f (median ratio; < 1 means ward is faster)\n", o, a / b }'
done

# --- Peak memory: /usr/bin/time, separate runs ------------------------------
echo "Peak RSS (max resident set, /usr/bin/time -f %M; $rss_runs separate runs each, from an empty store):"
for n in "${names[@]}"; do
    vals=()
    for _ in $(seq "$rss_runs"); do
        eval "${prep[$n]}"
        eval "/usr/bin/time -o '$work/rss' -f %M ${cmd[$n]}" >/dev/null 2>&1
        vals+=("$(tail -1 "$work/rss")")
    done
    printf '  %-6s %s MiB\n' "$n" "$(printf '%s\n' "${vals[@]}" | awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1024 }')"
done

# --- What each left on disk about setuid/setgid ------------------------------
# The stores hold the last RSS run's pull.
count() { find "$@" -type f -perm /6000 2>/dev/null | wc -l; }
echo "Regular files with setuid or setgid bits:"
echo "  in the image (the rootfs tar):            $setuid_in_image"
echo "  ward's unpacked layers (layers/*/diff):   $(count "$work"/ward/layers/*/diff)"
echo "  podman's storage ($driver):               $(count "$work/podman")"
echo "  podman's, e.g.: $(find "$work/podman" -type f -perm /6000 -printf '%m %P\n' 2>/dev/null | sed 's|^\([0-7]*\) .*/diff/|\1 /|' | sort -k2 | head -4 | paste -sd, -)"
