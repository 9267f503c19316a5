#!/usr/bin/env bash
# Compares durable appends to the custody ledger with durable single-row inserts into
# PostgreSQL 15 on the same machine and the same disk.
#
# PostgreSQL side: a throwaway cluster (initdb into a temporary folder, started on 127.0.0.1 with
# fsync=on and synchronous_commit=on, removed on exit) and pgbench, each transaction inserting
# one ~1 KiB JSON custody statement as jsonb into `custody_event (id bigserial primary key,
# body jsonb not null)`. The statement is sent by the client on every transaction (a prepared
# statement parameter) and parsed into jsonb by the server, as the ledger parses what it gets.
#
# custody side: `custody bench append --writers N --seconds S --signatures 1`: pre-signed ~1 KiB
# notes appended durably (schema, strict Ed25519, rules, Merkle, fsync, signed checkpoint). Its
# last output line is a JSON object holding "appends_per_s".
#
# The two alternate, R runs each; the script prints one row per run, the medians, and last a
# JSON line {"writers","seconds","postgres_tps_median","custody_appends_per_s_median","ratio",
# "ceilings"}, where ratio is the median of the per-run ratios custody appends/s ÷ PostgreSQL
# tps, and ceilings is what `custody bench ceilings` measured in the same run, on the same disk,
# before the first run: strict Ed25519 verification alone and SHA-256 of ~1 KiB leaves alone (one
# core and every core) and a page write + fdatasync alone — the physical limits the rates are
# judged against.
#
# Usage: benches/compare-postgres.sh [--writers N] [--seconds S] [--runs R]
#   --writers N   concurrent writers: pgbench clients and custody writer threads (default 64)
#   --seconds S   length of each run, in seconds (default 10)
#   --runs R      runs of each system, alternating (default 3)
# Environment:
#   CUSTODY_BIN=PATH  the custody binary (default: target/release/custody, built with
#                     `cargo build --release` when missing)
#   SKIP_CUSTODY=1    run only the PostgreSQL half (custody figures print as "-" and null)
#   PG_PORT=PORT      first TCP port to try for the cluster (default 55432; the next free one
#                     above it is taken)
#   TMPDIR=DIR        where both the cluster and custody's temporary ledger live: keep it on the
#                     disk you mean to measure (fsync on tmpfs measures nothing)
# Needs PostgreSQL 15's server programs (Debian: postgresql-15), found through
# `pg_config --bindir`. PostgreSQL refuses to run as root: started as root, the script runs the
# server as the `postgres` user, or as a throwaway system user it creates and removes.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() {
  echo "compare-postgres: $*" >&2
  exit 1
}

# --- arguments -------------------------------------------------------------------------------
writers=64
duration=10 # not "seconds": $SECONDS is bash's own clock
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
  --writers) writers="${2:?--writers needs a number}"; shift 2 ;;
  --writers=*) writers="${1#*=}"; shift ;;
  --seconds) duration="${2:?--seconds needs a number}"; shift 2 ;;
  --seconds=*) duration="${1#*=}"; shift ;;
  --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
  --runs=*) runs="${1#*=}"; shift ;;
  -h | --help) usage; exit 0 ;;
  *) die "unknown argument: $1 (see --help)" ;;
  esac
done
for v in writers duration runs; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "--${v/duration/seconds} must be a positive whole number, got '${!v}'"
done
[ "$writers" -le 190 ] || die "--writers must be at most 190 (the cluster allows 200 connections)"

root="$(cd "$(dirname "$0")/.." && pwd)"
skip_custody="${SKIP_CUSTODY:-0}"
[ "$skip_custody" = 0 ] || [ "$skip_custody" = 1 ] || die "SKIP_CUSTODY must be 0 or 1"

# --- tools -------------------------------------------------------------------------------------
command -v pg_config >/dev/null || die "pg_config not found (Debian: apt-get install postgresql-15)"
pgbin="$(pg_config --bindir)"
for p in initdb pg_ctl pgbench psql; do
  [ -x "$pgbin/$p" ] || die "$pgbin/$p not found (Debian: apt-get install postgresql-15)"
done
pg_major="$("$pgbin/pg_ctl" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')"
[ "$pg_major" = 15 ] || echo "compare-postgres: note: PostgreSQL $pg_major, not 15" >&2

if [ "$skip_custody" = 0 ]; then
  if [ -n "${CUSTODY_BIN:-}" ]; then
    custody="$CUSTODY_BIN"
    [ -x "$custody" ] || die "CUSTODY_BIN=$custody is not an executable file"
  else
    custody="$root/target/release/custody"
    if [ ! -x "$custody" ]; then
      echo "compare-postgres: building $custody" >&2
      cargo build --release --manifest-path "$root/Cargo.toml" >&2
    fi
  fi
