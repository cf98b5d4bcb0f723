#!/usr/bin/env bash
# Benchmarks. Each prints timings and, the figures to quote, ratios against
# a baseline timed in the same run (the machines are shared and noisy).
#   bench/run.sh [scales]     ranking and bulletin drafting as the city grows
#                             (scales default "1,4,10")
#   bench/run.sh pages [N]    console pages beside the JSON endpoints for the
#                             same data, on the demo city at scale N (default 4)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = pages ]; then
  DUBAN_BENCH_SCALE="${2:-4}" cargo bench --bench pages
else
  DUBAN_BENCH_SCALES="${1:-1,4,10}" cargo bench --bench ranking
fi
