#!/usr/bin/env bash
# A libFuzzer campaign on the STABLE toolchain (no nightly, no cargo-fuzz): builds every target
# with SanitizerCoverage turned on through codegen flags, seeds each corpus from the repository's
# vectors and test-document factory, runs each target on one core, and prints per target the
# executions, coverage (cov/ft of libFuzzer's last line), corpus size, time and crashes.
#
#   crates/icao9303/fuzz/campaign.sh [TARGET...]        (all targets when none is named)
#
# (`replay` is left out of that build: it has no libFuzzer to link with.)
# Environment: RUNS (executions per target, default 10000000), MAX_TIME (seconds per target,
# 0 = no limit, default 0), FUZZ_CPU (the core to pin to, default 1), PASSPORT_READER_VECTORS.
# Output (git-ignored): corpus/TARGET, artifacts/TARGET (crashes, leaks, OOMs, timeouts),
# logs/TARGET.log, logs/results.md.
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_DIR=$(pwd)
RUNS=${RUNS:-10000000}
MAX_TIME=${MAX_TIME:-0}
FUZZ_CPU=${FUZZ_CPU:-1}
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v -e '^icao9303-fuzz$' -e '^replay$' -e '^smoke$')
fi
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done

# SanitizerCoverage on stable (sancov-rustflags.sh). An explicit --target keeps the flags away
# from build scripts and proc macros (they would not link without libFuzzer).
. "$FUZZ_DIR/sancov-rustflags.sh"
cargo build --release --manifest-path Cargo.toml -p icao9303-fuzz --features libfuzzer \
  --target "$TRIPLE" --target-dir "$FUZZ_DIR/target" "${bins[@]}"
unset RUSTFLAGS
BIN="$FUZZ_DIR/target/$TRIPLE/release"

# The seeds, with an ordinary build of `replay` (in target/seed, so as not to wait for the
# workspace's target folder).
rm -rf seeds-generated
cargo run --quiet --release --manifest-path Cargo.toml -p icao9303-fuzz --target-dir "$FUZZ_DIR/target/seed" \
  --bin replay -- --seed seeds-generated >/dev/null


mkdir -p logs
results=logs/results.md
[ -f "$results" ] || printf '| target | executions | cov | ft | corpus | time (s) | crashes |\n|---|---|---|---|---|---|---|\n' > "$results"
for t in "${targets[@]}"; do
  case "$t" in
    dg2|portrait) max_len=20000 ;;
    master_list|trust_import|sod|card_security|tlv) max_len=12000 ;;
    *) max_len=4096 ;;
  esac
  mkdir -p "corpus/$t" "artifacts/$t"
  cp -n seeds-generated/"$t"/* "corpus/$t/" 2>/dev/null || true
  start=$(date +%s)
  set +e
  # -malloc_limit_mb only works with a sanitizer's malloc hooks; -rss_limit_mb is polled.
  taskset -c "$FUZZ_CPU" "$BIN/$t" "corpus/$t" -runs="$RUNS" -max_total_time="$MAX_TIME" \
    -max_len="$max_len" -rss_limit_mb=1024 -malloc_limit_mb=512 -timeout=10 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 -close_fd_mask=1 > "logs/$t.log" 2>&1
  status=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -1)
  last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(find "corpus/$t" -type f | wc -l)
  crashes=$(find "artifacts/$t" -type f | wc -l)
  line="| $t | ${execs:-?} | ${cov:-?} | ${ft:-?} | $corpus | $elapsed | $crashes |"
  echo "$line (exit $status)"
  echo "$line" >> "$results"
done