fi

# --- who runs the server -----------------------------------------------------------------------
# As root, PostgreSQL's programs run as another user: `postgres` when it exists, otherwise a
# throwaway system user removed on exit.
as_pg=()
made_user=""
if [ "$(id -u)" = 0 ]; then
  if id postgres >/dev/null 2>&1; then
    pg_user=postgres
  else
    pg_user="custody-pg-$$"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"
    made_user="$pg_user"
  fi
  as_pg=(runuser -u "$pg_user" --)
fi

# --- the throwaway cluster ---------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/custody-pg.XXXXXX")"
data="$work/data"
started=""
cleanup() {
  local status=$?
  if [ -n "$started" ]; then
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  if [ -n "$made_user" ]; then userdel "$made_user" >/dev/null 2>&1 || true; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ ${#as_pg[@]} -eq 0 ] || chown "$pg_user" "$work"

# The first port from PG_PORT up that nothing listens on (bash's /dev/tcp connects, or fails).
port="${PG_PORT:-55432}"
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
  port=$((port + 1))
  [ "$port" -lt "$(( ${PG_PORT:-55432} + 100 ))" ] || die "no free port near ${PG_PORT:-55432}"
done

echo "compare-postgres: cluster in $work, port $port" >&2
# --no-sync only skips initdb's own final fsync of the new, throwaway cluster; the server below
# runs with fsync=on.
"${as_pg[@]}" "$pgbin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync \
  >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; die "initdb failed"; }
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$data" -l "$work/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$work' \
      -c synchronous_commit=on -c fsync=on -c max_connections=200 -c shared_buffers=256MB" \
  start >/dev/null || { cat "$work/server.log" >&2; die "the server did not start"; }
started=1

pg=(-h 127.0.0.1 -p "$port" -U postgres)
psql_q() { "$pgbin/psql" "${pg[@]}" -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_q -c "create table custody_event (id bigserial primary key, body jsonb not null)"

# One realistic custody statement (a find of contraband witnessed by two officers), padded to
# 1,024 bytes with its free-text remarks. Each transaction stores it with a fresh id.
body='{"type":"contraband_found","id":"019872e2-c140-760b-b492-489c3f4af5d6","occurred_at":"2025-08-04T02:22:00Z","facility":"LPN-JAKARTA","signers":[{"role":"finder","officer":"198703152010121002"},{"role":"witness","officer":"199001202015031004"},{"role":"witness","officer":"199205062017121003"}],"after":{"BB-2025-000418":null},"incident":"INS-LPN-2025-0091","item":"BB-2025-000418","description":{"name":"14 sachet plastik klip berisi kristal bening diduga sabu","form":"crystal","colour":"bening"},"category":"narcotic","narcotic_class":"I","count":14,"gross_mass_mg":12840,"concealment":"Di bawah nasi dalam kotak makan bawaan pengunjung","persons":[{"kind":"visitor","nik":"3175034508900003","name":"Siti Rahmawati"},{"kind":"inmate","sdp":"B.I-123/2024","name":"Andi Saputra"}],"photos":["sha256:7a0dcd81996fac881986f1c8854e16ee08bacd42840f131bb95271f57b612b71","sha256:cecbc6e760c771f5458eb38883bf40802ab8171d7d5c302619f3e53ad3b5e801"],"remarks":"'
remarks_end='"}'
filler='Ditemukan saat pemeriksaan barang titipan di pintu P2U; disaksikan petugas jaga. '
pad=$((1024 - ${#body} - ${#remarks_end}))
[ "$pad" -gt 0 ] || die "the statement template is over 1 KiB"
while [ "${#filler}" -lt "$pad" ]; do filler="$filler$filler"; done
body="$body${filler:0:$pad}$remarks_end"
# (psql interpolates variables only in what it reads, not in -c.)
echo "select cast(:'b' as jsonb) is not null" | psql_q -v b="$body" >/dev/null ||
  die "the statement template is not valid JSON"

# The pgbench transaction: the body travels as a parameter (-M prepared), is parsed into jsonb,
# and gets a fresh statement id.
cat >"$work/insert.sql" <<'SQL'
INSERT INTO custody_event (body)
VALUES (jsonb_set(CAST(:body AS jsonb), '{id}', to_jsonb(CAST(gen_random_uuid() AS text))));
SQL

jobs=$((writers < 2 ? writers : 2))

# Runs pgbench once; prints its tps (without initial connection time).
run_postgres() {
  local log="$work/pgbench.log" tps
  psql_q -c "truncate custody_event" -c "checkpoint"
  "$pgbin/pgbench" "${pg[@]}" -n -M prepared -c "$writers" -j "$jobs" -T "$duration" \
    -D "body=$body" -f "$work/insert.sql" postgres >"$log" 2>&1 ||
    { cat "$log" >&2; die "pgbench failed"; }
  tps="$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\).*/\1/p' "$log")"
  [ -n "$tps" ] || { cat "$log" >&2; die "no tps line in pgbench's output"; }
  grep -qE '^number of failed transactions: 0 ' "$log" ||
    ! grep -q '^number of failed transactions' "$log" ||
    { cat "$log" >&2; die "pgbench reported failed transactions"; }
  # What was stored, as a check on the transaction script: one row per transaction, each with
  # its own statement id, each body about 1 KiB.
  psql_q -F ' ' -c "select count(*), count(distinct body->>'id'),
      coalesce(round(avg(octet_length(body::text))), 0) from custody_event" |
    { read -r rows ids bytes
      echo "compare-postgres:   stored $rows rows, $ids distinct ids, $bytes bytes of JSON each" >&2; }
  echo "$tps"
}

# Runs the custody append benchmark once; prints appends/s from its last (JSON) line.
run_custody() {
  local log="$work/custody.log" rate
  "$custody" bench append --writers "$writers" --seconds "$duration" --signatures 1 \
    >"$log" 2>&1 || { cat "$log" >&2; die "custody bench append failed"; }
  rate="$(tail -n 1 "$log" | sed -nE 's/.*"appends_per_s": *([0-9.eE+-]+).*/\1/p')"
  [ -n "$rate" ] || { cat "$log" >&2; die "no \"appends_per_s\" in the last line of custody's output"; }
  echo "$rate"
}

# Median of the numbers given as arguments (the mean of the middle two for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%.6g\n", v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# --- this machine's ceilings, on the disk the runs use -------------------------------------------
ceilings=null
if [ "$skip_custody" = 0 ]; then
  echo "compare-postgres: measuring this machine's ceilings (custody bench ceilings)" >&2
  "$custody" bench ceilings --seconds 2 --dir "$work" >"$work/ceilings.log" 2>&1 ||
    { cat "$work/ceilings.log" >&2; die "custody bench ceilings failed"; }
  ceilings="$(tail -n 1 "$work/ceilings.log")"
fi

# --- the runs, alternating ---------------------------------------------------------------------
pg_tps=()
cu_rate=()
ratios=()
for ((r = 1; r <= runs; r++)); do
  echo "compare-postgres: run $r/$runs: pgbench, $writers clients, ${duration}s" >&2
  pg_tps+=("$(run_postgres)")
  if [ "$skip_custody" = 0 ]; then
    echo "compare-postgres: run $r/$runs: custody bench append, $writers writers, ${duration}s" >&2
    cu_rate+=("$(run_custody)")
    ratios+=("$(awk -v c="${cu_rate[-1]}" -v p="${pg_tps[-1]}" 'BEGIN { printf "%.3f", c / p }')")
  fi
done

# --- report ------------------------------------------------------------------------------------
echo
echo "writers $writers, ${duration}s per run, PostgreSQL $pg_major (fsync=on, synchronous_commit=on)"
printf '%5s  %14s  %18s  %7s\n' run "postgres tps" "custody appends/s" ratio
for ((i = 0; i < runs; i++)); do
  printf '%5d  %14.1f  %18s  %7s\n' $((i + 1)) "${pg_tps[i]}" \
    "$([ "$skip_custody" = 0 ] && printf '%.1f' "${cu_rate[i]}" || echo -)" \
    "${ratios[i]:--}"
done
pg_med="$(median "${pg_tps[@]}")"
if [ "$skip_custody" = 0 ]; then
  cu_med="$(median "${cu_rate[@]}")"
  ratio_med="$(median "${ratios[@]}")"
else
  cu_med=null
  ratio_med=null
fi
printf '%5s  %14.1f  %18s  %7s\n' median "$pg_med" \
  "$([ "$skip_custody" = 0 ] && printf '%.1f' "$cu_med" || echo -)" \
  "$([ "$skip_custody" = 0 ] && echo "$ratio_med" || echo -)"
echo "(ratio: custody appends/s ÷ postgres tps, per run; the median row gives the median of each column)"
if [ "$skip_custody" = 0 ]; then
  echo
  echo "ceilings measured in this run (custody bench ceilings --seconds 2, on the same disk):"
  head -n 2 "$work/ceilings.log"
fi
printf '{"writers":%d,"seconds":%d,"postgres_tps_median":%s,"custody_appends_per_s_median":%s,"ratio":%s,"ceilings":%s}\n' \
  "$writers" "$duration" "$pg_med" "$cu_med" "$ratio_med" "$ceilings"
