#!/usr/bin/env bash
# The storage issue's scorecard in one run: every figure its table names, measured on this
# machine, in the same run as PostgreSQL 15 and the machine's own ceilings, printed as a Markdown
# table (figure | measured | goal | met?) and then one JSON line with every raw result.
#
#   1. ceilings: `custody bench ceilings` (strict Ed25519 verify, SHA-256 of leaves, fdatasync)
#   2. durable appends vs PostgreSQL, 64 writers and 1 writer: benches/compare-postgres.sh
#   3. 3 signatures (finder + 2 witnesses), 64 writers: `custody bench append --signatures 3`
#   4. over HTTP, 64 writers: `custody bench append --http`, against the embedded median of (2)
#   5. per size: full strict verify (entries/s, signatures/s against the all-core ceiling, peak
#      RSS, disk per leaf byte), queries (holdings and inclusion-proof p99), rebuild (events/s)
#
# Usage: benches/scorecard.sh [--sizes "10000 100000"] [--seconds S] [--runs R]
#   --sizes LIST  generated ledger sizes for verify/query/rebuild (default "10000 100000";
#                 10^6 needs ~10 GB of disk and several minutes to generate)
#   --seconds S   length of each append run (default 10)
#   --runs R      runs of each append measurement against PostgreSQL (default 3)
# Environment: CUSTODY_BIN (default target/release/custody, built when missing), TMPDIR (keep it
# on the disk you mean to measure: the ledgers, the cluster and the fdatasync ceiling live there),
# CUSTODY_BENCH_CACHE (generated ledgers; default a folder under TMPDIR, kept between runs). Disk
# per leaf byte is read off the cached ledger as it is: one that an earlier run rebuilt holds the
# old views' pages too (sled reuses them only later), so give a fresh cache for that figure.
# Run on a quiet machine: nothing else compiling or measuring.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes="10000 100000"
duration=10
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
  --sizes) sizes="${2:?--sizes needs a list}"; shift 2 ;;
  --seconds) duration="${2:?--seconds needs a number}"; shift 2 ;;
  --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "scorecard: unknown argument: $1 (see --help)" >&2; exit 1 ;;
  esac
done
for n in $sizes $duration $runs; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "scorecard: '$n' is not a positive whole number" >&2; exit 1; }
done

bin="${CUSTODY_BIN:-target/release/custody}"
[ -x "$bin" ] || cargo build --release
export CUSTODY_BIN="$bin"
tmp="${TMPDIR:-/tmp}"
cache="${CUSTODY_BENCH_CACHE:-$tmp/custody-bench}"
mkdir -p "$cache"
work="$(mktemp -d "$tmp/custody-scorecard.XXXXXX")"
trap 'rm -rf "$work"' EXIT
last() { tail -n 1 "$1"; }

echo "scorecard: ceilings" >&2
"$bin" bench ceilings --seconds 2 --dir "$work" >"$work/ceilings" 2>&1
for w in 64 1; do
  echo "scorecard: $w writer(s) against PostgreSQL ($runs runs of ${duration}s each)" >&2
  benches/compare-postgres.sh --writers "$w" --seconds "$duration" --runs "$runs" >"$work/pg$w"
done
echo "scorecard: 3 signatures, 64 writers" >&2
"$bin" bench append --writers 64 --seconds "$duration" --signatures 3 >"$work/sig3" 2>&1
echo "scorecard: over HTTP, 64 writers" >&2
"$bin" bench append --writers 64 --seconds "$duration" --http >"$work/http" 2>&1
for n in $sizes; do
  # Generated (or found in the cache) by a run whose figures are dropped, so that no figure,
  # peak RSS above all, includes the generation.
  echo "scorecard: the ledger of $n entries (generated when missing)" >&2
  "$bin" bench verify --entries "$n" --cache "$cache" >/dev/null 2>&1
  for mode in verify query rebuild; do
    echo "scorecard: $mode at $n entries" >&2
    "$bin" bench "$mode" --entries "$n" --cache "$cache" >"$work/$mode-$n" 2>/dev/null
  done
done

python3 - "$work" "$sizes" <<'PY'
import json, os, sys
work, sizes = sys.argv[1], sys.argv[2].split()
def last(name):
    with open(os.path.join(work, name)) as f:
        return json.loads(f.read().strip().splitlines()[-1])
