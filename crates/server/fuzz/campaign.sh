#!/usr/bin/env bash
# A libFuzzer campaign for `reader_submit` on the STABLE toolchain: the same build as
# crates/icao9303/fuzz/campaign.sh (SanitizerCoverage through codegen flags), one core.
#
#   crates/server/fuzz/campaign.sh
#
# Environment: RUNS (default 10000000), MAX_TIME (seconds, 0 = no limit), FUZZ_CPU (default 1),
# PASSPORT_READER_VECTORS. Output (git-ignored): corpus/, artifacts/, logs/.
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$(pwd)
RUNS=${RUNS:-10000000}
MAX_TIME=${MAX_TIME:-0}
FUZZ_CPU=${FUZZ_CPU:-1}
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')

. "$FUZZ_DIR/../../icao9303/fuzz/sancov-rustflags.sh"
cargo build --release --features libfuzzer --target "$TRIPLE" --target-dir "$FUZZ_DIR/target" --bin reader_submit
unset RUSTFLAGS
# The seeds, with an ordinary debug build sharing the workspace's target folder (already built).
cargo run --quiet --target-dir "$FUZZ_DIR/../../../target" --bin seeds -- seeds-generated

mkdir -p corpus/reader_submit artifacts/reader_submit logs
cp -n seeds-generated/* corpus/reader_submit/ 2>/dev/null || true
start=$(date +%s)
set +e
taskset -c "$FUZZ_CPU" "$FUZZ_DIR/target/$TRIPLE/release/reader_submit" corpus/reader_submit \
  -runs="$RUNS" -max_total_time="$MAX_TIME" -max_len=131072 -rss_limit_mb=1024 -malloc_limit_mb=512 \
  -timeout=10 -artifact_prefix=artifacts/reader_submit/ -print_final_stats=1 > logs/reader_submit.log 2>&1
status=$?
set -e
elapsed=$(( $(date +%s) - start ))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' logs/reader_submit.log | tail -1)
last=$(grep -E '^#[0-9]+' logs/reader_submit.log | tail -1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
echo "| reader_submit | ${execs:-?} | ${cov:-?} | ${ft:-?} | $(find corpus/reader_submit -type f | wc -l) | $elapsed | $(find artifacts/reader_submit -type f | wc -l) | (exit $status)"
