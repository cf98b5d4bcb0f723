#!/usr/bin/env bash
# Benchmarks: how ranking and bulletin drafting grow with the size of the city.
# Prints timings and, the figures to quote, ratios against a baseline query
# timed in the same run. Usage: bench/run.sh [scales, default "1,4,10"]
set -euo pipefail
cd "$(dirname "$0")/.."
DUBAN_BENCH_SCALES="${1:-1,4,10}" cargo bench --bench ranking
