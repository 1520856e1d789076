#!/usr/bin/env bash
# Runs the whole Tailor test suite on a fresh machine: installs what the tests need, builds once,
# runs every test project and ends with one line "N passed, N failed" (skipped or not-run tests
# count as failed). Exits non-zero on any failure. The fixtures start their own servers
# (s3rver, the embedded Kafka cluster); nothing here starts a server by hand.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"

summary() { echo "$1 passed, $2 failed"; }

# The zstd command line tool is used by the differential frame tests.
if ! command -v zstd >/dev/null 2>&1; then
  (apt-get install -y zstd >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y zstd >/dev/null 2>&1)) \
    || { echo "could not install the zstd command line tool" >&2; summary 0 1; exit 1; }
fi
# Debian's Chromium, driven headless by the explorer page's browser test (never a downloaded browser).
if ! command -v chromium >/dev/null 2>&1; then
  (apt-get install -y chromium >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y chromium >/dev/null 2>&1)) \
    || { echo "could not install chromium" >&2; summary 0 1; exit 1; }
fi
# s3rver, pinned by package-lock.json, for the S3 contract tests.
if ! npm ci --no-audit --no-fund --loglevel=error >/dev/null; then
  echo "npm ci failed: the S3 test server could not be installed" >&2; summary 0 1; exit 1
fi

if ! dotnet build Tailor.sln -c Release -nologo -clp:ErrorsOnly; then
  echo "build failed" >&2; summary 0 1; exit 1
fi

# Test projects run one after another (-m:1): the Kafka and process tests are timing-sensitive, and on
# two cores they must not compete with the 3 GiB segment test or the fuzzers.
dotnet test Tailor.sln -c Release --no-build -nologo -m:1 \
  --logger "trx" --results-directory "$results" \
  --blame-hang-timeout 10m -- RunConfiguration.TreatNoTestsAsError=false
rc=$?

passed=0; failed=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + p))
  failed=$((failed + f + e + t + a + total - executed))
done
if [ "$files" -eq 0 ] || { [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
  # dotnet test failed without a test failing (a crashed host, a hang): count it as a failure.
  failed=$((failed + 1))
fi
summary "$passed" "$failed"
[ "$failed" -eq 0 ]