c, pg64, pg1 = last("ceilings"), last("pg64"), last("pg1")
sig3, http = last("sig3"), last("http")
rows = []
def row(figure, measured, goal, met):
    rows.append((figure, measured, goal, "yes" if met else "no"))
sig_ceiling3 = c["strict_verify_per_s_all_cores"] / 3
row("durable appends, 64 writers, ÷ PostgreSQL plain INSERT",
    f'{pg64["ratio"]:.2f}× ({pg64["custody_appends_per_s_median"]:,.0f}/s vs {pg64["postgres_tps_median"]:,.0f}/s)',
    "≥ 2×", pg64["ratio"] >= 2)
row("same, 1 writer", f'{pg1["ratio"]:.2f}× ({pg1["custody_appends_per_s_median"]:,.0f}/s vs {pg1["postgres_tps_median"]:,.0f}/s)',
    "≥ 1.2×", pg1["ratio"] >= 1.2)
goal3 = min(10000, 0.9 * sig_ceiling3)
row("3 signatures, 64 writers", f'{sig3["appends_per_s"]:,.0f}/s (signature ceiling {sig_ceiling3:,.0f}/s)',
    f"≥ {goal3:,.0f}/s", sig3["appends_per_s"] >= goal3)
share = http["appends_per_s"] / pg64["custody_appends_per_s_median"]
row("over HTTP, 64 writers, share of embedded", f'{share:.0%} ({http["appends_per_s"]:,.0f}/s)', "≥ 70%", share >= 0.7)
for n in sizes:
    v, q, r = last(f"verify-{n}"), last(f"query-{n}"), last(f"rebuild-{n}")
    e = v["entries"]
    sigs = v["signatures_per_s"]
    ceiling = c["strict_verify_per_s_all_cores"]
    row(f"full strict verify at {e:,}", f'{v["entries_per_s"]:,.0f} entries/s = {sigs:,.0f} signatures/s, {sigs / ceiling:.0%} of the ceiling {ceiling:,.0f}/s',
        "≥ 90% of the ceiling", sigs >= 0.9 * ceiling)
    row(f"rebuild at {e:,}", f'{r["events_per_s"]:,.0f} events/s', "≥ 100,000 events/s", r["events_per_s"] >= 100000)
    row(f"disk per leaf byte at {e:,} (log and views)", f'{v["disk_bytes_per_leaf_byte"]:.1f}×', "≤ 2.5×", v["disk_bytes_per_leaf_byte"] <= 2.5)
    rss = max(v["peak_rss_mb"], q["peak_rss_mb"], r["peak_rss_mb"])
    row(f"peak RSS at {e:,} (verify, query, rebuild)", f"{rss:,.0f} MB", "≤ 256 MB at 10⁶", rss <= 256)
    row(f"holdings p99 at {e:,}", f'{q["holdings_p99_us"]:,.0f} µs ({q["holdings_items_per_officer"]:.0f} items)', "≤ 1 ms at 10⁶", q["holdings_p99_us"] <= 1000)
    row(f"inclusion proof p99 at {e:,}", f'{q["proof_p99_us"]:,.0f} µs', "≤ 100 µs", q["proof_p99_us"] <= 100)
print(f'ceilings on this machine ({c["cores"]} cores): strict verify {c["strict_verify_per_s_one_core"]:,.0f}/s on one core, '
      f'{c["strict_verify_per_s_all_cores"]:,.0f}/s on all; SHA-256 of 1 KiB leaves {c["sha256_leaves_per_s_one_core"]:,.0f}/s on one core, '
      f'{c["sha256_leaves_per_s_all_cores"]:,.0f}/s on all; fdatasync {c["fdatasync_per_s"]:,.0f}/s (p50 {c["fdatasync_p50_ms"]:.2f} ms)')
print()
print("| figure | measured | goal | met? |")
print("|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
raw = {"ceilings": c, "postgres_64": pg64, "postgres_1": pg1, "signatures_3": sig3, "http": http}
for n in sizes:
    raw[f"size_{n}"] = {m: last(f"{m}-{n}") for m in ("verify", "query", "rebuild")}
print(json.dumps(raw))
PY
