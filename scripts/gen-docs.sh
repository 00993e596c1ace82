#!/usr/bin/env bash
# Man pages and bash, zsh and fish completions of `ward` and `ward-oci`,
# generated from their clap definitions (crates/cli, crates/oci-cli) by
# tools/gen-docs. Prints the files it wrote, one a line.
#
#   scripts/gen-docs.sh DIR
#
# writes DIR/man1/{ward,ward-sandbox,ward-audit,ward-trust,ward-trust-keygen,ward-oci,ward-oci-*}.1,
# DIR/bash/{ward,ward-oci}.bash, DIR/zsh/_{ward,ward-oci} and
# DIR/fish/{ward,ward-oci}.fish; README.md "Install" says where they go.
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "usage: scripts/gen-docs.sh DIR" >&2
    exit 2
fi
# No cd: DIR is relative to the caller's directory, where cargo run runs the tool.
cargo run -q --manifest-path "$(dirname "$0")/../Cargo.toml" -p ward-gen-docs -- "$1"
