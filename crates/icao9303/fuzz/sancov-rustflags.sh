# The RUSTFLAGS of a libFuzzer build on the stable toolchain, sourced by the campaign scripts
# (this folder's and crates/server/fuzz's): SanitizerCoverage as cargo-fuzz turns it on, but with
# stable flags only (inline 8-bit counters, the PC table and comparison tracing for libFuzzer),
# `--cfg fuzzing` as cargo-fuzz sets it, debug assertions and overflow checks on in the
# optimised build.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow_checks"
