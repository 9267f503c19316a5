#!/usr/bin/env bash
# How the ledger's costs grow with its size: runs `custody bench verify`, `query` and `rebuild`
# on generated ledgers of each size given (default 10^4 10^5 10^6), appends one row per figure to
# benches/growth.csv (entries,metric,value), then draws docs/growth.svg with plot_growth.py.
#
# Generated ledgers are cached (see `custody bench --help`); the first run of a size generates it
# (10^6 entries: a few minutes and ~12 GB of disk). Run on a quiet machine.
#
# Usage: benches/growth.sh [SIZE ...]      e.g. benches/growth.sh 10000 100000 1000000
# Environment: CUSTODY_BIN (default target/release/custody), CUSTODY_BENCH_CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${CUSTODY_BIN:-target/release/custody}"
[ -x "$bin" ] || cargo build --release
csv=benches/growth.csv
[ -f "$csv" ] || echo "entries,metric,value" >"$csv"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)

# Appends the numeric fields named to the CSV, from the JSON last line of a bench run.
record() {
  local json="$1"
  shift
  python3 - "$json" "$csv" "$@" <<'PY'
import csv, json, sys
result, path, fields = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3:]
entries = result.get("entries")
with open(path, "a", newline="") as f:
    w = csv.writer(f)
    for name in fields:
        metric, _, field = name.partition("=")
        w.writerow([entries, metric, result[field or metric]])
PY
}

for n in "${sizes[@]}"; do
  echo "== $n entries" >&2
  v=$("$bin" bench verify --entries "$n" | tail -n 1)
  record "$v" verify_entries_per_s=entries_per_s verify_peak_rss_mb=peak_rss_mb
  q=$("$bin" bench query --entries "$n" | tail -n 1)
  record "$q" history_p99_us holdings_p99_us proof_p99_us proof_bytes=proof_bytes query_peak_rss_mb=peak_rss_mb
  # Disk before the rebuild: a rebuild rewrites every view, and sled keeps the old pages until
  # it reuses their segments.
  dir="${CUSTODY_BENCH_CACHE:-${TMPDIR:-/tmp}/custody-bench}/entries-$n"
  bytes=$(du -sb "$dir" | cut -f1)
  echo "$n,disk_bytes_per_entry,$((bytes / n))" >>"$csv"
  r=$("$bin" bench rebuild --entries "$n" | tail -n 1)
  record "$r" rebuild_events_per_s=events_per_s rebuild_peak_rss_mb=peak_rss_mb
done
python3 benches/plot_growth.py --csv "$csv" --out docs/growth.svg --format svg
